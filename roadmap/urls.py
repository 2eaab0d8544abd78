"""The planning app's pages under one namespace ("roadmap"): each slice keeps its routes in its own
module. Share links, digests and webhook settings are mounted by config/urls.py at their own
prefixes."""

from django.urls import include, path

app_name = "roadmap"

urlpatterns = [
    # First: "products/new/" is not a product's slug (the services reserve it).
    path("", include("roadmap.planning.urls")),
    path("", include("roadmap.planning.urls_table")),
    path("", include("roadmap.planning.urls_board")),
    path("", include("roadmap.planning.urls_rating")),
    path("", include("roadmap.evidence.urls")),
    path("", include("roadmap.integrations.urls_csvio")),
    path("", include("roadmap.strategy.urls")),
    path("", include("roadmap.portal.urls")),
]
