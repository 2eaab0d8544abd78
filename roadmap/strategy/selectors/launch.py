"""Reads of launch readiness: each release's checklist by team, what blocks it, and the status
derived from both.

A release's readiness status, derived (never stored):

* **shipped** / **cancelled** — the release's own status says so (released / cancelled);
* **ready** — its checklist has tasks and every one is done, and none of its roadmap items
  (features or themes) is still an idea, in discovery or planned: each is in progress or shipped
  (archived items do not count). Only a ready release ships without an admin forcing it;
* **not started** — no task done and no item in progress or shipped yet;
* **in progress** — anything in between.

The blockers list says what stands between the release and "ready": no checklist yet, overdue
tasks (each named), the other open tasks (counted per team), items not started (each named).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User, Workspace
from roadmap.models import (
    FeatureStatus,
    LaunchTask,
    LaunchTeam,
    LaunchTemplateTask,
    Product,
    Release,
    ReleaseStatus,
    RoadmapItem,
    Visibility,
)

NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
READY = "ready"
SHIPPED = "shipped"
CANCELLED = "cancelled"
STATUS_LABELS = {
    NOT_STARTED: "Not started",
    IN_PROGRESS: "In progress",
    READY: "Ready to ship",
    SHIPPED: "Shipped",
    CANCELLED: "Cancelled",
}
# Item statuses that still block a launch, and those that show work has begun.
_NOT_STARTED_ITEMS = (FeatureStatus.IDEA, FeatureStatus.DISCOVERY, FeatureStatus.PLANNED)
_STARTED_ITEMS = (FeatureStatus.IN_PROGRESS, FeatureStatus.SHIPPED)
TEAM_LABELS = dict(LaunchTeam.choices)
TEAM_ORDER = {team: i for i, team in enumerate(LaunchTeam.values)}
STATUS_WORDS = dict(FeatureStatus.choices)


@dataclass(frozen=True)
class TeamProgress:
    team: str
    label: str
    tasks: list[LaunchTask]

    @property
    def total(self) -> int:
        return len(self.tasks)

    @property
    def done(self) -> int:
        return sum(1 for t in self.tasks if t.done_at)


@dataclass(frozen=True)
class ReleaseItem:
    """A feature or theme of the release, as the launch page lists it."""

    pk: int
    feature_id: int | None
    title: str
    status: str
    visibility: str

    @property
    def status_label(self) -> str:
        return STATUS_WORDS.get(self.status, self.status)

    @property
    def blocking(self) -> bool:
        return self.status in _NOT_STARTED_ITEMS


@dataclass(frozen=True)
class Blocker:
    kind: str  # checklist, overdue, open, item
    text: str


@dataclass(frozen=True)
class Readiness:
    release: Release
    status: str
    teams: list[TeamProgress]
    items: list[ReleaseItem]
    overdue: list[LaunchTask]
    blockers: list[Blocker] = field(default_factory=list)

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def tasks_total(self) -> int:
        return sum(t.total for t in self.teams)

    @property
    def tasks_done(self) -> int:
        return sum(t.done for t in self.teams)

    @property
    def percent(self) -> int:
        """Share of the checklist done, 0–100 (0 without a checklist)."""
        total = self.tasks_total
        return round(100 * self.tasks_done / total) if total else 0

    @property
    def items_started(self) -> int:
        return sum(1 for i in self.items if i.status in _STARTED_ITEMS)

    @property
    def items_counted(self) -> int:
        return sum(1 for i in self.items if i.status != FeatureStatus.ARCHIVED)


def _owner(task: LaunchTask) -> str:
    return task.owner.name if task.owner else "no owner"


def _readiness(
    release: Release,
    tasks: Iterable[LaunchTask],
    items: Iterable[RoadmapItem],
    today: datetime.date,
) -> Readiness:
    by_team: dict[str, list[LaunchTask]] = defaultdict(list)
    for task in tasks:
        by_team[task.team].append(task)
    teams = [
        TeamProgress(team=team, label=TEAM_LABELS.get(team, team), tasks=by_team[team])
        for team in sorted(by_team, key=lambda t: TEAM_ORDER.get(t, len(TEAM_ORDER)))
    ]
    listed = [
        ReleaseItem(
            pk=item.pk,
            feature_id=item.feature_id,
            title=item.display_title,
            status=item.status,
            visibility=item.visibility,
        )
        for item in items
    ]
    open_tasks = [t for team in teams for t in team.tasks if not t.done_at]
    overdue = sorted(
        (t for t in open_tasks if t.due_on and t.due_on < today), key=lambda t: (t.due_on, t.pk)
    )
    total = sum(team.total for team in teams)
    done = total - len(open_tasks)
    started = any(i.status in _STARTED_ITEMS for i in listed)
    not_started = [i for i in listed if i.blocking]

    if release.status == ReleaseStatus.RELEASED:
        status = SHIPPED
    elif release.status == ReleaseStatus.CANCELLED:
        status = CANCELLED
    elif total and not open_tasks and not not_started:
        status = READY
    elif not done and not started:
        status = NOT_STARTED
    else:
        status = IN_PROGRESS

    blockers: list[Blocker] = []
    if status not in (SHIPPED, CANCELLED):
        if not total:
            blockers.append(
                Blocker("checklist", "No launch checklist yet: create it from the template")
            )
        for task in overdue:
            assert task.due_on  # overdue ones have a due date
            blockers.append(
                Blocker(
                    "overdue",
                    f"Overdue since {task.due_on.day} {task.due_on:%b}: {task.title} "
                    f"({TEAM_LABELS.get(task.team, task.team)}, {_owner(task)})",
                )
            )
        waiting: defaultdict[str, int] = defaultdict(int)
        for task in open_tasks:
            if task not in overdue:
                waiting[task.team] += 1
        for team in sorted(waiting, key=lambda t: TEAM_ORDER.get(t, len(TEAM_ORDER))):
            count = waiting[team]
            blockers.append(
                Blocker(
                    "open",
                    f"{TEAM_LABELS.get(team, team)}: {count} open task{'s' if count != 1 else ''}",
                )
            )
        for item in not_started:
            blockers.append(Blocker("item", f"“{item.title}” is still {item.status_label.lower()}"))
    return Readiness(
        release=release,
        status=status,
        teams=teams,
        items=listed,
        overdue=overdue,
        blockers=blockers,
    )


def _tasks(releases: QuerySet | list) -> QuerySet[LaunchTask]:
    return (
        LaunchTask.objects.filter(release__in=releases)
        .select_related("owner", "done_by")
        .order_by("team", "position", "id")
    )


def _items(releases: QuerySet | list) -> QuerySet[RoadmapItem]:
    return (
        RoadmapItem.objects.filter(release__in=releases)
        .select_related("feature")
        .order_by("horizon", "position", "id")
    )


def release_readiness(*, release: Release, today: datetime.date | None = None) -> Readiness:
    """One release's checklist by team, its items, its derived status and its blockers (three
    queries: the checklist with owners, the items with their features)."""
    today = today or timezone.localdate()
    return _readiness(release, _tasks([release.pk]), _items([release.pk]), today)


def releases_readiness(*, product: Product, today: datetime.date | None = None) -> list[Readiness]:
    """Every release of the product with its readiness, soonest first; three queries whatever
    the number of releases."""
    today = today or timezone.localdate()
    releases = list(Release.objects.filter(product=product).order_by("target_date", "name"))
    tasks: dict[int, list[LaunchTask]] = defaultdict(list)
    items: dict[int | None, list[RoadmapItem]] = defaultdict(list)
    ids = [r.pk for r in releases]
    if ids:
        for task in _tasks(ids):
            tasks[task.release_id].append(task)
        for item in _items(ids):
            items[item.release_id].append(item)
    # Unfinished releases first (soonest first, undated last), then shipped and cancelled ones.
    done = (ReleaseStatus.RELEASED, ReleaseStatus.CANCELLED)
    releases.sort(
        key=lambda r: (
            r.status in done,
            r.target_date is None,
            r.target_date or datetime.date.max,
            r.name,
        )
    )
    return [_readiness(r, tasks[r.pk], items[r.pk], today) for r in releases]


def releases_of(*, product: Product) -> QuerySet[Release]:
    """The product's releases (for looking one up from a URL)."""
    return Release.objects.filter(product=product).select_related("product")


def launch_tasks_of(*, release: Release) -> QuerySet[LaunchTask]:
    """The tasks of a release's checklist."""
    return LaunchTask.objects.filter(release=release).select_related("owner", "done_by")


@dataclass(frozen=True)
class TemplateTeam:
    team: str
    label: str
    tasks: list[LaunchTemplateTask]


def launch_template(*, workspace: Workspace) -> list[TemplateTeam]:
    """The workspace's launch checklist template, by team in the teams' order (one query).
    Every team is listed, with no tasks when it has none."""
    by_team: dict[str, list[LaunchTemplateTask]] = defaultdict(list)
    for task in LaunchTemplateTask.objects.filter(workspace=workspace).order_by(
        "team", "position", "id"
    ):
        by_team[task.team].append(task)
    return [
        TemplateTeam(team=team, label=label, tasks=by_team[team])
        for team, label in LaunchTeam.choices
    ]


def owner_choices(*, workspace_id: int) -> QuerySet[User]:
    """The people who may own a launch task: the workspace's members, by name."""
    return User.objects.filter(memberships__workspace_id=workspace_id).order_by(
        "display_name", "email"
    )


def release_shipped_external_items(*, release: Release) -> QuerySet[RoadmapItem]:
    """The release's items outsiders may read as shipped, in board order: external, and shipped
    (a feature's status, or a theme's own). What its release notes list."""
    return (
        RoadmapItem.objects.filter(release=release, visibility=Visibility.EXTERNAL)
        .filter(
            Q(feature__status=FeatureStatus.SHIPPED)
            | Q(feature__isnull=True, theme_status=FeatureStatus.SHIPPED)
        )
        .select_related("feature")
        .order_by("position", "pk")
    )
