from django.apps import AppConfig


class StandardsConfig(AppConfig):
    name = "almportal.standards"
    label = "standards"
    verbose_name = "Ecosystem formats"

    def ready(self) -> None:
        from ..risk.selectors import register_attribute_source
        from .selectors import drift_attributes

        # An open drift finding is a risk-relevant attribute: it makes the assessment stale.
        register_attribute_source(drift_attributes, prefetch="drift_findings")
