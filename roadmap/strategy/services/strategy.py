"""Writes of a product's strategy: its positioning, its competitors and how they compare, its
market size and the revenue model of its business case.

Each validates with the model's ``full_clean`` (the rules the forms and the API share) and checks
that whatever it links (insights, personas, features, themes) belongs to the same product.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from roadmap.fields import (
    apply_fields,
    history_paused,
    history_user_set,
    same_product,
    save_if_changed,
)
from roadmap.models import (
    Comparison,
    ComparisonStatus,
    Competitor,
    Feature,
    Insight,
    Lane,
    MarketSize,
    Persona,
    Positioning,
    PositioningAnswer,
    PositioningQuestion,
    PricePlan,
    Product,
    RevenueModel,
)


def acting_user(actor):
    """The user to record as having made a change: None for anonymous or missing actors."""
    return actor if getattr(actor, "is_authenticated", False) else None


# --- Positioning ---------------------------------------------------------------------------------


def positioning_of(*, product: Product) -> Positioning:
    """The product's positioning, created (hidden from every audience) on first use."""
    positioning, _ = Positioning.objects.get_or_create(product=product)
    return positioning


@transaction.atomic
def positioning_answer_save(
    *,
    product: Product,
    question: str,
    text: str,
    insights: Iterable[Insight] = (),
    personas: Iterable[Persona] = (),
    actor=None,
) -> PositioningAnswer:
    """Write the answer to one positioning question, with the insights and personas it cites
    (of the same product only). Creates the answer on first save.

    One history row per save that changed something (text or citations), recorded with
    ``actor``; a save that changes nothing writes nothing.
    """
    if question not in PositioningQuestion.values:
        raise ValidationError({"question": f"“{question}” is not a positioning question."})
    insights = same_product(product.pk, insights, "insights")
    personas = same_product(product.pk, personas, "personas")
    positioning = positioning_of(product=product)
    # Two first answers to the same question at once: the second waits, then finds the first.
    list(Positioning.objects.select_for_update().filter(pk=positioning.pk).values_list("pk"))
    answer = PositioningAnswer.objects.filter(positioning=positioning, question=question).first()
    creating = answer is None
    answer = answer or PositioningAnswer(positioning=positioning, question=question)
    changed = apply_fields(answer, {"text": text}, ("text",))
    cited = {
        "insights": {i.pk for i in insights},
        "personas": {p.pk for p in personas},
    }
    if not creating:
        stored = {
            "insights": set(answer.insights.values_list("pk", flat=True)),
            "personas": set(answer.personas.values_list("pk", flat=True)),
        }
        changed |= {name for name in cited if cited[name] != stored[name]}
    if not creating and not changed:
        return answer
    # simple-history would write a row for the save and one per citation change; write the
    # rows without it, then record the whole edit as one history row (text and citations).
    answer.updated_by = acting_user(actor)
    with history_paused(answer):
        answer.save()
        answer.insights.set(insights)
        answer.personas.set(personas)
    history_user_set(answer, acting_user(actor))
    answer.save(update_fields=["updated_at"])
    return answer


@transaction.atomic
def positioning_set_audiences(
    *, product: Product, show_to_investors: bool, show_to_executives: bool, actor=None
) -> Positioning:
    """Choose which outside audiences may read the positioning (investors, executives).
    Customers never do. Recorded in the positioning's history when it changes."""
    positioning = positioning_of(product=product)
    changed = apply_fields(
        positioning,
        {"show_to_investors": show_to_investors, "show_to_executives": show_to_executives},
        ("show_to_investors", "show_to_executives"),
    )
    if changed:
        history_user_set(positioning, acting_user(actor))
        positioning.save()
    return positioning


@transaction.atomic
def positioning_delete(*, positioning: Positioning, actor=None) -> None:
    """Delete a product's positioning and its answers (a support admin's clean slate): the
    positioning page starts empty again, hidden from every audience. Recorded in its history."""
    history_user_set(positioning, acting_user(actor))
    positioning.delete()


@transaction.atomic
def positioning_answer_delete(*, answer: PositioningAnswer, actor=None) -> None:
    """Delete the answer to one positioning question; recorded in its history with ``actor``."""
    history_user_set(answer, acting_user(actor))
    answer.delete()


# --- Competitors and the comparison grid ---------------------------------------------------------

COMPETITOR_FIELDS = ("name", "website", "segment", "strengths", "weaknesses", "pricing_notes")


@transaction.atomic
def competitor_save(
    *, product: Product, data: Mapping[str, Any], competitor: Competitor | None = None
) -> Competitor:
    """Add a competitor of the product, or edit one."""
    competitor = competitor or Competitor(product=product)
    save_if_changed(competitor, apply_fields(competitor, data, COMPETITOR_FIELDS))
    return competitor


@transaction.atomic
def competitor_delete(*, competitor: Competitor) -> None:
    """Delete a competitor and its column of the comparison grid."""
    competitor.delete()


@transaction.atomic
def comparison_set(
    *,
    competitor: Competitor,
    status: str,
    note: str = "",
    feature: Feature | None = None,
    lane: Lane | None = None,
) -> Comparison | None:
    """Set one cell of the comparison grid: how ``competitor`` stands on a feature or on a theme
    (``lane``), exactly one of the two. An empty status clears the cell (returns None).

    Idempotent: setting a cell to what it holds writes nothing.
    """
    target: dict[str, Feature | Lane]
    if feature is not None and lane is None:
        target = {"feature": feature}
    elif lane is not None and feature is None:
        target = {"lane": lane}
    else:
        raise ValidationError({NON_FIELD_ERRORS: "Compare either a feature or a theme."})
    if status and status not in ComparisonStatus.values:
        raise ValidationError({"status": f"“{status}” is not a comparison status."})
    same_product(competitor.product_id, target.values(), next(iter(target)))
    cell = (
        Comparison.objects.select_for_update()
        .filter(competitor=competitor, **{f"{k}_id": v.pk for k, v in target.items()})
        .first()
    )
    if not status:
        if cell is not None:
            cell.delete()
        return None
    cell = cell or Comparison(competitor=competitor, **target)
    changed = apply_fields(cell, {"status": status, "note": note}, ("status", "note"))
    if cell.pk is None or changed:
        cell.save()
    return cell


# --- Market size ---------------------------------------------------------------------------------

MARKET_SIZE_FIELDS = ("kind", "value", "source", "source_url", "as_of", "notes")


@transaction.atomic
def market_size_save(
    *, product: Product, data: Mapping[str, Any], market_size: MarketSize | None = None
) -> MarketSize:
    """Record a sourced, dated TAM, SAM or SOM estimate (or correct one). Older estimates are
    kept: the newest of each kind is the one shown first."""
    market_size = market_size or MarketSize(product=product)
    save_if_changed(market_size, apply_fields(market_size, data, MARKET_SIZE_FIELDS))
    return market_size


@transaction.atomic
def market_size_delete(*, market_size: MarketSize) -> None:
    """Delete an estimate."""
    market_size.delete()


# --- Revenue model and plans ---------------------------------------------------------------------

REVENUE_MODEL_FIELDS = ("currency", "conversion_rate", "notes")


@transaction.atomic
def revenue_model_save(*, product: Product, data: Mapping[str, Any], actor=None) -> RevenueModel:
    """Set the assumptions of the product's business case (created on first save); kept in the
    model's history with ``actor``."""
    model = RevenueModel.objects.select_for_update().filter(product=product).first()
    model = model or RevenueModel(product=product)
    data = dict(data)
    if "currency" in data:
        data["currency"] = str(data["currency"]).strip().upper()
    changed = apply_fields(model, data, REVENUE_MODEL_FIELDS)
    if model.currency and not (len(model.currency) == 3 and model.currency.isalpha()):
        raise ValidationError({"currency": "Use a three-letter ISO 4217 code, such as EUR."})
    if model.pk is None or changed:
        history_user_set(model, acting_user(actor))
        model.save()
    return model


@transaction.atomic
def revenue_model_delete(*, revenue_model: RevenueModel, actor=None) -> None:
    """Delete a product's revenue model; the business case falls back to the defaults until it
    is set again. Recorded in its history with ``actor``."""
    history_user_set(revenue_model, acting_user(actor))
    revenue_model.delete()


PRICE_PLAN_FIELDS = ("name", "yearly_price", "persona", "conversion_rate")


@transaction.atomic
def price_plan_save(
    *, product: Product, data: Mapping[str, Any], price_plan: PricePlan | None = None
) -> PricePlan:
    """Add a price plan sold to one persona's segment (or to every segment), or edit one."""
    price_plan = price_plan or PricePlan(product=product)
    save_if_changed(price_plan, apply_fields(price_plan, data, PRICE_PLAN_FIELDS))
    return price_plan


@transaction.atomic
def price_plan_delete(*, price_plan: PricePlan) -> None:
    """Delete a price plan."""
    price_plan.delete()
