"""Routes of a product's CSV export and import.

Included by roadmap/urls.py (namespace "roadmap")."""

from django.urls import path

from roadmap.integrations.views import csvio

urlpatterns = [
    path("products/<slug:slug>/features.csv", csvio.features_export, name="features_export"),
    path("products/<slug:slug>/import/", csvio.features_import, name="features_import"),
    path(
        "products/<slug:slug>/import/confirm/",
        csvio.features_import_confirm,
        name="features_import_confirm",
    ),
]
