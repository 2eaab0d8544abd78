"""Server-rendered charts: the geometry of bar and line charts, for SVG templates to draw.

Pure: numbers in, coordinates and labels out (no database, no HTML), so it is tested alone. The
template (``roadmap/strategy/_chart.html``) only places what is computed here; every chart is
shown next to a table of the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

# The drawing area inside the SVG's viewBox, leaving room for the axis labels.
WIDTH = 640
HEIGHT = 260
LEFT = 56
RIGHT = 12
TOP = 12
BOTTOM = 36


def nice_ticks(maximum: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to at least ``maximum``: 0, 50k, 100k, 150k, 200k...

    The step is 1, 2, 2.5 or 5 times a power of ten, so labels read well.
    """
    if maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    steps = math.ceil(maximum / step - 1e-9)
    return [round(i * step, 10) for i in range(steps + 1)]


def short_number(value: float) -> str:
    """An axis label: 1.2M, 250k, 900."""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            text = f"{value / limit:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return f"{value:.0f}"


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    value: float
    label: str  # what a tooltip says: "Q3 2027 revenue: 180,000"


@dataclass(frozen=True)
class Category:
    x: float  # centre
    label: str


@dataclass(frozen=True)
class Line:
    series: int
    points: str  # "x,y x,y ..." for <polyline points>
    markers: tuple[tuple[float, float, str], ...]  # x, y, tooltip


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right_edge: int
    baseline: float
    ticks: tuple[Tick, ...]
    categories: tuple[Category, ...]
    series: tuple[str, ...] = ()
    bars: tuple[Bar, ...] = ()
    lines: tuple[Line, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.categories


def _scale(ticks: list[float]):
    top_value = ticks[-1]
    plot_height = HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return round(TOP + plot_height * (1 - value / top_value), 2)

    return y


def _ticks(ticks: list[float], y) -> tuple[Tick, ...]:
    return tuple(Tick(y=y(t), label=short_number(t)) for t in ticks)


def _money(value: float) -> str:
    return f"{value:,.0f}"


def bar_chart(
    categories: Sequence[str], series: Sequence[tuple[str, Sequence[float | Decimal]]]
) -> Chart:
    """Grouped bars: one group per category, one bar per series (e.g. revenue and cost).

    Negative values are drawn as zero-height bars (revenue and cost are never negative).
    """
    values = [max(0.0, float(v)) for _, numbers in series for v in numbers]
    ticks = nice_ticks(max(values, default=0.0))
    y = _scale(ticks)
    plot_width = WIDTH - LEFT - RIGHT
    slot = plot_width / max(len(categories), 1)
    gap = slot * 0.2
    bar_width = (slot - 2 * gap) / max(len(series), 1)
    bars, labels = [], []
    for index, category in enumerate(categories):
        start = LEFT + index * slot
        labels.append(Category(x=round(start + slot / 2, 2), label=category))
        for s, (name, numbers) in enumerate(series):
            value = max(0.0, float(numbers[index]))
            top = y(value)
            bars.append(
                Bar(
                    x=round(start + gap + s * bar_width, 2),
                    y=top,
                    width=round(bar_width, 2),
                    height=round(y(0) - top, 2),
                    series=s,
                    value=value,
                    label=f"{category} {name.lower()}: {_money(value)}",
                )
            )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right_edge=WIDTH - RIGHT,
        baseline=y(0),
        ticks=_ticks(ticks, y),
        categories=tuple(labels),
        series=tuple(name for name, _ in series),
        bars=tuple(bars),
    )


def line_chart(
    categories: Sequence[str], series: Sequence[tuple[str, Sequence[float | Decimal]]]
) -> Chart:
    """One line per series across the categories (e.g. cumulative revenue and cost)."""
    values = [float(v) for _, numbers in series for v in numbers]
    ticks = nice_ticks(max(values, default=0.0))
    y = _scale(ticks)
    plot_width = WIDTH - LEFT - RIGHT
    slot = plot_width / max(len(categories), 1)
    xs = [round(LEFT + slot * (i + 0.5), 2) for i in range(len(categories))]
    lines = []
    for s, (name, numbers) in enumerate(series):
        points = [(x, y(max(0.0, float(v)))) for x, v in zip(xs, numbers, strict=True)]
        lines.append(
            Line(
                series=s,
                points=" ".join(f"{px},{py}" for px, py in points),
                markers=tuple(
                    (px, py, f"{c} {name.lower()}: {_money(float(v))}")
                    for (px, py), c, v in zip(points, categories, numbers, strict=True)
                ),
            )
        )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right_edge=WIDTH - RIGHT,
        baseline=y(0),
        ticks=_ticks(ticks, y),
        categories=tuple(Category(x=x, label=c) for x, c in zip(xs, categories, strict=True)),
        series=tuple(name for name, _ in series),
        lines=tuple(lines),
    )
