"""Public share-link URLs at the site root: /r/<token>/, .json, feed.atom and subscribe/."""

from django.urls import path

from roadmap.sharing.views import external

app_name = "external"

urlpatterns = [
    path("r/<str:token>/", external.roadmap_page, name="roadmap"),
    path("r/<str:token>.json", external.roadmap_json, name="json"),
    path("r/<str:token>/feed.atom", external.roadmap_feed, name="feed"),
    path("r/<str:token>/releases/", external.release_notes, name="releases"),
    path("r/<str:token>/subscribe/", external.subscribe, name="subscribe"),
]
