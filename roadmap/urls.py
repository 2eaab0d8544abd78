from django.urls import path

from .views import pages

app_name = "roadmap"

urlpatterns = [
    path("", pages.home, name="home"),
    path("products/<slug:slug>/", pages.product, name="product"),
    path("features/<int:pk>/", pages.feature, name="feature"),
]
