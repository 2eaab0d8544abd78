"""Admin of strategy and go-to-market: positioning, competitors and comparisons, market sizes, the
revenue model and price plans, launch checklists and the workspace's launch template.

Every write goes through the strategy and launch services, with their rules (a positioning
answer cites evidence of its own product; the launch template is a workspace admin's to edit,
so a superuser who is not one gets the service's refusal on the form) and their history rows.
A launch task is ticked off and reopened by actions, as on the checklist.
"""

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from roadmap.admin_base import (
    TIMESTAMPS,
    ProductRecordAdmin,
    ReadOnlyHistoryAdmin,
    ServiceWritesAdmin,
    ViewOnlyInline,
    form_data,
)
from roadmap.models import (
    Comparison,
    Competitor,
    LaunchTask,
    LaunchTemplateTask,
    MarketSize,
    Positioning,
    PositioningAnswer,
    PricePlan,
    RevenueModel,
)
from roadmap.strategy.services import launch as launch_services
from roadmap.strategy.services import strategy as strategy_services

_URLS_HTTPS = {models.URLField: {"assume_scheme": "https"}}

# --- Positioning ---------------------------------------------------------------------------


class PositioningAnswerInline(ViewOnlyInline, admin.StackedInline):
    model = PositioningAnswer
    extra = 0
    fields = ("question", "text", "updated_by")


@admin.register(Positioning)
class PositioningAdmin(ReadOnlyHistoryAdmin, ServiceWritesAdmin):
    """Which audiences may read the positioning, set by ``positioning_set_audiences``; its
    answers are listed here and edited on their own page."""

    list_display = ("product", "show_to_investors", "show_to_executives", "updated_at")
    list_select_related = ("product",)
    search_fields = ("product__name",)
    autocomplete_fields = ("product",)
    inlines = (PositioningAnswerInline,)
    readonly_fields = TIMESTAMPS

    def service_save(self, request, form, stored):
        return strategy_services.positioning_set_audiences(
            product=stored.product if stored else form.cleaned_data["product"],
            show_to_investors=form.cleaned_data["show_to_investors"],
            show_to_executives=form.cleaned_data["show_to_executives"],
            actor=request.user,
        )

    def service_delete(self, request, obj) -> None:
        strategy_services.positioning_delete(positioning=obj, actor=request.user)


@admin.register(PositioningAnswer)
class PositioningAnswerAdmin(ReadOnlyHistoryAdmin, ServiceWritesAdmin):
    """Written by ``positioning_answer_save``: one history row per edit, citations of the same
    product only."""

    fixed_on_change = ("positioning", "question")
    list_display = ("positioning", "question", "updated_at")
    list_filter = ("question",)
    list_select_related = ("positioning__product",)
    search_fields = ("text", "positioning__product__name")
    autocomplete_fields = ("positioning", "insights", "personas")
    readonly_fields = ("updated_by", *TIMESTAMPS)

    def service_save(self, request, form, stored):
        positioning = stored.positioning if stored else form.cleaned_data["positioning"]
        return strategy_services.positioning_answer_save(
            product=positioning.product,
            question=stored.question if stored else form.cleaned_data["question"],
            text=form.cleaned_data["text"],
            insights=form.cleaned_data["insights"],
            personas=form.cleaned_data["personas"],
            actor=request.user,
        )

    def service_delete(self, request, obj) -> None:
        strategy_services.positioning_answer_delete(answer=obj, actor=request.user)


# --- Market and competitors ----------------------------------------------------------------


@admin.register(Competitor)
class CompetitorAdmin(ProductRecordAdmin):
    formfield_overrides = _URLS_HTTPS
    list_display = ("name", "product", "segment", "website")
    list_filter = ("product",)
    list_select_related = ("product",)
    search_fields = ("name", "segment", "product__name")
    autocomplete_fields = ("product",)
    readonly_fields = TIMESTAMPS

    save_service = staticmethod(strategy_services.competitor_save)
    delete_service = staticmethod(strategy_services.competitor_delete)
    service_fields = strategy_services.COMPETITOR_FIELDS
    record_argument = "competitor"


@admin.register(Comparison)
class ComparisonAdmin(ServiceWritesAdmin):
    """One cell of the comparison grid, set by ``comparison_set`` (a feature or a theme of the
    competitor's product); deleting it clears the cell."""

    fixed_on_change = ("competitor", "feature", "lane")
    list_display = ("competitor", "feature", "lane", "status")
    list_filter = ("status",)
    list_select_related = ("competitor", "feature", "lane")
    search_fields = ("competitor__name", "feature__title", "lane__name", "note")
    autocomplete_fields = ("competitor", "feature", "lane")
    readonly_fields = TIMESTAMPS

    def service_save(self, request, form, stored):
        cell = stored or form.instance
        return strategy_services.comparison_set(
            competitor=cell.competitor,
            feature=cell.feature,
            lane=cell.lane,
            status=form.cleaned_data["status"],
            note=form.cleaned_data["note"],
        )

    def service_delete(self, request, obj) -> None:
        strategy_services.comparison_set(
            competitor=obj.competitor, feature=obj.feature, lane=obj.lane, status=""
        )


@admin.register(MarketSize)
class MarketSizeAdmin(ProductRecordAdmin):
    formfield_overrides = _URLS_HTTPS
    list_display = ("product", "kind", "value", "as_of", "source")
    list_filter = ("kind", "product")
    list_select_related = ("product",)
    search_fields = ("product__name", "source")
    autocomplete_fields = ("product",)
    readonly_fields = TIMESTAMPS

    save_service = staticmethod(strategy_services.market_size_save)
    delete_service = staticmethod(strategy_services.market_size_delete)
    service_fields = strategy_services.MARKET_SIZE_FIELDS
    record_argument = "market_size"


# --- Revenue model and plans ---------------------------------------------------------------


@admin.register(RevenueModel)
class RevenueModelAdmin(ReadOnlyHistoryAdmin, ServiceWritesAdmin):
    list_display = ("product", "currency", "conversion_rate")
    list_select_related = ("product",)
    search_fields = ("product__name",)
    autocomplete_fields = ("product",)
    readonly_fields = TIMESTAMPS

    def service_save(self, request, form, stored):
        return strategy_services.revenue_model_save(
            product=stored.product if stored else form.cleaned_data["product"],
            data=form_data(form, strategy_services.REVENUE_MODEL_FIELDS),
            actor=request.user,
        )

    def service_delete(self, request, obj) -> None:
        strategy_services.revenue_model_delete(revenue_model=obj, actor=request.user)


@admin.register(PricePlan)
class PricePlanAdmin(ProductRecordAdmin):
    list_display = ("name", "product", "yearly_price", "persona", "conversion_rate")
    list_filter = ("product",)
    list_select_related = ("product", "persona")
    search_fields = ("name", "product__name")
    autocomplete_fields = ("product", "persona")
    readonly_fields = TIMESTAMPS

    save_service = staticmethod(strategy_services.price_plan_save)
    delete_service = staticmethod(strategy_services.price_plan_delete)
    service_fields = strategy_services.PRICE_PLAN_FIELDS
    record_argument = "price_plan"


# --- Launch readiness ----------------------------------------------------------------------


@admin.register(LaunchTemplateTask)
class LaunchTemplateTaskAdmin(ServiceWritesAdmin):
    """The workspace's launch template: written by the launch services, which let only a
    workspace admin edit it."""

    fixed_on_change = ("workspace",)
    list_display = ("title", "team", "workspace", "days_before_release", "position")
    list_filter = ("team",)
    list_select_related = ("workspace",)
    search_fields = ("title", "workspace__name")
    autocomplete_fields = ("workspace",)
    readonly_fields = TIMESTAMPS

    def service_save(self, request, form, stored):
        return launch_services.launch_template_task_save(
            workspace=stored.workspace if stored else form.cleaned_data["workspace"],
            data=form_data(form, launch_services.TEMPLATE_FIELDS),
            task=stored,
            actor=request.user,
        )

    def service_delete(self, request, obj) -> None:
        launch_services.launch_template_task_delete(task=obj, actor=request.user)


@admin.register(LaunchTask)
class LaunchTaskAdmin(ReadOnlyHistoryAdmin, ServiceWritesAdmin):
    """A release's checklist task, written by the launch services (with its history row); done
    and reopened by the checklist's own services, as actions."""

    fixed_on_change = ("release",)
    list_display = ("title", "release", "team", "owner", "due_on", "done_at")
    list_filter = ("team",)
    list_select_related = ("release", "owner")
    search_fields = ("title", "release__name")
    autocomplete_fields = ("release", "owner")
    readonly_fields = ("done_at", "done_by", *TIMESTAMPS)
    actions = ("complete", "reopen")

    def service_save(self, request, form, stored):
        return launch_services.launch_task_save(
            release=stored.release if stored else form.cleaned_data["release"],
            data=form_data(form, launch_services.TASK_FIELDS),
            task=stored,
            actor=request.user,
        )

    def service_delete(self, request, obj) -> None:
        launch_services.launch_task_delete(task=obj)

    @admin.action(description=_("Mark selected tasks done"), permissions=["change"])
    def complete(self, request, queryset):
        tasks = list(queryset.filter(done_at__isnull=True))
        for task in tasks:
            launch_services.launch_task_complete(task=task, actor=request.user)
        self.message_user(request, _("%(count)d marked done.") % {"count": len(tasks)})

    @admin.action(description=_("Reopen selected tasks"), permissions=["change"])
    def reopen(self, request, queryset):
        tasks = list(queryset.filter(done_at__isnull=False))
        for task in tasks:
            launch_services.launch_task_reopen(task=task, actor=request.user)
        self.message_user(request, _("%(count)d reopened.") % {"count": len(tasks)})
