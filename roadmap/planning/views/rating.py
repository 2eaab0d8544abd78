"""Rating rounds: a product's "Rating" tab.

Members read the list of rounds; editors and admins start a round, accept its consensus, close
and reopen it (viewers get 403, anyone else 404: ``roadmap.access``). A round's sheet is its
raters' only (others of the workspace get 403); its results are the editors' and, once they
have submitted, its raters'. Every form is a plain POST answered with a redirect, or the page
again with the errors next to the values (status 400).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from roadmap.access import product_for
from roadmap.forms import FeatureChecklist, LinksFeatures, submit
from roadmap.models import Feature, Product, RatingRound
from roadmap.planning import rating as scales
from roadmap.planning.models.rating import ROUND_NAME_MAX_LENGTH
from roadmap.planning.selectors import rating as selectors
from roadmap.planning.selectors.pages import workspace_members
from roadmap.planning.services import rating as services

# --- Forms ------------------------------------------------------------------------------------


class RoundForm(LinksFeatures, forms.Form):
    """A new round: its name, the features to rate and who rates them."""

    name = forms.CharField(
        max_length=ROUND_NAME_MAX_LENGTH,
        help_text="Shown to the raters, and in the history of the features it changes.",
    )
    features = FeatureChecklist(
        label="Features to rate", help_text=f"At most {scales.MAX_FEATURES}."
    )
    raters = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=f"Members of the workspace, at most {scales.MAX_RATERS}.",
    )

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        # What the checklist shows of a feature (roadmap/records/_feature_checklist.html).
        features = (
            Feature.objects.filter(product=product)
            .only("id", "title", "status", "rank", "product_id")
            .order_by(F("rank").asc(nulls_last=True), "title", "id")
        )
        self.fields["features"].queryset = features
        self.fields["raters"].queryset = workspace_members(workspace=product.workspace)

    def checked_raters(self) -> set[str]:
        return {str(getattr(v, "pk", v)) for v in self["raters"].value() or ()}


# --- Lookups ----------------------------------------------------------------------------------


def _round(request: HttpRequest, product: Product, pk: int) -> RatingRound:
    rating_round = selectors.rating_round_for(product=product, pk=pk, user=request.user)
    if rating_round is None:
        raise Http404("No such rating round.")
    rating_round.product = product
    return rating_round


# --- The list and a new round ---------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def rating_rounds(request: HttpRequest, slug: str) -> HttpResponse:
    """The product's rating rounds; editors start one here (POST)."""
    product = product_for(request, slug, edit=request.method == "POST")
    form = RoundForm(request.POST or None, product=product) if product.can_edit else None
    status = 200
    if request.method == "POST":
        assert form is not None
        made = submit(
            form,
            lambda: services.round_create(
                product=product,
                name=form.cleaned_data["name"],
                features=form.cleaned_data["features"],
                raters=form.cleaned_data["raters"],
                created_by=request.user,
            ),
        )
        if made is not None:
            messages.success(
                request, f"Rating round “{made.name}” started: the raters have been emailed."
            )
            return redirect("roadmap:rating_results", slug=product.slug, pk=made.pk)
        status = 400
    context = {
        "product": product,
        "rounds": selectors.rating_rounds_of(product=product, user=request.user),
        "inputs": selectors.round_inputs(product=product),
        "form": form,
    }
    return render(request, "roadmap/rating/rounds.html", context, status=status)


# --- A rater's sheet ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def rating_sheet(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A rater's sheet: the round's features and inputs with the rater's own values only. "Save
    draft" keeps them; "Submit" makes them final and shows the results."""
    product = product_for(request, slug)
    rating_round = _round(request, product, pk)
    if not rating_round.is_rater:
        raise PermissionDenied("Only the round's raters rate it.")
    sheet = selectors.rating_sheet(rating_round=rating_round, user=request.user)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        final = "submit" in request.POST
        try:
            count = services.ratings_save(
                rating_round=rating_round, rater=request.user, values=request.POST, submit=final
            )
        except ValidationError as error:
            errors = _errors(error)
            sheet.values = {
                scales.field_name(f.pk, i.key): request.POST.get(scales.field_name(f.pk, i.key), "")
                for f in sheet.features
                for i in sheet.inputs
            }
            status = 400
        else:
            if final:
                messages.success(request, f"Ratings submitted ({count} values). Thank you!")
                return redirect("roadmap:rating_results", slug=product.slug, pk=rating_round.pk)
            messages.success(request, f"Draft saved ({count} values). Submit when you are done.")
            return redirect("roadmap:rating_sheet", slug=product.slug, pk=rating_round.pk)
    context = {
        "product": product,
        "round": rating_round,
        "sheet": sheet,
        "rows": _sheet_rows(sheet, errors),
        "errors": errors.get(NON_FIELD_ERRORS, []),
        "error_count": sum(len(v) for v in errors.values()),
        "editable": rating_round.is_open and not rating_round.my_submitted_at,
        "impact_choices": [scales.text(c) for c in scales.FIELD_SCALES["impact"].choices],
    }
    return render(request, "roadmap/rating/sheet.html", context, status=status)


def _errors(error: ValidationError) -> dict[str, list[str]]:
    by_name = getattr(error, "error_dict", None) or {NON_FIELD_ERRORS: error.error_list}
    return {name: [m for item in items for m in item.messages] for name, items in by_name.items()}


def _sheet_rows(sheet: selectors.RatingSheet, errors: dict[str, list[str]]) -> list[dict]:
    """The sheet's rows for the template: per feature, per input its field's name, value and
    errors."""
    rows = []
    for feature in sheet.features:
        cells = []
        for item in sheet.inputs:
            name = scales.field_name(feature.pk, item.key)
            cells.append(
                {
                    "name": name,
                    "input": item,
                    "value": sheet.values.get(name, ""),
                    "errors": errors.get(name, []),
                }
            )
        rows.append({"feature": feature, "cells": cells})
    return rows


# --- Results, accepting, closing -------------------------------------------------------------


def _results_page(
    request: HttpRequest,
    product: Product,
    rating_round: RatingRound,
    *,
    posted: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    results = selectors.round_results(rating_round=rating_round)
    errors = errors or {}
    rows = []
    for row in results.rows:
        cells = []
        for item, cell in zip(results.inputs, row.cells, strict=True):
            median = cell.summary.median
            accept = posted.get(cell.field_name, "") if posted is not None else None
            cells.append(
                {
                    "input": item,
                    "cell": cell,
                    "accept": accept if accept is not None else (_show(median)),
                    "errors": errors.get(cell.field_name, []),
                }
            )
        rows.append({"row": row, "cells": cells})
    context = {
        "product": product,
        "round": rating_round,
        "results": results,
        "rows": rows,
        "errors": errors.get(NON_FIELD_ERRORS, []),
        "error_count": sum(len(v) for v in errors.values()),
        "bounded_share": int(scales.BOUNDED_SHARE * 100),
        "open_share": int(scales.OPEN_SHARE * 100),
    }
    return render(request, "roadmap/rating/results.html", context, status=status)


def _show(value: Decimal | None) -> str:
    return scales.text(value) if value is not None else ""


@login_required
@require_safe
def rating_results(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Per feature and input, each rater's value, the median, the spread and the disagreements;
    editors accept values here."""
    product = product_for(request, slug)
    rating_round = _round(request, product, pk)
    if not selectors.sees_results(rating_round=rating_round, can_edit=product.can_edit):
        raise PermissionDenied("The results are shown to the round's raters once they submit.")
    return _results_page(request, product, rating_round)


@login_required
@require_POST
def rating_accept(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Write the accepted values (the medians, or what the PM typed over them) into one feature
    (``feature=<id>``) or every feature of the round (``feature=all``); blank values are left
    alone."""
    product = product_for(request, slug, edit=True)
    rating_round = _round(request, product, pk)
    chosen = request.POST.get("feature", "all")
    feature_ids = list(rating_round.features.values_list("pk", flat=True))
    if chosen != "all":
        feature_ids = [f for f in feature_ids if str(f) == chosen]
    inputs = selectors.round_inputs(product=product)
    values: dict[int, dict[str, Any]] = {}
    for feature_id in feature_ids:
        for item in inputs:
            raw = request.POST.get(scales.field_name(feature_id, item.key), "").strip()
            if raw:
                values.setdefault(feature_id, {})[item.key] = raw
    try:
        written = services.round_accept(
            rating_round=rating_round, values=values, actor=request.user
        )
    except ValidationError as error:
        posted = {k: v for k, v in request.POST.items() if k.startswith("v-")}
        return _results_page(
            request, product, rating_round, posted=posted, errors=_errors(error), status=400
        )
    changed = sum(1 for names in written.changes.values() if names)
    messages.success(
        request,
        f"Accepted: {changed} feature{'s' if changed != 1 else ''} changed "
        f"(of {len(values)} with values).",
    )
    return redirect("roadmap:rating_results", slug=product.slug, pk=rating_round.pk)


@login_required
@require_POST
def rating_close(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Close the round (editors): no more rating until it is reopened."""
    product = product_for(request, slug, edit=True)
    rating_round = _round(request, product, pk)
    services.round_close(rating_round=rating_round)
    messages.success(request, f"Rating round “{rating_round.name}” closed.")
    return redirect("roadmap:rating_results", slug=product.slug, pk=rating_round.pk)


@login_required
@require_POST
def rating_reopen(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Reopen the round (editors): raters who have not submitted can rate again."""
    product = product_for(request, slug, edit=True)
    rating_round = _round(request, product, pk)
    services.round_reopen(rating_round=rating_round)
    messages.success(request, f"Rating round “{rating_round.name}” reopened.")
    return redirect("roadmap:rating_results", slug=product.slug, pk=rating_round.pk)
