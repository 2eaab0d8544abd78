"""The pages of a product's records, written once: a list with its add form, an edit page and a
delete (with a confirmation page where one is wanted).

A kind of record is described by a ``ProductRecords`` (its form, its rows, its save and delete
services, where a change goes back to); a view checks access, then calls ``record_list``,
``record_add``, ``record_edit`` or ``record_delete``. Every form works as a plain post with a
redirect; htmx, where a kind of record asks for it, swaps a row in place. The service owns the
rules: ``submit`` puts its errors next to the fields, and a refused form comes back as sent.

Form and service each get their own copy of an edited record (``copy.copy``): both write the
submitted values into what they are given, the service must see the record as stored to know
what changed, and a page showing a refused edit names the record as stored.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from roadmap.forms import submit
from roadmap.models import Product


def _product_only(product: Product) -> dict[str, Any]:
    return {"product": product}


@dataclass(frozen=True)
class ProductRecords:
    """A kind of record of a product and how its pages treat it."""

    # The record's name in the templates' context ("persona", "estimate", "plan").
    name: str
    form_class: type[forms.BaseForm]
    # The product's records an edit or a delete finds by pk (``delete_rows``: for the delete).
    rows: Callable[[Product], QuerySet]
    # ``save(product=, form=, instance=, user=)``: the service call; ``instance`` None adds one.
    save: Callable[..., Model]
    delete: Callable[[Model], None]
    # Where a change goes back to (the list, at the record's section).
    url: Callable[[Product], str]
    # What a change says: ``notice(record, "added" | "saved" | "deleted")``.
    notice: Callable[[Model, str], str]
    edit_template: str
    # The context every full page of the kind has (a strategy page's section tabs).
    page_context: Callable[[Product], dict[str, Any]] = _product_only
    # The list page with its add form, where it is the kind's own (``record_list``).
    list_template: str = ""
    list_context: Callable[[Product], dict[str, Any]] = _product_only
    delete_rows: Callable[[Product], QuerySet] | None = None
    # A page asking to confirm a delete (GET), if any.
    delete_template: str = ""
    # The fields' ids on the edit form; ``{pk}`` is the record's (another form on its page).
    edit_auto_id: str = "id_%s"
    # htmx: the edit form alone (refused: with 200, which htmx swaps), the row once saved, and
    # an empty answer to a delete (the row is removed).
    edit_partial: str = ""
    row_partial: str = ""
    removes_row: bool = False

    def form(self, product: Product, data=None, **kwargs) -> forms.BaseForm:
        return self.form_class(data, product=product, **kwargs)


def record_add(
    request: HttpRequest,
    records: ProductRecords,
    product: Product,
    *,
    refused: Callable[[forms.BaseForm], HttpResponse],
    **form_kwargs,
) -> HttpResponse:
    """Add a record from the posted form: back to its list, or ``refused(form)`` with the
    errors on the form."""
    form = records.form(product, request.POST, **form_kwargs)
    record = submit(
        form, lambda: records.save(product=product, form=form, instance=None, user=request.user)
    )
    if record is None:
        return refused(form)
    messages.success(request, records.notice(record, "added"))
    return redirect(records.url(product))


def record_list(
    request: HttpRequest,
    records: ProductRecords,
    product: Product,
    page: Callable[[forms.BaseForm, int], HttpResponse] | None = None,
) -> HttpResponse:
    """A list page with its add form: ``page(form, status)``, by default the kind's
    ``list_template``; a POST adds a record."""

    def list_page(form: forms.BaseForm, status: int) -> HttpResponse:
        context = {**records.list_context(product), "form": form}
        return render(request, records.list_template, context, status=status)

    page = page or list_page
    if request.method == "POST":
        return record_add(request, records, product, refused=lambda form: page(form, 400))
    return page(records.form(product), 200)


def record_edit(
    request: HttpRequest, records: ProductRecords, product: Product, pk: int
) -> HttpResponse:
    """Edit a record: its form (GET), saved (POST) back to the list or, for htmx, its row."""
    record = get_object_or_404(records.rows(product), pk=pk)
    auto_id = records.edit_auto_id.replace("{pk}", str(record.pk))
    form = records.form(product, instance=record, auto_id=auto_id)
    status = 200
    if request.method == "POST":
        form = records.form(product, request.POST, instance=copy.copy(record), auto_id=auto_id)
        saved = submit(
            form,
            lambda: records.save(
                product=product, form=form, instance=copy.copy(record), user=request.user
            ),
        )
        if saved is not None:
            return _edited(request, records, product, saved)
        # htmx leaves 4xx answers unswapped: the form with its errors comes back as a 200.
        status = 200 if request.htmx and records.edit_partial else 400
    context = {records.name: record, "form": form}
    if request.htmx and records.edit_partial:
        context["product"] = product
        return render(request, records.edit_partial, context, status=status)
    context = {**records.page_context(product), **context}
    return render(request, records.edit_template, context, status=status)


def _edited(request, records: ProductRecords, product: Product, saved: Model) -> HttpResponse:
    if request.htmx and records.row_partial:
        row = records.rows(product).get(pk=saved.pk)
        context = {"product": product, records.name: row, "saved": True}
        return render(request, records.row_partial, context)
    messages.success(request, records.notice(saved, "saved"))
    return redirect(records.url(product))


def record_delete(
    request: HttpRequest, records: ProductRecords, product: Product, pk: int
) -> HttpResponse:
    """Delete a record (after its confirmation page, if it has one): back to the list, or for
    htmx an empty answer where the row is removed."""
    record = get_object_or_404((records.delete_rows or records.rows)(product), pk=pk)
    if request.method != "POST":
        context = {"product": product, records.name: record}
        return render(request, records.delete_template, context)
    records.delete(record)
    if request.htmx and records.removes_row:
        return HttpResponse("")
    messages.success(request, records.notice(record, "deleted"))
    return redirect(records.url(product))


def named(noun: str) -> Callable[[Model, str], str]:
    """Notices naming the record: “Persona “Finance Fred” saved.”"""
    return lambda record, verb: f"{noun} “{record.name}” {verb}."
