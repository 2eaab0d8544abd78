"""Reads of the features list: a page's related rows as plain values, keyed by feature id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from roadmap.models import Feature, FeatureFieldValue

# A feature's value in a custom field: the field's key and kind, the number (None for a
# choice), the choice's label (None for a number).
FieldValue = tuple[str, str, Decimal | None, str | None]


@dataclass(frozen=True)
class FeaturesRelated:
    tags: dict[int, list[str]]  # names, sorted
    personas: dict[int, list[int]]  # ids, in the personas' order (by name)
    field_values: dict[int, list[FieldValue]]  # in the fields' order (by position)


def features_related(*, feature_ids: Sequence[int]) -> FeaturesRelated:
    """The tags, personas and custom-field values of the features of these ids: three queries,
    each by ``feature_id IN (…)`` on its table, values rather than model instances (making those
    cost the features list more than its queries did). None for no ids."""
    tags: dict[int, list[str]] = {}
    personas: dict[int, list[int]] = {}
    field_values: dict[int, list[FieldValue]] = {}
    if not feature_ids:
        return FeaturesRelated(tags=tags, personas=personas, field_values=field_values)
    for feature_id, name in Feature.tags.through.objects.filter(
        feature_id__in=feature_ids
    ).values_list("feature_id", "tag__name"):
        tags.setdefault(feature_id, []).append(name)
    for names in tags.values():
        names.sort()
    for feature_id, persona_id in (
        Feature.personas.through.objects.filter(feature_id__in=feature_ids)
        .order_by("persona__name", "persona_id")
        .values_list("feature_id", "persona_id")
    ):
        personas.setdefault(feature_id, []).append(persona_id)
    for feature_id, *value in (
        FeatureFieldValue.objects.filter(feature_id__in=feature_ids)
        .order_by("field__position", "field_id")
        .values_list("feature_id", "field__key", "field__kind", "value", "choice__label")
    ):
        field_values.setdefault(feature_id, []).append(tuple(value))
    return FeaturesRelated(tags=tags, personas=personas, field_values=field_values)
