from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "almportal.operations"
    label = "operations"
    verbose_name = "Operations"
