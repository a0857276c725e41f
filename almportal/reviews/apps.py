from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "almportal.reviews"
    label = "reviews"
    verbose_name = "Access reviews and reminders"

    def ready(self) -> None:
        from . import finders, work

        finders.register_all()
        work.register_defaults()
