"""The allow-list: what people outside a workspace may read of a product's roadmap.

Everything that leaves Waymark for someone without an account — the external page, its JSON, the
Atom feed of changes, external digest emails and the PM's preview of them — is built here, as plain
dicts, lists, strings, ints and None. Nothing else reads roadmap rows for outsiders, and no model
instance ever reaches an external template.

What an outsider may see of an item: its external title (falling back to the feature's or theme's
title), its external description, its lane (theme), its status in plain words, and *when* — a
horizon (now / next / later) or, for audiences that plan by quarter, a quarter such as "Q3 2027".
Only items whose visibility is external, of the one product asked for. Never scores, ranks,
inputs, business case figures, notes, requirements, owners, insights, personas, customers,
releases or exact dates.

An audience preset (``AUDIENCES``) decides the rest: customers get horizon columns and what
shipped recently; investors get quarters and objectives; executives get quarters, a summary by
lane and objectives. Investors and executives may also read the product's positioning (each
question and its answer, never what it cites), but only when the PM shows it to that audience.
Competitors, comparisons, market sizes, the revenue model, price plans and launch checklists
never leave.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.crypto import salted_hmac

from roadmap.models import (
    Audience,
    ChangeEvent,
    ChangeKind,
    FeatureStatus,
    Horizon,
    Objective,
    PositioningAnswer,
    PositioningQuestion,
    Product,
    Release,
    RoadmapItem,
    Visibility,
)

__all__ = [
    "AUDIENCES",
    "AudiencePreset",
    "SHIPPED_RECENTLY_DAYS",
    "audience_preset",
    "digest_sections",
    "external_changes",
    "external_release_notes",
    "external_roadmap",
    "feature_announcement",
    "item_anchor",
    "release_anchor",
    "quarter_label",
]

HORIZON = "horizon"
QUARTER = "quarter"
# "Shipped recently": items whose status is shipped and that shipped this many days ago or less.
SHIPPED_RECENTLY_DAYS = 90


@dataclass(frozen=True)
class AudiencePreset:
    """What one audience is shown, and how finely time is told to it."""

    key: str
    label: str
    title: str
    intro: str
    granularity: str  # HORIZON (now / next / later) or QUARTER ("Q3 2027", the finest ever shown)
    shipped_recently: bool
    objectives: bool
    lanes_summary: bool
    # May read the positioning, when the product's positioning is shown to this audience.
    positioning: bool = False


AUDIENCES: dict[str, AudiencePreset] = {
    Audience.CUSTOMERS.value: AudiencePreset(
        key=Audience.CUSTOMERS.value,
        label="Customers",
        title="What we are building",
        intro="What we are working on now, what comes next and later, and what shipped recently.",
        granularity=HORIZON,
        shipped_recently=True,
        objectives=False,
        lanes_summary=False,
    ),
    Audience.INVESTORS.value: AudiencePreset(
        key=Audience.INVESTORS.value,
        label="Investors",
        title="Product roadmap",
        intro="Where the product is going, quarter by quarter, and the objectives it is "
        "measured against.",
        granularity=QUARTER,
        shipped_recently=False,
        objectives=True,
        lanes_summary=False,
        positioning=True,
    ),
    Audience.EXECUTIVES.value: AudiencePreset(
        key=Audience.EXECUTIVES.value,
        label="Executives",
        title="Roadmap overview",
        intro="The plan by quarter, how it spreads across themes, and progress on objectives.",
        granularity=QUARTER,
        shipped_recently=False,
        objectives=True,
        lanes_summary=True,
        positioning=True,
    ),
}

# Internal statuses in the three words outsiders read. Archived items are never shown.
PUBLIC_STATUS: dict[str, str] = {
    FeatureStatus.IDEA: "planned",
    FeatureStatus.DISCOVERY: "planned",
    FeatureStatus.PLANNED: "planned",
    FeatureStatus.IN_PROGRESS: "in progress",
    FeatureStatus.SHIPPED: "shipped",
}
STATUS_WORDS = ("planned", "in progress", "shipped")
HORIZON_LABELS = dict(Horizon.choices)
HORIZON_ORDER = {h: i for i, h in enumerate(Horizon.values)}


def audience_preset(audience: str) -> AudiencePreset:
    """The preset of an audience; ValueError for an unknown one."""
    try:
        return AUDIENCES[str(audience)]
    except KeyError:
        raise ValueError(f"Unknown audience {audience!r}.") from None


def quarter_label(day: datetime.date) -> str:
    """The quarter a day falls in, e.g. "Q3 2027": the finest time an outsider is told."""
    return f"Q{(day.month - 1) // 3 + 1} {day.year}"


def _quarter_key(day: datetime.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def _number(value: Decimal) -> str:
    text = f"{value.normalize():,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _with_unit(value: Decimal, unit: str) -> str:
    if not unit:
        return _number(value)
    return f"{_number(value)}{unit}" if unit == "%" else f"{_number(value)} {unit}"


# --- The roadmap ---------------------------------------------------------------------------------

# The only columns of roadmap items ever read for outsiders (plus their order and ship date); the
# first ones name and tell an item (its public title and text, and whether it shipped).
_ITEM_TEXT_COLUMNS = (
    "pk",
    "external_title",
    "external_description",
    "title",
    "feature_id",
    "feature__title",
    "feature__status",
    "theme_status",
)
_ITEM_COLUMNS = (
    *_ITEM_TEXT_COLUMNS,
    "feature__updated_at",
    "horizon",
    "position",
    "lane_id",
    "lane__name",
    "lane__position",
    "start_date",
    "end_date",
    "release__target_date",
    "updated_at",
    "shipped_event_at",
)


def _item_rows(product: Product) -> list[dict[str, Any]]:
    """The product's external items as rows of the allowed columns (one query)."""
    shipped_event = (
        ChangeEvent.objects.filter(item_id=OuterRef("pk"), kind=ChangeKind.SHIPPED)
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    return list(
        RoadmapItem.objects.filter(product_id=product.pk, visibility=Visibility.EXTERNAL)
        .annotate(shipped_event_at=Subquery(shipped_event))
        .order_by("position", "pk")
        .values(*_ITEM_COLUMNS)
    )


def _internal_status(row: Mapping[str, Any]) -> str:
    return row["feature__status"] if row["feature_id"] else row["theme_status"]


def _public_title(row: Mapping[str, Any]) -> str:
    # Same rule as RoadmapItem.public_title.
    return row["external_title"] or (row["feature__title"] if row["feature_id"] else row["title"])


def _local_date(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date()


def _shipped_on(row: Mapping[str, Any]) -> datetime.date:
    """When a shipped item shipped: its "shipped" change, else its planned end, else its
    release's target date, else the last time it (or its feature) changed."""
    if row["shipped_event_at"]:
        return _local_date(row["shipped_event_at"])
    if row["end_date"]:
        return row["end_date"]
    if row["release__target_date"]:
        return row["release__target_date"]
    moments = [m for m in (row["updated_at"], row["feature__updated_at"]) if m]
    return _local_date(max(moments))


def _when(
    preset: AudiencePreset, horizon: str, dates: Iterable[datetime.date | None]
) -> tuple[str, tuple]:
    """The timeframe an outsider reads (label) and its sort key.

    By quarter: the quarter of the end date, else the start date, else the release's target date.
    Without any date an item keeps its horizon: "Now" before the quarters, "Next" and "Later"
    after them.
    """
    if preset.granularity == QUARTER:
        day = next((d for d in dates if d), None)
        if day is not None:
            return quarter_label(day), (1, *_quarter_key(day))
        order = HORIZON_ORDER.get(horizon, 2)
        return HORIZON_LABELS.get(horizon, ""), (0 if order == 0 else 2, order, 0)
    return HORIZON_LABELS.get(horizon, ""), (HORIZON_ORDER.get(horizon, 2), 0, 0)


def item_anchor(item_id: int) -> str:
    """The id of an item's place on the external page (``#item-…``), also told in the JSON and
    linked from the feed: stable, and opaque so that it tells nothing of how many items exist.
    ``salted_hmac("waymark.external.item", id)``, its key derived once per secret (a page of
    500 items derived it 500 times)."""
    secret = settings.SECRET_KEY
    key = _ANCHOR_KEYS.get(secret)
    if key is None:
        key = _ANCHOR_KEYS[secret] = hashlib.sha1(
            b"waymark.external.item" + secret.encode()
        ).digest()
    return "item-" + hmac.new(key, str(item_id).encode(), hashlib.sha1).hexdigest()[:12]


_ANCHOR_KEYS: dict[str, bytes] = {}


def _public_item(row: Mapping[str, Any], *, status: str, timeframe: str) -> dict[str, Any]:
    return {
        "anchor": item_anchor(row["pk"]),
        "title": _public_title(row),
        "description": row["external_description"],
        "lane": row["lane__name"] or "",
        "status": status,
        "timeframe": timeframe,
    }


def external_roadmap(
    *, product: Product, audience: str, today: datetime.date | None = None
) -> dict[str, Any]:
    """A product's roadmap as an audience may read it: plain data only, for every external surface.

    ``groups`` are horizon columns (customers) or timeframes (quarters, then undated horizons);
    ``shipped_recently``, ``objectives``, ``lanes`` and ``positioning`` are lists, or None when
    the audience is not shown them. Shipped items older than ``SHIPPED_RECENTLY_DAYS`` are left
    out. Three queries at most, whatever the size of the roadmap. ValueError for an unknown
    audience.
    """
    preset = audience_preset(audience)
    today = today or timezone.localdate()
    recent_since = today - datetime.timedelta(days=SHIPPED_RECENTLY_DAYS)

    groups: dict[tuple, dict[str, Any]] = {}
    if preset.granularity == HORIZON:
        for horizon, label in Horizon.choices:
            groups[_when(preset, horizon, ())[1]] = {"key": horizon, "label": label, "items": []}
    shipped: list[tuple[datetime.date, dict[str, Any]]] = []
    lanes: dict[int | None, tuple[tuple, dict[str, Any]]] = {}

    placed = []
    for row in _item_rows(product):
        status = PUBLIC_STATUS.get(_internal_status(row))
        if status is None:
            continue
        dates = (row["end_date"], row["start_date"], row["release__target_date"])
        if status == "shipped":
            shipped_on = _shipped_on(row)
            if shipped_on < recent_since:
                continue
            if preset.shipped_recently:
                item = _public_item(row, status=status, timeframe=quarter_label(shipped_on))
                shipped.append((shipped_on, item))
                _count_lane(lanes, row, status)
                continue
        label, key = _when(preset, row["horizon"], dates)
        # Within a horizon column the PM's order; within a quarter, the earliest date first.
        day = next((d for d in dates if d), None) if preset.granularity == QUARTER else None
        placed.append((key, day or datetime.date.max, row["position"], row["pk"], label, row))
        _count_lane(lanes, row, status)

    for key, _day, _position, _pk, label, row in sorted(placed, key=lambda p: p[:4]):
        group = groups.setdefault(
            key, {"key": label.lower().replace(" ", "-"), "label": label, "items": []}
        )
        status = PUBLIC_STATUS[_internal_status(row)]
        group["items"].append(_public_item(row, status=status, timeframe=label))

    return {
        "product": {"name": product.name, "vision": product.vision},
        "audience": {
            "key": preset.key,
            "label": preset.label,
            "title": preset.title,
            "intro": preset.intro,
            "granularity": preset.granularity,
        },
        "groups": [groups[key] for key in sorted(groups)],
        "shipped_recently": (
            [item for _, item in sorted(shipped, key=lambda s: s[0], reverse=True)]
            if preset.shipped_recently
            else None
        ),
        "objectives": _objectives(product) if preset.objectives else None,
        "lanes": (
            [summary for _, summary in sorted(lanes.values(), key=lambda lane: lane[0])]
            if preset.lanes_summary
            else None
        ),
        "positioning": _positioning(product, preset) if preset.positioning else None,
    }


def feature_announcement(*, feature_id: int) -> dict[str, str] | None:
    """What may be told outside that a feature shipped: the product's name and the public title
    and external description of the feature's external item (the first by roadmap order), or
    None when no external item shows it (one query)."""
    row = (
        RoadmapItem.objects.filter(feature_id=feature_id, visibility=Visibility.EXTERNAL)
        .order_by("position", "pk")
        .values(
            "pk",
            "external_title",
            "external_description",
            "feature_id",
            "feature__title",
            "title",
            "product__name",
        )
        .first()
    )
    if row is None:
        return None
    return {
        "product": row["product__name"],
        "title": _public_title(row),
        "description": row["external_description"],
        "anchor": item_anchor(row["pk"]),
    }


def _count_lane(lanes: dict, row: Mapping[str, Any], status: str) -> None:
    """Tally an item shown to the audience under its lane; a lane with nothing shown is never
    named (its name may be internal)."""
    _order, lane = lanes.setdefault(
        row["lane_id"],
        (
            (row["lane_id"] is None, row["lane__position"] or 0, row["lane__name"] or ""),
            {
                "name": row["lane__name"] or "No theme",
                "planned": 0,
                "in_progress": 0,
                "shipped": 0,
                "total": 0,
            },
        ),
    )
    lane[status.replace(" ", "_")] += 1
    lane["total"] += 1


def _objectives(product: Product) -> list[dict[str, Any]]:
    """Objectives with their metric, target and progress (a percentage, or None). Baseline,
    current values and descriptions stay inside."""
    rows = Objective.objects.filter(product_id=product.pk).values(
        "name", "metric", "unit", "baseline", "target", "current", "due"
    )
    result = []
    for row in rows.order_by(F("due").asc(nulls_last=True), "name", "pk"):
        progress = Objective(
            baseline=row["baseline"], target=row["target"], current=row["current"]
        ).progress
        result.append(
            {
                "name": row["name"],
                "metric": row["metric"],
                "target": _with_unit(row["target"], row["unit"]),
                "progress": None if progress is None else round(progress * 100),
                "due": quarter_label(row["due"]) if row["due"] else "",
            }
        )
    return result


def _positioning(product: Product, preset: AudiencePreset) -> list[dict[str, str]] | None:
    """The positioning's answered questions, in the product marketer's order, as question and
    answer (Markdown) only: what an answer cites (insights, personas) stays inside. None unless
    the PM shows the positioning to this audience (one query)."""
    shown = {
        Audience.INVESTORS.value: "positioning__show_to_investors",
        Audience.EXECUTIVES.value: "positioning__show_to_executives",
    }.get(preset.key)
    if shown is None:
        return None
    rows = list(
        PositioningAnswer.objects.filter(positioning__product_id=product.pk, **{shown: True})
        .exclude(text="")
        .values_list("question", "text")
    )
    if not rows:
        return None
    order = {key: i for i, key in enumerate(PositioningQuestion.values)}
    labels = dict(PositioningQuestion.choices)
    return [
        {"question": str(labels[question]), "answer": text}
        for question, text in sorted(rows, key=lambda row: order[row[0]])
        if text.strip()
    ] or None


# --- Changes -------------------------------------------------------------------------------------


def _snapshot_date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _snapshot_status(snapshot: Mapping[str, Any]) -> str | None:
    """The plain status of an item as a snapshot saw it, or None if outsiders did not see it."""
    if snapshot.get("visibility") != Visibility.EXTERNAL:
        return None
    return PUBLIC_STATUS.get(snapshot.get("status", ""))


def _snapshot_when(preset: AudiencePreset, snapshot: Mapping[str, Any]) -> str:
    dates = (
        _snapshot_date(snapshot.get("end_date")),
        _snapshot_date(snapshot.get("start_date")),
        _snapshot_date(snapshot.get("release_date")),
    )
    return _when(preset, snapshot.get("horizon", ""), dates)[0]


def describe_change(
    *, kind: str, before: Mapping[str, Any], after: Mapping[str, Any], preset: AudiencePreset
) -> dict[str, Any] | None:
    """What an outsider reads of one change, from its snapshots alone; None if nothing.

    An item that becomes visible (added, made external, un-archived) reads as added, with its new
    title; one that stops being visible (removed, made internal, archived) reads as removed, with
    the title outsiders knew — the *before* external title. Items internal on both sides give
    nothing; neither do priority changes, or a move outsiders cannot tell (e.g. a date within the
    same quarter).
    """
    if kind == ChangeKind.RELEASE_NOTES:
        return _release_notes_entry(after)
    was, now = _snapshot_status(before), _snapshot_status(after)
    if was is None and now is None:
        return None
    if was is None:
        return _entry("added", after, preset, "Added to the roadmap", _snapshot_when(preset, after))
    if now is None:
        return _entry("removed", before, preset, "Removed from the roadmap", "")
    if kind == ChangeKind.SHIPPED or (kind == ChangeKind.STATUS_CHANGED and now == "shipped"):
        return _entry("shipped", after, preset, "Shipped", "") if was != now else None
    if kind == ChangeKind.STATUS_CHANGED:
        if was == now:
            return None
        return _entry("status", after, preset, f"Now {now}", "")
    if kind in (ChangeKind.MOVED, ChangeKind.DATES_CHANGED, ChangeKind.RELEASE_CHANGED):
        old_when, new_when = _snapshot_when(preset, before), _snapshot_when(preset, after)
        old_lane, new_lane = before.get("lane") or "", after.get("lane") or ""
        parts = []
        if old_when != new_when:
            parts.append(f"Moved from {old_when} to {new_when}")
        if old_lane != new_lane:
            parts.append(f"now under {new_lane}" if new_lane else "no longer under a theme")
        if not parts:
            return None
        summary = "; ".join(parts)
        return _entry("moved", after, preset, summary[0].upper() + summary[1:], new_when)
    return None


def _release_notes_entry(after: Mapping[str, Any]) -> dict[str, Any] | None:
    """A release's notes published: its name and public summary, as the PM wrote them for
    outside (the event keeps nothing else)."""
    if not after.get("release_id"):
        return None
    return {
        "kind": "release_notes",
        "anchor": "",
        "release_anchor": release_anchor(after["release_id"]),
        "title": after.get("release_name") or "",
        "description": after.get("summary") or "",
        "summary": "Release notes",
        "lane": "",
        "timeframe": "",
    }


def _entry(
    kind: str, snapshot: Mapping[str, Any], preset: AudiencePreset, summary: str, when: str
) -> dict[str, Any]:
    item_id = snapshot.get("item_id")
    return {
        "kind": kind,
        "anchor": item_anchor(item_id) if item_id else "",
        "title": snapshot.get("external_title") or "",
        "description": (snapshot.get("external_description") or "") if kind == "added" else "",
        "summary": summary,
        "lane": snapshot.get("lane") or "",
        "timeframe": when,
    }


def _change_events(product: Product, since: datetime.datetime | None):
    events = ChangeEvent.objects.filter(product_id=product.pk).exclude(
        kind=ChangeKind.PRIORITY_CHANGED
    )
    if since is not None:
        events = events.filter(occurred_at__gt=since)
    # Only events where the item was external on one side can say anything to outsiders.
    return events.filter(
        Q(before__visibility=Visibility.EXTERNAL) | Q(after__visibility=Visibility.EXTERNAL)
    )


def _public_changes(
    events: Iterable[Mapping[str, Any]], preset: AudiencePreset
) -> list[dict[str, Any]]:
    """Describe each event; one edit recorded as several events (e.g. made internal and moved)
    is told once."""
    seen = set()
    entries = []
    for event in events:
        entry = describe_change(
            kind=event["kind"], before=event["before"], after=event["after"], preset=preset
        )
        if entry is None:
            continue
        key = (
            json.dumps(event["before"], sort_keys=True, default=str),
            json.dumps(event["after"], sort_keys=True, default=str),
            entry["kind"],
            entry["summary"],
        )
        if key in seen:
            continue
        seen.add(key)
        entry["id"] = salted_hmac("waymark.external.change", str(event["pk"])).hexdigest()[:24]
        entry["occurred_at"] = event["occurred_at"]
        entries.append(entry)
    return entries


def external_changes(
    *,
    product: Product,
    audience: str,
    since: datetime.datetime | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Changes of a product's roadmap an audience may read, newest first (for feeds and digests).

    Each entry: ``id`` (opaque, stable), ``kind`` (added, removed, moved, shipped, status),
    ``anchor`` (the item's ``item_anchor``, "" if the event names no item), ``title``,
    ``description`` (for added items), ``summary``, ``lane``, ``timeframe`` and ``occurred_at``
    (an aware datetime). Built from the events' snapshots only, so an item deleted
    or changed since is told as it was. ``since`` excludes earlier events; ``limit`` bounds the
    events read. One query. ValueError for an unknown audience.
    """
    preset = audience_preset(audience)
    events = _change_events(product, since).order_by("-occurred_at", "-id")
    if limit is not None:
        events = events[:limit]
    return _public_changes(events.values("pk", "kind", "occurred_at", "before", "after"), preset)


# --- Release notes -------------------------------------------------------------------------------

RELEASE_NOTES_PER_PAGE = 10


def release_anchor(release_id: int) -> str:
    """The id of a release's notes on the share link's release-notes page: stable and opaque."""
    return "release-" + salted_hmac("waymark.external.release", str(release_id)).hexdigest()[:12]


def external_release_notes(
    *, product: Product, page: int = 1, per_page: int = RELEASE_NOTES_PER_PAGE
) -> dict[str, Any]:
    """The product's published release notes, newest first, a page at a time: each release's
    ``anchor``, ``name``, ``published_on``, ``summary`` (the PM's Markdown for outside) and its
    shipped external ``items`` (public title and description, and the item's anchor on the
    roadmap page) — the same for every audience. ``has_next``/``has_previous`` for the pager. Two
    queries, whatever the number of releases or items."""
    page = max(1, page)
    releases = list(
        Release.objects.filter(product_id=product.pk, notes_published_at__isnull=False)
        .order_by("-notes_published_at", "-pk")
        .values("pk", "name", "public_summary", "notes_published_at")[
            (page - 1) * per_page : page * per_page + 1
        ]
    )
    has_next = len(releases) > per_page
    releases = releases[:per_page]
    items: dict[int, list[dict[str, Any]]] = {r["pk"]: [] for r in releases}
    rows = (
        RoadmapItem.objects.filter(
            product_id=product.pk, visibility=Visibility.EXTERNAL, release_id__in=list(items)
        )
        .order_by("position", "pk")
        .values(*_ITEM_TEXT_COLUMNS, "release_id")
    )
    for row in rows:
        if PUBLIC_STATUS.get(_internal_status(row)) != "shipped":
            continue
        items[row["release_id"]].append(
            {
                "anchor": item_anchor(row["pk"]),
                "title": _public_title(row),
                "description": row["external_description"],
            }
        )
    return {
        "releases": [
            {
                "anchor": release_anchor(r["pk"]),
                "name": r["name"],
                # Filtered on: never None here.
                "published_on": _local_date(r["notes_published_at"]),  # type: ignore[arg-type]
                "summary": r["public_summary"],
                "items": items[r["pk"]],
            }
            for r in releases
        ],
        "page": page,
        "has_next": has_next,
        "has_previous": page > 1,
    }


# --- Digests -------------------------------------------------------------------------------------

DIGEST_SECTIONS = (
    ("release_notes", "Release notes"),
    ("shipped", "Shipped"),
    ("added", "New on the roadmap"),
    ("status", "Progress"),
    ("moved", "Moved"),
    ("removed", "Removed from the roadmap"),
)


def digest_sections(
    *, product: Product, audience: str | None, events: Iterable[ChangeEvent]
) -> list[dict[str, Any]]:
    """The sections of a digest email: ``[{"key", "title", "entries": [{"title", "detail"}]}]``
    (``key``: the kind of change, "release_notes" for published release notes), empty
    sections left out, entries in the order of ``events``.

    With an audience, only what that audience may read (see ``describe_change``). Without one
    (members following the internal roadmap), every change with the internal titles.
    """
    if audience is None:
        return _internal_sections(events)
    preset = audience_preset(audience)
    rows = (
        {
            "pk": e.pk,
            "kind": e.kind,
            "occurred_at": e.occurred_at,
            "before": e.before,
            "after": e.after,
        }
        for e in events
        if e.product_id == product.pk
    )
    by_kind: dict[str, list[dict[str, str]]] = {}
    for entry in _public_changes(rows, preset):
        detail = entry["summary"]
        if entry["kind"] == "release_notes":
            # The summary's first line, as the PM wrote it for outside.
            first = entry["description"].strip().split("\n")[0]
            detail = first if len(first) <= 140 else first[:139] + "…"
        if entry["kind"] == "added" and entry["timeframe"]:
            detail = f"{detail} ({entry['timeframe']})"
        by_kind.setdefault(entry["kind"], []).append({"title": entry["title"], "detail": detail})
    return [
        {"key": kind, "title": title, "entries": by_kind[kind]}
        for kind, title in DIGEST_SECTIONS
        if kind in by_kind
    ]


def _internal_sections(events: Iterable[ChangeEvent]) -> list[dict[str, Any]]:
    by_kind: dict[str, list[dict[str, str]]] = {}
    for event in events:
        snapshot = event.after or event.before
        detail = ""
        if event.kind == ChangeKind.RELEASE_NOTES:
            snapshot = {"title": snapshot.get("release_name", "")}
        elif event.kind == ChangeKind.MOVED:
            detail = f"{event.before.get('horizon', '')} → {event.after.get('horizon', '')}"
        elif event.kind == ChangeKind.PRIORITY_CHANGED:
            detail = f"rank {event.before.get('rank')} → {event.after.get('rank')}"
        elif event.kind == ChangeKind.STATUS_CHANGED:
            detail = f"{event.before.get('status', '')} → {event.after.get('status', '')}"
        by_kind.setdefault(event.kind, []).append(
            {"title": snapshot.get("title", ""), "detail": detail}
        )
    return [
        {"key": kind, "title": label, "entries": by_kind[kind]}
        for kind, label in ChangeKind.choices
        if kind in by_kind
    ]
