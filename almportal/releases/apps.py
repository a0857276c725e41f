from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "almportal.releases"
    label = "releases"
    verbose_name = "Release readiness and sign-off"
