"""Routes of a product's rating rounds; included by roadmap/urls.py (namespace "roadmap")."""

from django.urls import path

from roadmap.planning.views import rating

urlpatterns = [
    path("products/<slug:slug>/rating/", rating.rating_rounds, name="rating_rounds"),
    path("products/<slug:slug>/rating/<int:pk>/", rating.rating_results, name="rating_results"),
    path("products/<slug:slug>/rating/<int:pk>/rate/", rating.rating_sheet, name="rating_sheet"),
    path(
        "products/<slug:slug>/rating/<int:pk>/accept/", rating.rating_accept, name="rating_accept"
    ),
    path("products/<slug:slug>/rating/<int:pk>/close/", rating.rating_close, name="rating_close"),
    path(
        "products/<slug:slug>/rating/<int:pk>/reopen/", rating.rating_reopen, name="rating_reopen"
    ),
]
