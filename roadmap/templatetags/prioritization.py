"""A prioritization table row written out in Python: the whole row (``{% table_rows %}``,
``{% table_row %}``), and its parts swapped on their own after an edit: its editable cells, its
rank and movement, its score and version.

A product's table can be a thousand rows of seven or more controls, most of them selects.
Through the template engine (a template per cell, a loop per option, numbers localised one by
one) these parts took most of the page's time: about 1.5 s of CPU for 1,000 features; after the
cells, the row's own template (an include per row, a context lookup per value) was still about
half of the first page's time. Here each row is one string, every value escaped with
``django.utils.html``, and a select's options, the same on every row but the chosen one, are
built once per column and value. The fragments swapped out of band after an edit
(``table/_cell.html``, ``_edit.html``, ``_score.html``, ``_version.html``) render through the same
tags, so each part has one markup; ``tests/roadmap/test_table_markup.py`` holds the rows' markup
byte for byte to what the template wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from typing import Any

from django import template
from django.template.context import Context
from django.utils import formats
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from roadmap.planning.presenters.table import Cell, Column, TableRow
from roadmap.planning.selectors.table import RankUpdate
from roadmap.templatetags.waymark import csrf_input, number, render_in_place

register = template.Library()


@lru_cache(maxsize=1024)
def _options(column: Column, chosen: str) -> str:
    return "".join(
        f'<option value="{escape(value)}"{" selected" if value == chosen else ""}>'
        f"{escape(str(label))}</option>"
        for value, label in column.choices
    )


def cell_html(*, cell: Cell, pk: int, can_edit: bool, oob: bool = False) -> str:
    """One cell of a feature's row: its control for an editor (with its error after a refused
    edit), its value for a viewer. A control posts through its row's form (``form=``): without
    JavaScript the whole row, with it the cell alone, by table.js's one listener on the table."""
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
        f'aria-labelledby="col-{key} f{pk}-t" data-saved="{escape(str(cell.saved))}"'
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
    """The score cell; without a score, the inputs it still lacks. What each term contributes
    is the score's description: a tooltip shown on hover and on keyboard focus (the score is
    focusable), read out by screen readers (``aria-describedby``)."""
    score = row.feature.score
    if score is not None and row.shares:
        shown = (
            f'<span class="prio__shares" tabindex="0" aria-describedby="f{row.pk}-shares">'
            f"{escape(number(score))}</span>"
            f'<span class="prio__tip" role="tooltip" id="f{row.pk}-shares">'
            f"{escape(row.shares)}</span>"
        )
    elif score is not None:
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


# --- The whole row --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowsContext:
    """What every row of one table shares: whether the reader edits, the columns they hide, and
    the fields each row's form carries (the CSRF token, the table to come back to)."""

    can_edit: bool
    hidden: frozenset[str]
    form_fields: str
    # The template context, for the rare row with an alert (a conflict, a refused edit).
    context: Context | dict[str, Any]


def rows_context(context: Context | dict[str, Any]) -> RowsContext:
    """The shared part of the rows, read once from the template context (``product``,
    ``hidden``, ``next_url`` and ``csrf_token``)."""
    can_edit = bool(getattr(context.get("product"), "can_edit", False))
    form_fields = ""
    if can_edit:
        # Read only for an editor's rows, as {% csrf_token %} was: reading it sets the cookie.
        form_fields = csrf_input(context) + format_html(
            '<input type="hidden" name="next" value="{}">', context.get("next_url", "")
        )
    return RowsContext(
        can_edit=can_edit,
        hidden=frozenset(context.get("hidden") or ()),
        form_fields=form_fields,
        context=context,
    )


def _alert(row: TableRow, shared: RowsContext) -> str:
    """A conflict's or a refused edit's alert: rare, so through its template (also swapped out of
    band by ``table/_edit.html``)."""
    return render_in_place("roadmap/table/_alert.html", shared.context, row=row)


def _roadmap(row: TableRow) -> str:
    item = row.placement
    if not item:
        return '<span class="muted">—</span>'
    html = format_html(
        '<span class="badge horizon--{}">{}</span>', item.horizon, item.get_horizon_display()
    )
    if release := item.release:
        due = (
            format_html(' title="Due {}"', formats.date_format(release.target_date, "j M Y"))
            if release.target_date
            else ""
        )
        html += format_html(' <span class="prio__release"{}>{}</span>', due, release.name)
    return html


def row_html(row: TableRow, shared: RowsContext) -> str:
    """One feature's row: the select box and the row's form for an editor, the rank, title and
    tags, the cells, the score, and the columns the reader shows. Each editable cell posts itself
    on change with the row's version (table.js: one listener for the whole table, so a row adds
    no script work), through the row's form (a plain POST of the whole row without
    JavaScript)."""
    pk, d, can_edit, hidden = row.pk_text, row.dom, shared.can_edit, shared.hidden
    feature = row.feature

    def cells(given: Iterable[Cell]) -> str:
        return "".join(cell_html(cell=c, pk=row.pk, can_edit=can_edit) for c in given)

    select = (
        f'<td class="prio__select"><input type="checkbox" id="{d}-select" name="features" '
        f'value="{pk}" form="bulk-form" aria-labelledby="{d}-t" data-row-select'
        f"{' checked' if row.selected else ''}></td>"
        if can_edit
        else ""
    )
    tags = (
        '<ul class="chips prio__tags" aria-label="Tags">'
        + "".join(f'<li class="chip chip--tag">{conditional_escape(t.name)}</li>' for t in row.tags)
        + "</ul>"
        if row.tags
        else ""
    )
    form = (
        f'<form id="{d}-form" class="prio__row-form" method="post" '
        f'action="{conditional_escape(row.edit_url)}">{shared.form_fields}{table_version(row)}'
        '<noscript><button class="button button--small" type="submit">Save row</button>'
        "</noscript></form>"
        if can_edit
        else ""
    )
    alert = (
        _alert(row, shared)
        if row.conflict or row.error
        else f'<div class="prio__alert" id="{d}-alert"></div>'
    )
    # A hidden column leaves its line empty, as the template did.
    rest = ["", "", "", ""]
    if "personas" not in hidden:
        personas = (
            '<ul class="chips">'
            + "".join(f'<li class="chip">{conditional_escape(p.name)}</li>' for p in row.personas)
            + "</ul>"
            if row.personas
            else '<span class="muted">—</span>'
        )
        rest[0] = f'<td class="prio__personas">{personas}</td>'
    if "evidence" not in hidden:
        evidence = (
            conditional_escape(row.evidence_text)
            if getattr(feature, "evidence_count", 0)
            else '<span class="muted">0</span>'
        )
        rest[1] = f'<td class="num">{evidence}</td>'
    if "demand" not in hidden:
        if row.demand:
            text = conditional_escape(row.demand_text)
            demand = (
                f'<span title="{text}">{row.vote_count:d} · {row.requester_count:d}</span>'
                f'<span class="visually-hidden">: {text}</span>'
            )
        else:
            demand = '<span class="muted">0</span>'
        rest[2] = f'<td class="num">{demand}</td>'
    if "roadmap" not in hidden:
        rest[3] = f'<td class="prio__roadmap">{_roadmap(row)}</td>'
    return (
        f'\n\n<tr id="feature-{pk}" class="prio__row{" is-fresh" if row.fresh else ""}">\n'
        f"  {select}\n"
        f"  {table_rank(row)}\n"
        '  <th scope="row" class="prio__title">\n'
        f'    <a class="table__title" id="{d}-t" href="{conditional_escape(row.url)}">'
        f"{conditional_escape(feature.title)}</a>\n"
        f"    {tags}\n"
        f"    {form}\n"
        f"    {alert}\n"
        "  </th>\n"
        f"  {cells(row.inputs)}\n"
        f"  {table_score(row)}\n"
        f"  {cells(row.choices)}{cells(row.fields)}\n"
        + "".join(f"  {part}\n" for part in rest)
        + "</tr>\n\n"
    )


@register.simple_tag(takes_context=True)
def table_rows(context, rows: Iterable[TableRow]) -> SafeString:
    """``{% table_rows rows %}``: the rows of a table (``product``, ``hidden``, ``next_url`` in
    context)."""
    shared = rows_context(context)
    return mark_safe("".join(row_html(row, shared) for row in rows))  # noqa: S308 — escaped


@register.simple_tag(takes_context=True)
def table_row(context, row: TableRow) -> SafeString:
    """``{% table_row row %}``: one row (after a quick add, "Reload row")."""
    return mark_safe(row_html(row, rows_context(context)))  # noqa: S308 — escaped in row_html
