"""The embeddable request form at the site root (no login), for a product's own app."""

from django.urls import path

from roadmap.portal import views_embed

app_name = "portal_embed"

urlpatterns = [
    path("embed/<str:token>/request/", views_embed.request_form, name="request"),
]
