from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "almportal.reviews"
    label = "reviews"
    verbose_name = "Access reviews and reminders"
