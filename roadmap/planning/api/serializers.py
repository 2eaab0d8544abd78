"""API representations. Validation rules live in the models (``full_clean``) and services; these
only shape input and output. Unknown input fields are rejected, never silently dropped.
"""

import json
import re
from decimal import Decimal, InvalidOperation

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils.encoders import JSONEncoder

from accounts.addresses import normalize_email
from accounts.models import Membership, User
from roadmap.access import product_by_slug
from roadmap.api.permissions import request_token
from roadmap.api.scoping import scoped
from roadmap.models import (
    IMPACT_CHOICES,
    Feature,
    Insight,
    Lane,
    Objective,
    Persona,
    Product,
    Release,
    RoadmapItem,
    ScoringDriver,
)
from roadmap.planning import scoring
from roadmap.planning.services.features import feature_version_check
from roadmap.planning.services.scoring import SCORING_INPUT_FIELDS

READ_ONLY_CHANGED = "Read-only: leave it out, or send it back as it was read."


class StrictMixin:
    """400 on fields the endpoint does not know (typos must not be silently ignored).

    What a GET answers can be sent back as is: a read-only field (or one fixed after create, like
    ``product``) is accepted, and ignored, when it holds the value a GET gives now. Any other
    value is refused with a 400 naming it, never silently dropped.
    """

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {name: ["Unknown field."] for name in set(data) - set(self.fields)}
            echoed = [name for name in data if name in self.fields and self.fields[name].read_only]
            errors.update({name: [READ_ONLY_CHANGED] for name in self._changed(data, echoed)})
            if errors:
                raise serializers.ValidationError(dict(sorted(errors.items())))
        return super().to_internal_value(data)

    def _changed(self, data, names) -> list[str]:
        """The read-only fields among ``names`` whose value in ``data`` is not the current one."""
        if not names:
            return []
        if self.instance is None or isinstance(self.instance, list | tuple):
            return list(names)
        current = _as_json(self.to_representation(self.instance))
        return [
            name
            for name in names
            if not _same(self.fields[name], _as_json(data[name]), current.get(name))
        ]


def _as_json(value):
    """The value as it travels (decimals, dates and nested objects as their JSON)."""
    return json.loads(json.dumps(value, cls=JSONEncoder))


def _same(field, sent, current) -> bool:
    if sent == current:
        return True
    # The same instant or number written another way (``+00:00`` for ``Z``, ``2.0`` for ``2``).
    if isinstance(
        field, serializers.DateTimeField | serializers.DecimalField | serializers.FloatField
    ):
        try:
            return field.to_internal_value(sent) == field.to_internal_value(current)
        except (serializers.ValidationError, TypeError):
            return False
    return False


class ModelRulesSerializer(serializers.ModelSerializer):
    """Range rules are the model's: the service's ``full_clean`` reports them, with the model's
    messages, all fields at once. DRF only checks types (and choices, which the schema lists).
    """

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        for key in ("min_value", "max_value", "validators"):
            kwargs.pop(key, None)
        return field_class, kwargs


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
        "description": "framework, formula, inputs (each with value and source) and score; "
        "numbers rounded like the score.",
    }
)
class BreakdownField(serializers.JSONField):
    """A score breakdown, its numbers rounded like the score."""

    def to_representation(self, value):
        return scoring.breakdown_for_output(value or {})


SLUG = re.compile(r"[-a-zA-Z0-9_]{1,80}")


class ProductSlugField(serializers.SlugRelatedField):
    """A product named by slug, among the requester's products (``queryset``, set per request):
    the one ``product_by_slug`` picks, as the pages and the product endpoints do."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Product.objects.none())
        super().__init__(slug_field="slug", **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if not SLUG.fullmatch(data):  # no product has it: not worth a query (nor a NUL to SQL)
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        product = product_by_slug(self.get_queryset(), self.context.get("request"), data).first()
        if product is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return product


OWNER_NOT_MEMBER = "The owner must be a member of this workspace."


class MemberEmailField(serializers.SlugRelatedField):
    """A person named by email among the members of the requester's workspaces (the token's
    only). An address without an account gets the same answer as a non-member's, so the API
    tells nobody who has an account on this instance. The model's ``clean()`` then checks the
    product's workspace, with the same message."""

    default_error_messages = {"does_not_exist": OWNER_NOT_MEMBER, "invalid": OWNER_NOT_MEMBER}

    def __init__(self, **kwargs):
        super().__init__(slug_field="email", queryset=User.objects.none(), **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return User.objects.none()
        mine = Membership.objects.filter(user=request.user)
        token = request_token(request)
        if token is not None:
            mine = mine.filter(workspace_id=token.workspace_id)
        return User.objects.filter(memberships__workspace__in=mine.values("workspace")).distinct()

    def to_internal_value(self, data):
        if not isinstance(data, str) or "\x00" in data:
            self.fail("invalid")
        user = self.get_queryset().filter(email=normalize_email(data)).first()
        if user is None:
            self.fail("does_not_exist")
        return user


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class ConflictSerializer(ErrorSerializer):
    current_version = serializers.IntegerField()


# --- Products ----------------------------------------------------------------------------------


class ScoringDriverSerializer(StrictMixin, ModelRulesSerializer):
    class Meta:
        model = ScoringDriver
        fields = ["id", "name", "weight", "position"]


class ProductSerializer(StrictMixin, ModelRulesSerializer):
    workspace = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    drivers = ScoringDriverSerializer(many=True, read_only=True)
    scores_stale = serializers.BooleanField(read_only=True)

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
            "reach_source",
            "weighted_divide_by_effort",
            "tie_break",
            "drivers",
            "scores_stale",
            "scores_computed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["scores_computed_at", "created_at", "updated_at"]
        # Uniqueness is checked by the model's full_clean in the service, once.
        extra_kwargs = {"slug": {"validators": []}}


# --- Features ----------------------------------------------------------------------------------


class PlacementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    horizon = serializers.CharField()
    position = serializers.IntegerField()
    visibility = serializers.CharField()
    release = serializers.IntegerField(source="release_id", allow_null=True)
    lane = serializers.IntegerField(source="lane_id", allow_null=True)


class TagsField(serializers.ListField):
    """Tag names; written as a list of strings, read from the prefetched tags."""

    child = serializers.CharField(max_length=50)

    def get_attribute(self, instance):
        return sorted(tag.name for tag in instance.tags.all())


class FeatureSerializer(StrictMixin, ModelRulesSerializer):
    product = ProductSlugField()
    owner = MemberEmailField(allow_null=True, required=False)
    tags = TagsField(required=False)
    personas = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Persona.objects.none(), required=False
    )
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

    def get_missing_inputs(self, obj) -> list[str]:
        return scoring.missing_inputs(obj.score_breakdown or {})

    @extend_schema_field(PlacementSerializer(allow_null=True))
    def get_placement(self, obj):
        item = getattr(obj, "roadmap_item", None)
        return PlacementSerializer(item).data if item else None


# --- Supporting records --------------------------------------------------------------------------


class ProductChildSerializer(StrictMixin, ModelRulesSerializer):
    """A record that belongs to one product, chosen by slug on create and fixed afterwards."""

    product = ProductSlugField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["product"].queryset = scoped(Product.objects.all(), request)
            for name, field in self.fields.items():
                related = getattr(field, "child_relation", field)
                if name != "product" and isinstance(related, serializers.PrimaryKeyRelatedField):
                    related.queryset = scoped(related.queryset.model.objects.all(), request)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            self.fields["product"].read_only = True


class PersonaSerializer(ProductChildSerializer):
    class Meta:
        model = Persona
        fields = [
            "id",
            "product",
            "name",
            "segment",
            "description",
            "goals",
            "pains",
            "segment_size",
            "created_at",
            "updated_at",
        ]
        validators = []


class InsightSerializer(ProductChildSerializer):
    features = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Feature.objects.all(), required=False
    )
    persona = serializers.PrimaryKeyRelatedField(
        queryset=Persona.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Insight
        fields = [
            "id",
            "product",
            "source",
            "customer",
            "persona",
            "text",
            "observed_on",
            "importance",
            "features",
            "created_at",
            "updated_at",
        ]


class ObjectiveSerializer(ProductChildSerializer):
    features = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Feature.objects.all(), required=False
    )
    progress = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Objective
        fields = [
            "id",
            "product",
            "name",
            "description",
            "metric",
            "unit",
            "baseline",
            "target",
            "current",
            "progress",
            "due",
            "features",
            "created_at",
            "updated_at",
        ]


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
    count = serializers.IntegerField()
    results = PrioritySerializer(many=True)
