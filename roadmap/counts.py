"""Counts that cost what a page shows: exact up to ``COUNT_CAP``, "10,000+" beyond.

A page that shows 50 rows of a product of a million features should not read a million rows to
say how many there are. Beyond the cap, the number a PM acts on is "very many", so counts read at
most ``COUNT_CAP + 1`` rows (``SELECT count(*) FROM (… LIMIT cap + 1)``) and say "10,000+" —
as issue trackers and mail clients do. Below the cap every count is exact.
"""

from typing import Any

from django.db.models import Func, IntegerField, QuerySet, Subquery

COUNT_CAP = 10_000


class CountAtLeast(int):
    """A count known to be at least its value: compares and adds as that number, reads "10,000+"."""

    def __str__(self) -> str:
        return f"{int(self):,}+"

    __repr__ = __str__


def capped(count: int, cap: int = COUNT_CAP) -> int:
    """``count`` as it reads: itself up to ``cap``, ``CountAtLeast(cap)`` beyond (a capped count
    is read as ``cap + 1`` rows)."""
    return CountAtLeast(cap) if count > cap else count


def capped_count(
    queryset: QuerySet[Any], cap: int = COUNT_CAP, order_by: tuple[str, ...] = ()
) -> int:
    """How many rows ``queryset`` has, reading at most ``cap + 1`` of them (one query);
    ``order_by``: see ``CappedCount``."""
    return capped(queryset.order_by(*order_by).values("pk")[: cap + 1].count(), cap)


class CappedCount(Func):
    """``queryset``'s rows, counted in a subquery that reads at most ``cap + 1`` of them, for
    ``annotate``: read the value through ``capped``. ``queryset`` may use ``OuterRef``.

    ``order_by``: an order that the index meant to serve the count gives for free, so that the
    planner walks that index rather than another one that matches fewer of the conditions (no
    order: whichever it prefers)."""

    template = "(SELECT count(*) FROM %(expressions)s AS capped_rows)"
    output_field = IntegerField()

    def __init__(
        self, queryset: QuerySet[Any], cap: int = COUNT_CAP, order_by: tuple[str, ...] = ()
    ) -> None:
        super().__init__(Subquery(queryset.order_by(*order_by).values("pk")[: cap + 1]))
