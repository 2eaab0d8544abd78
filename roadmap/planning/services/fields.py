"""Writes of a product's custom fields (issue 19): the fields and their choices, and the check
and write of features' values in them (``features_write`` calls these, so a value changes the
way any input does: versioned, rescored, all or nothing).

A field is read by the product's own formula under its key; a write that changes what the formula
reads requests the product's recompute, as a driver's does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Value, When

from roadmap.models import (
    CHOICES_PER_FIELD,
    FIELDS_PER_PRODUCT,
    VALUE_LIMIT,
    CustomField,
    CustomFieldChoice,
    CustomFieldKind,
    FeatureFieldValue,
    Product,
    ScoringFramework,
)
from roadmap.planning import formula as language
from roadmap.planning import scoring
from roadmap.planning.services.scoring import product_request_recompute

# A value to store: (number, choice id); exactly one is set.
Stored = tuple[Decimal | None, int | None]


def formula_reads(product: Product, key: str) -> bool:
    """Whether the product's own formula (in use or not) reads the name ``key``."""
    return bool(product.scoring_formula) and key in (
        scoring.custom_framework(product.scoring_formula).formula.variables()
    )


def _rescore_if_read(product: Product, key: str) -> None:
    if product.scoring_framework == ScoringFramework.CUSTOM and formula_reads(product, key):
        product_request_recompute(product_id=product.pk)


def field_key_check(*, product: Product, name: str, field: CustomField | None = None) -> str:
    """The key a field named ``name`` gets, or ValidationError on ``name`` when a formula could
    not read it by that key (an input's, an evidence figure's, a driver's or another field's)."""
    key = scoring.driver_key(name)
    if key in scoring.FEATURE_INPUTS or key in scoring.EVIDENCE_NAMES or key in language._KEYWORDS:
        raise ValidationError(
            {"name": f"A formula reads “{key}” as something else already: choose another name."}
        )
    drivers = {scoring.driver_key(n) for n in product.drivers.values_list("name", flat=True)}
    others = CustomField.objects.filter(product=product, key=key)
    if field is not None and field.pk:
        others = others.exclude(pk=field.pk)
    if key in drivers or others.exists():
        raise ValidationError(
            {
                "name": f"A formula would read this field as “{key}”, which a driver or another "
                "field has already: choose another name."
            }
        )
    return key


def _choices_clean(choices: Iterable[tuple[str, Any]]) -> list[tuple[str, Decimal]]:
    cleaned: list[tuple[str, Decimal]] = []
    for label, raw in choices:
        label = " ".join(str(label).split())
        if not label or len(label) > 60:
            raise ValidationError({"choices": "Each choice needs a label of 1 to 60 characters."})
        value = _number(raw)
        if value is None:
            raise ValidationError({"choices": f"“{label}” needs a number, e.g. “{label} = 3”."})
        if not field_number_fits(value):  # the database would refuse it (a 500, not an error)
            raise ValidationError(
                {
                    "choices": f"“{label}”: keep its number between −1,000,000,000 and "
                    "1,000,000,000, with at most 2 decimals."
                }
            )
        if any(label == seen for seen, _ in cleaned):
            raise ValidationError({"choices": f"“{label}” is there twice."})
        cleaned.append((label, value))
    if len(cleaned) > CHOICES_PER_FIELD:
        raise ValidationError({"choices": f"A field has {CHOICES_PER_FIELD} choices at most."})
    return cleaned


def _choices_write(field: CustomField, choices: list[tuple[str, Decimal]]) -> bool:
    """Make the field's choices these, in this order: a choice keeps its label (and the features
    that have it) while its value changes; a choice left out is deleted, and features that had it
    have no value. Whether anything a formula reads changed."""
    stored = {c.label: c for c in field.choices.all()}
    changed = False
    for position, (label, value) in enumerate(choices):
        choice = stored.pop(label, None)
        if choice is None:
            CustomFieldChoice.objects.create(
                field=field, label=label, value=value, position=position
            )
        elif (choice.value, choice.position) != (value, position):
            changed |= choice.value != value
            choice.value, choice.position = value, position
            choice.save(update_fields=["value", "position"])
    if stored:
        changed = True
        CustomFieldChoice.objects.filter(pk__in=[c.pk for c in stored.values()]).delete()
    return changed


@transaction.atomic
def custom_field_save(
    *,
    product: Product,
    name: str,
    kind: str | None = None,
    choices: Sequence[tuple[str, Any]] | None = None,
    field: CustomField | None = None,
) -> CustomField:
    """Create a custom field (``kind``: number, choice or yes/no) or rename one; ``choices``, for
    a choice field: its (label, value) pairs in order, replacing its choices (None: kept).

    A field keeps its kind; a field the product's formula reads keeps its name (the formula reads
    it by it), and new choice values are checked against the formula (so it cannot overflow).
    ValidationError by form field: ``name``, ``kind``, ``choices``."""
    from roadmap.planning.services.formula import formula_check

    if field is None:
        if CustomField.objects.filter(product=product).count() >= FIELDS_PER_PRODUCT:
            raise ValidationError(
                {"name": f"A product has {FIELDS_PER_PRODUCT} custom fields at most."}
            )
        field = CustomField(
            product=product,
            kind=kind or CustomFieldKind.NUMBER,
            position=CustomField.objects.filter(product=product).count(),
        )
    elif kind is not None and kind != field.kind:
        raise ValidationError({"kind": "A field keeps its kind: add another field instead."})
    old_key = field.key
    field.name = " ".join(name.split()) if isinstance(name, str) else name
    field.key = field_key_check(product=product, name=field.name, field=field)
    if old_key and old_key != field.key and formula_reads(product, old_key):
        raise ValidationError(
            {
                "name": f"The product's formula reads this field as “{old_key}”: change the "
                "formula first, then rename the field."
            }
        )
    field.full_clean()
    field.save()
    changed = False
    if field.kind == CustomFieldKind.CHOICE and choices is not None:
        changed = _choices_write(field, _choices_clean(choices))
    elif choices:
        raise ValidationError({"choices": "Only a choice field has choices."})
    if changed and formula_reads(product, field.key):
        try:
            formula_check(product=product, source=product.scoring_formula)
        except language.FormulaError as error:
            raise ValidationError(
                {"choices": f"The product's formula could not take these values: {error}"}
            ) from None
        _rescore_if_read(product, field.key)
    return field


@transaction.atomic
def custom_field_delete(*, field: CustomField) -> None:
    """Delete a custom field and every feature's value in it; refused (ValidationError) while
    the product's formula reads it."""
    product = field.product
    if formula_reads(product, field.key):
        raise ValidationError(
            f"The product's formula reads “{field.key}”: take it out of the formula first, then "
            "delete the field."
        )
    field.delete()


@transaction.atomic
def custom_field_move(*, field: CustomField, step: int) -> bool:
    """Move a field one place up (``step`` -1) or down (+1) among its product's fields: the order
    of the feature's form and page, the CSV's columns and the API's definitions. The product's
    fields (at most FIELDS_PER_PRODUCT) are numbered 0, 1, … afresh; False when the field is first
    (or last) already and nothing moved."""
    if step not in (-1, 1):
        raise ValueError("step is -1 (up) or 1 (down)")
    fields = list(
        CustomField.objects.select_for_update()
        .filter(product_id=field.product_id)
        .order_by("position", "id")
        .only("pk", "position")
    )
    at = next(i for i, f in enumerate(fields) if f.pk == field.pk)
    to = at + step
    if not 0 <= to < len(fields):
        return False
    fields[at], fields[to] = fields[to], fields[at]
    renumbered = {row.pk: i for i, row in enumerate(fields) if row.position != i}
    CustomField.objects.filter(pk__in=renumbered).update(
        position=Case(*(When(pk=pk, then=Value(i)) for pk, i in renumbered.items()))
    )
    field.position = to
    return True


def _number(raw: Any) -> Decimal | None:
    """``raw`` as a number of 2 decimals, or None when it is none."""
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    return value


def field_number_fits(number: Decimal) -> bool:
    """Whether a number field can hold ``number``: within ±VALUE_LIMIT, at most 2 decimals."""
    return abs(number) <= VALUE_LIMIT and number == number.quantize(Decimal("0.01"))


# A product's fields by key, and its choices' ids by (field id, label): what checking values reads.
FieldLookup = tuple[dict[str, CustomField], dict[tuple[int, str], int]]


def field_lookup(*, product: Product, keys: Iterable[str]) -> FieldLookup:
    """The product's fields of these keys and their choices (two queries), for
    ``field_values_clean``: read once for many features' values."""
    fields = {f.key: f for f in CustomField.objects.filter(product=product, key__in=list(keys))}
    choices = {
        (c.field_id, c.label): c.pk
        for c in CustomFieldChoice.objects.filter(field__in=fields.values())
    }
    return fields, choices


def field_values_clean(
    *, product: Product, values: Mapping[str, Any], known: FieldLookup | None = None
) -> dict[int, Stored | None]:
    """A feature's values by field key, checked: a number for a number field (its text too),
    a choice's label for a choice field, true or false for a yes/no field; None clears a value.
    Returns each field's stored form (None: cleared) by field id; ValidationError by key.
    ``known``: the fields ``field_lookup`` read for these keys (and maybe more), else read here."""
    fields, choices = known if known is not None else field_lookup(product=product, keys=values)
    cleaned: dict[int, Stored | None] = {}
    errors: dict[str, str] = {}
    for key, raw in values.items():
        field = fields.get(key)
        if field is None:
            errors[key] = "This product has no custom field with this key."
            continue
        if raw is None or raw == "":
            cleaned[field.pk] = None
        elif field.kind == CustomFieldKind.YES_NO:
            if isinstance(raw, bool):
                cleaned[field.pk] = (Decimal(int(raw)), None)
            else:
                errors[key] = "Give true or false."
        elif field.kind == CustomFieldKind.CHOICE:
            choice = choices.get((field.pk, raw)) if isinstance(raw, str) else None
            if choice is None:
                labels = [label for fid, label in choices if fid == field.pk]
                errors[key] = "Give one of the choices: " + (", ".join(labels) or "none yet") + "."
            else:
                cleaned[field.pk] = (None, choice)
        else:
            number = _number(raw)
            if number is None:
                errors[key] = "Give a number."
            elif not field_number_fits(number):
                errors[key] = (
                    "Use at most 2 decimals."
                    if abs(number) <= VALUE_LIMIT
                    else "Keep this between −1,000,000,000 and 1,000,000,000."
                )
            else:
                cleaned[field.pk] = (number, None)
    if errors:
        raise ValidationError(errors)
    return cleaned


def field_values_write(wanted: Mapping[int, Mapping[int, Stored | None]]) -> set[int]:
    """Store checked values (``field_values_clean``) by feature id, then field id; the ids of
    the features whose values changed. A few statements for all features."""
    stored = {
        (v.feature_id, v.field_id): v
        for v in FeatureFieldValue.objects.filter(feature_id__in=list(wanted))
    }
    changed: set[int] = set()
    cleared: list[int] = []
    new: list[FeatureFieldValue] = []
    # Changed rows by their new (value, choice): one UPDATE for each.
    updated: dict[Stored, list[int]] = {}
    for feature_id, values in wanted.items():
        for field_id, value in values.items():
            row = stored.get((feature_id, field_id))
            if value is None:
                if row is not None:
                    cleared.append(row.pk)
                    changed.add(feature_id)
            elif row is None:
                new.append(
                    FeatureFieldValue(
                        feature_id=feature_id, field_id=field_id, value=value[0], choice_id=value[1]
                    )
                )
                changed.add(feature_id)
            elif (row.value, row.choice_id) != value:
                updated.setdefault(value, []).append(row.pk)
                changed.add(feature_id)
    if cleared:
        FeatureFieldValue.objects.filter(pk__in=cleared).delete()
    for (number, choice_id), pks in updated.items():
        FeatureFieldValue.objects.filter(pk__in=pks).update(value=number, choice_id=choice_id)
    FeatureFieldValue.objects.bulk_create(new)
    return changed


def driver_name_check(*, product: Product, name: str) -> None:
    """ValidationError on ``name`` when a formula would read a driver of this name as a custom
    field's key."""
    if CustomField.objects.filter(product=product, key=scoring.driver_key(name)).exists():
        raise ValidationError(
            {"name": "A custom field has this name (as a formula reads it): choose another."}
        )
