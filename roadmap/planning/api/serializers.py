"""API representations of planning: products, features, releases, lanes, roadmap items and
priorities. Validation rules live in the models (``full_clean``) and services; these only shape
input and output. Unknown input fields are rejected, never silently dropped (``roadmap.api``).
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS

from roadmap.api.scoping import scoped
from roadmap.api.serializers import (
    MemberEmailField,
    ModelRulesSerializer,
    ProductChildSerializer,
    ProductSlugField,
    StrictMixin,
)
from roadmap.models import (
    IMPACT_CHOICES,
    CustomField,
    CustomFieldChoice,
    CustomFieldKind,
    Feature,
    Lane,
    Persona,
    Product,
    Release,
    RoadmapItem,
    ScoringDriver,
)
from roadmap.planning import formula as formula_language
from roadmap.planning import scoring
from roadmap.planning.models.custom_fields import FIELDS_PER_PRODUCT, KEY_MAX_LENGTH
from roadmap.planning.selectors.features import FeaturesRelated, rows_products
from roadmap.planning.services.features import feature_version_check
from roadmap.planning.services.fields import field_values_clean
from roadmap.planning.services.scoring import SCORING_INPUT_FIELDS
from roadmap.planning.shares import product_formula, with_shares

IMPACT_SCALE = tuple(value for value, _ in IMPACT_CHOICES)


@extend_schema_field({"type": "number", "format": "double", "minimum": 0.25, "maximum": 3})
class ImpactField(serializers.Field):
    """RICE impact, read and written as a JSON number on the scale 0.25, 0.5, 1, 2, 3.

    The schema says ``number`` and names the scale in words, not as a number ``enum``: generated
    clients (openapi-python-client) take only string and integer enums and drop every model that
    uses another. Off-scale numbers are the model's to refuse, with its message.
    """

    default_error_messages = {"invalid": "Impact must be a number: 0.25, 0.5, 1, 2 or 3."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            self.fail("invalid")
        try:
            value = Decimal(str(data).strip())
        except InvalidOperation:
            self.fail("invalid")
        if not value.is_finite():
            self.fail("invalid")
        return next((step for step in IMPACT_SCALE if step == value), value)

    def to_representation(self, value):
        return float(value)


class ScoreField(serializers.FloatField):
    """A computed score, rounded for reading (``scoring.round_for_output``)."""

    def to_representation(self, value):
        return scoring.round_for_output(super().to_representation(value))


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {},
        "description": "framework, formula, inputs (each with value and source), score, and "
        "shares: each part of the formula with its effect on the score (+, −, × or ÷), its "
        "value, its share of the score (0–1; for a product or quotient, its part of the "
        "score's size in orders of magnitude), the score without it, and for a part that is a "
        "sum its addends (parts). Numbers rounded like the score.",
    }
)
class BreakdownField(serializers.JSONField):
    """A score breakdown, its numbers rounded like the score, with each term's share of it
    (``roadmap.planning.shares``) when read off a feature of a loaded product, unless the
    context says ``shares=False`` (a list not asked for them)."""

    def get_attribute(self, instance):
        breakdown = super().get_attribute(instance)
        if isinstance(instance, Feature) and breakdown and self.context.get("shares", True):
            return with_shares(instance.product, breakdown)
        return breakdown

    def to_representation(self, value):
        return scoring.breakdown_for_output(value or {})


# --- Products ----------------------------------------------------------------------------------


class ScoringDriverSerializer(StrictMixin, ModelRulesSerializer):
    class Meta:
        model = ScoringDriver
        fields = ["id", "name", "weight", "position", "source", "full_scale"]


class CustomFieldChoiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomFieldChoice
        fields = ["label", "value"]


class CustomFieldSerializer(serializers.ModelSerializer):
    choices = CustomFieldChoiceSerializer(many=True, read_only=True)

    class Meta:
        model = CustomField
        fields = ["key", "name", "kind", "position", "choices"]
        read_only_fields = fields


class ProductSerializer(StrictMixin, ModelRulesSerializer):
    workspace = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    drivers = ScoringDriverSerializer(many=True, read_only=True)
    custom_fields = CustomFieldSerializer(
        many=True,
        read_only=True,
        help_text="The product's own fields, each set on features under `custom_fields` by its "
        "key (which the product's formula reads too). Defined in the product's settings.",
    )
    scores_stale = serializers.BooleanField(read_only=True)
    scoring_formula = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=formula_language.MAX_LENGTH,
        trim_whitespace=False,
        help_text="The product's own formula (scoring_framework `custom`): its inputs, evidence "
        "figures, drivers and custom fields by name, + - * /, brackets, min, max, round, log, "
        "if(condition, a, b). Writing a different one saves a new version and scores every "
        "feature with it; an error is a 400 saying where (line, column).",
    )
    scoring_formula_version = serializers.IntegerField(
        read_only=True, help_text="The formula's version number; 0 until one is saved."
    )

    class Meta:
        model = Product
        fields = [
            "slug",
            "name",
            "workspace",
            "product_line",
            "vision",
            "description",
            "scoring_framework",
            "scoring_formula",
            "scoring_formula_version",
            "reach_source",
            "weighted_divide_by_effort",
            "tie_break",
            "drivers",
            "custom_fields",
            "scores_stale",
            "scores_computed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["scores_computed_at", "created_at", "updated_at"]
        # Uniqueness is checked by the model's full_clean in the service, once.
        extra_kwargs = {"slug": {"validators": []}}


class FormulaVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    source = serializers.CharField(help_text="The formula's text as saved.")
    author = serializers.SerializerMethodField(
        help_text="Who saved it (their email); null once they are gone."
    )
    created_at = serializers.DateTimeField()

    def get_author(self, version) -> str | None:
        return version.author.email if version.author else None


class FormulaVersionsSerializer(serializers.Serializer):
    product = serializers.CharField()
    in_use = serializers.IntegerField(
        allow_null=True,
        help_text="The version the product scores with; null while it uses a built-in framework.",
    )
    next = serializers.URLField(
        allow_null=True, help_text="The older versions, or null after the first."
    )
    results = FormulaVersionSerializer(many=True)


# --- Features ----------------------------------------------------------------------------------


class PlacementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    horizon = serializers.CharField()
    position = serializers.IntegerField()
    visibility = serializers.CharField()
    release = serializers.IntegerField(source="release_id", allow_null=True)
    lane = serializers.IntegerField(source="lane_id", allow_null=True)


def prefetched(instance, name: str):
    """A feature's related rows: the list its queryset prefetched into ``prefetched_<name>``
    (``Prefetch(to_attr=…)``: no queryset and manager made per row, which cost the features
    list a third of its time), else the relation read as usual."""
    found = getattr(instance, f"prefetched_{name}", None)
    return found if found is not None else getattr(instance, name).all()


class PrefetchedManyRelatedField(serializers.ManyRelatedField):
    def get_attribute(self, instance):
        return prefetched(instance, self.source)


class PersonasField(serializers.PrimaryKeyRelatedField):
    """Persona ids, read from the prefetched list (``prefetched``)."""

    @classmethod
    def many_init(cls, *args, **kwargs):
        # RelatedField.many_init's, with our list field.
        shared = {k: v for k, v in kwargs.items() if k in MANY_RELATION_KWARGS}
        return PrefetchedManyRelatedField(child_relation=cls(*args, **kwargs), **shared)


_PLACEMENT = PlacementSerializer()


class TagsField(serializers.ListField):
    """Tag names; written as a list of strings, read from the prefetched tags."""

    child = serializers.CharField(max_length=50)

    def get_attribute(self, instance):
        return sorted(tag.name for tag in prefetched(instance, "tags"))


@extend_schema_field({"type": "object", "additionalProperties": {}})
class FeatureCustomFieldsField(serializers.Field):
    """A feature's values in its product's custom fields, by key: a number for a number field,
    the choice's label for a choice field, true or false for a yes/no field. A field without a
    value is left out; written, null clears a value and a key left out keeps its value. Needs
    ``field_values`` prefetched with their field and choice."""

    def __init__(self, **kwargs):
        super().__init__(source="field_values", **kwargs)

    def get_attribute(self, instance):
        return prefetched(instance, "field_values")

    def to_representation(self, value):
        return _custom_fields(
            (v.field.key, v.field.kind, v.value, v.choice.label if v.choice_id else None)
            for v in value
        )

    def to_internal_value(self, data):
        if not isinstance(data, dict) or not all(isinstance(key, str) for key in data):
            raise serializers.ValidationError("Give an object of values by field key.")
        # Each key is looked up: no more than a product can have (nor longer than a key is).
        if len(data) > FIELDS_PER_PRODUCT or any(len(key) > KEY_MAX_LENGTH for key in data):
            raise serializers.ValidationError(
                f"A product has {FIELDS_PER_PRODUCT} custom fields at most, each key "
                f"{KEY_MAX_LENGTH} characters at most."
            )
        if any(isinstance(v, dict | list) for v in data.values()):
            raise serializers.ValidationError(
                "Each value is a number, a text, true, false or null."
            )
        return data


class FeatureSerializer(StrictMixin, ModelRulesSerializer):
    product = ProductSlugField()
    owner = MemberEmailField(allow_null=True, required=False)
    tags = TagsField(required=False)
    personas = PersonasField(many=True, queryset=Persona.objects.none(), required=False)
    missing_inputs = serializers.SerializerMethodField()
    placement = serializers.SerializerMethodField()
    insight_count = serializers.IntegerField(read_only=True)
    impact = ImpactField(
        allow_null=True,
        required=False,
        help_text="RICE impact: 0.25 (minimal), 0.5 (low), 1 (medium), 2 (high) or 3 (massive).",
    )
    score = ScoreField(
        read_only=True,
        allow_null=True,
        help_text="Rounded to two decimals (three significant digits below 1); ranks use the "
        "exact value.",
    )
    score_breakdown = BreakdownField(read_only=True)
    custom_fields = FeatureCustomFieldsField(
        required=False,
        help_text="Values of the product's custom fields by key: a number (number field), the "
        "choice's label (choice field), true or false (yes/no field). A field without a value is "
        "left out; write null to clear one. A bad key or value is a 400 naming the key.",
    )
    version = serializers.IntegerField(
        required=False,
        help_text="On PATCH: the version you last read. If someone saved since, you get a 409.",
    )

    class Meta:
        model = Feature
        fields = [
            "id",
            "product",
            "title",
            "description",
            "requirements",
            "status",
            "owner",
            "tags",
            "personas",
            "expected_revenue",
            "cost",
            "business_case_notes",
            "internal_notes",
            *SCORING_INPUT_FIELDS,
            "moscow",
            "kano",
            "market_position",
            "custom_fields",
            "score",
            "score_breakdown",
            "missing_inputs",
            "scored_at",
            "rank",
            "placement",
            "insight_count",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["score", "score_breakdown", "scored_at", "rank"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["product"].queryset = scoped(Product.objects.all(), request)
            self.fields["personas"].child_relation.queryset = scoped(Persona.objects.all(), request)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            self.fields["product"].read_only = True

    def to_internal_value(self, data):
        # A stale body sent back whole also differs in its read-only fields (updated_at, score):
        # the version is compared first, so the answer is the 409 that says what happened.
        if self.instance is not None and isinstance(data, dict) and "version" in data:
            try:
                expected = self.fields["version"].to_internal_value(data["version"])
            except serializers.ValidationError:
                expected = None  # reported with the other fields below
            feature_version_check(feature=self.instance, expected_version=expected)
        return super().to_internal_value(data)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        values = attrs.get("field_values")
        if values:
            product = self.instance.product if self.instance is not None else attrs.get("product")
            try:
                field_values_clean(product=product, values=values)
            except DjangoValidationError as error:
                raise serializers.ValidationError({"custom_fields": error.message_dict}) from None
        return attrs

    def get_missing_inputs(self, obj) -> list[str]:
        return scoring.missing_inputs(obj.score_breakdown or {})

    @extend_schema_field(PlacementSerializer(allow_null=True))
    def get_placement(self, obj):
        item = getattr(obj, "roadmap_item", None)
        # One serializer for every row: making one per row copied its fields each time.
        return _PLACEMENT.to_representation(item) if item else None


# --- Supporting records --------------------------------------------------------------------------


class ReleaseSerializer(ProductChildSerializer):
    class Meta:
        model = Release
        fields = [
            "id",
            "product",
            "name",
            "description",
            "target_date",
            "status",
            "created_at",
            "updated_at",
        ]
        validators = []


class LaneSerializer(ProductChildSerializer):
    class Meta:
        model = Lane
        fields = ["id", "product", "name", "position"]
        validators = []


class RoadmapItemSerializer(ProductChildSerializer):
    feature = serializers.PrimaryKeyRelatedField(
        queryset=Feature.objects.all(), required=False, allow_null=True
    )
    lane = serializers.PrimaryKeyRelatedField(
        queryset=Lane.objects.all(), required=False, allow_null=True
    )
    release = serializers.PrimaryKeyRelatedField(
        queryset=Release.objects.all(), required=False, allow_null=True
    )
    display_title = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)

    class Meta:
        model = RoadmapItem
        fields = [
            "id",
            "product",
            "feature",
            "title",
            "display_title",
            "theme_status",
            "status",
            "horizon",
            "position",
            "lane",
            "start_date",
            "end_date",
            "release",
            "visibility",
            "external_title",
            "external_description",
            "created_at",
            "updated_at",
        ]
        validators = []


class RoadmapItemMoveSerializer(StrictMixin, serializers.Serializer):
    horizon = serializers.ChoiceField(choices=["now", "next", "later"])
    position = serializers.IntegerField(min_value=0)


# --- Priorities --------------------------------------------------------------------------------


class PriorityReleaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PrioritySerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True)
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField()
    score = ScoreField(
        allow_null=True, help_text="Rounded like a feature's score; ranks use the exact value."
    )
    framework = serializers.CharField()
    score_breakdown = BreakdownField()
    missing_inputs = serializers.ListField(child=serializers.CharField())
    moscow = serializers.CharField()
    kano = serializers.CharField()
    market_position = serializers.CharField(help_text="parity, differentiator or empty.")
    rank_last_week = serializers.IntegerField(allow_null=True)
    rank_change = serializers.IntegerField(
        allow_null=True, help_text="Places moved up since last week (negative: down)."
    )
    horizon = serializers.CharField(allow_null=True)
    release = PriorityReleaseSerializer(allow_null=True)
    updated_at = serializers.DateTimeField()


class PrioritiesSerializer(serializers.Serializer):
    product = serializers.CharField()
    framework = serializers.CharField()
    scores_stale = serializers.BooleanField()
    scores_computed_at = serializers.DateTimeField(allow_null=True)
    count = serializers.IntegerField(help_text="How many features this answer holds.")
    next = serializers.URLField(
        allow_null=True,
        help_text="The next features in rank order (the same filters and limit), or null after "
        "the last.",
    )
    results = PrioritySerializer(many=True)


def _datetime(value, zone):
    """A datetime as DRF's DateTimeField writes it: ISO 8601 in ``zone``, UTC as ``Z``."""
    if not value:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _int(value):
    return None if value is None else int(value)


def _str(value):
    return None if value is None else str(value)


def priorities_representation(data: dict) -> dict:
    """What ``PrioritiesSerializer(data).data`` holds, the same keys in the same order, built
    by hand: DRF's field machinery cost 50 µs a row (5 ms of a 100-row page, a third of it).
    The serializer stays the schema's; a test checks that both write the same."""
    zone = timezone.get_current_timezone()
    results = []
    for row in data["results"]:
        score = row["score"]
        release = row["release"]
        results.append(
            {
                "rank": _int(row["rank"]),
                "id": int(row["id"]),
                "title": _str(row["title"]),
                "status": _str(row["status"]),
                "score": None if score is None else scoring.round_for_output(float(score)),
                "framework": _str(row["framework"]),
                "score_breakdown": scoring.breakdown_for_output(row["score_breakdown"] or {}),
                "missing_inputs": [str(name) for name in row["missing_inputs"]],
                "moscow": _str(row["moscow"]),
                "kano": _str(row["kano"]),
                "market_position": _str(row["market_position"]),
                "rank_last_week": _int(row["rank_last_week"]),
                "rank_change": _int(row["rank_change"]),
                "horizon": _str(row["horizon"]),
                "release": None
                if release is None
                else {"id": int(release["id"]), "name": str(release["name"])},
                "updated_at": _datetime(row["updated_at"], zone),
            }
        )
    return {
        "product": _str(data["product"]),
        "framework": _str(data["framework"]),
        "scores_stale": None if data["scores_stale"] is None else bool(data["scores_stale"]),
        "scores_computed_at": _datetime(data["scores_computed_at"], zone),
        "count": _int(data["count"]),
        "next": _str(data["next"]),
        "results": results,
    }


# --- The features list, written by hand ------------------------------------------------------


# FeatureSerializer's fields, made once: the list writes its decimals and inputs with them.
_FEATURE_FIELDS = FeatureSerializer().fields


def _writer(name: str):
    """The FeatureSerializer field's own ``to_representation`` of ``name`` (DRF's decimal
    quantizing, ``ImpactField``'s float, an integer's int), None for None, as DRF skips it."""
    write = _FEATURE_FIELDS[name].to_representation
    return lambda value: None if value is None else write(value)


_REVENUE, _COST = _writer("expected_revenue"), _writer("cost")
_INPUT_WRITERS = tuple((name, _writer(name)) for name in SCORING_INPUT_FIELDS)


def _custom_fields(values) -> dict[str, Any]:
    """A feature's custom-field values by key, from (key, kind, value, choice label) rows: a
    choice's label, a yes/no's boolean, a number's float (``FeatureCustomFieldsField``)."""
    shown: dict[str, Any] = {}
    for key, kind, value, label in values:
        if kind == CustomFieldKind.CHOICE:
            shown[key] = label
        elif kind == CustomFieldKind.YES_NO:
            shown[key] = bool(value)
        else:
            shown[key] = float(value)
    return shown


def features_representation(rows, related: FeaturesRelated, *, shares: bool) -> list[dict]:
    """What ``FeatureSerializer(features, many=True, context=…).data`` holds, the same keys in
    the same order, built by hand for the features list from its rows (``features_list_rows``,
    with the shares' columns when ``shares``) and their tags, personas and custom-field values
    (``features_related``): DRF's field machinery and the model instances cost more than the
    page's queries. ``shares``: the breakdowns carry their terms' shares (``BreakdownField``
    with the context's ``shares``). The serializer stays the schema's and the detail's and the
    writes'; a test checks that both write the same."""
    zone = timezone.get_current_timezone()
    tags, personas, field_values = related.tags, related.personas, related.field_values
    products = rows_products(rows) if shares else {}
    formulas: dict[int, Any] = {}  # each product's, found once, when a breakdown needs it
    results = []
    for row in rows:
        pk = row["id"]
        breakdown = row["score_breakdown"]
        shown_breakdown = breakdown
        if breakdown and shares:
            product = products[row["product_id"]]
            if product.pk not in formulas:
                formulas[product.pk] = product_formula(product)
            shown_breakdown = with_shares(product, breakdown, formulas[product.pk])
        item_id = row["roadmap_item__id"]
        score = row["score"]
        results.append(
            {
                "id": int(pk),
                "product": str(row["product__slug"]),
                "title": str(row["title"]),
                "description": str(row["description"]),
                "requirements": str(row["requirements"]),
                "status": str(row["status"]),
                "owner": _str(row["owner__email"]),
                "tags": tags.get(pk, []),
                "personas": personas.get(pk, []),
                "expected_revenue": _REVENUE(row["expected_revenue"]),
                "cost": _COST(row["cost"]),
                "business_case_notes": str(row["business_case_notes"]),
                "internal_notes": str(row["internal_notes"]),
                **{name: write(row[name]) for name, write in _INPUT_WRITERS},
                "moscow": str(row["moscow"]),
                "kano": str(row["kano"]),
                "market_position": str(row["market_position"]),
                "custom_fields": _custom_fields(field_values.get(pk, ())),
                "score": None if score is None else scoring.round_for_output(float(score)),
                "score_breakdown": None
                if shown_breakdown is None
                else scoring.breakdown_for_output(shown_breakdown),
                "missing_inputs": scoring.missing_inputs(breakdown or {}),
                "scored_at": _datetime(row["scored_at"], zone),
                "rank": _int(row["rank"]),
                # PlacementSerializer's
                "placement": None
                if item_id is None
                else {
                    "id": int(item_id),
                    "horizon": str(row["roadmap_item__horizon"]),
                    "position": int(row["roadmap_item__position"]),
                    "visibility": str(row["roadmap_item__visibility"]),
                    "release": _int(row["roadmap_item__release_id"]),
                    "lane": _int(row["roadmap_item__lane_id"]),
                },
                "insight_count": _int(row["insight_count"]),
                "version": _int(row["version"]),
                "created_at": _datetime(row["created_at"], zone),
                "updated_at": _datetime(row["updated_at"], zone),
            }
        )
    return results
