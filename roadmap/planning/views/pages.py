"""The planning app's home (products) and feature pages: read, create, edit, delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from roadmap.access import product_by_id, product_for
from roadmap.forms import submit
from roadmap.models import Feature, Product
from roadmap.planning.selectors import pages as selectors
from roadmap.planning.selectors.rating import rating_rounds_to_rate
from roadmap.planning.services.features import (
    ConflictError,
    feature_create,
    feature_update_inputs,
)
from roadmap.planning.services.roadmap import feature_delete
from roadmap.planning.views.page_forms import FeatureForm
from roadmap.planning.views.planning import ItemTextForm


@login_required
def home(request):
    """The current workspace's products by product line, with their counts, roadmap health and
    top features."""
    workspace = request.workspace if request.membership else None
    lines = selectors.home_product_lines(user=request.user, workspace=workspace)
    context = {
        "workspace": workspace,
        "product_lines": lines,
        "to_rate": rating_rounds_to_rate(user=request.user, workspace=workspace)
        if workspace
        else [],
    }
    return render(request, "roadmap/home.html", context)


def _feature_with_access(request, pk: int, *, edit: bool = False) -> Feature:
    """The feature (404 unless the user is a member of its product's workspace), with its
    product carrying ``can_edit``; a viewer asking to edit gets 403."""
    feature = get_object_or_404(selectors.feature_page_queryset(user=request.user), pk=pk)
    feature.product = product_by_id(request, feature.product_id, edit=edit)
    return feature


@login_required
def feature(request, pk: int):
    """Everything known about one feature: the case for it, its score explained, its evidence,
    its place on the roadmap and who changed what."""
    feature = _feature_with_access(request, pk)
    insights = list(feature.insights.all())
    placement = selectors.feature_placement(feature=feature)
    context = {
        "feature": feature,
        "product": feature.product,
        "explanation": selectors.feature_score_explanation(feature=feature),
        "driver_rows": selectors.feature_driver_rows(feature=feature),
        "custom_field_rows": selectors.feature_custom_field_rows(feature=feature),
        "placement": placement,
        # What customers read of it, edited in place (planning.views.planning.board_item_text).
        "text_form": ItemTextForm(item=placement) if placement else None,
        "insights": insights,
        "customers": selectors.customers_of(insights),
        "experiments": list(feature.experiments.all()),
        "history": selectors.feature_history(feature=feature),
    }
    return render(request, "roadmap/feature.html", context)


def _form_kwargs(product: Product, drivers) -> dict:
    return {
        "product": product,
        "members": selectors.workspace_members(workspace=product.workspace),
        "personas": selectors.product_personas(product=product),
        "drivers": drivers,
        "custom_fields": selectors.product_custom_fields(product=product),
    }


def _render_form(request, *, product, form, feature=None, status=200, **extra):
    context = {"product": product, "feature": feature, "form": form, **extra}
    return render(request, "roadmap/feature/form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def feature_new(request, slug: str):
    """A new feature in a product: the same form as editing, saved by ``feature_create``."""
    product = product_for(request, slug, edit=True)
    drivers = selectors.product_drivers(product=product)
    form = FeatureForm(request.POST or None, **_form_kwargs(product, drivers))
    if request.method == "POST":
        created = submit(form, lambda: _create(product, form))
        if created is not None:
            messages.success(request, f"“{created.title}” created.")
            return redirect(created)
    status = 400 if form.is_bound else 200
    return _render_form(request, product=product, form=form, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def feature_edit(request, pk: int):
    """Edit a feature. The form carries the version it was loaded at: if someone else saved
    meanwhile, it comes back with both versions of each field they both changed, the editor's
    input kept and the other person's other changes taken in, ready to save on top."""
    feature = selectors.feature_for_edit(user=request.user, pk=pk)
    product = feature.product = product_by_id(request, feature.product_id, edit=True)
    drivers = selectors.product_drivers(product=product)
    kwargs = {**_form_kwargs(product, drivers), "version": True}
    if request.method == "GET":
        form = FeatureForm(
            initial=FeatureForm.initial_for(feature, drivers, kwargs["custom_fields"]), **kwargs
        )
        return _render_form(request, product=product, feature=feature, form=form)

    form = FeatureForm(request.POST, **kwargs)
    try:
        saved = submit(form, lambda: _update(feature, form, actor=request.user))
    except ConflictError:
        return _conflict(request, form, pk=pk, kwargs=kwargs, drivers=drivers)
    if saved is not None:
        messages.success(request, f"“{saved.title}” saved.")
        return redirect(saved)
    # Nothing was stored: show the feature as it is in the database, the form as it was sent.
    feature = selectors.feature_for_edit(user=request.user, pk=pk)
    feature.product = product
    return _render_form(request, product=product, feature=feature, form=form, status=400)


@transaction.atomic
def _create(product: Product, form: FeatureForm) -> Feature:
    """The new feature of a valid form, with its driver scores: all of it or nothing."""
    data = form.feature_data()
    return feature_create(
        product=product,
        title=data.pop("title"),
        personas=form.cleaned_data["personas"],
        tags=form.tag_names(),
        driver_scores={k: v for k, v in form.driver_scores().items() if v is not None},
        custom_fields={k: v for k, v in form.custom_field_values().items() if v is not None},
        **data,
    )


@transaction.atomic
def _update(feature: Feature, form: FeatureForm, *, actor) -> Feature:
    """A valid form's changes to ``feature``, its driver scores included: all or nothing."""
    return feature_update_inputs(
        feature=feature,
        data=form.feature_data(),
        driver_scores=form.driver_scores() if form.drivers else None,
        expected_version=form.cleaned_data["version"],
        personas=form.cleaned_data["personas"],
        tags=form.tag_names(),
        custom_fields=form.custom_field_values(),
        actor=actor,
    )


def _conflict(request, form: FeatureForm, *, pk: int, kwargs: dict, drivers):
    current = selectors.feature_for_edit(user=request.user, pk=pk)
    current.product = kwargs["product"]
    theirs = FeatureForm.initial_for(current, drivers, kwargs["custom_fields"])
    data, conflicts, adopted = form.merge_theirs(theirs)
    saved_by, saved_at = selectors.feature_last_save(feature=current)
    merged = FeatureForm(data, **kwargs)
    return _render_form(
        request,
        product=kwargs["product"],
        feature=current,
        form=merged,
        # 200, not 409: the page is the answer a person reads, and browsers log a 4xx as an error.
        status=200,
        conflict={
            "fields": conflicts,
            "adopted": adopted,
            "saved_by": saved_by,
            "saved_at": saved_at,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def feature_remove(request, pk: int):
    """Delete a feature after a confirmation page; its roadmap item goes with it."""
    feature = _feature_with_access(request, pk, edit=True)
    product = feature.product
    if request.method == "POST":
        title = feature.title
        feature_delete(feature=feature)
        messages.success(request, f"“{title}” deleted.")
        return redirect(product)
    return render(request, "roadmap/feature/delete.html", {"feature": feature, "product": product})
