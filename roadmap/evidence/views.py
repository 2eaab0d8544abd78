"""A product's records pages: personas, the insights inbox and objectives.

Members read them; editors and admins create, edit and delete (viewers get 403, anyone else 404,
see ``roadmap.access``). Every form posts as a plain form and redirects; the insights inbox
is enhanced by htmx (quick add, inline edit, delete without a reload), each fragment being a
partial the full page includes.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from roadmap.access import product_for
from roadmap.crud import ProductRecords, named, record_delete, record_edit, record_list
from roadmap.evidence import selectors, services
from roadmap.forms import UNIQUE_CHECK, FeatureChecklist, LinksFeatures, ServiceErrors, submit
from roadmap.models import (
    Customer,
    Experiment,
    Insight,
    InsightSource,
    Objective,
    Persona,
    Product,
)

# --- Forms ----------------------------------------------------------------------------------------


SHORT_TEXT = forms.Textarea(attrs={"rows": 3})


class RecordForm(ServiceErrors, forms.ModelForm):
    """A record's fields as its model defines them. The service saves and owns every rule: its
    errors are placed next to the fields they concern, a clash with another record of the
    product on the field the person typed.

    Form and service each get their own copy of an edited record (see ``roadmap.crud``).
    """

    # Many-to-many fields the service takes as a separate argument.
    relations: tuple[str, ...] = ()

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.product = product

    def service_data(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data[name]
            for name in self._meta.fields
            if name not in self.relations
        }

    def add_service_errors(self, error: ValidationError, **placement) -> None:
        super().add_service_errors(
            error, unique_field=UNIQUE_CHECK, unique_message=self._clash, **placement
        )

    def _clash(self, name: str) -> str:
        noun = self._meta.model._meta.verbose_name
        label = str(self.fields[name].label).lower()
        value = self.cleaned_data.get(name)
        return f"There is already a {noun} with the {label} “{value}” in {self.product.name}."


class PersonaForm(RecordForm):
    class Meta:
        model = Persona
        fields = services.PERSONA_FIELDS
        widgets = {name: SHORT_TEXT for name in ("description", "goals", "pains")}
        help_texts = {
            "goals": "What they are trying to get done.",
            "pains": "What gets in their way today.",
        }


class InsightForm(LinksFeatures, RecordForm):
    features = FeatureChecklist(label="Evidence for", help_text="The features this supports.")
    relations = ("features",)

    class Meta:
        model = Insight
        fields = ("text", "customer", "source", "persona", "importance", "observed_on", "features")
        widgets = {
            "text": forms.Textarea(attrs={"rows": 3, "placeholder": "What did they say?"}),
            "customer": forms.TextInput(attrs={"list": "insight-customers", "autocomplete": "off"}),
            "observed_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, product=product, **kwargs)
        self.fields["persona"].queryset = selectors.persona_choices(product=product)
        self.fields["persona"].empty_label = "No persona"
        self.fields["source"].choices = [("", "Choose…"), *InsightSource.choices]
        self.fields["features"].queryset = selectors.feature_options(product=product)


class ObjectiveForm(LinksFeatures, RecordForm):
    features = FeatureChecklist(
        label="Served by", help_text="The features that should move this metric."
    )
    relations = ("features",)

    class Meta:
        model = Objective
        fields = (*services.OBJECTIVE_FIELDS, "features")
        widgets = {
            "description": SHORT_TEXT,
            "due": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, product=product, **kwargs)
        self.fields["features"].queryset = selectors.feature_options(product=product)


# An email domain as people type it in a customer's form: labels of letters, digits and hyphens.
DOMAIN = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$"
)
DOMAINS_MAX = 50


class DomainsField(forms.CharField):
    """A customer's email domains, one per line or separated by commas, as a sorted list in lower
    case (``@acme.com`` and ``ACME.com`` read as ``acme.com``)."""

    widget = forms.Textarea(attrs={"rows": 3, "placeholder": "acme.com"})

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", DOMAINS_MAX * 254)
        super().__init__(**kwargs)

    def to_python(self, value) -> list[str]:  # type: ignore[override]
        text = super().to_python(value)
        parts = [p.strip().lower().lstrip("@") for p in re.split(r"[\s,;]+", text)]
        return sorted({p for p in parts if p})

    def validate(self, value) -> None:
        super().validate(",".join(value))
        wrong = [d for d in value if not DOMAIN.match(d)]
        if wrong:
            raise ValidationError(
                f"“{wrong[0][:80]}” is not an email domain: write the part after @, e.g. acme.com."
            )
        if len(value) > DOMAINS_MAX:
            raise ValidationError(f"At most {DOMAINS_MAX} domains per customer.")

    def run_validators(self, value) -> None:
        super().run_validators(",".join(value))


class CustomerForm(RecordForm):
    domains = DomainsField(
        required=False,
        help_text="One per line. A stakeholder who confirms an address at one of these counts "
        "as this customer.",
    )
    relations = ("domains",)

    class Meta:
        model = Customer
        fields = (*services.CUSTOMER_FIELDS, "domains")
        widgets = {"annual_revenue": forms.NumberInput(attrs={"min": "0", "step": "0.01"})}

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, product=product, **kwargs)
        self.fields["persona"].queryset = selectors.persona_choices(product=product)
        self.fields["persona"].empty_label = "No persona"
        if self.instance.pk and not self.is_bound:
            self.initial["domains"] = "\n".join(d.domain for d in self.instance.domains.all())


class CustomerMergeForm(forms.Form):
    into = forms.ModelChoiceField(
        queryset=Customer.objects.none(),
        label="Merge into",
        empty_label="Choose the customer to keep…",
        help_text="Its insights, people and domains move there; this customer is deleted.",
    )

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["into"].queryset = selectors.customer_choices(product=customer.product).exclude(
            pk=customer.pk
        )


class ExperimentForm(LinksFeatures, RecordForm):
    features = FeatureChecklist(label="Tests", help_text="The features this experiment is about.")
    relations = ("features",)

    class Meta:
        model = Experiment
        fields = (*services.EXPERIMENT_FIELDS, "features")
        widgets = {
            "result": forms.Textarea(attrs={"rows": 4}),
            "started_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ended_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        help_texts = {"result": "What came out (Markdown)."}

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, product=product, **kwargs)
        self.fields["features"].queryset = selectors.feature_options(product=product)


# --- The kinds of record ------------------------------------------------------------------------


def _list_url(name: str):
    return lambda product: reverse(name, args=[product.slug])


PERSONAS = ProductRecords(
    name="persona",
    form_class=PersonaForm,
    rows=lambda product: selectors.personas_of(product=product),
    delete_rows=lambda product: selectors.personas_with_counts(product=product),
    save=lambda *, product, form, instance, user: services.persona_save(
        product=product, data=form.service_data(), persona=instance
    ),
    delete=lambda persona: services.persona_delete(persona=persona),
    url=_list_url("roadmap:personas"),
    notice=named("Persona"),
    edit_template="roadmap/records/persona_edit.html",
    delete_template="roadmap/records/persona_delete.html",
    list_template="roadmap/personas.html",
    list_context=lambda product: {
        "product": product,
        "personas": selectors.personas_with_counts(product=product),
    },
)

INSIGHTS = ProductRecords(
    name="insight",
    form_class=InsightForm,
    rows=lambda product: selectors.insights_queryset(product=product),
    save=lambda *, product, form, instance, user: services.insight_save(
        product=product,
        data=form.service_data(),
        insight=instance,
        features=form.cleaned_data["features"],
        created_by=user,
    ),
    delete=lambda insight: services.insight_delete(insight=insight),
    url=_list_url("roadmap:insights"),
    notice=lambda insight, verb: f"Insight {verb}.",
    edit_template="roadmap/records/insight_edit.html",
    # The edit page lists the customers to pick from; the inbox has them already.
    page_context=lambda product: {
        "product": product,
        "customers": selectors.customer_suggestions(product=product),
    },
    # Field ids of its own: the quick-add form is on the same page.
    edit_auto_id="insight-{pk}-%s",
    edit_partial="roadmap/records/_insight_edit.html",
    row_partial="roadmap/records/_insight.html",
    removes_row=True,
)

OBJECTIVES = ProductRecords(
    name="objective",
    form_class=ObjectiveForm,
    rows=lambda product: selectors.objectives_with_features(product=product),
    delete_rows=lambda product: Objective.objects.filter(product=product),
    save=lambda *, product, form, instance, user: services.objective_save(
        product=product,
        data=form.service_data(),
        objective=instance,
        features=form.cleaned_data["features"],
    ),
    delete=lambda objective: services.objective_delete(objective=objective),
    url=_list_url("roadmap:objectives"),
    notice=named("Objective"),
    edit_template="roadmap/records/objective_edit.html",
    list_template="roadmap/objectives.html",
    list_context=lambda product: {
        "product": product,
        "objectives": selectors.objectives_with_features(product=product),
    },
)


CUSTOMERS = ProductRecords(
    name="customer",
    form_class=CustomerForm,
    rows=lambda product: selectors.customers_with_counts(product=product),
    save=lambda *, product, form, instance, user: services.customer_save(
        product=product,
        data=form.service_data(),
        customer=instance,
        domains=form.cleaned_data["domains"],
    ),
    delete=lambda customer: services.customer_delete(customer=customer),
    url=_list_url("roadmap:customers"),
    notice=named("Customer"),
    edit_template="roadmap/records/customer_edit.html",
    delete_template="roadmap/records/customer_delete.html",
)

EXPERIMENTS = ProductRecords(
    name="experiment",
    form_class=ExperimentForm,
    rows=lambda product: selectors.experiments_of(product=product),
    save=lambda *, product, form, instance, user: services.experiment_save(
        product=product,
        data=form.service_data(),
        experiment=instance,
        features=form.cleaned_data["features"],
        created_by=user,
    ),
    delete=lambda experiment: services.experiment_delete(experiment=experiment),
    url=_list_url("roadmap:experiments"),
    notice=lambda experiment, verb: f"Experiment “{experiment.hypothesis[:80]}” {verb}.",
    edit_template="roadmap/records/experiment_edit.html",
    delete_template="roadmap/records/experiment_delete.html",
    list_template="roadmap/experiments.html",
    list_context=lambda product: {
        "product": product,
        "experiments": selectors.experiments_of(product=product),
    },
)


# --- Personas -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def personas(request, slug: str):
    """The product's personas with how often features and insights cite them; editors add one
    here (POST)."""
    product = product_for(request, slug, edit=request.method == "POST")
    return record_list(request, PERSONAS, product)


@login_required
@require_http_methods(["GET", "POST"])
def persona_edit(request, slug: str, pk: int):
    """Edit a persona (editors)."""
    return record_edit(request, PERSONAS, product_for(request, slug, edit=True), pk)


@login_required
@require_http_methods(["GET", "POST"])
def persona_delete(request, slug: str, pk: int):
    """Ask, then delete a persona (editors). Features and insights that cite it lose the link."""
    return record_delete(request, PERSONAS, product_for(request, slug, edit=True), pk)


# --- Insights -------------------------------------------------------------------------------------


@login_required
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
def insights(request, slug: str):
    """The product's insights inbox, newest first, filterable and paginated; editors add one at
    the top (POST). An htmx filter request gets the list alone; an htmx add gets the quick-add
    form back (fresh, or with its errors) and the new insight prepended to the list."""
    product = product_for(request, slug, edit=request.method == "POST")
    if request.method == "POST" and request.htmx:
        return _insight_quick_add(request, product)

    def page(form, status):
        personas = list(selectors.persona_choices(product=product))
        filters = selectors.insight_filters(request.GET, personas=personas)
        context = {
            "product": product,
            "page": selectors.insights_page(
                product=product, filters=filters, page_number=request.GET.get("page")
            ),
            "filters": filters,
        }
        if request.htmx and not request.htmx.history_restore_request:
            return render(request, "roadmap/records/_insight_list.html", context)
        context |= {
            "form": form,
            "personas": personas,
            "sources": InsightSource.choices,
            "customers": selectors.customer_suggestions(product=product),
        }
        return render(request, "roadmap/insights.html", context, status=status)

    return record_list(request, INSIGHTS, product, page)


def _insight_quick_add(request, product: Product):
    """htmx: the quick-add form again (fresh, or with its errors), the new insight with it."""
    form = INSIGHTS.form(product, request.POST)
    added = submit(
        form, lambda: INSIGHTS.save(product=product, form=form, instance=None, user=request.user)
    )
    context = {"product": product, "form": form}
    if added is not None:
        # The next insight is often from the same conversation: keep where it came from.
        sticky = ("customer", "source", "persona", "observed_on")
        context["form"] = INSIGHTS.form(
            product, initial={name: form.cleaned_data[name] for name in sticky}
        )
        context["added"] = INSIGHTS.rows(product).get(pk=added.pk)
    return render(request, "roadmap/records/_insight_add.html", context)


@login_required
@vary_on_headers("HX-Request")
def insight(request, slug: str, pk: int):
    """One insight as its inbox row (htmx: back from an edit); elsewhere, the inbox."""
    product = product_for(request, slug)
    if not request.htmx:
        return redirect("roadmap:insights", slug=product.slug)
    insight = get_object_or_404(selectors.insights_queryset(product=product), pk=pk)
    return render(
        request, "roadmap/records/_insight.html", {"product": product, "insight": insight}
    )


@login_required
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
def insight_edit(request, slug: str, pk: int):
    """Edit an insight and re-link its features (editors). With htmx the row turns into the form
    and back; without, it is a page of its own."""
    return record_edit(request, INSIGHTS, product_for(request, slug, edit=True), pk)


@login_required
@require_POST
def insight_delete(request, slug: str, pk: int):
    """Delete an insight (editors). htmx removes its row; otherwise back to the inbox."""
    return record_delete(request, INSIGHTS, product_for(request, slug, edit=True), pk)


# --- Objectives -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def objectives(request, slug: str):
    """The product's success metrics with their progress and the features serving them; editors
    add one here (POST)."""
    product = product_for(request, slug, edit=request.method == "POST")
    return record_list(request, OBJECTIVES, product)


@login_required
@require_http_methods(["GET", "POST"])
def objective_edit(request, slug: str, pk: int):
    """Edit an objective: its numbers and the features that serve it (editors)."""
    return record_edit(request, OBJECTIVES, product_for(request, slug, edit=True), pk)


@login_required
@require_POST
def objective_delete(request, slug: str, pk: int):
    """Delete an objective (editors); the features that served it stay."""
    return record_delete(request, OBJECTIVES, product_for(request, slug, edit=True), pk)


# --- Customers ------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def customers(request, slug: str):
    """The product's customers (companies), searchable and paginated, with how much evidence
    each gave; editors add one here (POST)."""
    product = product_for(request, slug, edit=request.method == "POST")
    search = request.GET.get("q", "")

    def page(form, status):
        context = {
            "product": product,
            "form": form,
            "search": search[: selectors.CUSTOMER_SEARCH_MAX],
            "page": selectors.customers_page(
                product=product, search=search, page_number=request.GET.get("page")
            ),
        }
        return render(request, "roadmap/customers.html", context, status=status)

    return record_list(request, CUSTOMERS, product, page)


@login_required
def customer(request, slug: str, pk: int):
    """One customer: what they pay, their domains, their evidence and the features it supports;
    editors merge a duplicate into another customer here."""
    product = product_for(request, slug)
    customer = get_object_or_404(selectors.customers_with_counts(product=product), pk=pk)
    merge_form = CustomerMergeForm(customer=customer) if product.can_edit else None
    return _customer_page(request, product, customer, merge_form)


def _customer_page(request, product: Product, customer: Customer, merge_form, status: int = 200):
    context = {
        "product": product,
        "customer": customer,
        "insights": selectors.customer_insights(customer=customer),
        "merge_form": merge_form,
    }
    return render(request, "roadmap/records/customer.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request, slug: str, pk: int):
    """Edit a customer and its email domains (editors)."""
    return record_edit(request, CUSTOMERS, product_for(request, slug, edit=True), pk)


@login_required
@require_http_methods(["GET", "POST"])
def customer_delete(request, slug: str, pk: int):
    """Ask, then delete a customer (editors): its insights stay, naming no company."""
    return record_delete(request, CUSTOMERS, product_for(request, slug, edit=True), pk)


@login_required
@require_POST
def customer_merge(request, slug: str, pk: int):
    """Merge a duplicate customer into the one chosen (editors): back to the survivor's page, or
    this customer's page again with the error."""
    product = product_for(request, slug, edit=True)
    customer = get_object_or_404(selectors.customers_with_counts(product=product), pk=pk)
    form = CustomerMergeForm(request.POST, customer=customer)
    survivor = submit(
        form, lambda: services.customer_merge(customer=customer, into=form.cleaned_data["into"])
    )
    if survivor is not None:
        messages.success(request, f"“{customer.name}” merged into “{survivor.name}”.")
        return redirect("roadmap:customer", slug=product.slug, pk=survivor.pk)
    return _customer_page(request, product, customer, form, status=400)


# --- Experiments ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def experiments(request, slug: str):
    """The product's discovery experiments, newest first, with the features they test; editors
    record one here (POST)."""
    product = product_for(request, slug, edit=request.method == "POST")
    return record_list(request, EXPERIMENTS, product)


@login_required
@require_http_methods(["GET", "POST"])
def experiment_edit(request, slug: str, pk: int):
    """Edit an experiment, its result and decision, and the features it tests (editors)."""
    return record_edit(request, EXPERIMENTS, product_for(request, slug, edit=True), pk)


@login_required
@require_http_methods(["GET", "POST"])
def experiment_delete(request, slug: str, pk: int):
    """Ask, then delete an experiment (editors); the features it tested stay."""
    return record_delete(request, EXPERIMENTS, product_for(request, slug, edit=True), pk)
