"""API of rating rounds, under ``/api/v1/products/<slug>/rating-rounds/``: the Rating tab's
rules (``roadmap.planning.views.rating``) over a token. Members list and read rounds; editors and
admins start, accept, close and reopen them; a round's raters (viewers too) rate it. A round read
by a rater shows their own sheet, and its results only once they have submitted (blind); editors
see the results. Every write is one of ``roadmap.planning.services.rating``'s services; these
views only turn JSON into their arguments and their errors into field messages.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from accounts.addresses import normalize_email
from accounts.models import User
from roadmap.access import role_allows
from roadmap.api.exceptions import django_errors
from roadmap.api.permissions import IsMemberWithRole, request_roles
from roadmap.api.serializers import StrictMixin
from roadmap.api.viewsets import ERRORS, MAX_PAGE_SIZE, Pagination, ProductNested
from roadmap.models import Feature, RatingRound
from roadmap.planning import rating as scales
from roadmap.planning.models.rating import ROUND_NAME_MAX_LENGTH
from roadmap.planning.selectors import rating as selectors
from roadmap.planning.services import rating as services

# Values in one ratings or accept body: a round has at most MAX_FEATURES features, and a product
# rarely more than a dozen inputs (weighted scoring: one per driver).
MAX_VALUES = scales.MAX_FEATURES * 20
# How a value travels: a decimal string ("2.5", "9123"); a number is taken too.
VALUE_MAX_LENGTH = 20

PRODUCT_SLUG = OpenApiParameter(
    "product_slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="Product slug."
)

# --- Input --------------------------------------------------------------------------------------


class RatingRoundCreateSerializer(StrictMixin, serializers.Serializer):
    name = serializers.CharField(
        max_length=ROUND_NAME_MAX_LENGTH,
        help_text="Shown to the raters, and in the history of the features it changes.",
    )
    features = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        max_length=scales.MAX_FEATURES,
        help_text=f"Ids of the product's features to rate, at most {scales.MAX_FEATURES}.",
    )
    raters = serializers.ListField(
        child=serializers.EmailField(max_length=254),
        max_length=scales.MAX_RATERS,
        help_text=f"Email addresses of members of the workspace, at most {scales.MAX_RATERS}; "
        "each is emailed.",
    )


class RatingValueSerializer(StrictMixin, serializers.Serializer):
    feature = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="Feature id.")
    input = serializers.CharField(
        max_length=40, help_text="An input of the round (its `inputs`' `key`)."
    )
    value = serializers.CharField(
        max_length=VALUE_MAX_LENGTH,
        allow_null=True,
        allow_blank=True,
        help_text="A decimal string within the input's scale; null or blank: no value.",
    )


class RatingsSerializer(StrictMixin, serializers.Serializer):
    values = RatingValueSerializer(
        many=True,
        max_length=MAX_VALUES,
        help_text="The rater's whole sheet (it replaces what was saved before): a feature and "
        "input left out has no value (“no opinion”).",
    )
    submit = serializers.BooleanField(
        default=False,
        help_text="Make the ratings final (then the results show); false saves a draft.",
    )


class RatingAcceptSerializer(StrictMixin, serializers.Serializer):
    feature = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        required=False,
        help_text="Accept this feature only; left out, every feature of the round.",
    )
    values = RatingValueSerializer(
        many=True,
        max_length=MAX_VALUES,
        required=False,
        help_text="Values to accept instead of the medians; null leaves that input alone.",
    )


# --- Output -------------------------------------------------------------------------------------


class RatingRoundSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    is_open = serializers.BooleanField()
    closed_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.EmailField(
        source="created_by.email", allow_null=True, default=None, help_text="Who started it."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    feature_count = serializers.IntegerField()
    rater_count = serializers.IntegerField()
    submitted_count = serializers.IntegerField(help_text="Raters who have submitted.")
    is_rater = serializers.BooleanField(help_text="Whether you are asked to rate it.")
    submitted_at = serializers.DateTimeField(
        source="my_submitted_at", allow_null=True, help_text="When you submitted (raters)."
    )


class RatingInputSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="`reach`, `impact`, … or `driver-<id>`.")
    label = serializers.CharField()
    hint = serializers.CharField(source="scale.hint")
    low = serializers.CharField(help_text="The lowest value (a decimal string).")
    high = serializers.CharField(help_text="The highest value (a decimal string).")
    step = serializers.CharField(help_text="`1` (whole numbers) or `0.01`.")
    choices = serializers.ListField(
        child=serializers.CharField(), help_text="The only values allowed, when not empty."
    )


class RatingRoundFeatureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class RatingSheetValueSerializer(serializers.Serializer):
    feature = serializers.IntegerField()
    input = serializers.CharField()
    value = serializers.CharField()


class RatingSheetSerializer(serializers.Serializer):
    values = RatingSheetValueSerializer(many=True, help_text="Your values (nobody else's).")
    editable = serializers.BooleanField(help_text="Open and not submitted yet.")


class RatingRaterSerializer(serializers.Serializer):
    email = serializers.EmailField()
    name = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True)


class RatingCellSerializer(serializers.Serializer):
    input = serializers.CharField()
    current = serializers.CharField(allow_null=True, help_text="The feature's value now.")
    values = serializers.ListField(
        child=serializers.CharField(allow_null=True),
        help_text="Each rater's value, in the order of `raters`; null: not rated or not submitted.",
    )
    count = serializers.IntegerField()
    median = serializers.CharField(allow_null=True, help_text="Brought to the input's scale.")
    spread = serializers.CharField(allow_null=True, help_text="Highest minus lowest.")
    disagree = serializers.BooleanField()


class RatingResultRowSerializer(serializers.Serializer):
    feature = serializers.IntegerField()
    title = serializers.CharField()
    cells = RatingCellSerializer(many=True, help_text="In the order of `inputs`.")


class RatingResultsSerializer(serializers.Serializer):
    raters = RatingRaterSerializer(many=True)
    rows = RatingResultRowSerializer(many=True, help_text="A row per feature, in rank order.")
    disagreements = serializers.IntegerField()


class RatingRoundDetailSerializer(RatingRoundSerializer):
    features = RatingRoundFeatureSerializer(
        source="api_features", many=True, help_text="In rank order."
    )
    inputs = RatingInputSerializer(
        source="api_inputs", many=True, help_text="What is rated, and each input's scale."
    )
    sheet = RatingSheetSerializer(
        source="api_sheet", allow_null=True, help_text="Yours, if you are a rater; else null."
    )
    results = RatingResultsSerializer(
        source="api_results",
        allow_null=True,
        help_text="For editors and admins, and for a rater once they have submitted; else null.",
    )


class RatingAcceptedSerializer(serializers.Serializer):
    class RatingChangedSerializer(serializers.Serializer):
        feature = serializers.IntegerField()
        fields = serializers.ListField(child=serializers.CharField())

    accepted = serializers.IntegerField(help_text="Features with values to accept.")
    changed = RatingChangedSerializer(many=True, help_text="Those that changed, and what changed.")


# --- Shaping ------------------------------------------------------------------------------------


def _text(value: Decimal | None) -> str | None:
    return scales.text(value) if value is not None else None


def _input(item: selectors.RoundInput) -> dict[str, Any]:
    return {
        "key": item.key,
        "label": item.label,
        "scale": item.scale,
        "low": scales.text(item.scale.low),
        "high": scales.text(item.scale.high),
        "step": scales.text(item.scale.step),
        "choices": [scales.text(c) for c in item.scale.choices],
    }


def _results(results: selectors.RoundResults) -> dict[str, Any]:
    return {
        "raters": [
            {"email": s.user.email, "name": s.user.name, "submitted_at": s.submitted_at}
            for s in results.seats
        ],
        "rows": [
            {
                "feature": row.feature.pk,
                "title": row.feature.title,
                "cells": [
                    {
                        "input": cell.key,
                        "current": _text(cell.current),
                        "values": [_text(v) for v in cell.values],
                        "count": cell.summary.count,
                        "median": _text(cell.summary.median),
                        "spread": _text(cell.summary.spread),
                        "disagree": cell.summary.disagree,
                    }
                    for cell in row.cells
                ],
            }
            for row in results.rows
        ],
        "disagreements": results.disagreements,
    }


NOT_IN_ROUND = "Not a feature of this round."


def _keyed(values: list[dict], feature_ids: set[int], inputs, only: int | None = None):
    """The values by the services' field names (``rating.field_name``), with the index each came
    from; 400 naming the entry for a feature not of the round (``feature_ids``) or not ``only``
    (the one feature being accepted), an input not of the round, or one given twice."""
    keys = {item.key for item in inputs}
    by_name: dict[str, tuple[int, str | None]] = {}
    errors: dict[int, dict[str, list[str]]] = {}
    for index, entry in enumerate(values):
        if entry["feature"] not in feature_ids:
            errors[index] = {"feature": [NOT_IN_ROUND]}
        elif only is not None and entry["feature"] != only:
            errors[index] = {"feature": ["Not the feature being accepted (`feature`)."]}
        elif entry["input"] not in keys:
            errors[index] = {
                "input": [f"Not an input of this round: one of {', '.join(sorted(keys))}."]
            }
        else:
            name = scales.field_name(entry["feature"], entry["input"])
            if name in by_name:
                errors[index] = {"input": ["This feature's input is given twice."]}
            by_name[name] = (index, entry["value"])
    if errors:
        raise ValidationError({"values": [errors.get(i, {}) for i in range(len(values))]})
    return by_name


def _field_errors(error: DjangoValidationError, by_name: dict[str, tuple[int, Any]], count: int):
    """A service's errors (by field name) as the body's: on the entry that gave the value."""
    messages = django_errors(error)
    entries: list[dict[str, list[str]]] = [{} for _ in range(count)]
    answer: dict[str, Any] = {}
    for name, texts in messages.items():
        if name in by_name:
            entries[by_name[name][0]] = {"value": texts}
        else:
            answer.setdefault("non_field_errors", []).extend(texts)
    if any(entries):
        answer["values"] = entries
    return ValidationError(answer)


# --- Endpoints ----------------------------------------------------------------------------------

ROUND_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Round id.")

CREATE_EXAMPLE = OpenApiExample(
    "Two features, two raters",
    value={
        "name": "Q3 planning",
        "features": [12, 15],
        "raters": ["ada@example.com", "bo@example.com"],
    },
    request_only=True,
)
RATINGS_EXAMPLES = [
    OpenApiExample(
        "A draft",
        value={"values": [{"feature": 12, "input": "reach", "value": "8000"}], "submit": False},
        request_only=True,
    ),
    OpenApiExample(
        "Submitted for good",
        value={
            "values": [
                {"feature": 12, "input": "reach", "value": "8000"},
                {"feature": 12, "input": "impact", "value": "2"},
                {"feature": 15, "input": "effort", "value": "1.5"},
            ],
            "submit": True,
        },
        request_only=True,
    ),
]
ACCEPT_EXAMPLES = [
    OpenApiExample("Every median", value={}, request_only=True),
    OpenApiExample(
        "One feature, the PM's reach instead of the median, its impact left alone",
        value={
            "feature": 12,
            "values": [
                {"feature": 12, "input": "reach", "value": "7500"},
                {"feature": 12, "input": "impact", "value": None},
            ],
        },
        request_only=True,
    ),
]
DETAIL_EXAMPLE = OpenApiExample(
    "Read by a rater who has not submitted: their sheet, no results",
    value={
        "id": 3,
        "name": "Q3 planning",
        "is_open": True,
        "closed_at": None,
        "created_by": "pm@example.com",
        "created_at": "2026-06-01T09:00:00Z",
        "updated_at": "2026-06-01T09:00:00Z",
        "feature_count": 1,
        "rater_count": 2,
        "submitted_count": 1,
        "is_rater": True,
        "submitted_at": None,
        "features": [{"id": 12, "title": "Offline mode"}],
        "inputs": [
            {
                "key": "reach",
                "label": "Reach",
                "hint": "people or events per quarter",
                "low": "0",
                "high": "1000000000",
                "step": "1",
                "choices": [],
            }
        ],
        "sheet": {"values": [{"feature": 12, "input": "reach", "value": "8000"}], "editable": True},
        "results": None,
    },
    response_only=True,
)


@extend_schema(parameters=[PRODUCT_SLUG])
@extend_schema_view(
    list=extend_schema(
        summary="List the product's rating rounds, newest first (members): pages of 50, "
        f"`page_size` up to {MAX_PAGE_SIZE}",
        responses={200: RatingRoundSerializer(many=True)},
    ),
    retrieve=extend_schema(
        summary="Get a rating round: your sheet if you rate it, its results if you may see them",
        parameters=[ROUND_ID],
        responses={200: RatingRoundDetailSerializer, **ERRORS},
        examples=[DETAIL_EXAMPLE],
    ),
    create=extend_schema(
        summary="Start a rating round (editors and admins): its raters are emailed",
        request=RatingRoundCreateSerializer,
        responses={201: RatingRoundDetailSerializer, **ERRORS},
        examples=[CREATE_EXAMPLE],
    ),
)
class RatingRoundViewSet(
    ProductNested,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = RatingRound.objects.none()  # the schema's model; get_queryset gives the rows
    permission_classes = [IsMemberWithRole]
    pagination_class = Pagination
    serializer_class = RatingRoundSerializer
    filter_backends: list = []
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.rating_rounds_of(product=self.product(), user=self.request.user)

    def _round(self, pk: int | None = None) -> RatingRound:
        """The round (of the product) with its counts and the requester's part; 404 if none."""
        pk = int(self.kwargs["pk"]) if pk is None else pk
        found = None
        if pk < 2**63:  # a big integer key
            found = selectors.rating_round_for(
                product=self.product(), pk=pk, user=self.request.user
            )
        if found is None:
            raise Http404("No such rating round.")
        found.product = self.product()
        return found

    def _can_edit(self) -> bool:
        product = self.product()
        return role_allows(request_roles(self.request).get(product.workspace_id), edit=True)

    def _detail(
        self, rating_round: RatingRound, code: int = status.HTTP_200_OK, *, fresh: bool = False
    ) -> Response:
        """The round as ``retrieve`` answers it for the requester (read again unless ``fresh``):
        a fixed number of queries (the round, the drivers, the sheet's and the results')."""
        if not fresh:
            rating_round = self._round(rating_round.pk)
        inputs = selectors.round_inputs(product=rating_round.product)
        sheet = results = None
        features: list[Feature] | None = None
        if rating_round.is_rater:
            mine = selectors.rating_sheet(
                rating_round=rating_round, user=self.request.user, inputs=inputs
            )
            features = mine.features
            values = [
                {"feature": feature.pk, "input": item.key, "value": given}
                for feature in mine.features
                for item in mine.inputs
                if (given := mine.values.get(scales.field_name(feature.pk, item.key))) is not None
            ]
            editable = rating_round.is_open and not rating_round.my_submitted_at
            sheet = {"values": values, "editable": editable}
        if selectors.sees_results(rating_round=rating_round, can_edit=self._can_edit()):
            found = selectors.round_results(rating_round=rating_round, inputs=inputs)
            features = [row.feature for row in found.rows]
            results = _results(found)
        if features is None:
            features = list(rating_round.features.order_by("rank", "title", "id").only("title"))
        rating_round.api_features = features
        rating_round.api_inputs = [_input(i) for i in inputs]
        rating_round.api_sheet = sheet
        rating_round.api_results = results
        return Response(RatingRoundDetailSerializer(rating_round).data, status=code)

    def retrieve(self, request, *args, **kwargs):
        return self._detail(self._round(), fresh=True)

    def create(self, request, *args, **kwargs):
        product = self.product_to_edit()
        form = RatingRoundCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        features = list(Feature.objects.filter(product=product, pk__in=data["features"]))
        unknown = sorted(set(data["features"]) - {f.pk for f in features})
        emails = {normalize_email(e) for e in data["raters"]}
        raters = list(
            User.objects.filter(memberships__workspace_id=product.workspace_id, email__in=emails)
        )
        strangers = sorted(emails - {u.email for u in raters})
        errors = {}
        if unknown:
            errors["features"] = [f"Not features of this product: {', '.join(map(str, unknown))}."]
        if strangers:
            errors["raters"] = [f"Not members of this workspace: {', '.join(strangers)}."]
        if errors:
            raise ValidationError(errors)
        made = services.round_create(
            product=product,
            name=data["name"],
            features=features,
            raters=raters,
            created_by=request.user,
        )
        return self._detail(made, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Save your ratings as a draft, or submit them for good (the round's raters)",
        parameters=[ROUND_ID],
        request=RatingsSerializer,
        responses={200: RatingRoundDetailSerializer, **ERRORS},
        examples=RATINGS_EXAMPLES,
    )
    @action(detail=True, methods=["post"])
    def ratings(self, request, product_slug=None, pk=None):
        rating_round = self._round()
        if not rating_round.is_rater:
            raise PermissionDenied("Only the round's raters rate it.")
        form = RatingsSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        values = form.validated_data["values"]
        feature_ids = set(rating_round.features.values_list("pk", flat=True))
        inputs = selectors.round_inputs(product=rating_round.product)
        by_name = _keyed(values, feature_ids, inputs)
        try:
            services.ratings_save(
                rating_round=rating_round,
                rater=request.user,
                values={name: value or "" for name, (_, value) in by_name.items()},
                submit=form.validated_data["submit"],
            )
        except DjangoValidationError as error:
            raise _field_errors(error, by_name, len(values)) from None
        return self._detail(rating_round)

    @extend_schema(
        summary="Accept values into the features (editors and admins): the medians, or yours "
        "instead, for one feature or all; each feature's history names the round",
        parameters=[ROUND_ID],
        request=RatingAcceptSerializer,
        responses={200: RatingAcceptedSerializer, **ERRORS},
        examples=ACCEPT_EXAMPLES,
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, product_slug=None, pk=None):
        self.product_to_edit()
        rating_round = self._round()
        form = RatingAcceptSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        chosen = form.validated_data.get("feature")
        given = form.validated_data.get("values", [])
        results = selectors.round_results(rating_round=rating_round)
        feature_ids = {row.feature.pk for row in results.rows}
        if chosen is not None and chosen not in feature_ids:
            raise ValidationError({"feature": [NOT_IN_ROUND]})
        by_name = _keyed(given, feature_ids, results.inputs, only=chosen)
        if chosen is not None:
            feature_ids = {chosen}
        values: dict[int, dict[str, Any]] = {}
        for row in results.rows:
            if row.feature.pk not in feature_ids:
                continue
            for cell in row.cells:
                override = by_name.get(cell.field_name)
                value = override[1] if override is not None else cell.summary.median
                if value is not None and value != "":
                    values.setdefault(row.feature.pk, {})[cell.key] = value
        try:
            written = services.round_accept(
                rating_round=rating_round, values=values, actor=request.user
            )
        except DjangoValidationError as error:
            raise _field_errors(error, by_name, len(given)) from None
        changed = [
            {"feature": pk, "fields": sorted(names)}
            for pk, names in written.changes.items()
            if names
        ]
        return Response(
            RatingAcceptedSerializer({"accepted": len(values), "changed": changed}).data
        )

    @extend_schema(
        summary="Close the round (editors and admins): no more rating until it is reopened",
        parameters=[ROUND_ID],
        request=None,
        responses={200: RatingRoundDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, product_slug=None, pk=None):
        self.product_to_edit()
        return self._detail(services.round_close(rating_round=self._round()))

    @extend_schema(
        summary="Reopen the round (editors and admins): raters who have not submitted rate "
        "again, and are emailed",
        parameters=[ROUND_ID],
        request=None,
        responses={200: RatingRoundDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, product_slug=None, pk=None):
        self.product_to_edit()
        return self._detail(services.round_reopen(rating_round=self._round()))
