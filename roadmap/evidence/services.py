"""Writes of a product's evidence: personas, insights (customer evidence) and objectives (success
metrics). Each validates with the model's ``full_clean`` (the rules the forms share) and asks for a
recompute when reach is counted from what changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from roadmap.fields import apply_fields, same_product, save_if_changed
from roadmap.models import (
    Customer,
    CustomerDomain,
    DriverSource,
    Experiment,
    Feature,
    Insight,
    Objective,
    Persona,
    Product,
    ReachSource,
)
from roadmap.planning.services.scoring import product_request_recompute


def _reach_depends_on(product: Product, source: str) -> bool:
    return product.scoring_framework == "rice" and product.reach_source == source


def _scores_read_insights(product: Product) -> bool:
    """Whether the product's scores read its insights: RICE reach counted from them, or a
    weighted-scoring driver fed by customers asking or revenue at stake."""
    if _reach_depends_on(product, ReachSource.INSIGHTS):
        return True
    return (
        product.scoring_framework == "weighted"
        and product.drivers.exclude(source=DriverSource.MANUAL).exists()
    )


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
    # Who it comes from (its customer, its company) and whether it came through the roadmap page
    # (its source) are what scores count; links decide which features count it.
    evidence_moved = links_changed or (
        not creating and bool(changed & {"customer", "company", "source"})
    )
    if evidence_moved and _scores_read_insights(product):
        product_request_recompute(product_id=product.pk)
    return insight


@transaction.atomic
def insight_delete(*, insight: Insight) -> None:
    product = insight.product
    linked = insight.features.exists()
    insight.delete()
    if linked and _scores_read_insights(product):
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


# --- Customers ---------------------------------------------------------------------------------

CUSTOMER_FIELDS = ("name", "segment", "persona", "annual_revenue")


def _domain_rows(customer: Customer, domains: Iterable[str]) -> None:
    """Replace a customer's email domains (lower case); a domain another customer of the product
    has is a ValidationError naming that customer."""
    wanted = sorted({d.strip().lower().lstrip("@") for d in domains if d.strip()})
    taken = CustomerDomain.objects.filter(
        product_id=customer.product_id, domain__in=wanted
    ).exclude(customer=customer)
    clash = taken.select_related("customer").first()
    if clash is not None:
        raise ValidationError({"domains": f"{clash.domain} belongs to {clash.customer.name}."})
    customer.domains.exclude(domain__in=wanted).delete()
    present = set(customer.domains.values_list("domain", flat=True))
    CustomerDomain.objects.bulk_create(
        CustomerDomain(customer=customer, product_id=customer.product_id, domain=d)
        for d in wanted
        if d not in present
    )


@transaction.atomic
def customer_save(
    *,
    product: Product,
    data: Mapping[str, Any],
    customer: Customer | None = None,
    domains: Iterable[str] | None = None,
) -> Customer:
    """Create or edit a customer (company) and, if given, its email domains."""
    customer = customer or Customer(product=product)
    changed = apply_fields(customer, data, CUSTOMER_FIELDS)
    save_if_changed(customer, changed)
    if domains is not None:
        _domain_rows(customer, domains)
    if "annual_revenue" in changed:
        product_request_recompute(product_id=product.pk)
    return customer


@transaction.atomic
def customer_delete(*, customer: Customer) -> None:
    """Delete a customer: its insights stay, naming no company."""
    product_id = customer.product_id
    customer.delete()
    product_request_recompute(product_id=product_id)


@transaction.atomic
def customer_merge(*, customer: Customer, into: Customer) -> Customer:
    """Merge a duplicate customer into ``into``: its insights, contacts and domains move there,
    then it is deleted. Returns the survivor."""
    if into.pk == customer.pk or into.product_id != customer.product_id:
        raise ValidationError({"into": "Choose another customer of this product."})
    customer.insights.update(company=into)
    customer.contacts.update(customer=into)
    customer.domains.update(customer=into)
    customer.delete()
    product_request_recompute(product_id=into.product_id)
    return into


# --- Experiments -------------------------------------------------------------------------------

EXPERIMENT_FIELDS = (
    "hypothesis",
    "method",
    "audience",
    "result",
    "decision",
    "started_on",
    "ended_on",
)


@transaction.atomic
def experiment_save(
    *,
    product: Product,
    data: Mapping[str, Any],
    experiment: Experiment | None = None,
    features: Iterable[Feature] | None = None,
    created_by=None,
) -> Experiment:
    """Record or edit a discovery experiment and the features it tests."""
    experiment = experiment or Experiment(product=product, created_by=created_by)
    changed = apply_fields(experiment, data, EXPERIMENT_FIELDS)
    if features is not None:
        features = same_product(product.pk, features, "features")
    links_changed = features is not None and _links_change(experiment, "features", features)
    save_if_changed(experiment, changed or links_changed)
    if links_changed and features is not None:
        experiment.features.set(features)
    return experiment


@transaction.atomic
def experiment_delete(*, experiment: Experiment) -> None:
    """Delete an experiment; the features it tested stay."""
    experiment.delete()
