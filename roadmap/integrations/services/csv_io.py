"""Importing a product's features from CSV, in the three steps of the import page.

1. Read the upload defensively: size, encoding, CSV syntax and row count are checked before any
   row is looked at, and every problem becomes a message naming the row (never a 500).
2. Plan every row against the product as it is now: what it creates, what it changes, or why it
   cannot. Values are checked by the model's ``full_clean``, as ``features_write_many`` checks
   them; no rule is restated here.
3. Apply a plan in one transaction through ``features_write_many``: the effects of creating and
   editing each feature, in a few statements for all of them, and one recompute of the scores.

Between the preview and the confirmation the upload is kept in the database (CsvUpload), not the
cache: the cache shares Redis with the Celery broker. A member keeps a few at most, for an hour;
``csv_imports_sweep`` deletes older ones.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Field
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from roadmap.integrations.selectors import (
    CHOICE_COLUMNS,
    COMPUTED_COLUMNS,
    DRIVER_PREFIX,
    FIELD_PREFIX,
    LIST_COLUMNS,
    NO,
    NUMBER_COLUMNS,
    TEXT_COLUMNS,
    YES,
    csv_text_unguard,
    derived_input_columns,
    field_text,
)
from roadmap.models import (
    CsvUpload,
    CustomField,
    CustomFieldKind,
    Feature,
    FeatureDriverScore,
    Persona,
    Product,
    ScoringDriver,
    Tag,
)
from roadmap.planning.services.features import FeatureWrite, features_write_many, tag_names_clean
from roadmap.planning.services.fields import field_number_fits

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5_000
PENDING_SECONDS = 60 * 60
# A new upload past this many pending ones drops the member's oldest.
MAX_PENDING_PER_USER = 3
# csv's cell limit (128 KiB by default, and module-wide) protects readers of unbounded streams.
# Ours are bounded by MAX_FILE_BYTES, so a cell may be as long as the file: the model, not the
# parser, says what is too long (a title over 200 characters gets the model's message).
csv.field_size_limit(MAX_FILE_BYTES)

_PENDING_KEY = re.compile(r"[A-Za-z0-9_-]{20,64}")


class ImportFileError(Exception):
    """The upload cannot be read as a features CSV at all; the message tells the PM why."""


# --- Reading the upload ------------------------------------------------------------------------


def csv_upload_read(*, upload) -> bytes:
    """The bytes of an uploaded file, refusing one over MAX_FILE_BYTES before reading it whole."""
    if upload.size is not None and upload.size > MAX_FILE_BYTES:
        raise ImportFileError(_too_big(upload.size))
    data = upload.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(_too_big(len(data)))
    return data


def _too_big(size: int) -> str:
    return (
        f"The file is {filesizeformat(size)}; the limit is {filesizeformat(MAX_FILE_BYTES)}. "
        "Split it into smaller files."
    )


def _row_at(data: bytes, offset: int) -> int:
    """The CSV row (the header is row 1) that holds the byte at ``offset``."""
    before = data[:offset].decode("utf-8-sig", errors="replace")
    try:
        rows = sum(1 for _ in csv.reader(io.StringIO(before, newline="")))
    except csv.Error:
        rows = before.count("\n") + 1
    return rows + 1 if not before or before.endswith(("\n", "\r")) else rows


def _records(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-blank rows (with their row numbers) of a CSV file."""
    if not data.strip(b"\xef\xbb\xbf \t\r\n"):
        raise ImportFileError("The file is empty.")
    if b"\x00" in data:
        row = _row_at(data, data.index(b"\x00"))
        raise ImportFileError(
            f"This is not a CSV file: row {row} holds binary data. Upload a CSV saved from a "
            "spreadsheet, or the export of this page."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"Row {_row_at(data, error.start)} is not UTF-8 text (byte "
            f"0x{data[error.start]:02X}). Save the file as “CSV UTF-8” and upload it again."
        ) from None
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    # Spreadsheets in some languages separate cells with semicolons; take what the header uses.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    number = 0
    try:
        for cells in reader:
            number += 1
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = cells
            elif len(rows) == MAX_ROWS:
                raise ImportFileError(
                    f"The file has more than {MAX_ROWS:,} rows. Split it into smaller files."
                )
            else:
                rows.append((number, cells))
    except csv.Error as error:
        raise ImportFileError(
            f"Row {number + 1} could not be read as CSV ({error}). Check its quotes."
        ) from None
    if header is None:
        raise ImportFileError("The file is empty.")
    if not rows:
        raise ImportFileError("The file has a header row but no features below it.")
    return header, rows


# --- Columns -------------------------------------------------------------------------------------


def _key(text: str) -> str:
    return " ".join(csv_text_unguard(text).replace("\ufeff", "").split()).lower()


def _feature_id(text: str) -> int | None:
    # At most 18 digits: a longer number is no id, and would overflow the database's integers.
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def _aliases() -> dict[str, str]:
    """Header spellings → column: the column's name, with spaces for underscores, and the
    model's label (so “Impact (ICE)” and “expected revenue” are understood too)."""
    aliases = {"id": "id"}
    for name in (*TEXT_COLUMNS, *CHOICE_COLUMNS, *LIST_COLUMNS, *NUMBER_COLUMNS):
        aliases[name] = aliases[name.replace("_", " ")] = name
    for name in (*TEXT_COLUMNS, *CHOICE_COLUMNS, *NUMBER_COLUMNS):
        aliases[_key(str(_feature_field(name).verbose_name))] = name
    return aliases


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@dataclass(frozen=True)
class _Columns:
    width: int
    fields: dict[str, int]  # column name → position
    drivers: dict[int, tuple[str, int]]  # driver id → (header, position)
    unknown: list[str]
    ignored: list[str]
    # custom field → (header, position)
    custom: list[tuple[CustomField, str, int]] = field(default_factory=list)


def _columns(
    header: list[str],
    drivers: list[ScoringDriver],
    derived: frozenset[str] = frozenset(),
    custom_fields: list[CustomField] | tuple[CustomField, ...] = (),
) -> _Columns:
    """The file's columns; ``derived`` inputs (``derived_input_columns``) count as computed;
    ``custom_fields``: the product's ("field: <name>" columns)."""
    aliases = {k: v for k, v in _aliases().items() if v not in derived}
    computed = {_key(name.replace("_", " ")): name for name in (*COMPUTED_COLUMNS, *derived)}
    computed.update({name: name for name in (*COMPUTED_COLUMNS, *derived)})
    drivers_by_key = {_key(d.name): d for d in drivers}
    driver_key = _key(DRIVER_PREFIX)
    fields_by_key = {_key(f.name): f for f in custom_fields}
    field_key = _key(FIELD_PREFIX)
    by_field: list[tuple[CustomField, str, int]] = []
    seen: dict[str, int] = {}
    fields: dict[str, int] = {}
    by_driver: dict[int, tuple[str, int]] = {}
    unknown: list[str] = []
    ignored: list[str] = []
    for index, cell in enumerate(header):
        key = _key(cell)
        name = aliases.get(key)
        driver = custom = None
        if name is None and key.startswith(driver_key):
            driver = drivers_by_key.get(key[len(driver_key) :].strip())
            name = f"{DRIVER_PREFIX}{driver.name}" if driver else None
        elif name is None and key.startswith(field_key):
            custom = fields_by_key.get(key[len(field_key) :].strip())
            name = f"{FIELD_PREFIX}{custom.name}" if custom else None
        if name is None:
            if key in computed:
                ignored.append(computed[key])
            else:
                unknown.append(cell.strip() or f"(column {_column_letter(index)} has no name)")
            continue
        if name in seen:
            raise ImportFileError(
                f"The column “{name}” appears twice (columns {_column_letter(seen[name])} and "
                f"{_column_letter(index)}). Keep one of them."
            )
        seen[name] = index
        if driver is not None:
            by_driver[driver.pk] = (name, index)
        elif custom is not None:
            by_field.append((custom, name, index))
        else:
            fields[name] = index
    if "title" not in fields:
        raise ImportFileError(
            "The file has no “title” column. Its first row must name the columns, e.g. "
            "“id,title,status,reach”: download the current features for a template."
        )
    return _Columns(
        width=len(header),
        fields=fields,
        drivers=by_driver,
        unknown=unknown,
        ignored=ignored,
        custom=by_field,
    )


# --- Planning ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    column: str  # empty when it is about the row as a whole
    message: str


@dataclass(frozen=True)
class Change:
    column: str
    before: Any
    after: Any


@dataclass
class RowPlan:
    """What one row of the file does. ``fields`` are cleaned model values to write; ``tags``,
    ``personas`` and ``driver_scores`` are None (or empty) when they stay as they are."""

    number: int  # the spreadsheet's row number: the header is row 1
    title: str
    feature: Feature | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    tags: list[str] | None = None
    personas: list[Persona] | None = None
    driver_scores: dict[int, int | None] = field(default_factory=dict)
    # Custom fields' new values by key, as ``field_values_clean`` takes them (None clears one).
    custom_fields: dict[str, Any] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def action(self) -> str:
        if self.errors:
            return "error"
        if self.feature is None:
            return "create"
        return "update" if self.changes else "unchanged"


@dataclass
class ImportPlan:
    rows: list[RowPlan]
    unknown_columns: list[str]
    ignored_columns: list[str]

    def _with(self, action: str) -> list[RowPlan]:
        return [row for row in self.rows if row.action == action]

    @cached_property
    def creates(self) -> list[RowPlan]:
        return self._with("create")

    @cached_property
    def updates(self) -> list[RowPlan]:
        return self._with("update")

    @cached_property
    def unchanged(self) -> list[RowPlan]:
        return self._with("unchanged")

    @cached_property
    def invalid(self) -> list[RowPlan]:
        return self._with("error")

    @cached_property
    def writes(self) -> int:
        return sum(1 for row in self.rows if row.action in ("create", "update"))

    @cached_property
    def fingerprint(self) -> str:
        """Identifies what confirming would do: it changes when the product's features do."""
        digest = hashlib.sha256()
        for row in self.rows:
            feature = row.feature
            digest.update(
                repr(
                    (
                        row.number,
                        row.action,
                        feature and (feature.pk, feature.version),
                        [(c.column, str(c.before), str(c.after)) for c in row.changes],
                        [(e.column, e.message) for e in row.errors],
                    )
                ).encode()
            )
        return digest.hexdigest()


def _loose(text: str) -> str:
    return re.sub(r"[\s_-]+", " ", re.sub(r"['’]", "", text)).strip().lower()


def _feature_field(name: str) -> Field:
    field = Feature._meta.get_field(name)
    assert isinstance(field, Field), name  # a column, never a relation's reverse side
    return field


def _field_choices(name: str) -> list[tuple[Any, Any]]:
    return list(_feature_field(name).choices or ())


def _choices(name: str) -> str:
    return ", ".join(value for value, _ in _field_choices(name))


def _choice(name: str, text: str) -> str:
    """A choice's stored value, from its value or its label in any case (“In progress”,
    “in_progress”, “Won't have”); anything else as given, for the model to refuse."""
    wanted = _loose(text)
    for value, label in _field_choices(name):
        if wanted in (_loose(value), _loose(str(label))):
            return value
    return text


@dataclass
class _Context:
    product: Product
    columns: _Columns
    features: dict[int, Feature]
    personas: dict[str, Persona]
    seen_ids: dict[int, int] = field(default_factory=dict)


def csv_import_plan(*, product: Product, data: bytes) -> ImportPlan:
    """What importing the CSV ``data`` into ``product`` would do, row by row; nothing is written.

    Raises ImportFileError when the file cannot be read at all. A constant number of queries,
    whatever the number of rows (plus one per changed feature that has an owner, whose membership
    the model checks).
    """
    header, records = _records(data)
    drivers = list(ScoringDriver.objects.filter(product=product))
    custom = list(CustomField.objects.filter(product=product).prefetch_related("choices"))
    columns = _columns(header, drivers, derived_input_columns(product), custom)
    ids = set()
    if "id" in columns.fields:
        position = columns.fields["id"]
        for _, cells in records:
            pk = (
                _feature_id(csv_text_unguard(cells[position]).strip())
                if position < len(cells)
                else None
            )
            if pk is not None:
                ids.add(pk)
    features = {
        feature.pk: feature
        for feature in Feature.objects.filter(product=product, pk__in=ids).prefetch_related(
            "tags", "personas", "driver_scores", "field_values__choice"
        )
    }
    personas = {p.name: p for p in Persona.objects.filter(product=product)}
    context = _Context(product=product, columns=columns, features=features, personas=personas)
    return ImportPlan(
        rows=[_plan_row(number, cells, context) for number, cells in records],
        unknown_columns=columns.unknown,
        ignored_columns=columns.ignored,
    )


def _plan_row(number: int, cells: list[str], context: _Context) -> RowPlan:
    columns = context.columns
    if len(cells) != columns.width:
        title = cells[columns.fields["title"]] if columns.fields["title"] < len(cells) else ""
        return RowPlan(
            number=number,
            title=csv_text_unguard(title).strip(),
            errors=[
                RowError(
                    "",
                    f"This row has {len(cells)} cells but the header has {columns.width}. "
                    "Check for a stray separator or an unclosed quote.",
                )
            ],
        )

    def cell(name: str) -> str:
        text = csv_text_unguard(cells[columns.fields[name]])
        # Descriptions keep their spacing; elsewhere stray spaces are typing, not meaning.
        return text if name == "description" else text.strip()

    present = [name for name in columns.fields if name != "id"]
    plan = RowPlan(number=number, title=cell("title"))
    if "id" in columns.fields and cell("id"):
        plan.feature = _feature_of_row(cell("id"), plan, context)
    values: dict[str, Any] = {}
    for name in present:
        text = cell(name)
        if name in CHOICE_COLUMNS:
            if text or plan.feature is not None or name != "status":
                values[name] = _choice(name, text)
        elif name in NUMBER_COLUMNS:
            values[name] = text or None
        elif name in TEXT_COLUMNS:
            values[name] = text
    _plan_fields(plan, values, context)
    if "tags" in columns.fields:
        _plan_tags(plan, cell("tags"))
    if "personas" in columns.fields:
        _plan_personas(plan, cell("personas"), context)
    for driver_id, (header, position) in columns.drivers.items():
        _plan_driver(plan, driver_id, header, csv_text_unguard(cells[position]).strip())
    for custom, header, position in columns.custom:
        _plan_custom(plan, custom, header, csv_text_unguard(cells[position]).strip())
    return plan


def _feature_of_row(text: str, plan: RowPlan, context: _Context) -> Feature | None:
    # Ids of other products' features get the same answer as unknown ones: the file must not
    # tell whether a feature exists in a product (or workspace) the PM cannot see.
    feature_id = _feature_id(text)
    feature = None if feature_id is None else context.features.get(feature_id)
    if feature is None:
        plan.errors.append(
            RowError(
                "id",
                f"“{text[:20]}” is not the id of a feature of {context.product.name}. Leave the "
                "id empty to create a new feature.",
            )
        )
    elif feature.pk in context.seen_ids:
        plan.errors.append(
            RowError("id", f"Feature {feature.pk} is also on row {context.seen_ids[feature.pk]}.")
        )
        return None
    else:
        context.seen_ids[feature.pk] = plan.number
    return feature


def _plan_fields(plan: RowPlan, values: dict[str, Any], context: _Context) -> None:
    """Check the row's values with the model's rules and note which of them change."""
    current = plan.feature
    if current is None:
        candidate = Feature(product=context.product, **values)
    elif not _may_change(current, values):
        return
    else:
        candidate = copy.copy(current)
        candidate.product = context.product
        for name, value in values.items():
            setattr(candidate, name, value)
    try:
        # As features_write_many does: the check constraints are the database's (each repeats a
        # field validator), and Django would spend a query on each; the product is ours.
        candidate.full_clean(exclude=["product"], validate_constraints=False)
    except ValidationError as error:
        for name, errors in error.error_dict.items():
            column = "" if name == NON_FIELD_ERRORS else name
            for problem in errors:
                message = " ".join(problem.messages)
                if problem.code == "invalid_choice" and name in CHOICE_COLUMNS:
                    message += f" Use one of: {_choices(name)}."
                plan.errors.append(RowError(column, message))
        return
    for name in values:
        after = getattr(candidate, name)
        before = getattr(current, name) if current is not None else None
        if current is None or after != before:
            plan.fields[name] = after
            if current is not None or after not in (None, ""):
                plan.changes.append(Change(name, _shown(name, before), _shown(name, after)))


def _may_change(current: Feature, values: dict[str, Any]) -> bool:
    """Whether any value differs from the feature's, or cannot even be read (so that the model
    explains it). Unchanged rows are not validated: they write nothing."""
    for name, value in values.items():
        try:
            if _feature_field(name).to_python(value) != getattr(current, name):
                return True
        except ValidationError:
            return True
    return False


def _shown(name: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    if name in CHOICE_COLUMNS:
        return str(dict(_field_choices(name)).get(value, value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _split(text: str) -> list[str]:
    return [name.strip() for name in text.split(";") if name.strip()]


def _plan_tags(plan: RowPlan, text: str) -> None:
    names = tag_names_clean(_split(text))
    name_field = Tag._meta.get_field("name")
    for name in names:
        try:
            name_field.clean(name, None)
        except ValidationError as error:
            plan.errors.extend(RowError("tags", f"“{name[:20]}”: {m}") for m in error.messages)
    before = sorted(tag.name for tag in plan.feature.tags.all()) if plan.feature else []
    if names != before:
        plan.tags = names
        plan.changes.append(Change("tags", "; ".join(before), "; ".join(names)))


def _plan_personas(plan: RowPlan, text: str, context: _Context) -> None:
    by_name = {name.lower(): persona for name, persona in context.personas.items()}
    chosen: dict[int, Persona] = {}
    for name in _split(text):
        persona = context.personas.get(name) or by_name.get(name.lower())
        if persona is None:
            plan.errors.append(
                RowError(
                    "personas",
                    f"{context.product.name} has no persona named “{name[:40]}”. Add it on the "
                    "Personas page first, or correct the name.",
                )
            )
        else:
            chosen[persona.pk] = persona
    before = sorted(plan.feature.personas.all(), key=lambda p: p.name) if plan.feature else []
    if set(chosen) != {p.pk for p in before}:
        after = sorted(chosen.values(), key=lambda p: p.name)
        plan.personas = after
        plan.changes.append(
            Change(
                "personas",
                "; ".join(p.name for p in before),
                "; ".join(p.name for p in after),
            )
        )


def _plan_driver(plan: RowPlan, driver_id: int, header: str, text: str) -> None:
    value = None
    if text:
        try:
            value = FeatureDriverScore._meta.get_field("score").clean(text, None)
        except ValidationError as error:
            plan.errors.extend(RowError(header, message) for message in error.messages)
            return
    before = None
    if plan.feature is not None:
        before = next(
            (s.score for s in plan.feature.driver_scores.all() if s.driver_id == driver_id), None
        )
    if value != before:
        plan.driver_scores[driver_id] = value
        plan.changes.append(Change(header, _shown(header, before), _shown(header, value)))


def _plan_custom(plan: RowPlan, custom: CustomField, header: str, text: str) -> None:
    """A custom field's cell: a number, a choice's label (any case) or yes/no; empty clears."""
    value: Any = None
    if text and custom.kind == CustomFieldKind.YES_NO:
        value = {YES: True, "true": True, "1": True, NO: False, "false": False, "0": False}.get(
            text.lower()
        )
        if value is None:
            plan.errors.append(RowError(header, f"Write {YES} or {NO}, or leave it empty."))
            return
    elif text and custom.kind == CustomFieldKind.CHOICE:
        labels = {c.label.casefold(): c.label for c in custom.choices.all()}
        value = labels.get(text.casefold())
        if value is None:
            choices = ", ".join(labels.values()) or "none yet"
            plan.errors.append(RowError(header, f"Write one of the choices: {choices}."))
            return
    elif text:
        try:
            value = Decimal(text.replace(",", ""))
        except ArithmeticError:
            value = None
        if value is None or not value.is_finite():
            plan.errors.append(RowError(header, "Write a number."))
            return
        if not field_number_fits(value):
            plan.errors.append(
                RowError(header, "Keep it between −1,000,000,000 and 1,000,000,000, 2 decimals.")
            )
            return
        value = value.quantize(Decimal("0.01"))  # as stored: 12.5 is 12.50
    before = after = ""
    if plan.feature is not None:
        stored = next((v for v in plan.feature.field_values.all() if v.field_id == custom.pk), None)
        if stored is not None:
            label = stored.choice.label if stored.choice else None
            before = field_text(custom.kind, stored.value, label)
    if value is not None:
        label = value if custom.kind == CustomFieldKind.CHOICE else None
        number = Decimal(int(value)) if isinstance(value, bool) else value
        after = field_text(custom.kind, None if label else number, label)
    if after != before:
        plan.custom_fields[custom.key] = value
        plan.changes.append(Change(header, before, after))


# --- Applying ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    skipped: list[int]  # row numbers


@transaction.atomic
def csv_import_apply(
    *, product: Product, plan: ImportPlan, only_valid: bool = False, actor=None
) -> ImportResult:
    """Create and update the features a plan lists, all or nothing, through
    ``features_write_many`` (which recomputes the product's scores once).

    A plan with row errors is refused (ValidationError) unless ``only_valid``: its valid rows are
    then imported and the others skipped. A feature saved by someone since the plan was made
    raises ConflictError (and nothing is imported).
    """
    invalid = plan.invalid
    if invalid and not only_valid:
        raise ValidationError(
            f"{len(invalid)} row(s) have errors: fix them, or import only the valid rows."
        )
    creates, updates = plan.creates, plan.updates
    features_write_many(
        product=product,
        writes=[
            FeatureWrite(
                fields=row.fields,
                feature=row.feature,
                tags=row.tags,
                personas=row.personas,
                driver_scores=row.driver_scores,
                custom_fields=row.custom_fields or None,
            )
            for row in (*creates, *updates)
        ],
        actor=actor,
    )
    return ImportResult(
        created=len(creates),
        updated=len(updates),
        unchanged=len(plan.unchanged),
        skipped=[row.number for row in invalid],
    )


# --- Keeping the upload between preview and confirmation -----------------------------------------


@dataclass(frozen=True)
class PendingImport:
    key: str
    filename: str
    data: bytes
    fingerprint: str


def csv_import_keep(
    *,
    product: Product,
    user,
    filename: str,
    data: bytes,
    fingerprint: str,
    key: str | None = None,
) -> str:
    """Keep an upload (at most MAX_FILE_BYTES) for its confirmation by the same user, for
    PENDING_SECONDS; returns the key the confirmation sends back. With ``key``, replaces what it
    holds and starts its time again. Keeping more than MAX_PENDING_PER_USER drops the user's
    oldest."""
    now = timezone.now()
    fields = {
        "user": user,
        "product": product,
        "filename": filename[:200],
        "data": data,
        "fingerprint": fingerprint,
        "created_at": now,
        "updated_at": now,
    }
    if key is None or not CsvUpload.objects.filter(key=key, user=user).update(**fields):
        key = key or secrets.token_urlsafe(24)
        CsvUpload.objects.create(key=key, **fields)
    newest = CsvUpload.objects.filter(user=user).order_by("-created_at", "-pk")
    CsvUpload.objects.filter(user=user).exclude(
        pk__in=newest.values("pk")[:MAX_PENDING_PER_USER]
    ).delete()
    return key


def csv_import_pending(*, key: str, product: Product, user) -> PendingImport | None:
    """The upload kept under ``key`` for this user and product; None if there is none (expired,
    dropped for newer ones, already imported, or someone else's)."""
    if not _PENDING_KEY.fullmatch(key or ""):
        return None
    kept = CsvUpload.objects.filter(
        key=key, product=product, user=user, created_at__gte=_pending_since()
    ).first()
    if kept is None:
        return None
    return PendingImport(
        key=key, filename=kept.filename, data=bytes(kept.data), fingerprint=kept.fingerprint
    )


def csv_import_release(*, key: str) -> bool:
    """Forget a kept upload. False when it was already gone, so that of two confirmations of the
    same upload (a double click) only the first imports: the second's DELETE finds no row."""
    deleted, _ = CsvUpload.objects.filter(key=key, created_at__gte=_pending_since()).delete()
    return deleted > 0


def csv_imports_sweep() -> int:
    """Delete the uploads kept past PENDING_SECONDS (nobody can confirm them any more); returns
    how many."""
    deleted, _ = CsvUpload.objects.filter(created_at__lt=_pending_since()).delete()
    return deleted


def _pending_since():
    return timezone.now() - timedelta(seconds=PENDING_SECONDS)
