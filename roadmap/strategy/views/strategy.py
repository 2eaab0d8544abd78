"""A product's strategy pages: positioning, market (competitors, the comparison grid, market
size) and the business case.

Members read them; editors and admins write (viewers get 403, anyone else 404, see
``roadmap.access``). Every form works as a plain form post with a redirect; htmx enhances
the positioning answers (edited in place) and the comparison grid (each select saved at once),
each fragment being a partial the full page includes. Rules live in the services: their errors
are shown next to the fields they concern, and nothing is saved when any is invalid.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from roadmap.access import product_for
from roadmap.crud import ProductRecords, named, record_add, record_delete, record_edit
from roadmap.forms import ServiceErrors, submit
from roadmap.models import (
    Comparison,
    ComparisonStatus,
    Competitor,
    Feature,
    Lane,
    MarketPosition,
    MarketSize,
    PositioningQuestion,
    PricePlan,
    Product,
    RevenueModel,
)
from roadmap.planning.services.features import feature_update
from roadmap.strategy.selectors import strategy as selectors
from roadmap.strategy.services import strategy as services

# --- Forms ----------------------------------------------------------------------------------------

SHORT_TEXT = forms.Textarea(attrs={"rows": 3})
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ServiceModelForm(ServiceErrors, forms.ModelForm):
    """A model's fields as its model defines them; the service validates and saves.

    Bind edits to a copy of the row (``copy.copy``): a model form writes the submitted values
    into its instance, and the service must see the row as stored to know what changed. The
    product, when given, is the one the row belongs to (``roadmap.crud`` passes it).
    """

    def __init__(self, *args, product: Product | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.product = product

    def _post_clean(self):
        # The service runs full_clean; its errors come back through add_service_errors.
        pass

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class CitationChecklist(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, queryset, **kwargs):
        super().__init__(queryset=queryset, required=False, **kwargs)


class PositioningAnswerForm(ServiceErrors, forms.Form):
    text = forms.CharField(
        label="Answer",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Markdown: **bold**, lists, links.",
    )
    insights = CitationChecklist(
        queryset=None, label="Cited insights", help_text="The customer evidence behind it."
    )
    personas = CitationChecklist(
        queryset=None, label="Cited personas", help_text="Who it is about."
    )

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        insights, personas = selectors.citation_options(product=product)
        self.fields["insights"].queryset = insights
        self.fields["personas"].queryset = personas

    def insight_options(self):
        if not hasattr(self, "_insight_options"):
            self._insight_options = list(self.fields["insights"].queryset)
        return self._insight_options

    def checked(self, name: str) -> set[str]:
        return {str(getattr(v, "pk", v)) for v in self[name].value() or ()}

    def checked_insights(self) -> set[str]:
        return self.checked("insights")

    def checked_personas(self) -> set[str]:
        return self.checked("personas")


class AudiencesForm(forms.Form):
    show_to_investors = forms.BooleanField(
        label="Investors", required=False, help_text="Shown on investor share links."
    )
    show_to_executives = forms.BooleanField(
        label="Executives", required=False, help_text="Shown on executive share links."
    )


def url_field(label: str) -> forms.URLField:
    """An optional link; typed without a scheme, it is taken as https."""
    return forms.URLField(
        label=label,
        required=False,
        max_length=200,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )


class CompetitorForm(ServiceModelForm):
    website = url_field("Website")

    class Meta:
        model = Competitor
        fields = services.COMPETITOR_FIELDS
        widgets = {
            "strengths": SHORT_TEXT,
            "weaknesses": SHORT_TEXT,
            "pricing_notes": SHORT_TEXT,
        }


class MarketSizeForm(ServiceModelForm):
    source_url = url_field("Source link")

    class Meta:
        model = MarketSize
        fields = services.MARKET_SIZE_FIELDS
        widgets = {"as_of": DATE, "notes": forms.Textarea(attrs={"rows": 2})}
        labels = {"as_of": "As of"}


class RevenueModelForm(ServiceModelForm):
    class Meta:
        model = RevenueModel
        fields = services.REVENUE_MODEL_FIELDS
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}
        labels = {"conversion_rate": "Conversion rate (%)"}


class PricePlanForm(ServiceModelForm):
    class Meta:
        model = PricePlan
        fields = services.PRICE_PLAN_FIELDS
        labels = {"conversion_rate": "Conversion rate override (%)", "persona": "Segment"}

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, product=product, **kwargs)
        self.fields["persona"].queryset = product.personas.order_by("name")
        self.fields["persona"].empty_label = "All personas"


class ComparisonCellForm(ServiceErrors, forms.Form):
    status = forms.ChoiceField(
        label="Status", choices=[("", "Not compared"), *ComparisonStatus.choices], required=False
    )
    note = forms.CharField(label="Note", max_length=300, required=False)


# --- Navigation ----------------------------------------------------------------------------------

SECTIONS = (
    ("positioning", "Positioning", "roadmap:strategy"),
    ("market", "Market", "roadmap:strategy_market"),
    ("business_case", "Business case", "roadmap:business_case"),
)


def _context(product: Product, section: str, **extra) -> dict[str, Any]:
    return {
        "product": product,
        "section": section,
        "sections": [
            {"key": key, "label": label, "url": reverse(name, args=[product.slug])}
            for key, label, name in SECTIONS
        ],
        **extra,
    }


def _section_url(name: str, anchor: str):
    return lambda product: reverse(name, args=[product.slug]) + anchor


def _estimate_notice(estimate: MarketSize, verb: str) -> str:
    return f"{estimate.kind.upper()} estimate {verb}."


COMPETITORS = ProductRecords(
    name="competitor",
    form_class=CompetitorForm,
    rows=lambda product: selectors.competitors_of(product=product),
    save=lambda *, product, form, instance, user: services.competitor_save(
        product=product, data=form.service_data(), competitor=instance
    ),
    delete=lambda competitor: services.competitor_delete(competitor=competitor),
    url=_section_url("roadmap:strategy_market", "#competitors"),
    notice=named("Competitor"),
    edit_template="roadmap/strategy/competitor_edit.html",
    page_context=lambda product: _context(product, "market"),
)

MARKET_SIZES = ProductRecords(
    name="estimate",
    form_class=MarketSizeForm,
    rows=lambda product: selectors.market_sizes_of(product=product),
    save=lambda *, product, form, instance, user: services.market_size_save(
        product=product, data=form.service_data(), market_size=instance
    ),
    delete=lambda estimate: services.market_size_delete(market_size=estimate),
    url=_section_url("roadmap:strategy_market", "#market-size"),
    notice=_estimate_notice,
    edit_template="roadmap/strategy/market_size_edit.html",
    page_context=lambda product: _context(product, "market"),
)

PRICE_PLANS = ProductRecords(
    name="plan",
    form_class=PricePlanForm,
    rows=lambda product: selectors.price_plans_of(product=product),
    save=lambda *, product, form, instance, user: services.price_plan_save(
        product=product, data=form.service_data(), price_plan=instance
    ),
    delete=lambda plan: services.price_plan_delete(price_plan=plan),
    url=_section_url("roadmap:business_case", "#plans"),
    notice=named("Plan"),
    edit_template="roadmap/strategy/price_plan_edit.html",
    page_context=lambda product: _context(product, "business_case"),
)


# --- Positioning ---------------------------------------------------------------------------------


@login_required
@require_GET
def positioning(request: HttpRequest, slug: str) -> HttpResponse:
    """The product's positioning: each question with its answer and citations, the audiences
    allowed to read it, and who changed what when."""
    product = product_for(request, slug)
    page = selectors.positioning_page(product=product)
    context = _context(
        product,
        "positioning",
        page=page,
        audiences=AudiencesForm(
            initial={
                "show_to_investors": page.positioning.show_to_investors,
                "show_to_executives": page.positioning.show_to_executives,
            }
        ),
        history=selectors.positioning_history(product=product),
    )
    return render(request, "roadmap/strategy/positioning.html", context)


def _question(question: str) -> str:
    if question not in PositioningQuestion.values:
        raise Http404("No such positioning question.")
    return question


@login_required
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
def positioning_answer(request: HttpRequest, slug: str, question: str) -> HttpResponse:
    """Edit the answer to one question and what it cites (editors). GET: the form (htmx: in
    place of the answer; "cancel" asks for the answer back with ``?show=1``). POST: save."""
    product = product_for(request, slug, edit=request.method == "POST" or "show" not in request.GET)
    question = _question(question)
    current = selectors.positioning_answer(product=product, question=question)
    if request.method == "GET" and "show" in request.GET:
        return render(
            request,
            "roadmap/strategy/_answer.html",
            {"product": product, "item": current},
        )
    initial = {}
    if current.answer:
        initial = {
            "text": current.answer.text,
            "insights": current.insights,
            "personas": current.personas,
        }
    form = PositioningAnswerForm(initial=initial, product=product, auto_id=f"{question}-%s")
    status = 200
    if request.method == "POST":
        form = PositioningAnswerForm(request.POST, product=product, auto_id=f"{question}-%s")
        saved = submit(
            form,
            lambda: services.positioning_answer_save(
                product=product,
                question=question,
                text=form.cleaned_data["text"],
                insights=form.cleaned_data["insights"],
                personas=form.cleaned_data["personas"],
                actor=request.user,
            ),
        )
        if saved is not None:
            if request.htmx:
                item = selectors.positioning_answer(product=product, question=question)
                context = {"product": product, "item": item, "saved": True}
                return render(request, "roadmap/strategy/_answer.html", context)
            messages.success(request, f"Answer to “{current.label}” saved.")
            return redirect(reverse("roadmap:strategy", args=[product.slug]) + f"#q-{question}")
        # htmx leaves 4xx answers unswapped: the form with its errors comes back as a 200.
        status = 200 if request.htmx else 400
    context = _context(product, "positioning", item=current, form=form)
    template = "_answer_form.html" if request.htmx else "answer_edit.html"
    return render(request, f"roadmap/strategy/{template}", context, status=status)


@login_required
@require_POST
def positioning_audiences(request: HttpRequest, slug: str) -> HttpResponse:
    """Choose the outside audiences that may read the positioning (editors)."""
    product = product_for(request, slug, edit=True)
    form = AudiencesForm(request.POST)
    form.is_valid()  # two optional checkboxes: always valid
    saved = services.positioning_set_audiences(
        product=product,
        show_to_investors=form.cleaned_data["show_to_investors"],
        show_to_executives=form.cleaned_data["show_to_executives"],
        actor=request.user,
    )
    shown = [
        name
        for name, on in (
            ("investors", saved.show_to_investors),
            ("executives", saved.show_to_executives),
        )
        if on
    ]
    messages.success(
        request,
        "The positioning is shown to " + " and ".join(shown) + "."
        if shown
        else "The positioning is shown to no outside audience.",
    )
    return redirect(reverse("roadmap:strategy", args=[product.slug]) + "#audiences")


# --- Market: competitors, the comparison grid, market size ---------------------------------------


def _grid_by(request: HttpRequest) -> str:
    return (
        selectors.BY_THEME if request.GET.get("by") == selectors.BY_THEME else selectors.BY_FEATURE
    )


def _market(
    request: HttpRequest,
    product: Product,
    *,
    competitor_form: CompetitorForm | None = None,
    market_size_form: MarketSizeForm | None = None,
    grid_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    by = _grid_by(request)
    context = _context(
        product,
        "market",
        competitors=list(selectors.competitors_of(product=product)),
        grid=selectors.comparison_grid(product=product, by=by),
        sizes=selectors.market_sizes(product=product),
        competitor_form=competitor_form or CompetitorForm(),
        market_size_form=market_size_form or MarketSizeForm(),
        grid_errors=grid_errors or [],
    )
    return render(request, "roadmap/strategy/market.html", context, status=status)


@login_required
@require_GET
def market(request: HttpRequest, slug: str) -> HttpResponse:
    """Competitors, the comparison grid (features or themes × competitors, ``?by=theme``) with
    each feature's market position, and market size estimates."""
    return _market(request, product_for(request, slug))


@login_required
@require_POST
def competitor_add(request: HttpRequest, slug: str) -> HttpResponse:
    """Add a competitor (editors)."""
    product = product_for(request, slug, edit=True)
    return record_add(
        request,
        COMPETITORS,
        product,
        refused=lambda form: _market(request, product, competitor_form=form, status=400),
    )


def _competitor(product: Product, pk: int) -> Competitor:
    return get_object_or_404(selectors.competitors_of(product=product), pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def competitor_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Edit a competitor (editors)."""
    return record_edit(request, COMPETITORS, product_for(request, slug, edit=True), pk)


@login_required
@require_POST
def competitor_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Delete a competitor and its column of the grid (editors)."""
    return record_delete(request, COMPETITORS, product_for(request, slug, edit=True), pk)


# Grid fields: "cell-<competitor>-f<feature>" / "cell-<competitor>-t<theme>" hold a cell's
# status, "position-<feature>" a feature's market position.
CELL_NAME = re.compile(r"^cell-(\d+)-([ft])(\d+)$")
POSITION_NAME = re.compile(r"^position-(\d+)$")


@login_required
@vary_on_headers("HX-Request")
@require_POST
def comparison_grid(request: HttpRequest, slug: str) -> HttpResponse:
    """Save the comparison grid (editors): every cell status and market position the form
    sends that differs from what is stored. htmx sends one field at a time (a select, saved at
    once) and gets that cell back; the plain form sends them all and is redirected.

    All or nothing: an unknown value or a row of another product saves nothing.
    """
    product = product_for(request, slug, edit=True)
    competitors = {c.pk: c for c in selectors.competitors_of(product=product)}
    cells, positions = [], []
    for name, value in request.POST.items():
        if match := CELL_NAME.match(name):
            cells.append((int(match[1]), match[2], int(match[3]), value))
        elif match := POSITION_NAME.match(name):
            positions.append((int(match[1]), value))
    features = {
        f.pk: f
        for f in Feature.objects.filter(
            product=product,
            pk__in={t for _, kind, t, _ in cells if kind == "f"} | {pk for pk, _ in positions},
        )
    }
    lanes = {
        lane.pk: lane
        for lane in Lane.objects.filter(
            product=product, pk__in={t for _, kind, t, _ in cells if kind == "t"}
        )
    }
    stored = {
        (c.competitor_id, "f" if c.feature_id else "t", c.feature_id or c.lane_id): c
        for c in Comparison.objects.filter(competitor__in=competitors.values())
    }
    errors: list[str] = []
    changed = 0
    try:
        with transaction.atomic():
            for competitor_id, kind, target_id, value in cells:
                competitor = competitors.get(competitor_id)
                target = (features if kind == "f" else lanes).get(target_id)
                if competitor is None or target is None:
                    raise ValidationError("A row or a competitor of the grid no longer exists.")
                cell = stored.get((competitor_id, kind, target_id))
                if (cell.status if cell else "") == value:
                    continue
                services.comparison_set(
                    competitor=competitor,
                    status=value,
                    note=cell.note if cell else "",
                    **({"feature": target} if kind == "f" else {"lane": target}),
                )
                changed += 1
            for feature_id, value in positions:
                feature = features.get(feature_id)
                if feature is None:
                    raise ValidationError("A feature of the grid no longer exists.")
                if feature.market_position == value:
                    continue
                if value not in ("", *MarketPosition.values):
                    raise ValidationError(f"“{value}” is not a market position.")
                feature_update(feature=feature, data={"market_position": value}, actor=request.user)
                changed += 1
    except ValidationError as error:
        errors = error.messages

    if request.htmx:
        return _grid_fragment(request, product, cells, positions, errors)
    if errors:
        return _market(request, product, grid_errors=errors, status=400)
    messages.success(
        request,
        f"Comparison saved: {changed} change{'s' if changed != 1 else ''}."
        if changed
        else "Nothing changed in the comparison.",
    )
    by = request.POST.get("by", "")
    query = f"?by={selectors.BY_THEME}" if by == selectors.BY_THEME else ""
    return redirect(reverse("roadmap:strategy_market", args=[product.slug]) + query + "#grid")


def _grid_fragment(request, product, cells, positions, errors) -> HttpResponse:
    """The one grid field an htmx request saved, rendered again (with its error, if any)."""
    if len(cells) + len(positions) != 1:
        raise Http404("Send one grid field at a time.")
    if positions:
        feature = get_object_or_404(Feature.objects.filter(product=product), pk=positions[0][0])
        context = {
            "product": product,
            "row": {"pk": feature.pk, "title": feature.title},
            "position": feature.market_position,
            "positions": MarketPosition.choices,
            "errors": errors,
            "saved": not errors,
        }
        return render(request, "roadmap/strategy/_grid_position.html", context)
    competitor_id, kind, target_id, _ = cells[0]
    competitor = _competitor(product, competitor_id)
    if kind == "f":
        target = get_object_or_404(Feature.objects.filter(product=product), pk=target_id)
        cell = selectors.comparison_cell(competitor=competitor, feature=target)
    else:
        target = get_object_or_404(Lane.objects.filter(product=product), pk=target_id)
        cell = selectors.comparison_cell(competitor=competitor, lane=target)
    context = {
        "product": product,
        "competitor": competitor,
        "cell": cell,
        "kind": kind,
        "target": {"pk": target.pk, "title": str(target)},
        "statuses": ComparisonStatus.choices,
        "errors": errors,
        "saved": not errors,
    }
    return render(request, "roadmap/strategy/_grid_cell.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def comparison_cell(request: HttpRequest, slug: str, pk: int, kind: str, target: int):
    """One cell of the grid with its note (editors): how a competitor stands on a feature
    (``kind`` "f") or a theme ("t")."""
    product = product_for(request, slug, edit=True)
    competitor = _competitor(product, pk)
    if kind not in ("f", "t"):
        raise Http404("A cell is about a feature (f) or a theme (t).")
    if kind == "f":
        target_obj = get_object_or_404(Feature.objects.filter(product=product), pk=target)
        about = {"feature": target_obj}
    else:
        target_obj = get_object_or_404(Lane.objects.filter(product=product), pk=target)
        about = {"lane": target_obj}
    cell = selectors.comparison_cell(competitor=competitor, **about)
    form = ComparisonCellForm(
        initial={"status": cell.status if cell else "", "note": cell.note if cell else ""}
    )
    status = 200
    if request.method == "POST":
        form = ComparisonCellForm(request.POST)
        saved = submit(
            form,
            lambda: (
                services.comparison_set(
                    competitor=competitor,
                    status=form.cleaned_data["status"],
                    note=form.cleaned_data["note"],
                    **about,
                )
                or True
            ),
        )
        if saved is not None:
            messages.success(request, f"{competitor.name} on “{target_obj}” saved.")
            query = "?by=theme" if kind == "t" else ""
            return redirect(
                reverse("roadmap:strategy_market", args=[product.slug]) + query + "#grid"
            )
        status = 400
    context = _context(
        product, "market", competitor=competitor, target=target_obj, kind=kind, form=form
    )
    return render(request, "roadmap/strategy/comparison_cell.html", context, status=status)


@login_required
@require_POST
def market_size_add(request: HttpRequest, slug: str) -> HttpResponse:
    """Record a TAM, SAM or SOM estimate (editors)."""
    product = product_for(request, slug, edit=True)
    return record_add(
        request,
        MARKET_SIZES,
        product,
        refused=lambda form: _market(request, product, market_size_form=form, status=400),
    )


@login_required
@require_http_methods(["GET", "POST"])
def market_size_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Correct a market size estimate (editors)."""
    return record_edit(request, MARKET_SIZES, product_for(request, slug, edit=True), pk)


@login_required
@require_POST
def market_size_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Delete a market size estimate (editors)."""
    return record_delete(request, MARKET_SIZES, product_for(request, slug, edit=True), pk)


# --- Business case -------------------------------------------------------------------------------


# The new-plan form shares its page with the assumptions' form: ids of its own.
NEW_PLAN_IDS = "new-plan-%s"


def _business_case(
    request: HttpRequest,
    product: Product,
    *,
    model_form: RevenueModelForm | None = None,
    plan_form: PricePlanForm | None = None,
    status: int = 200,
) -> HttpResponse:
    case = selectors.business_case(product=product)
    context = _context(
        product,
        "business_case",
        case=case,
        model_form=model_form or RevenueModelForm(instance=case.revenue_model),
        plan_form=plan_form or PricePlanForm(product=product, auto_id=NEW_PLAN_IDS),
    )
    return render(request, "roadmap/strategy/business_case.html", context, status=status)


@login_required
@require_GET
def business_case(request: HttpRequest, slug: str) -> HttpResponse:
    """The product's business case: revenue and cost by release and by quarter (charts and
    tables), the revenue model's assumptions and its plans."""
    return _business_case(request, product_for(request, slug))


@login_required
@require_POST
def revenue_model(request: HttpRequest, slug: str) -> HttpResponse:
    """Save the revenue model's assumptions (editors)."""
    product = product_for(request, slug, edit=True)
    current = selectors.business_case(product=product).revenue_model
    form = RevenueModelForm(request.POST, instance=copy.copy(current))
    saved = submit(
        form,
        lambda: services.revenue_model_save(
            product=product, data=form.service_data(), actor=request.user
        ),
    )
    if saved is None:
        return _business_case(request, product, model_form=form, status=400)
    messages.success(request, "Revenue model saved.")
    return redirect(reverse("roadmap:business_case", args=[product.slug]) + "#assumptions")


@login_required
@require_POST
def price_plan_add(request: HttpRequest, slug: str) -> HttpResponse:
    """Add a price plan (editors)."""
    product = product_for(request, slug, edit=True)
    return record_add(
        request,
        PRICE_PLANS,
        product,
        refused=lambda form: _business_case(request, product, plan_form=form, status=400),
        auto_id=NEW_PLAN_IDS,
    )


@login_required
@require_http_methods(["GET", "POST"])
def price_plan_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Edit a price plan (editors)."""
    return record_edit(request, PRICE_PLANS, product_for(request, slug, edit=True), pk)


@login_required
@require_POST
def price_plan_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Delete a price plan (editors)."""
    return record_delete(request, PRICE_PLANS, product_for(request, slug, edit=True), pk)
