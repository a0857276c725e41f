from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "almportal.portal"
    label = "portal"
    verbose_name = "Portal"
