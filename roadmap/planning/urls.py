"""Routes of the products list, a feature's pages and a product's settings; included by
roadmap/urls.py (namespace "roadmap")."""

from django.urls import path, re_path

from roadmap.planning.views import formula, pages, settings

# The lists of the settings page edited in place (see roadmap.planning.views.settings.SECTIONS).
SECTION = r"^products/(?P<slug>[-\w]+)/settings/(?P<section>drivers|fields|lanes|releases)/"

urlpatterns = [
    path("", pages.home, name="home"),
    # Before the product pages: "new" is not a product's slug (the services reserve it).
    path("products/new/", settings.product_new, name="product_create"),
    path("products/<slug:slug>/features/new/", pages.feature_new, name="feature_create"),
    path("products/<slug:slug>/settings/", settings.product_settings, name="product_settings"),
    path(
        "products/<slug:slug>/settings/scoring/", settings.product_scoring, name="product_scoring"
    ),
    path("products/<slug:slug>/settings/formula/", formula.product_formula, name="product_formula"),
    re_path(SECTION + r"new/$", settings.section_add, name="settings_row_add"),
    re_path(SECTION + r"(?P<pk>\d+)/$", settings.section_edit, name="settings_row_edit"),
    re_path(SECTION + r"(?P<pk>\d+)/delete/$", settings.section_delete, name="settings_row_delete"),
    path(
        "products/<slug:slug>/settings/fields/<int:pk>/move/",
        settings.field_move,
        name="settings_field_move",
    ),
    path("features/<int:pk>/", pages.feature, name="feature"),
    path("features/<int:pk>/edit/", pages.feature_edit, name="feature_edit"),
    path("features/<int:pk>/delete/", pages.feature_remove, name="feature_delete"),
]
