from django.urls import path

from .views import pages

app_name = "roadmap"

urlpatterns = [
    path("", pages.home, name="home"),
]
