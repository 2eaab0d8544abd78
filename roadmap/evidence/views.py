"""A product's records pages: personas, the insights inbox and objectives.

Members read them; editors and admins create, edit and delete (viewers get 403, anyone else 404,
see ``roadmap.access``). Every form posts as a plain form and redirects; the insights inbox
is enhanced by htmx (quick add, inline edit, delete without a reload), each fragment being a
partial the full page includes.
"""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from roadmap.access import product_for
from roadmap.evidence import selectors, services
from roadmap.models import Feature, Insight, InsightSource, Objective, Persona, Product
from roadmap.planning.views.page_forms import submit

# --- Forms ----------------------------------------------------------------------------------------


SHORT_TEXT = forms.Textarea(attrs={"rows": 3})


class RecordForm(forms.ModelForm):
    """A record's fields as its model defines them. The service saves and owns every rule: its
    errors are placed next to the fields they concern (``add_service_errors``).

    Form and service each get their own copy of an edited record (``copy.copy``): both write the
    submitted values into what they are given, the service must see the record as stored to know
    what changed, and a page showing a rejected edit names the record as stored.
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

    def add_service_errors(self, error: ValidationError) -> None:
        errors = getattr(error, "error_dict", None) or {NON_FIELD_ERRORS: error.error_list}
        for name, field_errors in errors.items():
            for field_error in field_errors:
                target = name if name in self.fields else None
                if target is None and field_error.code in ("unique", "unique_together"):
                    target, field_error = self._unique_error(field_error)
                self.add_error(target, field_error)

    def _unique_error(self, error: ValidationError) -> tuple[str | None, ValidationError]:
        """A clash with another record of the product, put on the field the person typed."""
        names = [n for n in (error.params or {}).get("unique_check", ()) if n in self.fields]
        if not names:
            return None, error
        name = names[0]
        noun = self._meta.model._meta.verbose_name
        label = str(self.fields[name].label).lower()
        value = self.cleaned_data.get(name)
        return name, ValidationError(
            f"There is already a {noun} with the {label} “{value}” in {self.product.name}.",
            code="unique",
        )


class FeatureChecklist(forms.ModelMultipleChoiceField):
    """The product's features to link, rendered as a filterable checklist
    (``roadmap/records/_feature_checklist.html``)."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(queryset=Feature.objects.none(), required=False, **kwargs)


class _LinksFeatures:
    """For forms with a ``features`` checklist: its options and the ones ticked."""

    def feature_options(self) -> list[Feature]:
        """The product's features, the ticked ones first (a long list hides them otherwise)."""
        if not hasattr(self, "_feature_options"):
            checked = self.checked_features()
            self._feature_options = sorted(
                self.fields["features"].queryset, key=lambda f: str(f.pk) not in checked
            )
        return self._feature_options

    def checked_features(self) -> set[str]:
        return {str(getattr(v, "pk", v)) for v in self["features"].value() or ()}


class PersonaForm(RecordForm):
    class Meta:
        model = Persona
        fields = services.PERSONA_FIELDS
        widgets = {name: SHORT_TEXT for name in ("description", "goals", "pains")}
        help_texts = {
            "goals": "What they are trying to get done.",
            "pains": "What gets in their way today.",
        }


class InsightForm(_LinksFeatures, RecordForm):
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


class ObjectiveForm(_LinksFeatures, RecordForm):
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


# --- Personas -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def personas(request, slug: str):
    """The product's personas with how often features and insights cite them; editors add one
    here (POST)."""
    product = product_for(request, slug, edit=request.method == "POST")
    form = PersonaForm(product=product)
    status = 200
    if request.method == "POST":
        form = PersonaForm(request.POST, product=product)
        persona = submit(
            form, lambda: services.persona_save(product=product, data=form.service_data())
        )
        if persona is not None:
            messages.success(request, f"Persona “{persona.name}” added.")
            return redirect("roadmap:personas", slug=product.slug)
        status = 400
    context = {
        "product": product,
        "personas": selectors.personas_with_counts(product=product),
        "form": form,
    }
    return render(request, "roadmap/personas.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def persona_edit(request, slug: str, pk: int):
    """Edit a persona (editors)."""
    product = product_for(request, slug, edit=True)
    persona = get_object_or_404(selectors.personas_of(product=product), pk=pk)
    form = PersonaForm(instance=persona, product=product)
    status = 200
    if request.method == "POST":
        form = PersonaForm(request.POST, instance=copy.copy(persona), product=product)
        saved = submit(
            form,
            lambda: services.persona_save(
                product=product, data=form.service_data(), persona=copy.copy(persona)
            ),
        )
        if saved is not None:
            messages.success(request, f"Persona “{saved.name}” saved.")
            return redirect("roadmap:personas", slug=product.slug)
        status = 400
    context = {"product": product, "persona": persona, "form": form}
    return render(request, "roadmap/records/persona_edit.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def persona_delete(request, slug: str, pk: int):
    """Ask, then delete a persona (editors). Features and insights that cite it lose the link."""
    product = product_for(request, slug, edit=True)
    persona = get_object_or_404(selectors.personas_with_counts(product=product), pk=pk)
    if request.method == "POST":
        services.persona_delete(persona=persona)
        messages.success(request, f"Persona “{persona.name}” deleted.")
        return redirect("roadmap:personas", slug=product.slug)
    context = {"product": product, "persona": persona}
    return render(request, "roadmap/records/persona_delete.html", context)


# --- Insights -------------------------------------------------------------------------------------


@login_required
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
def insights(request, slug: str):
    """The product's insights inbox, newest first, filterable and paginated; editors add one at
    the top (POST). An htmx filter request gets the list alone; an htmx add gets the quick-add
    form back (fresh, or with its errors) and the new insight prepended to the list."""
    product = product_for(request, slug, edit=request.method == "POST")
    form = InsightForm(product=product)
    status = 200
    if request.method == "POST":
        form = InsightForm(request.POST, product=product)
        added = submit(
            form,
            lambda: services.insight_save(
                product=product,
                data=form.service_data(),
                features=form.cleaned_data["features"],
                created_by=request.user,
            ),
        )
        if request.htmx:
            context = {"product": product, "form": form}
            if added is not None:
                # The next insight is often from the same conversation: keep where it came from.
                sticky = ("customer", "source", "persona", "observed_on")
                context["form"] = InsightForm(
                    product=product, initial={name: form.cleaned_data[name] for name in sticky}
                )
                context["added"] = selectors.insights_queryset(product=product).get(pk=added.pk)
            return render(request, "roadmap/records/_insight_add.html", context)
        if added is not None:
            messages.success(request, "Insight added.")
            return redirect("roadmap:insights", slug=product.slug)
        status = 400

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
    product = product_for(request, slug, edit=True)
    insight = get_object_or_404(selectors.insights_queryset(product=product), pk=pk)
    # Field ids of its own: the quick-add form is on the same page.
    auto_id = f"insight-{insight.pk}-%s"
    form = InsightForm(instance=insight, product=product, auto_id=auto_id)
    status = 200
    if request.method == "POST":
        form = InsightForm(
            request.POST, instance=copy.copy(insight), product=product, auto_id=auto_id
        )
        saved = submit(
            form,
            lambda: services.insight_save(
                product=product,
                data=form.service_data(),
                insight=copy.copy(insight),
                features=form.cleaned_data["features"],
            ),
        )
        if saved is not None:
            if request.htmx:
                insight = selectors.insights_queryset(product=product).get(pk=pk)
                context = {"product": product, "insight": insight, "saved": True}
                return render(request, "roadmap/records/_insight.html", context)
            messages.success(request, "Insight saved.")
            return redirect("roadmap:insights", slug=product.slug)
        # htmx leaves 4xx answers unswapped: the form with its errors comes back as a 200.
        status = 200 if request.htmx else 400
    context = {"product": product, "insight": insight, "form": form}
    if request.htmx:  # into the inbox, which has the customers' list already
        return render(request, "roadmap/records/_insight_edit.html", context, status=status)
    context["customers"] = selectors.customer_suggestions(product=product)
    return render(request, "roadmap/records/insight_edit.html", context, status=status)


@login_required
@require_POST
def insight_delete(request, slug: str, pk: int):
    """Delete an insight (editors). htmx removes its row; otherwise back to the inbox."""
    product = product_for(request, slug, edit=True)
    insight = get_object_or_404(selectors.insights_queryset(product=product), pk=pk)
    services.insight_delete(insight=insight)
    if request.htmx:
        return HttpResponse("")
    messages.success(request, "Insight deleted.")
    return redirect("roadmap:insights", slug=product.slug)


# --- Objectives -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def objectives(request, slug: str):
    """The product's success metrics with their progress and the features serving them; editors
    add one here (POST)."""
    product = product_for(request, slug, edit=request.method == "POST")
    form = ObjectiveForm(product=product)
    status = 200
    if request.method == "POST":
        form = ObjectiveForm(request.POST, product=product)
        objective = submit(
            form,
            lambda: services.objective_save(
                product=product, data=form.service_data(), features=form.cleaned_data["features"]
            ),
        )
        if objective is not None:
            messages.success(request, f"Objective “{objective.name}” added.")
            return redirect("roadmap:objectives", slug=product.slug)
        status = 400
    context = {
        "product": product,
        "objectives": selectors.objectives_with_features(product=product),
        "form": form,
    }
    return render(request, "roadmap/objectives.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def objective_edit(request, slug: str, pk: int):
    """Edit an objective: its numbers and the features that serve it (editors)."""
    product = product_for(request, slug, edit=True)
    objective = get_object_or_404(selectors.objectives_with_features(product=product), pk=pk)
    form = ObjectiveForm(instance=objective, product=product)
    status = 200
    if request.method == "POST":
        form = ObjectiveForm(request.POST, instance=copy.copy(objective), product=product)
        saved = submit(
            form,
            lambda: services.objective_save(
                product=product,
                data=form.service_data(),
                objective=copy.copy(objective),
                features=form.cleaned_data["features"],
            ),
        )
        if saved is not None:
            messages.success(request, f"Objective “{saved.name}” saved.")
            return redirect("roadmap:objectives", slug=product.slug)
        status = 400
    context = {"product": product, "objective": objective, "form": form}
    return render(request, "roadmap/records/objective_edit.html", context, status=status)


@login_required
@require_POST
def objective_delete(request, slug: str, pk: int):
    """Delete an objective (editors); the features that served it stay."""
    product = product_for(request, slug, edit=True)
    objective = get_object_or_404(Objective.objects.filter(product=product), pk=pk)
    services.objective_delete(objective=objective)
    messages.success(request, f"Objective “{objective.name}” deleted.")
    return redirect("roadmap:objectives", slug=product.slug)
