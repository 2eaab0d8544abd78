"""Admin of planning: products, their scoring drivers and tags, features and their scores, the
roadmap (releases, lanes, items) and each member's table layout.

Scores, ranks and versions are written by the scoring services only, so they are read-only here.
Products, drivers, features and the roadmap are saved and deleted through the planning services,
so an admin edit leaves the same trace as a PM's (version, change events, webhooks, rescoring).
The history of features and roadmap items is view-only.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from roadmap.admin_base import (
    SCORE_FIELDS,
    TIMESTAMPS,
    ProductRecordAdmin,
    ReadOnlyHistoryAdmin,
    ServiceWritesAdmin,
    ViewOnlyAdmin,
    ViewOnlyInline,
    form_data,
    refusals,
)
from roadmap.fields import same_product
from roadmap.models import (
    CustomField,
    CustomFieldChoice,
    Feature,
    FeatureDriverScore,
    FeatureFieldValue,
    FeatureRankSnapshot,
    Lane,
    Persona,
    Product,
    Rating,
    RatingRound,
    RatingRoundRater,
    Release,
    RoadmapItem,
    ScoringDriver,
    ScoringFormulaVersion,
    TableLayout,
    Tag,
)
from roadmap.planning.services import features as feature_services
from roadmap.planning.services import fields as field_services
from roadmap.planning.services import preferences
from roadmap.planning.services import products as product_services
from roadmap.planning.services import roadmap as records

# --- Products ------------------------------------------------------------------------------


class PersonaInline(ViewOnlyInline, admin.TabularInline):
    model = Persona
    extra = 0
    fields = ("name", "segment", "segment_size")


class ScoringDriverInline(ViewOnlyInline, admin.TabularInline):
    model = ScoringDriver
    extra = 0
    fields = ("name", "weight", "source", "full_scale", "position")


@admin.register(Product)
class ProductAdmin(ServiceWritesAdmin):
    """Saved and deleted through the product services (a change of scoring settings asks for a
    recompute); its personas and drivers are listed, and edited on their own pages."""

    fixed_on_change = ("workspace",)
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

    def service_save(self, request, form, stored):
        data = form_data(form, product_services.PRODUCT_FIELDS)
        if stored is not None:
            return product_services.product_update(product=stored, data=data)
        return product_services.product_create(workspace=form.cleaned_data["workspace"], **data)

    def service_delete(self, request, obj) -> None:
        product_services.product_delete(product=obj)


@admin.register(ScoringFormulaVersion)
class ScoringFormulaVersionAdmin(ViewOnlyAdmin):
    """A product's formula versions, written by the formula page and the API only (a version is
    saved with the product's formula, and its scores recomputed)."""

    list_display = ("product", "number", "author", "created_at")
    list_select_related = ("product", "author")
    search_fields = ("product__name", "source")


@admin.register(ScoringDriver)
class ScoringDriverAdmin(ServiceWritesAdmin):
    """Saved and deleted through the product services: the product's scores follow."""

    list_display = ("name", "product", "weight", "source", "full_scale", "position")
    list_filter = ("product", "source")
    list_select_related = ("product",)
    search_fields = ("name", "product__name")
    autocomplete_fields = ("product",)
    # A new driver goes last; the order is the product's settings page's to change.
    readonly_fields = ("position", *TIMESTAMPS)

    def service_save(self, request, form, stored):
        return product_services.driver_save(
            product=stored.product if stored else form.cleaned_data["product"],
            name=form.cleaned_data["name"],
            weight=form.cleaned_data["weight"],
            driver=stored,
            source=form.cleaned_data["source"],
            full_scale=form.cleaned_data["full_scale"],
        )

    def service_delete(self, request, obj) -> None:
        product_services.driver_delete(driver=obj)


@admin.register(CustomField)
class CustomFieldAdmin(ServiceWritesAdmin):
    """Saved and deleted through the fields services: a field the formula reads stays."""

    list_display = ("name", "product", "key", "kind", "position")
    list_filter = ("kind",)
    list_select_related = ("product",)
    search_fields = ("name", "key", "product__name")
    autocomplete_fields = ("product",)
    readonly_fields = ("key", "position", *TIMESTAMPS)
    fixed_on_change = ("product", "kind")

    def service_save(self, request, form, stored):
        return field_services.custom_field_save(
            product=stored.product if stored else form.cleaned_data["product"],
            name=form.cleaned_data["name"],
            kind=stored.kind if stored else form.cleaned_data["kind"],
            field=stored,
        )

    def service_delete(self, request, obj) -> None:
        field_services.custom_field_delete(field=obj)


@admin.register(CustomFieldChoice)
class CustomFieldChoiceAdmin(ViewOnlyAdmin):
    """A choice field's choices, edited with the field on the product's settings page (a new
    value rescores the product)."""

    list_display = ("label", "field", "value", "position")
    list_select_related = ("field",)
    search_fields = ("label", "field__name")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FeatureFieldValue)
class FeatureFieldValueAdmin(ViewOnlyAdmin):
    """Features' custom field values, set by editing the feature (page, API, CSV)."""

    list_display = ("feature", "field", "value", "choice")
    list_select_related = ("feature", "field", "choice")
    search_fields = ("feature__title", "field__name")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Tag)
class TagAdmin(ServiceWritesAdmin):
    """Tags are made by editing features; here they are read, or deleted (``tag_delete`` takes
    them off every feature through the feature writer)."""

    list_display = ("name", "product")
    list_filter = ("product",)
    list_select_related = ("product",)
    search_fields = ("name", "product__name")
    autocomplete_fields = ("product",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def service_delete(self, request, obj) -> None:
        feature_services.tag_delete(tag=obj, actor=request.user)


# --- Features ------------------------------------------------------------------------------


class FeatureDriverScoreInline(admin.TabularInline):
    model = FeatureDriverScore
    extra = 0
    autocomplete_fields = ("driver",)
    fields = ("driver", "score")


def _driver_scores(formsets) -> dict[int, int | None]:
    """What inline driver-score rows change, as the feature services take it: a score
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
        # Written in save_related, with the inline driver scores, in one service call.
        pass

    def save_related(self, request, form, formsets, change):
        scores = _driver_scores(formsets)
        with refusals():
            if change:
                feature_services.feature_update_inputs(
                    feature=form.instance,
                    data=form_data(form, feature_services.EDITABLE_FIELDS),
                    driver_scores=scores,
                    actor=request.user,
                    **self._links(form),
                )
            else:
                created = feature_services.feature_create(
                    product=form.instance.product,
                    driver_scores=scores,
                    **self._links(form),
                    **form_data(form, feature_services.EDITABLE_FIELDS),
                )
                form.instance.__dict__.update(created.__dict__)

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


# --- Rating rounds ---------------------------------------------------------------------------


@admin.register(RatingRound)
class RatingRoundAdmin(ViewOnlyAdmin):
    """Rounds are started, rated, accepted, closed and reopened on the product's Rating tab
    (roadmap.planning.services.rating): read here, deleted with their ratings if need be."""

    list_display = ("name", "product", "created_by", "created_at", "closed_at")
    list_select_related = ("product", "created_by")
    search_fields = ("name", "product__name")
    raw_id_fields = ("product", "created_by", "features")


@admin.register(RatingRoundRater)
class RatingRoundRaterAdmin(ViewOnlyAdmin):
    list_display = ("round", "user", "submitted_at", "notified_at")
    list_select_related = ("round", "user")
    search_fields = ("round__name", "user__email")
    raw_id_fields = ("round", "user")


@admin.register(Rating)
class RatingAdmin(ViewOnlyAdmin):
    list_display = ("round", "rater", "feature", "input_key", "value")
    list_select_related = ("round", "rater", "feature")
    search_fields = ("round__name", "feature__title", "rater__email")
    raw_id_fields = ("round", "rater", "feature")


# --- Roadmap -------------------------------------------------------------------------------


@admin.register(TableLayout)
class TableLayoutAdmin(ServiceWritesAdmin):
    """A member's hidden columns, set by ``table_layout_save`` (hideable columns only)."""

    fixed_on_change = ("user", "product")
    list_display = ("user", "product", "hidden_columns", "updated_at")
    list_select_related = ("user", "product")
    search_fields = ("user__email", "product__name")
    autocomplete_fields = ("user", "product")
    readonly_fields = TIMESTAMPS

    def service_save(self, request, form, stored):
        return preferences.table_layout_save(
            user=stored.user if stored else form.cleaned_data["user"],
            product=stored.product if stored else form.cleaned_data["product"],
            hidden=form.cleaned_data["hidden_columns"] or (),
        )

    def service_delete(self, request, obj) -> None:
        preferences.table_layout_delete(layout=obj)


@admin.register(Release)
class ReleaseAdmin(ProductRecordAdmin):
    """Deleting a release records, for each of its items, that it left the release."""

    list_display = ("name", "product", "status", "target_date")
    list_filter = ("status", "product")
    list_select_related = ("product",)
    search_fields = ("name", "product__name")
    autocomplete_fields = ("product",)
    readonly_fields = TIMESTAMPS

    save_service = staticmethod(records.release_save)
    delete_service = staticmethod(records.release_delete)
    service_fields = records.RELEASE_FIELDS
    record_argument = "release"
    delete_by_actor = True


@admin.register(Lane)
class LaneAdmin(ProductRecordAdmin):
    """Deleting a lane records, for each of its items, that it left the lane."""

    list_display = ("name", "product", "position")
    list_filter = ("product",)
    list_select_related = ("product",)
    search_fields = ("name", "product__name")
    autocomplete_fields = ("product",)
    readonly_fields = TIMESTAMPS

    save_service = staticmethod(records.lane_save)
    delete_service = staticmethod(records.lane_delete)
    service_fields = records.LANE_FIELDS
    record_argument = "lane"
    delete_by_actor = True


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
        data = form_data(form, records.ROADMAP_ITEM_FIELDS)
        return records.roadmap_item_save(
            product=product, data=data, item=stored, actor=request.user
        )

    def service_delete(self, request, obj) -> None:
        records.roadmap_item_delete(item=obj, actor=request.user)
