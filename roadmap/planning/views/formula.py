"""A product's own scoring formula: the editor, its check, the ranking preview, its versions.

Every member reads the formula and its versions; editors write it. One form with three buttons:
"Check" (htmx asks it as the PM types, and answers with the errors in place), "Preview ranking"
(the ranking the formula would give, beside today's, on the product's real features: nothing is
written) and "Save and use" (a new version, every feature rescored). Without JavaScript each is a
plain POST answered with the whole page.
"""

from __future__ import annotations

import difflib

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from roadmap.access import product_for
from roadmap.bounds import whole_number
from roadmap.models import ScoringFormulaVersion, ScoringFramework
from roadmap.planning import formula as language
from roadmap.planning import scoring
from roadmap.planning.services import formula as formula_services

# A first formula for a product that has none: its framework's, in the formula language.
STARTERS = {
    scoring.RICE: "reach * impact * confidence / 100 / effort",
    scoring.ICE: "impact_ice * confidence_ice * ease",
    scoring.WSJF: "(business_value + time_criticality + risk_reduction) / job_size",
    scoring.VALUE_EFFORT: "value / effort",
    scoring.WEIGHTED: "value / effort",
}
VERSIONS_SHOWN = 20


def _starter(product) -> str:
    """The product's framework as a formula; RICE's reach as the evidence figure it comes from,
    when it does (a formula's ``reach`` is the typed one), so the starter ranks as today."""
    starter = STARTERS.get(product.scoring_framework, "")
    figure = formula_services.REACH_FIGURES.get(product.reach_source)
    if product.scoring_framework == scoring.RICE and figure:
        starter = starter.replace("reach", figure, 1)
    return starter


class FormulaForm(forms.Form):
    formula = forms.CharField(
        label="Formula",
        max_length=language.MAX_LENGTH,
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 6,
                "spellcheck": "false",
                "autocomplete": "off",
                "class": "formula-editor",
            }
        ),
        help_text="Numbers, the names listed beside, + − * /, brackets, min(…), max(…), "
        "round(x, digits), log(x), if(condition, then, else) with < <= > >= = != and, or, not. "
        "# starts a comment.",
    )


def _status(product, source: str, names) -> dict:
    """What the editor says of ``source``: its error (with the line it is on and a caret under
    the column), or the names it reads."""
    try:
        term = formula_services.formula_check(product=product, source=source, names=names)
    except language.FormulaError as error:
        lines = source.replace("\r\n", "\n").split("\n")
        line = lines[error.line - 1] if error.line and error.line <= len(lines) else ""
        return {
            "error": error,
            "error_line": line,
            "error_caret": " " * max(error.column - 1, 0) + "^",
        }
    reads = term.variables()
    return {
        "reads": reads,
        "shown": term.text(),
        "reach_hint": formula_services.reach_hint(product=product, reads=reads),
    }


def _versions(product) -> list[dict]:
    """The last versions, newest first, each with what it changed from the one before."""
    versions = list(
        ScoringFormulaVersion.objects.filter(product=product)
        .select_related("author")
        .order_by("-number")[: VERSIONS_SHOWN + 1]
    )
    shown = []
    for version, before in zip(versions, [*versions[1:], None], strict=False):
        if len(shown) == VERSIONS_SHOWN:
            break
        diff = [
            line
            for line in difflib.unified_diff(
                (before.source if before else "").splitlines(),
                version.source.splitlines(),
                lineterm="",
                n=0,
            )
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
        shown.append({"version": version, "before": before, "diff": diff})
    return shown


def _page(request, product, *, form, status=200, preview=None, check=None, names=None):
    names = formula_services.formula_names(product=product) if names is None else names
    source = form["formula"].value() or ""
    context = {
        "product": product,
        "form": form,
        "names": names,
        "check": check
        if check is not None
        else (_status(product, source, names) if source else {}),
        "preview": preview,
        "versions": _versions(product),
        "in_use": product.scoring_framework == ScoringFramework.CUSTOM,
    }
    return render(request, "roadmap/settings/formula.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def product_formula(request, slug: str):
    product = product_for(request, slug, edit=request.method == "POST")
    if request.method == "GET":
        source = product.scoring_formula or _starter(product)
        wanted = whole_number(request.GET.get("version"), high=2**31 - 1)
        if wanted is not None:
            old = ScoringFormulaVersion.objects.filter(product=product, number=wanted).first()
            if old is not None:
                source = old.source
        return _page(request, product, form=FormulaForm(initial={"formula": source}))

    form = FormulaForm(request.POST)
    action = request.POST.get("action", "check")
    names = formula_services.formula_names(product=product)
    if not form.is_valid():
        if request.htmx and action == "check":
            return render(
                request,
                "roadmap/settings/_formula_status.html",
                {"check": {"form_errors": form.errors.get("formula", [])}},
            )
        return _page(request, product, form=form, status=400, check={}, names=names)
    source = form.cleaned_data["formula"]
    check = _status(product, source, names)
    if request.htmx and action == "check":
        return render(request, "roadmap/settings/_formula_status.html", {"check": check})
    if "error" in check:
        return _page(request, product, form=form, status=400, check=check, names=names)
    if action == "preview":
        preview = formula_services.formula_preview(product=product, source=source)
        return _page(request, product, form=form, preview=preview, check=check, names=names)
    try:
        version = formula_services.product_formula_save(
            product=product, source=source, author=request.user
        )
    except ValidationError as error:  # changed since the check (a driver renamed meanwhile)
        form.add_error("formula", error.message_dict.get("formula", error.messages))
        return _page(request, product, form=form, status=400, check={}, names=names)
    if version is None:
        messages.info(request, "This formula is already in use: nothing to recompute.")
    else:
        messages.success(
            request,
            f"Formula v{version.number} saved and in use. Every feature of {product.name} is "
            "being rescored; ranks update as soon as the recompute finishes.",
        )
    return redirect(reverse("roadmap:product_formula", args=[product.slug]))
