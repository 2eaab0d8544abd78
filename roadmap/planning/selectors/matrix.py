"""Reads for the value vs. effort matrix: the product's features placed by what their framework
counts as value and as effort (``roadmap.planning.scoring.matrix_axes``), with the chart's geometry.

One query for the features, whatever their number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from django.urls import reverse

from roadmap.models import Feature, FeatureStatus, Product
from roadmap.planning import scoring
from roadmap.planning.selectors.pages import STATUS_ALL, STATUS_OPEN
from roadmap.planning.selectors.priorities import feature_filter
from roadmap.planning.services.scoring import SCORING_INPUT_FIELDS
from roadmap.planning.shares import product_formula, product_shares, shares_text

# The chart's drawing area, in SVG user units; the page scales it to its width.
WIDTH, HEIGHT = 800, 440
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 64, WIDTH - 20, 20, HEIGHT - 52
TICKS = 5
# Up to this many points, titles are written beside the points where they fit.
LABELLED_POINTS = 60
LABEL_CHARS = 26
# Rough size of a label's characters and line at the chart's label font (11px), for overlaps.
CHAR_WIDTH, LINE_HEIGHT = 6.2, 14

QUADRANTS = (
    (scoring.QUICK_WINS, "Quick wins", "high value, low effort: do these first"),
    (scoring.BIG_BETS, "Big bets", "high value, high effort: plan them"),
    (scoring.FILL_INS, "Fill-ins", "low value, low effort: when there is slack"),
    (scoring.MONEY_PITS, "Money pits", "low value, high effort: question them"),
)
QUADRANT_ORDER = {key: index for index, (key, _, _) in enumerate(QUADRANTS)}
QUADRANT_LABELS = {key: label for key, label, _ in QUADRANTS}


@dataclass(frozen=True)
class Label:
    """A point's title written beside it."""

    text: str
    x: float
    anchor: str


@dataclass(frozen=True)
class Point:
    id: int
    title: str
    status: str
    status_label: str
    score: float | None
    value: float
    effort: float
    quadrant: str
    x: float
    y: float
    # The feature's page: reversed once here, as the chart and the table both link to it.
    url: str = ""
    label: Label | None = None
    # What each part of the formula contributes to the score, in a line (roadmap.planning.shares).
    shares: str = ""

    @property
    def quadrant_label(self) -> str:
        return QUADRANT_LABELS[self.quadrant]


@dataclass(frozen=True)
class Unplotted:
    id: int
    title: str
    status: str
    status_label: str
    missing: list[str]


@dataclass(frozen=True)
class Tick:
    value: float
    at: float


@dataclass(frozen=True)
class Quadrant:
    """A quadrant with its area of the chart and where its name goes (its outer corner)."""

    key: str
    label: str
    hint: str
    count: int
    x: float
    y: float
    width: float
    height: float
    label_x: float
    label_y: float
    label_anchor: str


@dataclass(frozen=True)
class AxisTerm:
    """An input of an axis that is not typed by hand, with where it comes from."""

    name: str
    source: str


@dataclass
class Matrix:
    value_formula: str
    effort_formula: str
    note: str
    derived: list[AxisTerm]
    points: list[Point] = field(default_factory=list)
    unplotted: list[Unplotted] = field(default_factory=list)
    value_split: float | None = None
    effort_split: float | None = None
    split_x: float = 0.0
    split_y: float = 0.0
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    quadrants: list[Quadrant] = field(default_factory=list)
    statuses: list[tuple[str, str]] = field(default_factory=list)

    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = PLOT_LEFT
    plot_right: int = PLOT_RIGHT
    plot_top: int = PLOT_TOP
    plot_bottom: int = PLOT_BOTTOM

    @property
    def radius(self) -> float:
        """Smaller dots when there are many, so clusters stay readable."""
        count = len(self.points)
        return 6 if count <= 100 else 4.5 if count <= 400 else 3.5

    @property
    def plot_middle_x(self) -> float:
        return (PLOT_LEFT + PLOT_RIGHT) / 2

    @property
    def plot_middle_y(self) -> float:
        return (PLOT_TOP + PLOT_BOTTOM) / 2

    @property
    def table_rows(self) -> list[Point]:
        """The points by quadrant (quick wins first), most valuable first within each."""
        return sorted(self.points, key=lambda p: (QUADRANT_ORDER[p.quadrant], -p.value, p.id))


def _step(top: float) -> float:
    """A round tick step (1, 2, 2.5 or 5 × 10ⁿ) that covers ``top`` in about TICKS steps."""
    raw = top / TICKS
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


# Room left above the largest value of an axis, so no dot sits on the chart's edge.
HEADROOM = 1.1


def _scale(values: list[float]) -> tuple[float, list[float]]:
    """The axis maximum and its tick values, from 0 to a round number above the largest value
    with some headroom. Values all alike (one feature) end up mid-axis, on the median's line."""
    largest = max(values)
    top = 2 * largest if largest == min(values) else largest * HEADROOM
    if top <= 0:
        top = 1.0
    step = _step(top)
    count = math.ceil(top / step - 1e-9)
    return step * count, [step * i for i in range(count + 1)]


def _quadrants(counts: dict[str, int], split_x: float, split_y: float) -> list[Quadrant]:
    left, right = (PLOT_LEFT, split_x), (split_x, PLOT_RIGHT)
    top, bottom = (PLOT_TOP, split_y), (split_y, PLOT_BOTTOM)
    # Low effort is on the left, high value at the top.
    areas = {
        scoring.QUICK_WINS: (left, top, PLOT_LEFT + 8, PLOT_TOP + 18, "start"),
        scoring.BIG_BETS: (right, top, PLOT_RIGHT - 8, PLOT_TOP + 18, "end"),
        scoring.FILL_INS: (left, bottom, PLOT_LEFT + 8, PLOT_BOTTOM - 10, "start"),
        scoring.MONEY_PITS: (right, bottom, PLOT_RIGHT - 8, PLOT_BOTTOM - 10, "end"),
    }
    quadrants = []
    for key, label, hint in QUADRANTS:
        (x0, x1), (y0, y1), label_x, label_y, anchor = areas[key]
        quadrants.append(
            Quadrant(
                key, label, hint, counts[key], x0, y0, x1 - x0, y1 - y0, label_x, label_y, anchor
            )
        )
    return quadrants


Box = tuple[float, float, float, float]


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _text_box(x: float, y: float, text: str, anchor: str, char_width: float = CHAR_WIDTH) -> Box:
    width = len(text) * char_width
    left = x - width if anchor == "end" else x
    return (left, y - LINE_HEIGHT / 2, left + width, y + LINE_HEIGHT / 2)


def _labelled(points: list[Point], quadrants: list[Quadrant]) -> list[Point]:
    """The points with a title beside each where it fits: right of the point, else left of it,
    else none (its tooltip and the table still name it). Most valuable points choose first."""
    taken: list[Box] = [(p.x - 7, p.y - 7, p.x + 7, p.y + 7) for p in points]
    taken += [
        _text_box(q.label_x, q.label_y - 4, f"{q.label} · {q.count}", q.label_anchor, 7.5)
        for q in quadrants
    ]
    labels: dict[int, Label] = {}
    for point in sorted(points, key=lambda p: (-p.value, p.id)):
        text = point.title
        if len(text) > LABEL_CHARS:
            text = text[: LABEL_CHARS - 1].rstrip() + "…"
        for anchor, x in (("start", point.x + 10), ("end", point.x - 10)):
            box = _text_box(x, point.y, text, anchor)
            inside = PLOT_LEFT <= box[0] and box[2] <= PLOT_RIGHT
            if inside and not any(_overlaps(box, other) for other in taken):
                labels[point.id] = Label(text, x, anchor)
                taken.append(box)
                break
    return [replace(p, label=labels.get(p.id)) for p in points]


def _axis_words(name: str, config: scoring.ScoringConfig) -> str:
    return scoring.SOURCE_WORDS.get(scoring.input_source(name, config), "")


def product_matrix(*, product: Product, status: str, persona_id: int | None) -> Matrix:
    """The product's features (filtered by a normalised status and an optional persona) placed
    by value and effort, quadrants split at the medians of the plotted points (one query); a
    point on a median counts on its better side (``scoring.quadrant``)."""
    # No drivers: the matrix reads driver averages from the last scoring, so it needs only the
    # framework's shape (and skips the drivers' query).
    config = scoring.ScoringConfig(
        framework=product.scoring_framework,
        reach_source=product.reach_source,
        divide_by_effort=product.weighted_divide_by_effort,
    )
    axes = scoring.matrix_axes(config.definition)
    derived = [
        AxisTerm(name, _axis_words(name, config))
        for name in axes.variables()
        if scoring.input_source(name, config) != scoring.MANUAL
    ]
    matrix = Matrix(
        value_formula=axes.value.text(),
        effort_formula=axes.effort.text(),
        note=axes.note,
        derived=derived,
    )

    if status == STATUS_ALL:
        filters: dict[str, Any] = {"status": FeatureStatus.values}
    elif status == STATUS_OPEN:
        filters = {}
    else:
        filters = {"status": [status]}
    if persona_id is not None:
        filters["persona"] = persona_id
    rows = (
        feature_filter(Feature.objects.filter(product=product), filters)
        .order_by(*(Feature._meta.ordering or ()))
        .values("id", "title", "status", "score", "score_breakdown", *SCORING_INPUT_FIELDS)
    )

    status_labels = dict(FeatureStatus.choices)
    placed: list[tuple[dict, float, float]] = []
    for row in rows:
        values = scoring.matrix_values(
            config, axes, fields=row, breakdown=row["score_breakdown"] or {}
        )
        value, effort = axes.value.evaluate(values), axes.effort.evaluate(values)
        if value is None or effort is None:
            missing = [name for name in axes.variables() if values[name] is None]
            matrix.unplotted.append(
                Unplotted(
                    row["id"], row["title"], row["status"], status_labels[row["status"]], missing
                )
            )
        else:
            placed.append((row, value, effort))
    if not placed:
        return matrix

    value_split = scoring.median([value for _, value, _ in placed])
    effort_split = scoring.median([effort for _, _, effort in placed])
    assert value_split is not None and effort_split is not None  # placed is not empty
    value_top, value_ticks = _scale([value for _, value, _ in placed])
    effort_top, effort_ticks = _scale([effort for _, _, effort in placed])

    def x_of(effort: float) -> float:
        return round(PLOT_LEFT + effort / effort_top * (PLOT_RIGHT - PLOT_LEFT), 1)

    def y_of(value: float) -> float:
        return round(PLOT_BOTTOM - value / value_top * (PLOT_BOTTOM - PLOT_TOP), 1)

    formula = product_formula(product)
    for row, value, effort in placed:
        found = product_shares(product, row["score_breakdown"] or {}, formula)
        matrix.points.append(
            Point(
                id=row["id"],
                title=row["title"],
                status=row["status"],
                status_label=status_labels[row["status"]],
                score=row["score"],
                value=value,
                effort=effort,
                quadrant=scoring.quadrant(
                    value=value, effort=effort, value_split=value_split, effort_split=effort_split
                ),
                x=x_of(effort),
                y=y_of(value),
                url=reverse("roadmap:feature", kwargs={"pk": row["id"]}),
                shares=shares_text(found) if len(found) > 1 else "",
            )
        )
    matrix.value_split, matrix.effort_split = value_split, effort_split
    matrix.split_x, matrix.split_y = x_of(effort_split), y_of(value_split)
    matrix.x_ticks = [Tick(t, x_of(t)) for t in effort_ticks]
    matrix.y_ticks = [Tick(t, y_of(t)) for t in value_ticks]
    counts = {key: 0 for key in QUADRANT_ORDER}
    for point in matrix.points:
        counts[point.quadrant] += 1
    matrix.quadrants = _quadrants(counts, matrix.split_x, matrix.split_y)
    if len(matrix.points) <= LABELLED_POINTS:
        matrix.points = _labelled(matrix.points, matrix.quadrants)
    present = {point.status for point in matrix.points}
    matrix.statuses = [(value, label) for value, label in FeatureStatus.choices if value in present]
    return matrix
