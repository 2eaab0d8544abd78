"""Writes of a product's evidence: personas, insights (customer evidence) and objectives (success
metrics). Each validates with the model's ``full_clean`` (the rules the forms share) and asks for a
recompute when reach is counted from what changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from roadmap.fields import apply_fields, same_product, save_if_changed
from roadmap.models import Feature, Insight, Objective, Persona, Product, ReachSource
from roadmap.planning.services.scoring import product_request_recompute


def _reach_depends_on(product: Product, source: str) -> bool:
    return product.scoring_framework == "rice" and product.reach_source == source


def _links_change(record, name: str, linked: list) -> bool:
    """Whether ``linked`` differs from the record's many-to-many ``name`` (which is empty for a
    record not saved yet)."""
    if record.pk is None:
        return bool(linked)
    return {obj.pk for obj in linked} != set(getattr(record, name).values_list("pk", flat=True))


# --- Personas ------------------------------------------------------------------------------

PERSONA_FIELDS = ("name", "segment", "description", "goals", "pains", "segment_size")


@transaction.atomic
def persona_save(
    *, product: Product, data: Mapping[str, Any], persona: Persona | None = None
) -> Persona:
    """Create or edit a persona. Its segment size may feed reach: scores follow."""
    persona = persona or Persona(product=product)
    changed = apply_fields(persona, data, PERSONA_FIELDS)
    creating = persona.pk is None
    save_if_changed(persona, changed)
    if (
        not creating
        and "segment_size" in changed
        and _reach_depends_on(product, ReachSource.PERSONAS)
    ):
        product_request_recompute(product_id=product.pk)
    return persona


@transaction.atomic
def persona_delete(*, persona: Persona) -> None:
    product = persona.product
    persona.delete()
    if _reach_depends_on(product, ReachSource.PERSONAS):
        product_request_recompute(product_id=product.pk)


# --- Insights ------------------------------------------------------------------------------

INSIGHT_FIELDS = ("source", "customer", "company", "persona", "text", "observed_on", "importance")


@transaction.atomic
def insight_save(
    *,
    product: Product,
    data: Mapping[str, Any],
    insight: Insight | None = None,
    features: Iterable[Feature] | None = None,
    created_by=None,
) -> Insight:
    """Record or edit a piece of customer evidence and the features it supports."""
    insight = insight or Insight(product=product, created_by=created_by)
    changed = apply_fields(insight, data, INSIGHT_FIELDS)
    creating = insight.pk is None
    if features is not None:
        features = same_product(product.pk, features, "features")
    links_changed = features is not None and _links_change(insight, "features", features)
    save_if_changed(insight, changed or links_changed)
    if links_changed and features is not None:
        insight.features.set(features)
    evidence_moved = links_changed or (not creating and "customer" in changed)
    if evidence_moved and _reach_depends_on(product, ReachSource.INSIGHTS):
        product_request_recompute(product_id=product.pk)
    return insight


@transaction.atomic
def insight_delete(*, insight: Insight) -> None:
    product = insight.product
    linked = insight.features.exists()
    insight.delete()
    if linked and _reach_depends_on(product, ReachSource.INSIGHTS):
        product_request_recompute(product_id=product.pk)


# --- Objectives ----------------------------------------------------------------------------

OBJECTIVE_FIELDS = ("name", "description", "metric", "unit", "baseline", "target", "current", "due")


@transaction.atomic
def objective_save(
    *,
    product: Product,
    data: Mapping[str, Any],
    objective: Objective | None = None,
    features: Iterable[Feature] | None = None,
) -> Objective:
    """Create or edit a success metric and the features that serve it."""
    objective = objective or Objective(product=product)
    changed = apply_fields(objective, data, OBJECTIVE_FIELDS)
    if features is not None:
        features = same_product(product.pk, features, "features")
    links_changed = features is not None and _links_change(objective, "features", features)
    save_if_changed(objective, changed or links_changed)
    if links_changed and features is not None:
        objective.features.set(features)
    return objective


# --- Deleting objectives ------------------------------------------------------------------------


@transaction.atomic
def objective_delete(*, objective: Objective) -> None:
    """Delete a success metric. The features that served it stay; only the link goes."""
    objective.delete()
