"""Routes of the product's prioritization table.

Included by roadmap/urls.py (namespace "roadmap")."""

from django.urls import path

from roadmap.planning.views import table

urlpatterns = [
    path("products/<slug:slug>/", table.product, name="product"),
    path("products/<slug:slug>/table/add/", table.feature_quick_add, name="table_quick_add"),
    path("products/<slug:slug>/table/bulk/", table.features_bulk, name="table_bulk"),
    path("products/<slug:slug>/table/columns/", table.table_columns, name="table_columns"),
    path("products/<slug:slug>/table/<int:pk>/", table.feature_row, name="table_row"),
    path("products/<slug:slug>/table/<int:pk>/edit/", table.feature_edit, name="table_edit"),
]
