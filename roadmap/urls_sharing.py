"""A product's share links (PM pages), mounted at products/<slug:slug>/share/."""

from django.urls import path

from .views import sharing

app_name = "sharing"

urlpatterns = [
    path("", sharing.share_links, name="list"),
    path("new/", sharing.share_link_create, name="create"),
    path("<int:pk>/revoke/", sharing.share_link_revoke, name="revoke"),
    path("preview/<str:audience>/", sharing.preview, name="preview"),
]
