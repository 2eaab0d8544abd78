"""A product's settings, and new products.

Settings: the product's details, how its features are scored (framework, reach, tie-break,
weighted drivers), its lanes and releases. Every member reads them; editors and admins change
them, as through the API (viewers get 403, non-members 404). Drivers, lanes and releases are
lists edited in place: with htmx, a change swaps its card only; without, the page reloads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from roadmap.access import product_for
from roadmap.forms import submit
from roadmap.models import CustomField, CustomFieldKind, Lane, Product, Release, ScoringDriver
from roadmap.planning.selectors import pages as selectors
from roadmap.planning.services import fields as field_services
from roadmap.planning.services import products as product_services
from roadmap.planning.services import roadmap as records
from roadmap.planning.views.page_forms import (
    CustomFieldForm,
    DriverForm,
    LaneForm,
    ProductCreateForm,
    ProductForm,
    ReleaseForm,
    ScoringSettingsForm,
)

SLUG_TAKEN = product_services.SLUG_TAKEN


# --- New product -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def product_new(request):
    """Create a product in the current workspace (editors and admins of it)."""
    if not request.membership:
        raise PermissionDenied("Join a workspace before creating products.")
    if not request.membership.can_edit:
        raise PermissionDenied("Viewers cannot create products.")
    form = ProductCreateForm(request.POST or None)
    if request.method == "POST":
        product = submit(
            form,
            lambda: product_services.product_create(
                workspace=request.workspace, **form.service_kwargs()
            ),
            unique_field="slug",
            unique_message=SLUG_TAKEN,
        )
        if product is not None:
            messages.success(
                request, f"{product.name} is ready. Add its personas, drivers and features next."
            )
            return redirect("roadmap:product_settings", slug=product.slug)
    context = {"form": form, "workspace": request.workspace}
    return render(
        request, "roadmap/settings/product_new.html", context, status=400 if form.errors else 200
    )


# --- The settings page -----------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A list on the settings page whose rows are added, edited and deleted in place."""

    key: str
    noun: str
    model: type[Model]
    form_class: type[forms.ModelForm]
    rows: Callable[[Product], list]
    save: Callable[..., Model]
    delete: Callable[..., None]

    def notice(self, name: str, verb: str) -> str:
        return f"{self.noun.capitalize()} “{name}” {verb}."

    def add_form(self, data=None) -> forms.ModelForm:
        return self.form_class(data, prefix=f"new-{self.prefix}")

    def row_form(self, obj, data=None) -> forms.ModelForm:
        return self.form_class(data, instance=obj, prefix=f"{self.prefix}-{obj.pk}")

    @property
    def prefix(self) -> str:
        """The noun as its forms' inputs are named ("custom-field")."""
        return self.noun.replace(" ", "-")


SECTIONS = {
    section.key: section
    for section in (
        Section(
            key="drivers",
            noun="driver",
            model=ScoringDriver,
            form_class=DriverForm,
            rows=lambda product: selectors.product_drivers(product=product),
            save=lambda *, product, data, instance, actor: product_services.driver_save(
                product=product,
                name=data["name"],
                weight=data["weight"],
                driver=instance,
                source=data["source"],
                full_scale=data["full_scale"],
            ),
            delete=lambda *, obj, actor: product_services.driver_delete(driver=obj),
        ),
        Section(
            key="fields",
            noun="custom field",
            model=CustomField,
            form_class=CustomFieldForm,
            rows=lambda product: selectors.product_custom_fields(product=product),
            save=lambda *, product, data, instance, actor: field_services.custom_field_save(
                product=product,
                name=data["name"],
                kind=None if instance else data["kind"],
                choices=_choices(data, instance),
                field=instance,
            ),
            delete=lambda *, obj, actor: field_services.custom_field_delete(field=obj),
        ),
        Section(
            key="lanes",
            noun="lane",
            model=Lane,
            form_class=LaneForm,
            rows=lambda product: selectors.product_lanes_with_counts(product=product),
            save=lambda *, product, data, instance, actor: records.lane_save(
                product=product, data=data, lane=instance
            ),
            delete=lambda *, obj, actor: records.lane_delete(lane=obj, actor=actor),
        ),
        Section(
            key="releases",
            noun="release",
            model=Release,
            form_class=ReleaseForm,
            rows=lambda product: selectors.product_releases_with_counts(product=product),
            save=lambda *, product, data, instance, actor: records.release_save(
                product=product, data=data, release=instance
            ),
            delete=lambda *, obj, actor: records.release_delete(release=obj, actor=actor),
        ),
    )
}


def _choices(data, instance) -> list | None:
    """A custom field form's choices for the service: a choice field's (a new one's, even
    none), nothing for the others."""
    kind = instance.kind if instance else data["kind"]
    return data.get("choices") if kind == CustomFieldKind.CHOICE else None


def _section_context(
    product: Product, section: Section, *, add_form=None, bound=None, notice: str = ""
) -> dict:
    """A section's rows, each with its edit form (``bound`` = (pk, form) keeps one as sent)."""
    bound_pk, bound_form = bound or (None, None)
    rows = [
        (obj, bound_form if obj.pk == bound_pk else section.row_form(obj))
        for obj in section.rows(product)
    ]
    return {
        "product": product,
        "section": section,
        "rows": rows,
        "add_form": add_form or section.add_form(),
        "notice": notice,
    }


def _page(request, product: Product, *, status: int = 200, **overrides):
    """The whole settings page; ``overrides`` replace a form or a section's context."""
    context = {
        "product": product,
        "details_form": ProductForm(instance=product),
        "scoring_form": ScoringSettingsForm(instance=product),
        "frameworks": selectors.scoring_frameworks(product=product),
        **{key: _section_context(product, section) for key, section in SECTIONS.items()},
        **overrides,
    }
    return render(request, "roadmap/settings/page.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def product_settings(request, slug: str):
    """The settings page; a POST saves the product's details (name, slug, line, vision...)."""
    product = product_for(request, slug, edit=request.method == "POST")
    if request.method == "GET":
        return _page(request, product)
    form = ProductForm(request.POST, instance=product)
    saved = submit(
        form,
        lambda: product_services.product_update(product=product, data=form.cleaned_data),
        unique_field="slug",
        unique_message=SLUG_TAKEN,
    )
    if saved is not None:
        messages.success(request, "Product details saved.")
        return redirect("roadmap:product_settings", slug=product.slug)
    # The service may have set the rejected values on the instance: show the stored product.
    return _page(request, product_for(request, slug), details_form=form, status=400)


@login_required
@require_POST
def product_scoring(request, slug: str):
    """Save how the product's features are scored; a change recomputes every score."""
    product = product_for(request, slug, edit=True)
    before = {name: getattr(product, name) for name in product_services.SCORING_SETTINGS}
    form = ScoringSettingsForm(request.POST, instance=product)
    saved = submit(
        form, lambda: product_services.product_update(product=product, data=form.cleaned_data)
    )
    if saved is not None:
        after = {name: getattr(saved, name) for name in product_services.SCORING_SETTINGS}
        if after != before:
            messages.success(
                request,
                "Scoring saved. Every feature of this product is being rescored; ranks "
                "update as soon as the recompute finishes.",
            )
        else:
            messages.info(request, "Scoring unchanged: nothing to recompute.")
        return redirect(reverse("roadmap:product_settings", args=[product.slug]) + "#scoring")
    return _page(request, product_for(request, slug), scoring_form=form, status=400)


# --- Drivers, lanes and releases ---------------------------------------------------------------


def _section_response(request, product, section: Section, *, notice="", status=200, **forms_):
    """After a change of a section: its card alone for htmx (errors too, with 200 so htmx swaps
    it), otherwise back to the page (a redirect, or the page with the form's errors)."""
    context = _section_context(product, section, notice=notice, **forms_)
    if request.htmx:
        return render(request, f"roadmap/settings/_{section.key}.html", context)
    if status == 200:
        messages.success(request, notice)
        return redirect(
            reverse("roadmap:product_settings", args=[product.slug]) + f"#{section.key}"
        )
    return _page(request, product, status=status, **{section.key: context})


def _section_save(request, product: Product, section: Section, form, *, instance, verb: str):
    """Save a section's row (``instance``, None to add one) through its service: the section's
    answer with a notice, or None with the errors on the form."""
    obj = submit(
        form,
        lambda: section.save(
            product=product, data=form.cleaned_data, instance=instance, actor=request.user
        ),
        unique_field="name",
        unique_message=lambda field: (
            f"A {section.noun} named “{form.cleaned_data.get(field, '')}” already exists."
        ),
    )
    if obj is None:
        return None
    return _section_response(request, product, section, notice=section.notice(obj.name, verb))


@login_required
@require_POST
def section_add(request, slug: str, section: str):
    """Add a row (a driver, a lane or a release) to its section."""
    section_ = SECTIONS[section]
    product = product_for(request, slug, edit=True)
    form = section_.add_form(request.POST)
    saved = _section_save(request, product, section_, form, instance=None, verb="added")
    return saved or _section_response(request, product, section_, add_form=form, status=400)


@login_required
@require_POST
def section_edit(request, slug: str, section: str, pk: str):
    """Save one row of a section: rename it, reweigh a driver, reorder a lane, date a release."""
    section_, pk = SECTIONS[section], int(pk)  # re_path passes strings
    product = product_for(request, slug, edit=True)
    obj = get_object_or_404(section_.model.objects.filter(product=product), pk=pk)
    form = section_.row_form(obj, request.POST)
    saved = _section_save(request, product, section_, form, instance=obj, verb="saved")
    return saved or _section_response(request, product, section_, bound=(pk, form), status=400)


@login_required
@require_POST
def section_delete(request, slug: str, section: str, pk: str):
    """Delete one row of a section. Scores follow a driver; items lose a lane or release."""
    section_ = SECTIONS[section]
    product = product_for(request, slug, edit=True)
    obj = get_object_or_404(section_.model.objects.filter(product=product), pk=pk)
    name = obj.name
    try:
        section_.delete(obj=obj, actor=request.user)
    except ValidationError as refused:  # a custom field the formula reads
        return _section_response(
            request, product, section_, notice=" ".join(refused.messages), status=400
        )
    return _section_response(request, product, section_, notice=section_.notice(name, "deleted"))


# Where the move buttons of a custom field send it: one place up or down.
MOVES = {"up": -1, "down": 1}


@login_required
@require_POST
def field_move(request, slug: str, pk: int):
    """Move a custom field one place up or down (``direction``): the order of the feature's form
    and page, the CSV's columns and the API's definitions."""
    section = SECTIONS["fields"]
    product = product_for(request, slug, edit=True)
    field = get_object_or_404(CustomField.objects.filter(product=product), pk=pk)
    direction = request.POST.get("direction", "")
    if direction not in MOVES:
        return _section_response(
            request, product, section, notice="Choose to move it up or down.", status=400
        )
    moved = field_services.custom_field_move(field=field, step=MOVES[direction])
    if moved:
        notice = section.notice(field.name, f"moved {direction}")
    else:
        notice = f"“{field.name}” is {'first' if direction == 'up' else 'last'} already."
    return _section_response(request, product, section, notice=notice)
