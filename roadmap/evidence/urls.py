"""Routes of the evidence pages: personas, the insights inbox, objectives, customers and
experiments.

Included by roadmap/urls.py (namespace "roadmap")."""

from django.urls import path

from roadmap.evidence import views as records

urlpatterns = [
    path("products/<slug:slug>/personas/", records.personas, name="personas"),
    path("products/<slug:slug>/personas/<int:pk>/edit/", records.persona_edit, name="persona_edit"),
    path(
        "products/<slug:slug>/personas/<int:pk>/delete/",
        records.persona_delete,
        name="persona_delete",
    ),
    path("products/<slug:slug>/insights/", records.insights, name="insights"),
    path("products/<slug:slug>/insights/<int:pk>/", records.insight, name="insight"),
    path("products/<slug:slug>/insights/<int:pk>/edit/", records.insight_edit, name="insight_edit"),
    path(
        "products/<slug:slug>/insights/<int:pk>/delete/",
        records.insight_delete,
        name="insight_delete",
    ),
    path("products/<slug:slug>/objectives/", records.objectives, name="objectives"),
    path(
        "products/<slug:slug>/objectives/<int:pk>/edit/",
        records.objective_edit,
        name="objective_edit",
    ),
    path(
        "products/<slug:slug>/objectives/<int:pk>/delete/",
        records.objective_delete,
        name="objective_delete",
    ),
    path("products/<slug:slug>/customers/", records.customers, name="customers"),
    path("products/<slug:slug>/customers/<int:pk>/", records.customer, name="customer"),
    path(
        "products/<slug:slug>/customers/<int:pk>/edit/",
        records.customer_edit,
        name="customer_edit",
    ),
    path(
        "products/<slug:slug>/customers/<int:pk>/delete/",
        records.customer_delete,
        name="customer_delete",
    ),
    path(
        "products/<slug:slug>/customers/<int:pk>/merge/",
        records.customer_merge,
        name="customer_merge",
    ),
    path("products/<slug:slug>/experiments/", records.experiments, name="experiments"),
    path(
        "products/<slug:slug>/experiments/<int:pk>/edit/",
        records.experiment_edit,
        name="experiment_edit",
    ),
    path(
        "products/<slug:slug>/experiments/<int:pk>/delete/",
        records.experiment_delete,
        name="experiment_delete",
    ),
]
