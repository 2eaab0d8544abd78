"""Writes of products and their scoring settings."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from roadmap.models import DriverSource, Product, ScoringDriver, ScoringFramework
from roadmap.planning.services.scoring import product_lock, product_request_recompute

SCORING_SETTINGS = ("scoring_framework", "reach_source", "weighted_divide_by_effort", "tie_break")
PRODUCT_FIELDS = ("name", "slug", "product_line", "vision", "description", *SCORING_SETTINGS)
# Paths under /products/ that are pages, not products: a product with such a slug could not be
# opened in the browser.
RESERVED_SLUGS = frozenset({"new"})
# A slug is unique within its workspace only: another workspace's products are never consulted.
SLUG_TAKEN = "This slug is already used in this workspace; choose another."


def product_slug_check(slug: str, *, workspace_id: int, product_id: int | None = None) -> None:
    """ValidationError on ``slug`` if it is reserved or another product of the workspace has it
    (``product_id``: the product being edited)."""
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": f"“{slug}” is reserved by Waymark; choose another slug."})
    taken = Product.objects.filter(workspace_id=workspace_id, slug=slug)
    if product_id is not None:
        taken = taken.exclude(pk=product_id)
    if taken.exists():
        raise ValidationError({"slug": ValidationError(SLUG_TAKEN, code="unique")})


def _save(product: Product, **kwargs: Any) -> None:
    """Save, answering a slug taken since the check (two saves at once) as the check does."""
    try:
        with transaction.atomic():
            product.save(**kwargs)
    except IntegrityError as exc:
        if "slug" not in str(exc):
            raise
        raise ValidationError({"slug": ValidationError(SLUG_TAKEN, code="unique")}) from None


def _formula_save(*, product: Product, source: str, author) -> None:
    from roadmap.planning.services.formula import product_formula_save

    try:
        product_formula_save(product=product, source=source, author=author)
    except ValidationError as error:
        raise ValidationError({"scoring_formula": error.message_dict["formula"]}) from None


@transaction.atomic
def product_create(*, workspace, name: str, slug: str, author=None, **fields: Any) -> Product:
    """Create a product in a workspace; with ``scoring_formula``, scored by that formula from
    the start (version 1, by ``author``)."""
    source = fields.pop("scoring_formula", "") or ""
    if source.strip() and fields.get("scoring_framework") == ScoringFramework.CUSTOM:
        del fields["scoring_framework"]
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValidationError({name: "Unknown field." for name in sorted(unknown)})
    product_slug_check(slug, workspace_id=workspace.pk)
    if fields.get("scoring_framework") == ScoringFramework.CUSTOM:
        raise ValidationError(
            {
                "scoring_framework": "A new product starts with a built-in framework; write its "
                "own formula once it exists."
            }
        )
    product = Product(workspace=workspace, name=name, slug=slug, **fields)
    product.full_clean()
    _save(product)
    if source.strip():
        _formula_save(product=product, source=source, author=author)
        product.refresh_from_db()
    return product


@transaction.atomic
def product_update(*, product: Product, data: Mapping[str, Any], author=None) -> Product:
    """Edit a product. A change of scoring settings enqueues a recompute after commit.

    ``scoring_formula``: the product's own formula; a changed one is saved as a new version by
    ``author`` and put in use (``product_formula_save``), before the other fields are applied
    (so a ``scoring_framework`` given with it has the last word)."""
    data = dict(data)
    source = data.pop("scoring_formula", None)
    if source is not None and source.replace("\r\n", "\n").strip() != product.scoring_formula:
        _formula_save(product=product, source=source, author=author)
    unknown = set(data) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValidationError({name: "Unknown field." for name in sorted(unknown)})
    if "slug" in data:
        product_slug_check(data["slug"], workspace_id=product.workspace_id, product_id=product.pk)
    changed = {name for name, value in data.items() if getattr(product, name) != value}
    for name, value in data.items():
        setattr(product, name, value)
    if product.scoring_framework == ScoringFramework.CUSTOM and not product.scoring_formula:
        raise ValidationError(
            {
                "scoring_framework": "Write the product's own formula first (on the formula "
                "page), then use it."
            }
        )
    product.full_clean()
    if changed:
        _save(product, update_fields=[*changed, "updated_at"])
    if changed & set(SCORING_SETTINGS):
        product_request_recompute(product_id=product.pk)
    return product


@transaction.atomic
def product_delete(*, product: Product) -> None:
    """Delete a product and everything in it (features, roadmap, share links, subscriptions).

    Takes the product's lock first, so a recompute or an edit running on it finishes before.
    """
    product_lock(product_id=product.pk)
    product.delete()


@transaction.atomic
def driver_save(
    *,
    product: Product,
    name: str,
    weight: Decimal,
    driver: ScoringDriver | None = None,
    source: str | None = None,
    full_scale: Decimal | None = None,
) -> ScoringDriver:
    """Create or edit a weighted-scoring driver; the product's scores follow. ``source``: scored
    by hand, or fed by the evidence (customers asking, revenue at stake, with the ``full_scale``
    that scores 10); left as it is when not given."""
    driver = driver or ScoringDriver(product=product, position=product.drivers.count())
    driver.name, driver.weight = name, weight
    if source is not None:
        driver.source = source
        driver.full_scale = None if source == DriverSource.MANUAL else full_scale
        if source != DriverSource.MANUAL and full_scale is None:
            raise ValidationError({"full_scale": "A driver fed by evidence needs a full scale."})
    driver.full_clean()
    driver.save()
    product_request_recompute(product_id=product.pk)
    return driver


@transaction.atomic
def driver_delete(*, driver: ScoringDriver) -> None:
    product_id = driver.product_id
    driver.delete()
    product_request_recompute(product_id=product_id)
