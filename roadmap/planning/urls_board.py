"""Routes of a product's roadmap board, timeline and matrix.

Included by roadmap/urls.py (namespace "roadmap")."""

from django.urls import path

from roadmap.planning.views import matrix, planning

urlpatterns = [
    path("products/<slug:slug>/matrix/", matrix.matrix, name="matrix"),
    path("products/<slug:slug>/board/", planning.board, name="board"),
    path("products/<slug:slug>/board/cell/", planning.board_cell, name="board_cell"),
    path(
        "products/<slug:slug>/board/features/add/",
        planning.board_feature_add,
        name="board_feature_add",
    ),
    path(
        "products/<slug:slug>/board/themes/add/", planning.board_theme_add, name="board_theme_add"
    ),
    path(
        "products/<slug:slug>/board/items/<int:pk>/move/",
        planning.board_item_move,
        name="board_item_move",
    ),
    path(
        "products/<slug:slug>/board/items/<int:pk>/visibility/",
        planning.board_item_visibility,
        name="board_item_visibility",
    ),
    path(
        "products/<slug:slug>/board/items/<int:pk>/text/",
        planning.board_item_text,
        name="board_item_text",
    ),
    path(
        "products/<slug:slug>/board/items/<int:pk>/remove/",
        planning.board_item_remove,
        name="board_item_remove",
    ),
    path("products/<slug:slug>/timeline/", planning.timeline, name="timeline"),
    path(
        "products/<slug:slug>/timeline/items/<int:pk>/dates/",
        planning.timeline_item_dates,
        name="timeline_item_dates",
    ),
]
