"""Writes of launch readiness: the workspace's launch checklist template, each release's checklist
(copied from it), ticking tasks off, and shipping a release.

Shipping goes through the same services as a PM's manual edits (``features_bulk_update`` for
features, ``roadmap_item_save`` for themes), so the change events, webhooks, digests and the
external roadmap's "shipped recently" tell it exactly as they tell a feature shipped by hand.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Membership, Workspace, role_is_admin
from roadmap import bounds
from roadmap.events import change_record
from roadmap.fields import apply_fields, history_user_set, save_if_changed
from roadmap.models import (
    ChangeKind,
    FeatureStatus,
    LaunchTask,
    LaunchTemplateTask,
    Release,
    ReleaseStatus,
    RoadmapItem,
    Visibility,
)
from roadmap.planning.services.features import features_bulk_update
from roadmap.planning.services.roadmap import release_save, roadmap_item_save
from roadmap.strategy.services.strategy import acting_user

# Items already in one of these states are left alone when their release ships.
_SETTLED = (FeatureStatus.SHIPPED, FeatureStatus.ARCHIVED)


def _is_admin(workspace_id: int, actor) -> bool:
    if acting_user(actor) is None:
        return False
    memberships = Membership.objects.filter(workspace_id=workspace_id, user=actor)
    return role_is_admin(memberships.values_list("role", flat=True).first())


def _next_position(queryset, team: str) -> int:
    last = queryset.filter(team=team).aggregate(m=Max("position"))["m"]
    return 0 if last is None else last + 1


# --- The workspace's template --------------------------------------------------------------------

TEMPLATE_FIELDS = ("team", "title", "description", "days_before_release", "position")


@transaction.atomic
def launch_template_task_save(
    *,
    workspace: Workspace,
    data: Mapping[str, Any],
    task: LaunchTemplateTask | None = None,
    actor=None,
) -> LaunchTemplateTask:
    """Add a task to the workspace's launch checklist template, or edit one. Workspace admins
    only (PermissionDenied otherwise). A new task without a position goes last in its team.

    Checklists already copied into releases keep their tasks as they were.
    """
    if not _is_admin(workspace.pk, actor):
        raise PermissionDenied("Only a workspace admin can edit the launch template.")
    creating = task is None
    task = task or LaunchTemplateTask(workspace=workspace)
    if creating and "position" not in data:
        team = data.get("team", "")
        data = {**data, "position": _next_position(workspace.launch_template_tasks, team)}
    save_if_changed(task, apply_fields(task, data, TEMPLATE_FIELDS))
    return task


@transaction.atomic
def launch_template_task_delete(*, task: LaunchTemplateTask, actor=None) -> None:
    """Remove a task from the template (workspace admins only); releases keep their copies."""
    if not _is_admin(task.workspace_id, actor):
        raise PermissionDenied("Only a workspace admin can edit the launch template.")
    task.delete()


# --- A release's checklist -----------------------------------------------------------------------


@transaction.atomic
def release_checklist_create(*, release: Release) -> list[LaunchTask]:
    """Copy the workspace's launch template into the release's checklist; returns the tasks added.

    Each task is due ``days_before_release`` days before the release's target date (no due date
    without one). Idempotent: a template task already in the checklist (same team and title) is
    not copied again, so running it twice, or after the template grew, adds only what is missing.
    A ValidationError when the template is empty.
    """
    release = Release.objects.select_for_update().select_related("product").get(pk=release.pk)
    template = list(
        LaunchTemplateTask.objects.filter(workspace_id=release.product.workspace_id).order_by(
            "team", "position", "id"
        )
    )
    if not template:
        raise ValidationError(
            "The workspace's launch template has no tasks yet: a workspace admin adds them on "
            "the launch template page."
        )
    present = set(LaunchTask.objects.filter(release=release).values_list("team", "title"))
    tasks = []
    for row in template:
        if (row.team, row.title) in present:
            continue
        due_on = None
        if release.target_date:
            due_on = bounds.clamp_date(
                release.target_date - datetime.timedelta(days=row.days_before_release)
            )
        tasks.append(
            LaunchTask(
                release=release,
                team=row.team,
                title=row.title,
                description=row.description,
                due_on=due_on,
                position=row.position,
            )
        )
        present.add((row.team, row.title))
    for task in tasks:
        task.full_clean()
    # One by one (not bulk_create) so each task gets its "created" history row.
    for task in tasks:
        task.save()
    return tasks


TASK_FIELDS = ("team", "title", "description", "owner", "due_on", "position")


@transaction.atomic
def launch_task_save(
    *, release: Release, data: Mapping[str, Any], task: LaunchTask | None = None, actor=None
) -> LaunchTask:
    """Add a task to a release's checklist, or edit one (owner, due date...). The owner must be
    a member of the workspace. A new task without a position goes last in its team."""
    creating = task is None
    task = task or LaunchTask(release=release)
    if creating and "position" not in data:
        data = {**data, "position": _next_position(release.launch_tasks, data.get("team", ""))}
    changed = apply_fields(task, data, TASK_FIELDS)
    if creating or changed:
        history_user_set(task, acting_user(actor))
        task.save()
    return task


@transaction.atomic
def launch_task_complete(*, task: LaunchTask, actor=None) -> LaunchTask:
    """Tick a task off: done now, by ``actor``. A task already done keeps its first completion."""
    task = LaunchTask.objects.select_for_update().get(pk=task.pk)
    if task.done_at is None:
        task.done_at, task.done_by = timezone.now(), acting_user(actor)
        history_user_set(task, acting_user(actor))
        task.save(update_fields=["done_at", "done_by", "updated_at"])
    return task


@transaction.atomic
def launch_task_reopen(*, task: LaunchTask, actor=None) -> LaunchTask:
    """Mark a done task as open again."""
    task = LaunchTask.objects.select_for_update().get(pk=task.pk)
    if task.done_at is not None:
        task.done_at, task.done_by = None, None
        history_user_set(task, acting_user(actor))
        task.save(update_fields=["done_at", "done_by", "updated_at"])
    return task


@transaction.atomic
def launch_task_delete(*, task: LaunchTask) -> None:
    """Remove a task from its release's checklist."""
    task.delete()


# --- Shipping ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShipResult:
    """What shipping a release did."""

    release: Release
    # Titles of the features and themes moved to "shipped", in roadmap order.
    shipped: tuple[str, ...]
    # Shipped by an admin although the release was not ready.
    forced: bool


@transaction.atomic
def release_ship(*, release: Release, actor=None, force: bool = False) -> ShipResult:
    """Ship a release: its status becomes "released" and each of its roadmap items that is not
    shipped or archived yet becomes shipped, through ``features_bulk_update`` (features, in one
    edit) and ``roadmap_item_save`` (themes), so the change is recorded and told like a manual
    ship.

    Only a release that is ready (see ``roadmap.strategy.selectors.launch.release_readiness``: every
    task of its checklist done, none of its features still before "in progress") ships; otherwise a
    ValidationError lists what blocks it. A workspace admin may ship anyway with ``force=True``
    (anyone else: PermissionDenied). A released or cancelled release is refused.
    """
    from roadmap.strategy.selectors.launch import READY, release_readiness

    release = Release.objects.select_for_update().select_related("product").get(pk=release.pk)
    if release.status == ReleaseStatus.RELEASED:
        raise ValidationError(f"“{release.name}” has already shipped.")
    if release.status == ReleaseStatus.CANCELLED:
        raise ValidationError(f"“{release.name}” is cancelled: set it back to planned to ship it.")
    readiness = release_readiness(release=release)
    forced = readiness.status != READY
    if forced and not force:
        raise ValidationError(
            [f"“{release.name}” is not ready to ship."] + [b.text for b in readiness.blockers]
        )
    if forced and not _is_admin(release.product.workspace_id, actor):
        raise PermissionDenied("Only a workspace admin can ship a release that is not ready.")

    shipped = []
    features: list[int] = []
    items = (
        RoadmapItem.objects.filter(release=release)
        .select_related("feature", "lane", "release", "product")
        .order_by("horizon", "position", "id")
    )
    for item in items:
        if item.feature:
            if item.feature.status not in _SETTLED:
                features.append(item.feature.pk)
                shipped.append(item.feature.title)
        elif item.theme_status not in _SETTLED:
            roadmap_item_save(
                product=release.product,
                item=item,
                data={"theme_status": FeatureStatus.SHIPPED},
                actor=actor,
            )
            shipped.append(item.title)
    if features:
        # One edit of them all: the product is re-ranked once, whatever the release's size.
        features_bulk_update(
            product=release.product,
            feature_ids=features,
            status=FeatureStatus.SHIPPED,
            actor=actor,
        )
    release_save(product=release.product, data={"status": ReleaseStatus.RELEASED}, release=release)
    return ShipResult(release=release, shipped=tuple(shipped), forced=forced)


# --- Release notes ---------------------------------------------------------------------------


@transaction.atomic
def release_notes_save(
    *, release: Release, public_summary: str, publish: bool | None = None, actor=None
) -> Release:
    """Save a release's public summary (Markdown) and, with ``publish``, publish its release notes
    (True) or take them back (False).

    Publishing needs at least one shipped external item (ValidationError otherwise); the first
    publication of a release, and each one after it was taken back, records a "release notes"
    change, which the share links' feeds and digests tell their audiences (the release's name and
    the summary: nothing internal). Taken back, the notes leave the share links' release pages.
    """
    release = Release.objects.select_for_update().get(pk=release.pk)
    changed = apply_fields(release, {"public_summary": public_summary}, ("public_summary",))
    announce = False
    if publish and release.notes_published_at is None:
        from roadmap.strategy.selectors.launch import release_shipped_external_items

        if not release_shipped_external_items(release=release).exists():
            raise ValidationError(
                {
                    "public_summary": f"Nothing of “{release.name}” has shipped on the external "
                    "roadmap yet: release notes list its shipped external items."
                }
            )
        release.notes_published_at = timezone.now()
        changed.add("notes_published_at")
        announce = True
    elif publish is False and release.notes_published_at is not None:
        release.notes_published_at = None
        changed.add("notes_published_at")
    save_if_changed(release, changed)
    if announce:
        change_record(
            product_id=release.product_id,
            kind=ChangeKind.RELEASE_NOTES,
            # External by construction: only its name and summary, which the PM wrote for outside.
            after={
                "visibility": Visibility.EXTERNAL,
                "release_id": release.pk,
                "release_name": release.name,
                "summary": release.public_summary[:RELEASE_NOTES_EVENT_SUMMARY],
            },
            actor=actor,
        )
    return release


# What a release-notes event keeps of the summary, for feeds and digests.
RELEASE_NOTES_EVENT_SUMMARY = 1000
