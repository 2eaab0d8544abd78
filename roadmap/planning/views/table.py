"""The prioritization table: a product's features with their inputs, score and rank, edited in
place.

Every page works without JavaScript: filters are a GET form, edits are POSTs answered with a
redirect (or the page again, with the errors, when refused). htmx requests get fragments
instead: the table for a filter or a sort, and for an edit the cells it changed, out of band, so
whatever the PM is typing in another cell is left alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.models import fields_for_model
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    QueryDict,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url, reswap, retarget

from roadmap.access import product_for
from roadmap.forms import service_error_targets, submit
from roadmap.models import (
    CustomFieldKind,
    Feature,
    FeatureStatus,
    Horizon,
    Kano,
    MarketPosition,
    Product,
)
from roadmap.planning.presenters import table as presenters
from roadmap.planning.selectors import table as selectors
from roadmap.planning.services import features as feature_services
from roadmap.planning.services import preferences as preference_services
from roadmap.planning.services.features import ConflictError
from roadmap.templatetags.waymark import number

# --- Where the table is ---------------------------------------------------------------------------


def _next_url(request: HttpRequest, product: Product) -> str:
    """The table URL (with its filters) a request is about: the table's own request, else the
    browser's address for htmx (filters change it without a page load), else the form's
    ``next`` if it is this product's table."""
    table = product.get_absolute_url()
    if request.method in ("GET", "HEAD") and request.path == table:
        return request.get_full_path()
    if request.htmx and request.htmx.current_url:
        current = urlsplit(request.htmx.current_url)
        if current.path == table:
            return f"{table}?{current.query}" if current.query else table
    candidate = request.POST.get("next", "")
    if (
        candidate
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and urlsplit(candidate).path == table
    ):
        return candidate
    return table


def _table_query(request: HttpRequest, product: Product) -> QueryDict:
    """The filters and sort of the table the request is about."""
    return QueryDict(urlsplit(_next_url(request, product)).query)


# A number no feature has, replaced by each row's id: one reverse per URL name rather than two per
# row (a thousand rows).
_ANY_PK = 987654321


def _linked(product: Product, rows: list[presenters.TableRow]) -> list[presenters.TableRow]:
    """Give rows their links: the feature's page, and the URL their cells post to."""
    page = reverse("roadmap:feature", args=[_ANY_PK]).rpartition(str(_ANY_PK))
    edit = reverse("roadmap:table_edit", args=[product.slug, _ANY_PK]).rpartition(str(_ANY_PK))
    for row in rows:
        row.url = f"{page[0]}{row.pk_text}{page[2]}"
        row.edit_url = f"{edit[0]}{row.pk_text}{edit[2]}"
    return rows


def _view(
    request: HttpRequest, product: Product, *, selected=(), stream: bool = False
) -> presenters.TableView:
    """The table the request is about (its filters and sort) as its reader lays it out, its
    rows linked (a streamed view's as they come)."""
    view = presenters.table_view(
        product=product,
        query=_table_query(request, product),
        selected=selected,
        hidden=selectors.table_hidden_columns(user=request.user, product=product),
        stream=stream,
    )
    _linked(product, view.rows)
    if view.stream is not None:
        view.stream = (row for chunk in _chunks(view.stream) for row in _linked(product, chunk))
    return view


def _chunks(rows: Iterator[presenters.TableRow]) -> Iterator[list[presenters.TableRow]]:
    while chunk := list(islice(rows, selectors.STREAM_CHUNK)):
        yield chunk


# Where a streamed table's rows go in its page: the page is rendered once around it.
_ROWS_HERE = mark_safe("<!-- rows -->")


def _streamed(
    request: HttpRequest, template: str, context: dict[str, Any], view: presenters.TableView
) -> Iterator[str]:
    """The page, its rows written as they are read: the page around them first, then the rows a
    chunk at a time, then the rest of the page."""
    assert view.stream is not None
    head, tail = render_to_string(template, {**context, "rows_here": _ROWS_HERE}, request).split(
        _ROWS_HERE, 1
    )
    yield head
    rows = loader.get_template("roadmap/table/_rows.html")
    for chunk in _chunks(view.stream):
        yield rows.render({**context, "rows": chunk}, request)
    yield tail


def _shown_columns(
    request: HttpRequest, product: Product
) -> tuple[presenters.TableColumns, frozenset[str]]:
    """The columns of the product's table its reader shows, and the ones they hide."""
    hidden = selectors.table_hidden_columns(user=request.user, product=product)
    return presenters.table_columns(product=product).without(hidden), hidden


def _row(
    product: Product, pk: int, columns: presenters.TableColumns, *, cells_only: bool = False
) -> presenters.TableRow:
    row = presenters.table_row(product=product, pk=pk, columns=columns, cells_only=cells_only)
    if row is None:
        raise Http404
    return _linked(product, [row])[0]


def _context(request: HttpRequest, product: Product, view: presenters.TableView, **extra):
    return {
        "product": product,
        "view": view,
        "hidden": view.hidden,
        # Forms come back to this view of the table, in its canonical form.
        "next_url": product.get_absolute_url() + view.params.query_string(),
        "statuses": FeatureStatus.choices,
        "horizons": Horizon.choices,
        "moscow": list(presenters.MOSCOW_SHORT.items()),
        "kano": Kano.choices,
        "market_positions": MarketPosition.choices,
        "quick_add": QuickAddForm(),
        "bulk": BulkForm(options=view.options),
        **extra,
    }


# --- The page ---------------------------------------------------------------------------------


@login_required
@require_safe
@vary_on_headers("HX-Request")
def product(request: HttpRequest, slug: str) -> HttpResponseBase:
    """The product's features, filtered, searched and sorted from the query string.

    An htmx request (a filter, a sort, a re-sort after edits) gets the table alone, and the
    browser's address bar is set to the view's canonical URL so it can be bookmarked.
    """
    product = product_for(request, slug)
    view = _view(request, product, stream=True)
    context = _context(request, product, view)
    fragment = bool(request.htmx and not request.htmx.history_restore_request)
    template = "roadmap/_feature_table.html" if fragment else "roadmap/product.html"
    if view.stream is not None:
        # "Show all": the rows are written as they are read; memory stays flat.
        response: HttpResponseBase = StreamingHttpResponse(
            _streamed(request, template, context, view), content_type="text/html; charset=utf-8"
        )
    else:
        response = render(request, template, context)
    if fragment:
        return push_url(response, product.get_absolute_url() + view.params.query_string())
    return response


class ColumnsForm(forms.Form):
    shown = forms.MultipleChoiceField(required=False)

    def __init__(self, *args, hideable: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shown"].choices = list(hideable.items())


@login_required
@require_POST
def table_columns(request: HttpRequest, slug: str) -> HttpResponse:
    """Save which columns the reader shows (any member: it is their own view, not the data).
    htmx gets the table again; a plain form goes back to the table it came from."""
    product = product_for(request, slug)
    hideable = selectors.table_hideable_columns(
        fields=selectors.product_field_definitions(product=product)
    )
    form = ColumnsForm(request.POST, hideable=hideable)
    if not form.is_valid():
        return HttpResponseBadRequest("Choose columns from the menu: reload the table.")
    shown = set(form.cleaned_data["shown"])
    preference_services.table_layout_save(
        user=request.user, product=product, hidden=hideable.keys() - shown
    )
    if request.htmx:
        view = _view(request, product)
        return render(request, "roadmap/_feature_table.html", _context(request, product, view))
    return redirect(_next_url(request, product))


def _page_again(
    request: HttpRequest, product: Product, *, selected=(), **extra: Any
) -> tuple[presenters.TableView, dict]:
    """The table the PM came from, to show a refused form on it."""
    view = _view(request, product, selected=selected)
    return view, _context(request, product, view, **extra)


# --- Editing cells ------------------------------------------------------------------------------


# The longest text a custom field's cell posts (a choice's label is 60 at most, a number ~16).
FIELD_TEXT_MAX = 100


def _row_form(columns: presenters.TableColumns, names: list[str], data) -> forms.Form:
    """Parses the posted cells: the model's own form fields, a whole number per driver (their
    0–10 range is the service's rule) and a text per custom field (its value is checked by the
    service)."""
    editable = columns.editable
    plain = [n for n in names if editable[n].driver_id is None and editable[n].field_id is None]
    fields: dict[str, forms.Field] = dict(fields_for_model(Feature, fields=plain))
    for name in names:
        if editable[name].driver_id is not None:
            fields[name] = forms.IntegerField(required=False)
        elif editable[name].field_id is not None:
            fields[name] = forms.CharField(required=False, max_length=FIELD_TEXT_MAX)
    fields["version"] = forms.IntegerField(min_value=1)
    return type("RowForm", (forms.Form,), fields)(data)


def _errors_by_cell(
    error: ValidationError,
    names: list[str],
    edited: str | None,
    field_of: dict[str, str] | None = None,
) -> dict[str, list[str]]:
    """A refused edit's messages by the cell that shows them: a field's own cell (``field_of``:
    a custom field's key to its cell's name), else the edited cell (htmx), else the row."""
    result: dict[str, list[str]] = {}
    for target, item in service_error_targets(error, names, field_of=field_of):
        result.setdefault(target or edited or NON_FIELD_ERRORS, []).extend(item.messages)
    return result


def _saved_message(row: presenters.TableRow, column: presenters.Column | None, was) -> str:
    feature = row.feature
    what = f"{column.noun} of “{feature.title}”" if column else f"“{feature.title}”"
    score = number(feature.score) if feature.score is not None else "none yet"
    rank = f"#{feature.rank}" if feature.rank else "not ranked"
    moved = f" (was #{was})" if was and was != feature.rank else ""
    return f"Saved {what}: score {score}, rank {rank}{moved}."


class _BadEdit(Exception):
    """A post the table's own forms never send: answered 400 with the message."""


@dataclass
class _CellEdit:
    """An edit of a feature's row as posted (the cells, what was typed), and once saved, what
    refused it (``errors`` by cell, or the ``conflict``ing version)."""

    product: Product
    feature: Feature
    columns: presenters.TableColumns
    # The cell an htmx request saves (``HX-Trigger-Name``); None for a whole row.
    edited: str | None
    names: list[str]
    form: forms.Form
    typed: dict[str, str]
    # The ranks before the edit of the rows it may report as moved (see ``_watched``).
    before: dict[int, int | None]
    # The rows on the PM's page (table.js posts them; None without: the whole view).
    shown: list[int] | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    conflict: Feature | None = None

    @property
    def column(self) -> presenters.Column | None:
        return self.columns.editable.get(self.edited) if self.edited else None

    @property
    def saved(self) -> bool:
        return self.conflict is None and not self.errors


def _parse_edit(request: HttpRequest, product: Product, pk: int) -> _CellEdit:
    """The posted cells of the feature, parsed (not yet validated); _BadEdit for a cell that
    cannot be edited or a missing version."""
    columns = presenters.table_columns(product=product)
    editable = columns.editable
    feature = get_object_or_404(Feature.objects.filter(product=product), pk=pk)
    feature.product = product  # read with the member's role: the service needs no second read
    edited = request.htmx.trigger_name if request.htmx else None
    if edited is not None and edited not in editable:
        raise _BadEdit("This cell cannot be edited.")
    names = [edited] if edited else [n for n in editable if n in request.POST]
    form = _row_form(columns, names, request.POST)
    if "version" in form.errors:
        raise _BadEdit("The row's version is missing: reload the table.")
    shown = _shown_ids(request) if edited else None
    return _CellEdit(
        product=product,
        feature=feature,
        columns=columns,
        edited=edited,
        names=names,
        form=form,
        typed={name: request.POST.get(name, "") for name in names},
        before=selectors.table_product_ranks(product=product, pks=_watched(edited, shown, pk)),
        shown=shown,
    )


# More rows than a page of "Show all" could post are not taken for the rows shown.
SHOWN_MAX = 20_000


def _shown_ids(request: HttpRequest) -> list[int] | None:
    """The ids of the rows on the PM's page, as table.js posts them with a cell's edit; None when
    absent, malformed or too many (then the whole view is compared)."""
    if "shown" not in request.POST:
        return None
    shown = _posted_ids(request, "shown")
    return shown if shown is not None and len(shown) <= SHOWN_MAX else None


def _watched(edited: str | None, shown: list[int] | None, pk: int) -> list[int] | None:
    """Whose rank before the edit is read: a plain post reports only the row's own move; a cell
    (htmx) the moves of the rows on the page, or of every row when the page did not say which.
    So an edit reads O(rows shown), not O(features)."""
    if edited is None:
        return [pk]
    return None if shown is None else [*shown, pk]


def _custom_value(column: presenters.Column, text: str) -> Any:
    """A custom field's cell as the service takes it: None for none, true or false for yes/no,
    else the text (a choice's label, a number)."""
    if text == "":
        return None
    if column.field is not None and column.field.kind == CustomFieldKind.YES_NO:
        return {"yes": True, "no": False}.get(text, text)
    return text


def _save_edit(edit: _CellEdit, actor) -> None:
    """Validate the cells and save them through the service, or record what refused them."""
    form, editable = edit.form, edit.columns.editable
    # The custom fields' cells by the field's key (the service's name for them).
    custom = {field.key: n for n in edit.names if (field := editable[n].field) is not None}
    if not form.is_valid():
        edit.errors = {name: list(found) for name, found in form.errors.items()}
    else:
        try:
            feature_services.feature_update_inputs(
                feature=edit.feature,
                data={
                    n: form.cleaned_data[n]
                    for n in edit.names
                    if editable[n].driver_id is None and editable[n].field_id is None
                },
                driver_scores={
                    editable[n].driver_id: form.cleaned_data[n]
                    for n in edit.names
                    if editable[n].driver_id is not None
                },
                custom_fields={
                    key: _custom_value(editable[name], form.cleaned_data[name])
                    for key, name in custom.items()
                },
                expected_version=form.cleaned_data["version"],
                actor=actor,
            )
        except ConflictError as error:
            edit.conflict = error.current
        except ValidationError as error:
            edit.errors = _errors_by_cell(error, edit.names, edit.edited, field_of=custom)


@login_required
@require_POST
def feature_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Save one cell (htmx: the cell named by ``HX-Trigger-Name``) or a whole row (a plain form
    post) of a feature, refusing it if someone else saved the feature since the row was read."""
    product = product_for(request, slug, edit=True)
    try:
        edit = _parse_edit(request, product, pk)
    except _BadEdit as error:
        return HttpResponseBadRequest(str(error))
    _save_edit(edit, request.user)
    if request.htmx:
        return _edited_cell(request, edit)
    if edit.saved:
        row = _row(product, pk, edit.columns)
        messages.success(request, _saved_message(row, None, edit.before.get(pk)))
        return redirect(f"{_next_url(request, product)}#feature-{pk}")
    return _refused_row(request, edit)


def _edited_cell(request: HttpRequest, edit: _CellEdit) -> HttpResponse:
    """htmx: the edited cell again (saved, refused, or in conflict) and the message to read out;
    once saved, the ranks it moved."""
    product, pk, column, typed = edit.product, edit.feature.pk, edit.column, edit.typed
    # The answer swaps the row's cell, alert, score and version, never its tags or personas.
    row = _row(product, pk, edit.columns, cells_only=True)
    cell = row.cells[edit.edited]
    context: dict[str, Any] = {"product": product, "row": row, "cell": cell}
    if edit.conflict is not None:
        row.conflict = presenters.table_conflict(
            current=edit.conflict, column=column, yours=typed[edit.edited]
        )
        cell.value = typed[edit.edited]
        cell.errors = ["Not saved."]
        context["message"] = f"Not saved: someone else changed “{row.feature.title}”."
    elif edit.errors:
        row.show_input(typed, edit.errors)
        reasons = " ".join(m for found in edit.errors.values() for m in found)
        context["message"] = f"{column.noun} of “{row.feature.title}” not saved: {reasons}"
    else:
        query = _table_query(request, product)
        updates = selectors.table_rank_updates(
            product=product,
            query=query,
            before=edit.before,
            always=[pk],
            # The rows on the PM's page (table.js sends them): of a thousand that moved, the
            # fifty shown.
            shown=edit.shown,
        )
        moved = any(edit.before.get(u.pk) != u.rank for u in updates)
        # Rows stay where they are while the PM edits; offer to sort them again when the
        # edit changed what they are sorted by.
        sort = (query.get("sort") or selectors.DEFAULT_SORT).removeprefix("-")
        context.update(
            saved=True,
            rank_updates=updates,
            resort=(moved and sort in ("rank", "movement")) or sort in ("score", column.key),
            resort_url=_next_url(request, product),
        )
        context["message"] = _saved_message(row, column, edit.before.get(pk))
    return render(request, "roadmap/table/_edit.html", context)


def _refused_row(request: HttpRequest, edit: _CellEdit) -> HttpResponse:
    """A plain post refused: the table it came from, the row with what was typed and why it
    was not saved (409 when someone else saved the feature meanwhile)."""
    view, context = _page_again(request, edit.product)
    pk, names, typed = edit.feature.pk, edit.names, edit.typed
    row = view.row_for(pk)
    if row is None:
        # Filtered out of the view it was edited in (e.g. a status just changed): shown on top.
        row = _row(edit.product, pk, view.columns)
        row.fresh = True
        view.rows.insert(0, row)
    if edit.conflict is not None:
        # A hidden column is not in the row (nor, but for a forged post, among the names).
        changed = [n for n in names if n in row.cells and typed[n] != row.cells[n].saved]
        editable = edit.columns.editable
        first = editable[(changed or names)[0]] if names else edit.columns.choices[0]
        row.conflict = presenters.table_conflict(
            current=edit.conflict, column=first, yours=typed.get(first.name, "")
        )
        row.show_input(typed, {})
        context["status_message"] = f"Not saved: someone else changed “{row.feature.title}”."
        status = 409
    else:
        row.show_input(typed, edit.errors)
        row.error = " ".join(edit.errors.get(NON_FIELD_ERRORS, []))
        context["status_message"] = f"“{row.feature.title}” was not saved: see the marked cells."
        status = 400
    return render(request, "roadmap/product.html", context, status=status)


@login_required
@require_safe
def feature_row(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """One feature's row as stored now (after a conflict, "Reload row")."""
    product = product_for(request, slug)
    columns, hidden = _shown_columns(request, product)
    row = _row(product, pk, columns)
    if not request.htmx:
        return redirect(f"{product.get_absolute_url()}#feature-{pk}")
    context = {
        "product": product,
        "row": row,
        "hidden": hidden,
        "next_url": _next_url(request, product),
    }
    return render(request, "roadmap/table/_row.html", context)


# --- Quick add ---------------------------------------------------------------------------------


class QuickAddForm(forms.Form):
    title = fields_for_model(Feature, fields=["title"])["title"]


@login_required
@require_POST
def feature_quick_add(request: HttpRequest, slug: str) -> HttpResponse:
    """Add a feature by its title; it shows at the top of the table at once."""
    product = product_for(request, slug, edit=True)
    form = QuickAddForm(request.POST)
    feature = submit(
        form,
        lambda: feature_services.feature_create(product=product, title=form.cleaned_data["title"]),
    )
    if request.htmx:
        context: dict[str, Any] = {
            "product": product,
            "quick_add": form if feature is None else QuickAddForm(),
            "next_url": _next_url(request, product),
        }
        if feature is not None:
            columns, context["hidden"] = _shown_columns(request, product)
            row = _row(product, feature.pk, columns)
            row.fresh = True
            counts = selectors.table_counts(product=product, query=_table_query(request, product))
            context.update(
                row=row,
                shown=counts.shown,
                total=counts.total,
                filtered=counts.filtered,
                message=f"Added “{feature.title}”: fill in its inputs to score it.",
            )
        else:
            context["message"] = "Not added: " + " ".join(
                m for found in form.errors.values() for m in found
            )
        return render(request, "roadmap/table/_quick_added.html", context)
    if feature is not None:
        messages.success(request, f"Added “{feature.title}”.")
        return redirect(f"{_next_url(request, product)}#feature-{feature.pk}")
    view, context = _page_again(request, product, quick_add=form)
    return render(request, "roadmap/product.html", context, status=400)


# --- Bulk edits -------------------------------------------------------------------------------

KEEP = ""
NO_RELEASE = "none"


class BulkForm(forms.Form):
    """Parses a bulk edit; what may be applied is the service's rule."""

    status = forms.ChoiceField(required=False)
    release = forms.ChoiceField(required=False)
    tag = forms.CharField(required=False, strip=True)

    def __init__(self, *args, options: selectors.TableOptions, **kwargs):
        super().__init__(*args, **kwargs)
        self.releases = {str(r.pk): r for r in options.releases}
        self.tags = options.tags
        self.fields["status"].choices = [(KEEP, "Keep status"), *FeatureStatus.choices]
        self.fields["release"].choices = [
            (KEEP, "Keep release"),
            (NO_RELEASE, "No release"),
            *((pk, r.name) for pk, r in self.releases.items()),
        ]

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        arguments: dict[str, Any] = {"status": data["status"] or None, "tag": data["tag"]}
        if data["release"] == NO_RELEASE:
            arguments["release"] = None
        elif data["release"]:
            arguments["release"] = self.releases[data["release"]]
        return arguments


def _posted_ids(request: HttpRequest, name: str) -> list[int] | None:
    """Feature ids posted as ``name``, once per field or comma-separated (table.js sends them so,
    to stay under the server's limit on the number of fields). None if one is not a number."""
    try:
        return [
            int(part)
            for value in request.POST.getlist(name)
            for part in value.split(",")
            if part.strip()
        ]
    except ValueError:
        return None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _bulk_message(result: feature_services.BulkUpdateResult, arguments: dict[str, Any]) -> str:
    """What a bulk edit did, e.g. “Status Planned and tag “q3”: 2 of 3 features changed.”"""
    actions = []
    if arguments.get("status"):
        actions.append(f"status {FeatureStatus(arguments['status']).label}")
    tag = next(iter(feature_services.tag_names_clean([arguments.get("tag", "")])), "")
    if tag:
        actions.append(f"tag “{tag}”")
    parts = []
    if actions:
        said = " and ".join(actions)
        changed = f"{result.updated} of {_plural(result.selected, 'feature')} changed"
        parts.append(f"{said[0].upper()}{said[1:]}: {changed}.")
    if "release" in arguments:
        release = arguments["release"]
        what = f"Release “{release.name}”" if release else "No release"
        parts.append(f"{what} on {_plural(result.placed, 'feature')} on the roadmap.")
        if result.not_on_roadmap:
            count = len(result.not_on_roadmap)
            titles = ", ".join(f"“{t}”" for t in result.not_on_roadmap[:5])
            more = f" and {count - 5} more" if count > 5 else ""
            verb = "is" if count == 1 else "are"
            parts.append(f"{count} {verb} not on the roadmap, so got no release: {titles}{more}.")
    return " ".join(parts)


@login_required
@require_POST
def features_bulk(request: HttpRequest, slug: str) -> HttpResponse:
    """Apply a status, a release or a tag to the ticked features, all or nothing."""
    product = product_for(request, slug, edit=True)
    options = selectors.table_options(product=product)
    form = BulkForm(request.POST, options=options)
    ids = _posted_ids(request, "features")
    result = None
    if ids is None:
        form.add_error(None, "The selection is not valid: reload the table.")
    else:
        result = submit(
            form,
            lambda: feature_services.features_bulk_update(
                product=product, feature_ids=ids, actor=request.user, **form.service_arguments()
            ),
        )
    message = _bulk_message(result, form.service_arguments()) if result else ""
    if request.htmx:
        if result is None:
            response = render(
                request,
                "roadmap/table/_bulk.html",
                {"product": product, "bulk": form, "next_url": _next_url(request, product)},
            )
            return reswap(retarget(response, "#bulk-form"), "outerHTML")
        view = _view(request, product, selected=ids)
        context = _context(request, product, view, message=message, bulk_done=True)
        return render(request, "roadmap/table/_bulk_done.html", context)
    if result is not None:
        messages.success(request, message)
        return redirect(_next_url(request, product))
    view, context = _page_again(request, product, selected=ids or (), bulk=form)
    return render(request, "roadmap/product.html", context, status=400)
