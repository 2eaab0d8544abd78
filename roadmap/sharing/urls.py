"""A product's share links (PM pages), mounted at products/<slug:slug>/share/."""

from django.urls import path

from roadmap.sharing.views import sharing

app_name = "sharing"

urlpatterns = [
    path("", sharing.share_links, name="list"),
    path("new/", sharing.share_link_create, name="create"),
    path("<int:pk>/replace/", sharing.share_link_replace, name="replace"),
    path("<int:pk>/revoke/", sharing.share_link_revoke, name="revoke"),
    path("preview/<str:audience>/", sharing.preview, name="preview"),
    path("<int:pk>/subscribers/", sharing.subscriber_add, name="subscriber-add"),
    path(
        "<int:pk>/subscribers/<int:subscription_pk>/remove/",
        sharing.subscriber_remove,
        name="subscriber-remove",
    ),
    path(
        "<int:pk>/subscribers/<int:subscription_pk>/preview/",
        sharing.subscriber_preview,
        name="subscriber-preview",
    ),
]
