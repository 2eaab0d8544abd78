"""What every write service does to the fields it is given: set the allowed ones and validate the
row, refuse linked records of another product, and say who wrote the history row."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models


def apply_fields(
    instance: models.Model, data: Mapping[str, Any], allowed: Iterable[str]
) -> set[str]:
    """Set the allowed fields and validate the whole row (``full_clean``); the names whose value
    changed. Unknown fields are refused."""
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError({name: "Unknown field." for name in sorted(unknown)})
    changed = {name for name, value in data.items() if getattr(instance, name) != value}
    for name, value in data.items():
        setattr(instance, name, value)
    instance.full_clean()
    return changed


def save_if_changed(instance: models.Model, changed) -> bool:
    """Save a new row, or one whose values (or links) ``changed``. A write that changes nothing
    stores nothing: its ``updated_at``, ETag and history stay as they were."""
    if instance.pk is None or changed:
        instance.save()
        return True
    return False


def same_product(product_id: int, objects: Iterable, field: str) -> list:
    """The objects, as a list, if each belongs to the product; else a ValidationError on
    ``field`` naming the first that does not."""
    objects = list(objects)
    for obj in objects:
        if obj.product_id != product_id:
            raise ValidationError({field: f"“{obj}” belongs to another product."})
    return objects


def history_user_set(instance: models.Model, user) -> None:
    """Name ``user`` on the history row simple-history writes at ``instance``'s next save."""
    instance._history_user = user  # type: ignore[attr-defined]


@contextmanager
def history_paused(instance: models.Model) -> Iterator[None]:
    """Within the block, saving ``instance`` or changing its links writes no history row."""
    instance.skip_history_when_saving = True  # type: ignore[attr-defined]
    try:
        yield
    finally:
        del instance.skip_history_when_saving  # type: ignore[attr-defined]
