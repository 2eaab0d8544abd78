"""Writes of a member's own view settings: they change what that member sees, not the data."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from roadmap.models import Product, TableLayout
from roadmap.planning.selectors.priorities import product_field_definitions
from roadmap.planning.selectors.table import table_hideable_columns


@transaction.atomic
def table_layout_save(*, user, product: Product, hidden: Iterable[str]) -> TableLayout:
    """Set the columns ``user`` hides from ``product``'s prioritization table. Precondition: the
    user may read the product. A key that is not a hideable column (a fixed one, or a custom
    field's of the product) is refused."""
    hidden = set(hidden)
    hideable = table_hideable_columns(fields=product_field_definitions(product=product))
    unknown = hidden - hideable.keys()
    if unknown:
        raise ValidationError(
            {"columns": f"These columns cannot be hidden: {', '.join(sorted(unknown))}."}
        )
    layout, _ = TableLayout.objects.update_or_create(
        user=user,
        product=product,
        defaults={"hidden_columns": [k for k in hideable if k in hidden]},
    )
    return layout


@transaction.atomic
def table_layout_delete(*, layout: TableLayout) -> None:
    """Forget a member's layout of a product's table: it shows every column again."""
    layout.delete()
