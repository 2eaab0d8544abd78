"""Reads of the features list (``GET /api/v1/features/``): its rows, and a page's tags, personas
and custom-field values keyed by feature id, as plain values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, QuerySet

from roadmap.models import Feature, FeatureFieldValue, Product
from roadmap.planning.scoring import FEATURE_INPUTS

# The columns of a row of the features list (``features_list_rows``): the feature's own, its
# product's slug, its owner's email, its roadmap item's, and the ``insight_count`` annotated on
# the viewset's queryset.
LIST_COLUMNS = (
    "id",
    "product_id",
    "product__slug",
    "title",
    "description",
    "requirements",
    "status",
    "owner__email",
    "expected_revenue",
    "cost",
    "business_case_notes",
    "internal_notes",
    *FEATURE_INPUTS,  # the serializer's SCORING_INPUT_FIELDS
    "moscow",
    "kano",
    "market_position",
    "score",
    "score_breakdown",
    "scored_at",
    "rank",
    "roadmap_item__id",
    "roadmap_item__horizon",
    "roadmap_item__position",
    "roadmap_item__visibility",
    "roadmap_item__release_id",
    "roadmap_item__lane_id",
    "insight_count",
    "version",
    "created_at",
    "updated_at",
)
# What shares need of a row's product (``roadmap.planning.shares.product_formula``).
SHARES_COLUMNS = (
    "product__scoring_framework",
    "product__weighted_divide_by_effort",
    "product__scoring_formula",
    "product__scoring_formula_version",
)


def features_list_rows(queryset: QuerySet, *, shares: bool = False) -> QuerySet:
    """The features of ``queryset`` (filtered and ordered; annotated with ``insight_count``) as
    the list's rows: dicts of ``LIST_COLUMNS``, the product, owner and roadmap item joined; with
    ``shares``, what the shares need of the product too; and whether each has tags, personas,
    custom-field values (``features_related`` reads those of the rows that have any). Dicts, not
    model instances: making a feature and its product cost the list more than their query did.
    """
    return (
        # Values, not instances: no prefetch of the viewset's applies (values() drops the
        # select_related itself).
        queryset.prefetch_related(None)
        .annotate(
            has_tags=Exists(Feature.tags.through.objects.filter(feature_id=OuterRef("pk"))),
            has_personas=Exists(Feature.personas.through.objects.filter(feature_id=OuterRef("pk"))),
            has_field_values=Exists(FeatureFieldValue.objects.filter(feature_id=OuterRef("pk"))),
        )
        .values(
            *LIST_COLUMNS,
            "has_tags",
            "has_personas",
            "has_field_values",
            *(SHARES_COLUMNS if shares else ()),
        )
    )


def rows_products(rows: Sequence[dict]) -> dict[int, Product]:
    """The products of rows of ``features_list_rows(…, shares=True)`` by id, with what their
    shares read (unsaved instances: no query)."""
    products: dict[int, Product] = {}
    for row in rows:
        if row["product_id"] not in products:
            products[row["product_id"]] = Product(
                pk=row["product_id"],
                slug=row["product__slug"],
                scoring_framework=row["product__scoring_framework"],
                weighted_divide_by_effort=row["product__weighted_divide_by_effort"],
                scoring_formula=row["product__scoring_formula"],
                scoring_formula_version=row["product__scoring_formula_version"],
            )
    return products


# A feature's value in a custom field: the field's key and kind, the number (None for a
# choice), the choice's label (None for a number).
FieldValue = tuple[str, str, Decimal | None, str | None]


@dataclass(frozen=True)
class FeaturesRelated:
    tags: dict[int, list[str]]  # names, sorted
    personas: dict[int, list[int]]  # ids, in the personas' order (by name)
    field_values: dict[int, list[FieldValue]]  # in the fields' order (by position)


def features_related(*, rows: Sequence[dict]) -> FeaturesRelated:
    """The tags, personas and custom-field values of the features of ``rows`` (of
    ``features_list_rows``): a query for each, by ``feature_id IN (…)`` on its table, of the
    rows that have any (none: no query), values rather than model instances (making those cost
    the features list more than its queries did)."""
    tags: dict[int, list[str]] = {}
    personas: dict[int, list[int]] = {}
    field_values: dict[int, list[FieldValue]] = {}
    if ids := [row["id"] for row in rows if row["has_tags"]]:
        for feature_id, name in Feature.tags.through.objects.filter(feature_id__in=ids).values_list(
            "feature_id", "tag__name"
        ):
            tags.setdefault(feature_id, []).append(name)
        for names in tags.values():
            names.sort()  # as the serializer sorts them (not by the database's collation)
    if ids := [row["id"] for row in rows if row["has_personas"]]:
        for feature_id, persona_id in (
            Feature.personas.through.objects.filter(feature_id__in=ids)
            .order_by("persona__name", "persona_id")
            .values_list("feature_id", "persona_id")
        ):
            personas.setdefault(feature_id, []).append(persona_id)
    if ids := [row["id"] for row in rows if row["has_field_values"]]:
        for feature_id, key, kind, number, label in (
            FeatureFieldValue.objects.filter(feature_id__in=ids)
            .order_by("field__position", "field_id")
            .values_list("feature_id", "field__key", "field__kind", "value", "choice__label")
        ):
            field_values.setdefault(feature_id, []).append((key, kind, number, label))
    return FeaturesRelated(tags=tags, personas=personas, field_values=field_values)
