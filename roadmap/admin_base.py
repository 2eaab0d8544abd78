"""The bases of the roadmap's admin pages (each slice's ``admin.py`` registers its models).

Pages must stay fast with 100k features: foreign keys use autocomplete or raw id widgets (never a
<select> of every row), change lists join what they display (``list_select_related``) and skip the
unfiltered total count (``LargeTableAdmin``). Rows are saved and deleted through the slice's
services (``ServiceWritesAdmin``), so an admin edit leaves the same trace as a PM's and meets the
same rules: a service's ValidationError (or PermissionDenied) comes back as an error on the form,
with the service's message, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import router, transaction
from django.http import HttpResponseRedirect
from simple_history.admin import SimpleHistoryAdmin

from roadmap.planning.services.scoring import product_request_recompute

TIMESTAMPS = ("created_at", "updated_at")
SCORE_FIELDS = ("score", "score_breakdown", "scored_at", "rank", "version")

# Where a refused write's error waits for the form shown again (see ServiceWritesAdmin).
_REFUSAL = "_admin_service_refusal"


def form_changed(form, formsets) -> bool:
    return form.has_changed() or any(formset.has_changed() for formset in formsets)


def form_data(form, names) -> dict:
    """The form's cleaned values of those ``names`` it has (read-only fields are not in it)."""
    return {name: form.cleaned_data[name] for name in names if name in form.cleaned_data}


class ServiceRefused(Exception):
    """A service refused an admin write; ``error`` is what it said, as a ValidationError."""

    def __init__(self, error: ValidationError):
        super().__init__(error)
        self.error = error


@contextmanager
def refusals() -> Iterator[None]:
    """Turn a service's ValidationError or PermissionDenied into ``ServiceRefused``."""
    try:
        yield
    except ValidationError as exc:
        raise ServiceRefused(exc) from exc
    except PermissionDenied as exc:
        raise ServiceRefused(ValidationError(str(exc) or "You may not make this change.")) from exc


def _add_refusal(form, error: ValidationError) -> None:
    """Put the service's messages on the form: next to their field when the form has it, above
    the form (named by the field) otherwise."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        if name in form.fields:
            form.add_error(name, errors)
        elif name == NON_FIELD_ERRORS:
            form.add_error(None, errors)
        else:
            form.add_error(None, [f"{name}: {m}" for m in ValidationError(errors).messages])


class _ShowsRefusal:
    """Mixed into the admin's form when a service refused the write it posted."""

    refusal: ValidationError

    def clean(self):
        cleaned = super().clean()  # type: ignore[misc]
        _add_refusal(self, self.refusal)
        return cleaned


class LargeTableAdmin(admin.ModelAdmin):
    """A large table: no count of all rows on every page view."""

    show_full_result_count = False
    list_per_page = 50


class RecomputesScoresAdmin(LargeTableAdmin):
    """Rows that feed the score: after an admin edit or delete, the product is recomputed."""

    # The lookup from a row of this model to its product's id.
    product_lookup = "product"

    def _product_ids(self, queryset) -> set[int]:
        return set(queryset.values_list(self.product_lookup, flat=True))

    def _request_recompute(self, product_ids) -> None:
        for product_id in product_ids:
            product_request_recompute(product_id=product_id)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if form_changed(form, formsets):
            product_ids = self._product_ids(self.model.objects.filter(pk=form.instance.pk))
            self._request_recompute(product_ids)

    def delete_model(self, request, obj):
        product_ids = self._product_ids(self.model.objects.filter(pk=obj.pk))
        super().delete_model(request, obj)
        self._request_recompute(product_ids)

    def delete_queryset(self, request, queryset):
        product_ids = self._product_ids(queryset)
        super().delete_queryset(request, queryset)
        self._request_recompute(product_ids)


class ServiceWritesAdmin(LargeTableAdmin):
    """Rows the app writes through a service (which validates, and may leave a trace: change
    events, webhooks, a version, scores, history): the admin saves and deletes them through
    that same service.

    A subclass gives ``service_save(request, form, stored)`` (``stored``: the row as the database
    holds it, None when adding; it returns the saved row) and ``service_delete(request, obj)``.
    Rows never move to another parent in the app, so ``fixed_on_change`` is read-only on change.
    The service writes the row's links too; inlines of such an admin are read-only.

    A refused write (the service raised) rolls back, and the change form is shown again, filled
    in as posted, with the service's message on it.
    """

    fixed_on_change: tuple[str, ...] = ("product",)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, *self.fixed_on_change) if obj is not None else fields

    def service_save(self, request, form, stored):
        raise NotImplementedError

    def service_delete(self, request, obj) -> None:
        raise NotImplementedError

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, _REFUSAL, None)
        if refusal is None:
            return form
        return type(form.__name__, (_ShowsRefusal, form), {"refusal": refusal})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Django runs the view in a transaction: a refusal has rolled back everything it did.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            setattr(request, _REFUSAL, refused.error)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceRefused as refused:
            self.message_user(request, " ".join(refused.error.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def changelist_view(self, request, extra_context=None):
        if request.method != "POST":
            return super().changelist_view(request, extra_context)
        # An action (delete_selected) writes its log entries before the service runs.
        try:
            with transaction.atomic(using=router.db_for_write(self.model)):
                return super().changelist_view(request, extra_context)
        except ServiceRefused as refused:
            self.message_user(request, " ".join(refused.error.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        # The form has already set its values on ``obj``: the service compares with a fresh copy.
        stored = type(obj).objects.get(pk=obj.pk) if change else None
        with refusals():
            saved = self.service_save(request, form, stored)
        obj.__dict__.update(saved.__dict__)

    def save_related(self, request, form, formsets, change):
        # The service wrote the links; the change message lists the (read-only) inlines' rows.
        for formset in formsets:
            formset.save(commit=False)

    def delete_model(self, request, obj):
        with refusals():
            self.service_delete(request, obj)

    def delete_queryset(self, request, queryset):
        with refusals(), transaction.atomic(using=router.db_for_write(self.model)):
            for obj in queryset:
                self.service_delete(request, obj)


class ViewOnlyInline:
    """An inline that lists rows written elsewhere (their own admin page, through a service)."""

    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ViewOnlyAdmin(LargeTableAdmin):
    """Records the system writes: readable by superusers, never edited by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """Past versions can be read. Restoring one is an edit like any other, made in the change
    form, so that it goes through the same validation and recompute as every admin edit."""

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class ProductRecordAdmin(ServiceWritesAdmin):
    """A product's record saved by ``save_service(product=…, data=…, <record_argument>=stored,
    <each of links>=…)`` and deleted by ``delete_service(<record_argument>=obj)``, the services
    the record's own pages call. Declare them with ``staticmethod``."""

    save_service: Any = None
    delete_service: Any = None
    service_fields: tuple[str, ...] = ()
    record_argument = ""
    links: tuple[str, ...] = ()
    # Whether ``delete_service`` records who deleted (it takes ``actor``).
    delete_by_actor = False

    def service_save(self, request, form, stored):
        return self.save_service(
            product=stored.product if stored else form.cleaned_data["product"],
            data=form_data(form, self.service_fields),
            **{self.record_argument: stored},
            **{name: form.cleaned_data[name] for name in self.links},
        )

    def service_delete(self, request, obj) -> None:
        actor = {"actor": request.user} if self.delete_by_actor else {}
        self.delete_service(**{self.record_argument: obj}, **actor)
