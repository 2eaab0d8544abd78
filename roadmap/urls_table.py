"""Routes of the product's table pages; included by roadmap/urls.py (namespace "roadmap")."""

from django.urls import path

from .views import table

urlpatterns = [
    path("products/<slug:slug>/", table.product, name="product"),
]
