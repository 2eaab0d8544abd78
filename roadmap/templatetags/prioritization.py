"""The parts of a prioritization table row that repeat most, written out in Python: its
editable cells, its rank and movement, its score and version.

A product's table can be a thousand rows of seven or more controls, most of them selects.
Through the template engine (a template per cell, a loop per option, numbers localised one by
one) these parts took most of the page's time: about 1.5 s of CPU for 1,000 features. Here each
is one string, and a select's options, the same on every row but the chosen one, are built once
per column and value. The fragments swapped out of band after an edit (``table/_cell.html``,
``_rank.html``, ``_score.html``, ``_version.html``) render through the same tags, so each part
has one markup.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from roadmap.planning.presenters.table import Cell, Column, TableRow
from roadmap.planning.selectors.table import RankUpdate
from roadmap.templatetags.waymark import number

register = template.Library()


@lru_cache(maxsize=1024)
def _options(column: Column, chosen: str) -> str:
    return "".join(
        f'<option value="{escape(value)}"{" selected" if value == chosen else ""}>'
        f"{escape(str(label))}</option>"
        for value, label in column.choices
    )


def cell_html(*, cell: Cell, pk: int, can_edit: bool, edit_url: str, oob: bool = False) -> str:
    """One cell of a feature's row: its control for an editor (with its error after a refused
    edit), its value for a viewer."""
    column = cell.column
    key = escape(column.key)
    classes = "prio__cell num" if column.numeric else "prio__cell"
    if cell.errors:
        classes += " is-invalid"
    swap = ' data-hx-swap-oob="true"' if oob else ""
    opening = f'<td id="f{pk}-{key}-cell" class="{classes}"{swap}>'
    if not (can_edit and column.editable):
        display = escape(str(cell.display))
        if column.key == "status":
            inner = f'<span class="badge status--{escape(str(cell.saved))}">{display}</span>'
        elif column.source:
            inner = f'<span title="{escape(column.source.capitalize())}">{display}</span>'
        else:
            inner = display
        return f"{opening}{inner}</td>"
    common = (
        f'id="f{pk}-{key}" name="{escape(column.name)}" form="f{pk}-form" '
        f'aria-labelledby="col-{key} f{pk}-t" data-saved="{escape(str(cell.saved))}" '
        f'data-hx-post="{escape(edit_url)}"'
    )
    error = ""
    if cell.errors:
        common += f' aria-invalid="true" aria-describedby="f{pk}-{key}-error"'
        reasons = escape(" ".join(str(error) for error in cell.errors))
        error = f'<span class="prio__error" id="f{pk}-{key}-error">{reasons}</span>'
    if column.choices:
        tint = f" status--{escape(str(cell.saved))}" if column.key == "status" else ""
        control = (
            f'<select class="prio__input{tint}" {common}>{_options(column, cell.value)}</select>'
        )
    else:
        control = (
            f'<input class="prio__input" type="text" inputmode="decimal" autocomplete="off" '
            f'{common} value="{escape(str(cell.value))}">'
        )
    return f"{opening}{control}{error}</td>"


def _swap(oob: bool) -> str:
    return ' data-hx-swap-oob="true"' if oob else ""


@register.simple_tag(takes_context=True)
def table_cell(context, cell: Cell, oob: bool = False) -> SafeString:
    """``{% table_cell cell %}`` in a row (``row`` and ``product`` in context)."""
    row = context["row"]
    return mark_safe(  # noqa: S308 — every value is escaped in cell_html
        cell_html(
            cell=cell,
            pk=row.pk,
            can_edit=getattr(context["product"], "can_edit", False),
            edit_url=row.edit_url,
            oob=oob,
        )
    )


@register.simple_tag
def table_rank(row: TableRow | RankUpdate, oob: bool = False) -> SafeString:
    """The rank and movement cells of a row: ``#3``, and ``▲2`` since a week ago."""
    pk, rank, moved, was = row.pk, row.rank, row.movement, row.rank_week_ago
    if rank:
        shown = f"#{rank}"
    else:
        shown = '<span class="muted" title="Shipped and archived features are not ranked">—</span>'
    if moved is None:
        move = '<span class="muted" title="No rank a week ago to compare with">·</span>'
    elif moved > 0:
        move = (
            f'<span class="move move--up" title="Up {moved} since a week ago (was #{was})">'
            f'<span aria-hidden="true">▲</span>{moved}<span class="visually-hidden"> up</span>'
            "</span>"
        )
    elif moved < 0:
        move = (
            f'<span class="move move--down" title="Down {-moved} since a week ago (was #{was})">'
            f'<span aria-hidden="true">▼</span>{-moved}<span class="visually-hidden"> down</span>'
            "</span>"
        )
    else:
        move = '<span class="muted" title="Same rank as a week ago">=</span>'
    swap = _swap(oob)
    return mark_safe(  # noqa: S308 — numbers and fixed text only
        f'<td class="num prio__rank" id="f{pk}-rank"{swap}>{shown}</td>'
        f'<td class="num prio__move" id="f{pk}-move"{swap}>{move}</td>'
    )


@register.simple_tag
def table_score(row: TableRow, oob: bool = False) -> SafeString:
    """The score cell; without a score, the inputs it still lacks."""
    score = row.feature.score
    if score is not None:
        shown = escape(number(score))
    else:
        missing = escape(", ".join(row.missing))
        shown = (
            f'<span class="prio__missing" title="No score: missing {missing}">—'
            f'<span class="visually-hidden"> no score, missing {missing}</span></span>'
        )
    return mark_safe(  # noqa: S308 — escaped above
        f'<td class="num prio__score" id="f{row.pk}-score"{_swap(oob)}>{shown}</td>'
    )


@register.simple_tag
def table_version(row: TableRow, oob: bool = False) -> SafeString:
    """The version the row was read at, sent with each edit (optimistic concurrency)."""
    return mark_safe(  # noqa: S308 — numbers only
        f'<input type="hidden" name="version" id="f{row.pk}-version" '
        f'value="{int(row.feature.version)}"{_swap(oob)}>'
    )
