from django.urls import path

from . import search, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("portfolio/", views.portfolio_view, name="portfolio"),
    path("search/", search.search_page, name="search"),
    path("intakes/<slug:slug>/accept/", views.intake_accept, name="intake-accept"),
]
