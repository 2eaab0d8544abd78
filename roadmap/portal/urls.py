"""The PM's pages of the portal (namespace "roadmap"): the requests inbox and a request's page."""

from django.urls import path

from roadmap.portal import views

urlpatterns = [
    path("products/<slug:slug>/requests/", views.requests_inbox, name="requests"),
    path("products/<slug:slug>/requests/<int:pk>/", views.request_detail, name="request"),
    path(
        "products/<slug:slug>/requests/<int:pk>/<slug:action>/",
        views.request_action,
        name="request_action",
    ),
    path("products/<slug:slug>/requests/badge/", views.requests_badge, name="requests_badge"),
    path("features/<int:pk>/demand/", views.feature_demand, name="feature_demand"),
    path(
        "features/<int:pk>/ship-notices/",
        views.feature_ship_notices,
        name="feature_ship_notices",
    ),
]
