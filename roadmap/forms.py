"""What every page form shares: one way to call a service from a form and show its errors.

Forms parse and present input only; the rules live in the models' ``clean()`` and the services.
A view validates the form and calls the service through ``submit``; a ValidationError the
service raises is put next to the fields it names (``service_error_targets`` decides where,
for forms and for the table's cells alike).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

if TYPE_CHECKING:
    from roadmap.models import Feature

UNIQUE_CODES = ("unique", "unique_together")
# ``unique_field`` for a clash named only by the fields it checks (a name within a product): it
# goes on the first of them the form has.
UNIQUE_CHECK = object()


def service_error_targets(
    error: ValidationError,
    fields: Collection[str],
    *,
    field_of: Mapping[str, str] | None = None,
    unique_field: str | object = "",
    unique_message: str | Callable[[str], str] = "",
) -> Iterator[tuple[str | None, ValidationError]]:
    """Where each of a service's errors is shown: ``(field, error)``, the field None for those
    above the form (or the row).

    ``field_of`` maps the service's names to the form's where they differ (``expires_at`` typed
    as ``expires_on``). A uniqueness error (of one field, or of a name within a product) goes on
    ``unique_field``, the field a person can change (``UNIQUE_CHECK``: the first form field the
    error's check names), worded as ``unique_message`` when given (a callable gets the field).
    """
    by_name = getattr(error, "error_dict", None) or {NON_FIELD_ERRORS: error.error_list}
    for name, errors in by_name.items():
        name = (field_of or {}).get(name, name)
        target = name if name in fields else None
        for item in errors:
            clash = _unique_target(item, name, target, fields, unique_field)
            if clash is None:
                yield target, item
            elif callable(unique_message):
                yield clash, ValidationError(unique_message(clash), code=item.code)
            else:
                yield clash, unique_message or item


def _unique_target(item, name, target, fields, unique_field) -> str | None:
    """The field a uniqueness error goes on instead of where it was raised, if any."""
    if not unique_field or item.code not in UNIQUE_CODES:
        return None
    if unique_field is UNIQUE_CHECK:
        if target is not None:
            return None
        checked = [n for n in (item.params or {}).get("unique_check", ()) if n in fields]
        return checked[0] if checked else None
    return unique_field if name in (unique_field, NON_FIELD_ERRORS) else None


def add_service_errors(form: forms.BaseForm, error: ValidationError, **placement) -> None:
    """Put a service's ValidationError on the form, next to the fields it names (others above
    the form); ``placement`` as for ``service_error_targets``."""
    for target, item in service_error_targets(error, form.fields, **placement):
        form.add_error(target, item)


class ServiceErrors:
    """For forms whose service owns the rules: ``submit`` puts its errors next to the fields
    they concern (``service_field_names`` renames the service's names where the form's differ)."""

    service_field_names: Mapping[str, str] = {}

    def add_service_errors(self, error: ValidationError, **placement) -> None:
        add_service_errors(self, error, field_of=self.service_field_names, **placement)


def submit(form: forms.BaseForm, save: Callable[[], Any], **placement):
    """Validate the form and call the service: what it returns, or None with the errors on the
    form (its own ``add_service_errors`` if it has one; nothing saved: services are atomic).
    ``placement`` as for ``service_error_targets``."""
    if not form.is_valid():
        return None
    try:
        return save()
    except ValidationError as error:
        if isinstance(form, ServiceErrors):
            form.add_service_errors(error, **placement)
        else:
            add_service_errors(form, error, **placement)
        return None


class LongSelect(forms.Select):
    """A select of possibly many options (a product's 1,000 features), written in Python.

    Django's Select builds a dict per option and renders each through a template: for 1,000
    options that was most of a page's time. The attributes are the bound field's (id, required,
    aria-invalid, aria-describedby), as with Select.
    """

    def render(self, name, value, attrs=None, renderer=None):
        selected = set(self.format_value(value))
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (str(v), mark_safe(" selected") if str(v) in selected else "", label)
                for v, label in self.choices
            ),
        )
        attrs = self.build_attrs(self.attrs, attrs)
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(attrs), options)


class TextAreaField(forms.CharField):
    """Multi-line text; browsers send CRLF line breaks, stored as plain newlines."""

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n")


# --- A product's features to tick ---------------------------------------------------------


class FeatureChecklist(forms.ModelMultipleChoiceField):
    """The product's features to link, rendered as a filterable checklist
    (``roadmap/records/_feature_checklist.html``)."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        from roadmap.models import Feature

        super().__init__(queryset=Feature.objects.none(), required=False, **kwargs)


class LinksFeatures:
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
