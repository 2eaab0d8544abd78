"""Routes of the strategy and launch pages.

Included by roadmap/urls.py (namespace "roadmap")."""

from django.urls import path

from roadmap.strategy.views import launch, strategy

PRODUCT = "products/<slug:slug>/"
STRATEGY = PRODUCT + "strategy/"
RELEASE = PRODUCT + "releases/<int:pk>/"

urlpatterns = [
    # Positioning
    path(STRATEGY, strategy.positioning, name="strategy"),
    path(
        STRATEGY + "positioning/audiences/",
        strategy.positioning_audiences,
        name="positioning_audiences",
    ),
    path(
        STRATEGY + "positioning/<slug:question>/",
        strategy.positioning_answer,
        name="positioning_answer",
    ),
    # Market: competitors, the comparison grid, market size
    path(STRATEGY + "market/", strategy.market, name="strategy_market"),
    path(STRATEGY + "market/grid/", strategy.comparison_grid, name="comparison_grid"),
    path(
        STRATEGY + "market/competitors/<int:pk>/<str:kind>/<int:target>/",
        strategy.comparison_cell,
        name="comparison_cell",
    ),
    path(STRATEGY + "market/competitors/new/", strategy.competitor_add, name="competitor_add"),
    path(
        STRATEGY + "market/competitors/<int:pk>/edit/",
        strategy.competitor_edit,
        name="competitor_edit",
    ),
    path(
        STRATEGY + "market/competitors/<int:pk>/delete/",
        strategy.competitor_delete,
        name="competitor_delete",
    ),
    path(STRATEGY + "market/sizes/new/", strategy.market_size_add, name="market_size_add"),
    path(
        STRATEGY + "market/sizes/<int:pk>/edit/",
        strategy.market_size_edit,
        name="market_size_edit",
    ),
    path(
        STRATEGY + "market/sizes/<int:pk>/delete/",
        strategy.market_size_delete,
        name="market_size_delete",
    ),
    # Business case
    path(STRATEGY + "business-case/", strategy.business_case, name="business_case"),
    path(STRATEGY + "business-case/model/", strategy.revenue_model, name="revenue_model"),
    path(STRATEGY + "business-case/plans/new/", strategy.price_plan_add, name="price_plan_add"),
    path(
        STRATEGY + "business-case/plans/<int:pk>/edit/",
        strategy.price_plan_edit,
        name="price_plan_edit",
    ),
    path(
        STRATEGY + "business-case/plans/<int:pk>/delete/",
        strategy.price_plan_delete,
        name="price_plan_delete",
    ),
    # Launch
    path(PRODUCT + "releases/", launch.releases, name="releases"),
    path(RELEASE, launch.release, name="release"),
    path(RELEASE + "checklist/", launch.release_checklist, name="release_checklist"),
    path(RELEASE + "ship/", launch.release_ship, name="release_ship"),
    path(RELEASE + "notes/", launch.release_notes, name="release_notes"),
    path(RELEASE + "tasks/new/", launch.launch_task_add, name="launch_task_add"),
    path(RELEASE + "tasks/<int:task_pk>/edit/", launch.launch_task_edit, name="launch_task_edit"),
    path(RELEASE + "tasks/<int:task_pk>/done/", launch.launch_task_done, name="launch_task_done"),
    path(
        RELEASE + "tasks/<int:task_pk>/delete/",
        launch.launch_task_delete,
        name="launch_task_delete",
    ),
    path("settings/launch-template/", launch.launch_template, name="launch_template"),
    path(
        "settings/launch-template/<int:pk>/edit/",
        launch.launch_template_edit,
        name="launch_template_edit",
    ),
    path(
        "settings/launch-template/<int:pk>/delete/",
        launch.launch_template_delete,
        name="launch_template_delete",
    ),
]
