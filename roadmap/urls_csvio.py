"""Routes of the product's csvio pages; included by roadmap/urls.py (namespace "roadmap")."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
