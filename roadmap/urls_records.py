"""Routes of the product's records pages; included by roadmap/urls.py (namespace "roadmap")."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
