from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("portfolio/", views.portfolio_view, name="portfolio"),
    path("intakes/<slug:slug>/accept/", views.intake_accept, name="intake-accept"),
]
