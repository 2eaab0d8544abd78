"""A product's features as CSV: any member downloads them; editors import a CSV in two steps,
upload → preview of what it creates, changes and refuses → confirm.

An htmx request gets the import step alone (``_import_step.html``, which the page includes), with
status 200 even when it shows errors, so that htmx swaps it in.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from roadmap.access import product_for
from roadmap.integrations import selectors
from roadmap.integrations.services import csv_io as services
from roadmap.models import Product
from roadmap.planning.services.features import ConflictError

# Rows per chunk of the streamed export: fewer, larger writes than one per row.
EXPORT_CHUNK_ROWS = 200
# A preview lists this many rows of each kind; its counts are always complete.
PREVIEW_ROWS = 200


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        # The service says why an empty file cannot be imported, with the other file problems.
        allow_empty_file=True,
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
        help_text=f"UTF-8 (in Excel: “CSV UTF-8”), comma- or semicolon-separated, up to "
        f"{services.MAX_FILE_BYTES // (1024 * 1024)} MB and {services.MAX_ROWS:,} rows.",
    )


class ConfirmForm(forms.Form):
    upload = forms.CharField(widget=forms.HiddenInput, max_length=64)
    only_valid = forms.BooleanField(required=False, label="Import only the valid rows")


class _Line:
    """A file-like object that hands back what is written, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def _csv_chunks(export: selectors.FeaturesCsv) -> Iterator[str]:
    writer = csv.writer(_Line())
    # Excel reads a CSV as UTF-8 only when it starts with a byte-order mark.
    yield "\ufeff" + writer.writerow(export.header)
    chunk: list[str] = []
    for row in export.rows:
        chunk.append(writer.writerow(row))
        if len(chunk) == EXPORT_CHUNK_ROWS:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


@login_required
@require_GET
@never_cache
def features_export(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    """The product's features as a CSV download, narrowed by the table's ``status`` and ``q``."""
    product = product_for(request, slug)
    export = selectors.features_csv(
        product=product, status=request.GET.get("status"), q=request.GET.get("q", "")
    )
    response = StreamingHttpResponse(_csv_chunks(export), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, export.filename)
    return response


def _listed(rows: list[services.RowPlan]) -> dict[str, Any]:
    return {
        "rows": rows[:PREVIEW_ROWS],
        "count": len(rows),
        "more": max(len(rows) - PREVIEW_ROWS, 0),
    }


def _step(
    request: HttpRequest,
    product: Product,
    *,
    form: UploadForm | None = None,
    plan: services.ImportPlan | None = None,
    confirm: ConfirmForm | None = None,
    filename: str = "",
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    """The import page (or, for htmx, its step alone): the upload form, or a plan's preview."""
    context: dict[str, Any] = {
        "product": product,
        "form": form,
        "plan": plan,
        "confirm": confirm,
        "filename": filename,
        "notice": notice,
    }
    if plan is None:
        context["columns"] = selectors.feature_column_help(product=product)
    else:
        context.update(
            creates=_listed(plan.creates),
            updates=_listed(plan.updates),
            invalid=_listed(plan.invalid),
            unchanged_count=len(plan.unchanged),
        )
    if request.htmx:
        # htmx swaps only successful answers; the step shows its own errors.
        return render(request, "roadmap/csv/_import_step.html", context)
    return render(request, "roadmap/csv/import.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def features_import(request: HttpRequest, slug: str) -> HttpResponse:
    """The import page (editors). POST a CSV to see what importing it would do; nothing is
    saved until the preview is confirmed."""
    product = product_for(request, slug, edit=True)
    if request.method == "GET":
        return _step(request, product, form=UploadForm())
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            data = services.csv_upload_read(upload=upload)
            plan = services.csv_import_plan(product=product, data=data)
        except services.ImportFileError as error:
            form.add_error("file", str(error))
        else:
            key = services.csv_import_keep(
                product=product,
                user=request.user,
                filename=upload.name,
                data=data,
                fingerprint=plan.fingerprint,
            )
            return _step(
                request,
                product,
                plan=plan,
                confirm=ConfirmForm(initial={"upload": key}),
                filename=upload.name,
            )
    return _step(request, product, form=form, status=400)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def features_import_confirm(request: HttpRequest, slug: str) -> HttpResponse:
    """Import a previewed upload, all or nothing, or show its preview again with the reason
    when it cannot be imported as previewed."""
    product = product_for(request, slug, edit=True)
    confirm = ConfirmForm(request.POST)
    pending = None
    if confirm.is_valid():
        pending = services.csv_import_pending(
            key=confirm.cleaned_data["upload"], product=product, user=request.user
        )
    if pending is None:
        return _expired(request, product)
    try:
        plan = services.csv_import_plan(product=product, data=pending.data)
    except services.ImportFileError as error:
        # The same bytes read fine before: the product's drivers changed meanwhile.
        return _step(request, product, form=UploadForm(), notice=str(error), status=400)
    only_valid = confirm.cleaned_data["only_valid"]

    def again(notice: str, status: int = 400) -> HttpResponse:
        services.csv_import_keep(
            product=product,
            user=request.user,
            filename=pending.filename,
            data=pending.data,
            fingerprint=plan.fingerprint,
            key=pending.key,
        )
        return _step(
            request,
            product,
            plan=plan,
            confirm=ConfirmForm(initial={"upload": pending.key, "only_valid": only_valid}),
            filename=pending.filename,
            notice=notice,
            status=status,
        )

    if plan.fingerprint != pending.fingerprint:
        return again(
            "Features of this product changed since the preview; nothing was imported. Check "
            "the preview below again, then confirm.",
            status=409,
        )
    if plan.invalid and not only_valid:
        count = len(plan.invalid)
        return again(
            f"Nothing was imported: {_plural(count, 'row')} {'has' if count == 1 else 'have'} "
            "errors. Fix the file and upload it again, or tick “Import only the valid rows”."
        )
    if not plan.writes:
        return again("Nothing to import: no row creates or changes a feature.")
    if not services.csv_import_release(key=pending.key):
        return _expired(request, product)
    try:
        result = services.csv_import_apply(
            product=product, plan=plan, only_valid=only_valid, actor=request.user
        )
    except (ConflictError, ValidationError, IntegrityError):
        # Someone saved a feature, or a persona went, between the check and the writes: the
        # transaction is rolled back and the preview shows the product as it is now.
        plan = services.csv_import_plan(product=product, data=pending.data)
        return again(
            "A feature was changed while importing; nothing was imported. Check the preview "
            "below again, then confirm.",
            status=409,
        )
    messages.success(request, _summary(pending.filename, result))
    url = product.get_absolute_url()
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _expired(request: HttpRequest, product: Product) -> HttpResponse:
    notice = (
        "This preview has expired or was already imported. Upload the file again to see what "
        "it would change now."
    )
    return _step(request, product, form=UploadForm(), notice=notice, status=400)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _summary(filename: str, result: services.ImportResult) -> str:
    text = (
        f"Imported {filename}: {_plural(result.created, 'feature')} created, "
        f"{result.updated} updated, {result.unchanged} unchanged."
    )
    if result.skipped:
        rows = ", ".join(str(n) for n in result.skipped[:20])
        more = f" and {len(result.skipped) - 20} more" if len(result.skipped) > 20 else ""
        text += f" Skipped {_plural(len(result.skipped), 'row')} with errors: {rows}{more}."
    return text
