from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "almportal.risk"
    label = "risk"
    verbose_name = "Risk assessment"
