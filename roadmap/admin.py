"""Django admin for the roadmap: a support tool for superusers, not the product UI.

Pages must stay fast with 100k features: foreign keys use autocomplete or raw id widgets (never a
<select> of every row), change lists join what they display (``list_select_related``) and skip the
unfiltered total count. Scores, ranks and versions are written by the scoring services only, so
they are read-only here; an edit that can change scores asks for a recompute of the product.
Rows whose writes have after-effects in the app (a feature's version, change events, webhooks,
rescoring) are saved and deleted here through the app's services (``ServiceWritesAdmin``), so an
admin edit leaves the same trace as a PM's. Share links are only revoked (through the service).
Logs (change events, digests, webhook deliveries, rank snapshots) are view-only, and so is the
history of features and roadmap items.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models.functions import Length
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from roadmap.fields import same_product
from roadmap.models import (
    ChangeEvent,
    Comparison,
    Competitor,
    CsvUpload,
    DigestDelivery,
    Feature,
    FeatureDriverScore,
    FeatureRankSnapshot,
    Insight,
    Lane,
    LaunchTask,
    LaunchTemplateTask,
    MarketSize,
    Objective,
    Persona,
    Positioning,
    PositioningAnswer,
    PricePlan,
    Product,
    Release,
    RevenueModel,
    RoadmapItem,
    ScoringDriver,
    ShareLink,
    Subscription,
    TableLayout,
    Tag,
    WebhookDelivery,
    WebhookEndpoint,
)
from roadmap.planning.services import features as feature_services
from roadmap.planning.services import products as product_services
from roadmap.planning.services import roadmap as records
from roadmap.planning.services.scoring import product_request_recompute
from roadmap.sharing.services.sharing import share_link_revoke

TIMESTAMPS = ("created_at", "updated_at")
SCORE_FIELDS = ("score", "score_breakdown", "scored_at", "rank", "version")


def _changed(form, formsets) -> bool:
    return form.has_changed() or any(formset.has_changed() for formset in formsets)


class LargeTableAdmin(admin.ModelAdmin):
    """A large table: no count of all rows on every page view."""

    show_full_result_count = False
    list_per_page = 50


class RecomputesScoresAdmin(LargeTableAdmin):
    """Rows that feed the score: after an admin edit or delete, the product is recomputed."""

    # The lookup from a row of this model to its product's id.
    product_lookup = "product"

    def _product_ids(self, queryset) -> set[int]:
        return set(queryset.values_list(self.product_lookup, flat=True))

    def _request_recompute(self, product_ids) -> None:
        for product_id in product_ids:
            product_request_recompute(product_id=product_id)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if _changed(form, formsets):
            product_ids = self._product_ids(self.model.objects.filter(pk=form.instance.pk))
            self._request_recompute(product_ids)

    def delete_model(self, request, obj):
        product_ids = self._product_ids(self.model.objects.filter(pk=obj.pk))
        super().delete_model(request, obj)
        self._request_recompute(product_ids)

    def delete_queryset(self, request, queryset):
        product_ids = self._product_ids(queryset)
        super().delete_queryset(request, queryset)
        self._request_recompute(product_ids)


def _form_data(form, names) -> dict:
    """The form's cleaned values of those ``names`` it has (read-only fields are not in it)."""
    return {name: form.cleaned_data[name] for name in names if name in form.cleaned_data}


class ServiceWritesAdmin(LargeTableAdmin):
    """Rows the app writes through a service that leaves a trace (change events, webhooks, a
    version, scores): the admin saves and deletes them through that same service.

    A subclass gives ``service_save(request, form, stored)`` (``stored``: the row as the database
    holds it, None when adding; it returns the saved row) and ``service_delete(request, obj)``.
    Rows never move to another parent in the app, so ``fixed_on_change`` is read-only on change.
    """

    fixed_on_change: tuple[str, ...] = ("product",)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, *self.fixed_on_change) if obj is not None else fields

    def service_save(self, request, form, stored):
        raise NotImplementedError

    def service_delete(self, request, obj) -> None:
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        # The form has already set its values on ``obj``: the service compares with a fresh copy.
        stored = type(obj).objects.get(pk=obj.pk) if change else None
        saved = self.service_save(request, form, stored)
        obj.__dict__.update(saved.__dict__)

    def delete_model(self, request, obj):
        self.service_delete(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.service_delete(request, obj)


class ViewOnlyAdmin(LargeTableAdmin):
    """Records the system writes: readable by superusers, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """Past versions can be read. Restoring one is an edit like any other, made in the change
    form, so that it goes through the same validation and recompute as every admin edit."""

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


# --- Products ------------------------------------------------------------------------------


class PersonaInline(admin.TabularInline):
    model = Persona
    extra = 0
    fields = ("name", "segment", "segment_size")
    show_change_link = True


class ScoringDriverInline(admin.TabularInline):
    model = ScoringDriver
    extra = 0
    fields = ("name", "weight", "position")


class ProductAdminForm(forms.ModelForm):
    def clean(self):
        """The app's rule for slugs (``product_slug_check``): none reserved, one per workspace."""
        cleaned = super().clean()
        workspace = cleaned.get("workspace") or getattr(self.instance, "workspace", None)
        if cleaned.get("slug") and workspace is not None:
            try:
                product_services.product_slug_check(
                    cleaned["slug"], workspace_id=workspace.pk, product_id=self.instance.pk
                )
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


@admin.register(Product)
class ProductAdmin(RecomputesScoresAdmin):
    """Saved and deleted through the product services; the inlines' rows ask for a recompute."""

    product_lookup = "pk"
    form = ProductAdminForm
    list_display = (
        "name",
        "slug",
        "workspace",
        "product_line",
        "scoring_framework",
        "reach_source",
        "scores_computed_at",
    )
    list_filter = ("scoring_framework", "reach_source", "tie_break", "workspace")
    list_select_related = ("workspace",)
    search_fields = ("name", "slug", "product_line", "workspace__name")
    autocomplete_fields = ("workspace",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = (
        "score_recompute_requested_at",
        "score_recompute_queued",
        "scores_computed_at",
        *TIMESTAMPS,
    )
    inlines = (PersonaInline, ScoringDriverInline)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        # A product never moves to another workspace in the app.
        return (*fields, "workspace") if obj is not None else fields

    def save_model(self, request, obj, form, change):
        data = _form_data(form, product_services.PRODUCT_FIELDS)
        if change:
            saved = product_services.product_update(
                product=Product.objects.get(pk=obj.pk), data=data
            )
        else:
            saved = product_services.product_create(workspace=obj.workspace, **data)
        obj.__dict__.update(saved.__dict__)

    def delete_model(self, request, obj):
        product_services.product_delete(product=obj)

    def delete_queryset(self, request, queryset):
        for product in queryset:
            product_services.product_delete(product=product)


@admin.register(Persona)
class PersonaAdmin(RecomputesScoresAdmin):
    list_display = ("name", "product", "segment", "segment_size")
    list_filter = ("product__workspace", "product")
    list_select_related = ("product",)
    search_fields = ("name", "segment", "product__name")
    autocomplete_fields = ("product",)
    readonly_fields = TIMESTAMPS


@admin.register(ScoringDriver)
class ScoringDriverAdmin(RecomputesScoresAdmin):
    list_display = ("name", "product", "weight", "position")
    list_filter = ("product",)
    list_select_related = ("product",)
    search_fields = ("name", "product__name")
    autocomplete_fields = ("product",)
    readonly_fields = TIMESTAMPS


@admin.register(Tag)
class TagAdmin(LargeTableAdmin):
    list_display = ("name", "product")
    list_filter = ("product",)
    list_select_related = ("product",)
    search_fields = ("name", "product__name")
    autocomplete_fields = ("product",)


# --- Features ------------------------------------------------------------------------------


class FeatureDriverScoreInline(admin.TabularInline):
    model = FeatureDriverScore
    extra = 0
    autocomplete_fields = ("driver",)
    fields = ("driver", "score")


def _driver_scores(formsets) -> dict[int, int | None]:
    """What inline driver-score rows change, as ``feature_set_driver_scores`` takes it: a score
    per driver id, None for a driver whose score goes."""
    cleared: set[int] = set()
    scores: dict[int, int | None] = {}
    for formset in formsets:
        for row in formset.forms:
            if not row.has_changed():
                continue
            if row.instance.pk is not None:
                cleared.add(row.instance.driver_id)
            if not (formset.can_delete and row.cleaned_data.get("DELETE")):
                scores[row.cleaned_data["driver"].pk] = row.cleaned_data["score"]
        # The admin's change message lists these; nothing is written here.
        formset.save(commit=False)
    return dict.fromkeys(cleared) | scores


class FeatureAdminForm(forms.ModelForm):
    def clean(self):
        """The service's rule for links: personas and tags of the feature's own product."""
        cleaned = super().clean()
        product = cleaned.get("product") or getattr(self.instance, "product", None)
        if product is not None:
            for name in ("personas", "tags"):
                try:
                    same_product(product.pk, cleaned.get(name) or (), name)
                except ValidationError as exc:
                    self.add_error(None, exc)
        return cleaned


@admin.register(Feature)
class FeatureAdmin(ReadOnlyHistoryAdmin, ServiceWritesAdmin):
    """Created, edited and deleted through the feature services, as in the app: an edit bumps the
    version, rescores the feature, records the change event and sends the webhooks."""

    form = FeatureAdminForm
    list_display = (
        "title",
        "product",
        "status",
        "owner",
        "score",
        "rank",
        "moscow",
        "kano",
        "updated_at",
    )
    list_filter = (
        "status",
        "moscow",
        "kano",
        "product__scoring_framework",
        "product__workspace",
        "product",
    )
    list_select_related = ("product", "owner")
    search_fields = ("title", "product__name")
    autocomplete_fields = ("product", "owner", "tags", "personas")
    readonly_fields = (*SCORE_FIELDS, *TIMESTAMPS)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "product",
                    "title",
                    "status",
                    "owner",
                    "description",
                    "requirements",
                    "tags",
                    "personas",
                )
            },
        ),
        (
            _("Business case"),
            {"fields": ("expected_revenue", "cost", "business_case_notes", "internal_notes")},
        ),
        (
            _("Scoring inputs"),
            {
                "fields": (
                    ("reach", "impact", "confidence", "effort"),
                    ("impact_ice", "confidence_ice", "ease"),
                    ("business_value", "time_criticality", "risk_reduction", "job_size"),
                    "value",
                    ("moscow", "kano"),
                )
            },
        ),
        (_("Score"), {"fields": (*SCORE_FIELDS, *TIMESTAMPS)}),
    )
    inlines = (FeatureDriverScoreInline,)

    @staticmethod
    def _links(form) -> dict:
        return {
            "personas": form.cleaned_data["personas"],
            "tags": [tag.name for tag in form.cleaned_data["tags"]],
        }

    def save_model(self, request, obj, form, change):
        # An edit is written in save_related, with its driver scores, in one service call.
        if not change:
            created = feature_services.feature_create(
                product=obj.product,
                **self._links(form),
                **_form_data(form, feature_services.EDITABLE_FIELDS),
            )
            obj.__dict__.update(created.__dict__)

    def save_related(self, request, form, formsets, change):
        scores = _driver_scores(formsets)
        if change:
            feature_services.feature_update_inputs(
                feature=form.instance,
                data=_form_data(form, feature_services.EDITABLE_FIELDS),
                driver_scores=scores,
                actor=request.user,
                **self._links(form),
            )
        elif scores:
            product_services.feature_set_driver_scores(feature=form.instance, scores=scores)

    def service_delete(self, request, obj) -> None:
        records.feature_delete(feature=obj)


@admin.register(FeatureDriverScore)
class FeatureDriverScoreAdmin(ServiceWritesAdmin):
    """Set through ``feature_update_inputs``, as the prioritization table does: a change bumps
    the feature's version and rescores it."""

    fixed_on_change = ("feature",)
    list_display = ("feature", "driver", "score")
    list_filter = ("feature__product",)
    list_select_related = ("feature", "driver")
    search_fields = ("feature__title", "driver__name")
    autocomplete_fields = ("feature", "driver")

    def _set(self, request, feature, scores) -> None:
        feature_services.feature_update_inputs(
            feature=feature, data={}, driver_scores=scores, actor=request.user
        )

    def service_save(self, request, form, stored):
        feature = stored.feature if stored else form.cleaned_data["feature"]
        driver = form.cleaned_data["driver"]
        scores: dict[int, int | None] = {driver.pk: form.cleaned_data["score"]}
        if stored is not None and stored.driver_id != driver.pk:
            scores = {stored.driver_id: None, **scores}
        self._set(request, feature, scores)
        return FeatureDriverScore.objects.get(feature=feature, driver=driver)

    def service_delete(self, request, obj) -> None:
        self._set(request, obj.feature, {obj.driver_id: None})


@admin.register(FeatureRankSnapshot)
class FeatureRankSnapshotAdmin(ViewOnlyAdmin):
    list_display = ("feature", "taken_on", "rank", "score")
    list_filter = ("taken_on",)
    list_select_related = ("feature",)
    search_fields = ("feature__title",)
    raw_id_fields = ("feature",)


# --- Evidence ------------------------------------------------------------------------------


@admin.register(Insight)
class InsightAdmin(RecomputesScoresAdmin):
    list_display = ("customer", "product", "source", "importance", "persona", "observed_on")
    list_filter = ("source", "importance", "product")
    list_select_related = ("product", "persona")
    search_fields = ("customer", "text", "product__name")
    autocomplete_fields = ("product", "persona", "features", "created_by")
    readonly_fields = TIMESTAMPS


@admin.register(Objective)
class ObjectiveAdmin(LargeTableAdmin):
    list_display = ("name", "product", "metric", "baseline", "target", "current", "due")
    list_filter = ("product",)
    list_select_related = ("product",)
    search_fields = ("name", "metric", "product__name")
    autocomplete_fields = ("product", "features")
    readonly_fields = TIMESTAMPS


# --- Strategy and go-to-market -----------------------------------------------------------


class PositioningAnswerInline(admin.StackedInline):
    model = PositioningAnswer
    extra = 0
    autocomplete_fields = ("insights", "personas", "updated_by")


@admin.register(Positioning)
class PositioningAdmin(ReadOnlyHistoryAdmin, LargeTableAdmin):
    list_display = ("product", "show_to_investors", "show_to_executives", "updated_at")
    list_select_related = ("product",)
    search_fields = ("product__name",)
    autocomplete_fields = ("product",)
    inlines = (PositioningAnswerInline,)
    readonly_fields = TIMESTAMPS


@admin.register(PositioningAnswer)
class PositioningAnswerAdmin(ReadOnlyHistoryAdmin, LargeTableAdmin):
    list_display = ("positioning", "question", "updated_at")
    list_filter = ("question",)
    list_select_related = ("positioning__product",)
    search_fields = ("text", "positioning__product__name")
    autocomplete_fields = ("positioning", "insights", "personas", "updated_by")
    readonly_fields = TIMESTAMPS


@admin.register(Competitor)
class CompetitorAdmin(LargeTableAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("name", "product", "segment", "website")
    list_filter = ("product",)
    list_select_related = ("product",)
    search_fields = ("name", "segment", "product__name")
    autocomplete_fields = ("product",)
    readonly_fields = TIMESTAMPS


@admin.register(Comparison)
class ComparisonAdmin(LargeTableAdmin):
    list_display = ("competitor", "feature", "lane", "status")
    list_filter = ("status",)
    list_select_related = ("competitor", "feature", "lane")
    search_fields = ("competitor__name", "feature__title", "lane__name", "note")
    autocomplete_fields = ("competitor", "feature", "lane")
    readonly_fields = TIMESTAMPS


@admin.register(MarketSize)
class MarketSizeAdmin(LargeTableAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("product", "kind", "value", "as_of", "source")
    list_filter = ("kind", "product")
    list_select_related = ("product",)
    search_fields = ("product__name", "source")
    autocomplete_fields = ("product",)
    readonly_fields = TIMESTAMPS


@admin.register(RevenueModel)
class RevenueModelAdmin(ReadOnlyHistoryAdmin, LargeTableAdmin):
    list_display = ("product", "currency", "conversion_rate")
    list_select_related = ("product",)
    search_fields = ("product__name",)
    autocomplete_fields = ("product",)
    readonly_fields = TIMESTAMPS


@admin.register(PricePlan)
class PricePlanAdmin(LargeTableAdmin):
    list_display = ("name", "product", "yearly_price", "persona", "conversion_rate")
    list_filter = ("product",)
    list_select_related = ("product", "persona")
    search_fields = ("name", "product__name")
    autocomplete_fields = ("product", "persona")
    readonly_fields = TIMESTAMPS


@admin.register(LaunchTemplateTask)
class LaunchTemplateTaskAdmin(LargeTableAdmin):
    list_display = ("title", "team", "workspace", "days_before_release", "position")
    list_filter = ("team",)
    list_select_related = ("workspace",)
    search_fields = ("title", "workspace__name")
    readonly_fields = TIMESTAMPS


@admin.register(LaunchTask)
class LaunchTaskAdmin(ReadOnlyHistoryAdmin, LargeTableAdmin):
    list_display = ("title", "release", "team", "owner", "due_on", "done_at")
    list_filter = ("team",)
    list_select_related = ("release", "owner")
    search_fields = ("title", "release__name")
    autocomplete_fields = ("release", "owner", "done_by")
    readonly_fields = TIMESTAMPS


# --- Roadmap -------------------------------------------------------------------------------


@admin.register(TableLayout)
class TableLayoutAdmin(LargeTableAdmin):
    list_display = ("user", "product", "hidden_columns", "updated_at")
    list_select_related = ("user", "product")
    search_fields = ("user__email", "product__name")
    autocomplete_fields = ("user", "product")
    readonly_fields = TIMESTAMPS


@admin.register(CsvUpload)
class CsvUploadAdmin(LargeTableAdmin):
    """CSV files previewed and not yet imported: they can be looked at and deleted, never
    written here (the import page makes them; beat sweeps them after an hour)."""

    list_display = ("filename", "user", "product", "size", "created_at")
    list_select_related = ("user", "product")
    search_fields = ("filename", "user__email", "product__name")
    fields = ("filename", "user", "product", "size", "fingerprint", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("data").annotate(data_size=Length("data"))

    @admin.display(description="size (bytes)", ordering="data_size")
    def size(self, obj) -> int:
        return obj.data_size

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Release)
class ReleaseAdmin(ServiceWritesAdmin):
    """Deleting a release records, for each of its items, that it left the release."""

    list_display = ("name", "product", "status", "target_date")
    list_filter = ("status", "product")
    list_select_related = ("product",)
    search_fields = ("name", "product__name")
    autocomplete_fields = ("product",)
    readonly_fields = TIMESTAMPS

    def service_save(self, request, form, stored):
        product = stored.product if stored else form.cleaned_data["product"]
        data = _form_data(form, records.RELEASE_FIELDS)
        return records.release_save(product=product, data=data, release=stored)

    def service_delete(self, request, obj) -> None:
        records.release_delete(release=obj, actor=request.user)


@admin.register(Lane)
class LaneAdmin(ServiceWritesAdmin):
    """Deleting a lane records, for each of its items, that it left the lane."""

    list_display = ("name", "product", "position")
    list_filter = ("product",)
    list_select_related = ("product",)
    search_fields = ("name", "product__name")
    autocomplete_fields = ("product",)
    readonly_fields = TIMESTAMPS

    def service_save(self, request, form, stored):
        product = stored.product if stored else form.cleaned_data["product"]
        data = _form_data(form, records.LANE_FIELDS)
        return records.lane_save(product=product, data=data, lane=stored)

    def service_delete(self, request, obj) -> None:
        records.lane_delete(lane=obj, actor=request.user)


@admin.register(RoadmapItem)
class RoadmapItemAdmin(ReadOnlyHistoryAdmin, ServiceWritesAdmin):
    """Placed, edited and taken off through the roadmap services: each records its change event
    (and a move its webhook), as on the board."""

    list_display = (
        "__str__",
        "product",
        "horizon",
        "position",
        "lane",
        "release",
        "visibility",
        "start_date",
        "end_date",
    )
    list_filter = ("horizon", "visibility", "theme_status", "product")
    list_select_related = ("product", "feature", "lane", "release")
    search_fields = ("title", "external_title", "feature__title", "product__name")
    autocomplete_fields = ("product", "feature", "lane", "release")
    fields = ("product", *records.ROADMAP_ITEM_FIELDS, *TIMESTAMPS)
    readonly_fields = TIMESTAMPS

    def service_save(self, request, form, stored):
        product = stored.product if stored else form.cleaned_data["product"]
        data = _form_data(form, records.ROADMAP_ITEM_FIELDS)
        return records.roadmap_item_save(
            product=product, data=data, item=stored, actor=request.user
        )

    def service_delete(self, request, obj) -> None:
        records.roadmap_item_delete(item=obj, actor=request.user)


# --- Sharing, digests, webhooks ------------------------------------------------------------


@admin.register(ShareLink)
class ShareLinkAdmin(ViewOnlyAdmin):
    """The token is never stored (only its hash and salt, not shown here): the share page shows
    a link's address. Links are made on the share page (a link made here could never be opened)
    and never edited or deleted in the app: here they can only be revoked, by the share page's
    service (``share_link_revoke``)."""

    list_display = (
        "label",
        "product",
        "audience",
        "expires_at",
        "revoked_at",
        "view_count",
        "last_viewed_at",
    )
    list_filter = ("audience", "revoked_at", "product")
    list_select_related = ("product",)
    search_fields = ("label", "product__name")
    autocomplete_fields = ("product",)
    raw_id_fields = ("created_by",)
    actions = ("revoke",)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("roadmap.change_sharelink")

    @admin.action(description=_("Revoke selected share links"), permissions=["revoke"])
    def revoke(self, request, queryset):
        links = list(queryset.filter(revoked_at__isnull=True))
        for link in links:
            share_link_revoke(share_link=link)
        self.message_user(request, _("%(count)d revoked.") % {"count": len(links)})


@admin.register(Subscription)
class SubscriptionAdmin(LargeTableAdmin):
    list_display = (
        "email",
        "product",
        "share_link",
        "frequency",
        "confirmed_at",
        "unsubscribed_at",
        "sent_through",
    )
    list_filter = ("frequency", "confirmed_at", "unsubscribed_at", "product")
    list_select_related = ("product", "share_link")
    search_fields = ("email", "name", "product__name")
    autocomplete_fields = ("product",)
    raw_id_fields = ("share_link", "user")
    readonly_fields = ("sent_through", *TIMESTAMPS)


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(ViewOnlyAdmin):
    list_display = ("subscription__email", "period", "status", "attempts", "sent_at")
    list_filter = ("status",)
    list_select_related = ("subscription",)
    search_fields = ("subscription__email", "period")
    raw_id_fields = ("subscription",)


@admin.register(ChangeEvent)
class ChangeEventAdmin(ViewOnlyAdmin):
    list_display = ("kind", "product", "item", "feature", "actor", "occurred_at")
    list_filter = ("kind", "product")
    list_select_related = ("product", "item__feature", "feature", "actor")
    search_fields = ("feature__title", "item__title", "product__name")
    raw_id_fields = ("product", "item", "feature", "actor")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(LargeTableAdmin):
    list_display = ("url", "workspace", "is_active", "events", "created_at")
    list_filter = ("is_active", "workspace")
    list_select_related = ("workspace",)
    search_fields = ("url", "description", "workspace__name")
    autocomplete_fields = ("workspace",)
    raw_id_fields = ("created_by",)
    readonly_fields = ("secret", *TIMESTAMPS)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ViewOnlyAdmin):
    list_display = (
        "event",
        "endpoint",
        "status",
        "attempts",
        "response_code",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status", "event")
    list_select_related = ("endpoint",)
    search_fields = ("endpoint__url",)
    raw_id_fields = ("endpoint",)


# --- Queue health --------------------------------------------------------------------------


def queue_health(request):
    """Background work at a glance: stale scores, unsent digests, undelivered webhooks, broker.

    Staff only (routed by config/admin.py through ``admin_view``); each list also needs the
    permission to view its model, as on the model's own admin pages.
    """
    from django.template.response import TemplateResponse

    from roadmap import queue_health as health

    user = request.user
    context = {
        **admin.site.each_context(request),
        "title": _("Queue health"),
        "recomputes": (
            health.pending_recomputes() if user.has_perm("roadmap.view_product") else None
        ),
        "digests": (
            health.unsent_digests() if user.has_perm("roadmap.view_digestdelivery") else None
        ),
        "webhooks": (
            health.undelivered_webhooks() if user.has_perm("roadmap.view_webhookdelivery") else None
        ),
        "broker": health.broker_status(),
        "overdue_minutes": int(health.RECOMPUTE_OVERDUE.total_seconds() // 60),
    }
    return TemplateResponse(request, "admin/queue_health.html", context)
