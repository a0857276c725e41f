from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "almportal.inventory"
    label = "inventory"
    verbose_name = "Agent inventory"
