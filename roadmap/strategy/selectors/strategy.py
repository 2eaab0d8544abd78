"""Reads of a product's strategy pages: the positioning with its citations and history, the
competitors and the comparison grid, market sizes, and the business case (features' revenue and
cost by release and by quarter, the revenue model's plans, and the charts).

Each selector runs a fixed number of queries, however many rows the product has.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import F, Prefetch, QuerySet
from django.utils import timezone

from roadmap import bounds
from roadmap.models import (
    Comparison,
    ComparisonStatus,
    Competitor,
    Feature,
    FeatureStatus,
    Insight,
    Lane,
    MarketPosition,
    MarketSize,
    MarketSizeKind,
    Persona,
    Positioning,
    PositioningAnswer,
    PositioningQuestion,
    PricePlan,
    Product,
    Release,
    RevenueModel,
)
from roadmap.sharing.external import quarter_label
from roadmap.strategy import charts

# --- Positioning ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionAnswer:
    """One question of the positioning with its answer (None until someone answers it)."""

    key: str
    label: str
    answer: PositioningAnswer | None

    @property
    def insights(self) -> list[Insight]:
        return list(self.answer.insights.all()) if self.answer else []

    @property
    def personas(self) -> list[Persona]:
        return list(self.answer.personas.all()) if self.answer else []


@dataclass(frozen=True)
class PositioningPage:
    positioning: Positioning
    questions: list[QuestionAnswer]

    @property
    def answered(self) -> int:
        return sum(1 for q in self.questions if q.answer and q.answer.text.strip())


def _answers(positioning_id: int) -> QuerySet[PositioningAnswer]:
    return (
        PositioningAnswer.objects.filter(positioning_id=positioning_id)
        .select_related("updated_by")
        .prefetch_related(
            Prefetch("insights", queryset=Insight.objects.select_related("persona")),
            Prefetch("personas", queryset=Persona.objects.order_by("name")),
        )
    )


def positioning_page(*, product: Product) -> PositioningPage:
    """Every positioning question in the product marketer's order, with its answer and what it
    cites (four queries). A product nobody positioned yet gets an unsaved, hidden positioning."""
    positioning = Positioning.objects.filter(product=product).first() or Positioning(
        product=product
    )
    answers = {a.question: a for a in _answers(positioning.pk)} if positioning.pk else {}
    return PositioningPage(
        positioning=positioning,
        questions=[
            QuestionAnswer(key=key, label=label, answer=answers.get(key))
            for key, label in PositioningQuestion.choices
        ],
    )


def positioning_answer(*, product: Product, question: str) -> QuestionAnswer:
    """One question with its answer (for its edit form), four queries at most."""
    positioning = Positioning.objects.filter(product=product).first()
    answer = None
    if positioning is not None:
        answer = _answers(positioning.pk).filter(question=question).first()
    return QuestionAnswer(key=question, label=PositioningQuestion(question).label, answer=answer)


def citation_options(*, product: Product) -> tuple[QuerySet[Insight], QuerySet[Persona]]:
    """What an answer may cite: the product's insights (newest first) and personas."""
    return (
        Insight.objects.filter(product=product).select_related("persona"),
        Persona.objects.filter(product=product).order_by("name"),
    )


HISTORY_LIMIT = 50


@dataclass(frozen=True)
class HistoryLine:
    when: datetime.datetime
    actor: str
    summary: str


def _actor(row) -> str:
    return row.history_user.name if row.history_user_id and row.history_user else "Someone"


def _cited(history_model, field_name: str, ids: list[int]) -> dict[int, set[int]]:
    """history row id -> the ids it cited (one query)."""
    through = history_model._meta.get_field(
        f"{history_model._meta.model_name}_{field_name}"
    ).related_model
    target = field_name.removesuffix("s")
    cited: dict[int, set[int]] = defaultdict(set)
    for history_id, pk in through.objects.filter(history_id__in=ids).values_list(
        "history_id", f"{target}_id"
    ):
        cited[history_id].add(pk)
    return cited


def _names(model, ids: set[int], describe) -> dict[int, str]:
    if not ids:
        return {}
    return {obj.pk: describe(obj) for obj in model.objects.filter(pk__in=ids)}


def _list(names: list[str]) -> str:
    return ", ".join(names)


def positioning_history(*, product: Product) -> list[HistoryLine]:
    """Who changed the positioning, what and when, newest first: each saved answer (its text,
    the insights and personas it cites) and each change of the audiences allowed to read it.
    At most seven queries, however long the history."""
    positioning = Positioning.objects.filter(product=product).first()
    if positioning is None:
        return []
    questions = dict(PositioningQuestion.choices)
    history = PositioningAnswer.history.model
    rows = list(
        history.objects.filter(positioning_id=positioning.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[: HISTORY_LIMIT + 1]
    )
    ids = [r.history_id for r in rows]
    insights_of = _cited(history, "insights", ids)
    personas_of = _cited(history, "personas", ids)
    insight_names = _names(
        Insight,
        {pk for s in insights_of.values() for pk in s},
        lambda i: f"{i.customer} ({i.get_source_display().lower()})",
    )
    persona_names = _names(Persona, {pk for s in personas_of.values() for pk in s}, str)

    # One row beyond the window is read: with it, the answers' earlier saves are out of sight,
    # and a save whose predecessor is not in the window cannot be told.
    truncated = len(rows) > HISTORY_LIMIT
    lines: list[HistoryLine] = []
    previous: dict[int, Any] = {}
    for row in reversed(rows):
        before = previous.get(row.id)
        previous[row.id] = row
        question = questions.get(row.question, row.question)
        if before is None:
            if truncated:
                continue
            parts = [f"answered “{question}”"]
            cited = [
                insight_names.get(pk, "a removed insight") for pk in insights_of[row.history_id]
            ]
            cited += [
                persona_names.get(pk, "a removed persona") for pk in personas_of[row.history_id]
            ]
            if cited:
                parts.append("citing " + _list(sorted(cited)))
            lines.append(HistoryLine(row.history_date, _actor(row), " ".join(parts)))
            continue
        parts = []
        if row.text != before.text:
            parts.append(f"edited the answer to “{question}”")
        for of, names, noun in (
            (insights_of, insight_names, "insight"),
            (personas_of, persona_names, "persona"),
        ):
            added = of[row.history_id] - of[before.history_id]
            removed = of[before.history_id] - of[row.history_id]
            if added:
                cited = sorted(names.get(pk, f"a removed {noun}") for pk in added)
                parts.append(f"cited {_list(cited)} for “{question}”")
            if removed:
                dropped = sorted(names.get(pk, f"a removed {noun}") for pk in removed)
                parts.append(f"stopped citing {_list(dropped)} for “{question}”")
        if parts:
            lines.append(HistoryLine(row.history_date, _actor(row), "; ".join(parts)))

    audience_rows = list(
        Positioning.history.filter(id=positioning.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[: HISTORY_LIMIT + 1]
    )
    audience_rows.reverse()
    pairs = list(zip([None, *audience_rows], audience_rows, strict=False))
    if len(audience_rows) > HISTORY_LIMIT:
        pairs = pairs[1:]  # the oldest row read is only the baseline of the next one
    for before, row in pairs:
        shown = [
            name
            for name, on in (
                ("investors", row.show_to_investors),
                ("executives", row.show_to_executives),
            )
            if on
        ]
        if before is not None and (before.show_to_investors, before.show_to_executives) == (
            row.show_to_investors,
            row.show_to_executives,
        ):
            continue
        if before is None and not shown:
            continue  # created hidden: nothing to tell
        summary = (
            "shared the positioning with " + " and ".join(shown)
            if shown
            else "stopped sharing the positioning"
        )
        lines.append(HistoryLine(row.history_date, _actor(row), summary))

    lines.sort(key=lambda line: line.when, reverse=True)
    return lines[:HISTORY_LIMIT]


# --- Competitors and the comparison grid ---------------------------------------------------------


def competitors_of(*, product: Product) -> QuerySet[Competitor]:
    """The product's competitors, by name."""
    return Competitor.objects.filter(product=product).select_related("product")


BY_FEATURE = "feature"
BY_THEME = "theme"


@dataclass(frozen=True)
class GridRow:
    """A feature (or a theme) with how each competitor stands on it."""

    kind: str  # feature or theme
    pk: int
    title: str
    cells: list[tuple[Competitor, Comparison | None]]
    market_position: str = ""
    status: str = ""


@dataclass(frozen=True)
class ComparisonGrid:
    by: str
    competitors: list[Competitor]
    rows: list[GridRow]
    statuses: list[tuple[str, str]] = field(default_factory=lambda: ComparisonStatus.choices)
    positions: list[tuple[str, str]] = field(default_factory=lambda: MarketPosition.choices)


def comparison_grid(*, product: Product, by: str = BY_FEATURE) -> ComparisonGrid:
    """Features (open and shipped, in rank order) or themes down the side, competitors across,
    and each cell's status and note (three queries)."""
    competitors = list(competitors_of(product=product))
    cells: dict[tuple[int, int], Comparison] = {}
    if by == BY_THEME:
        targets = [(lane.pk, lane.name, "", "") for lane in Lane.objects.filter(product=product)]
        key = "lane_id"
    else:
        targets = list(
            Feature.objects.filter(product=product)
            .exclude(status=FeatureStatus.ARCHIVED)
            .order_by(F("rank").asc(nulls_last=True), "title", "id")
            .values_list("pk", "title", "market_position", "status")
        )
        key = "feature_id"
    if competitors and targets:
        for cell in Comparison.objects.filter(
            competitor__in=competitors, **{f"{key}__isnull": False}
        ):
            cells[(getattr(cell, key), cell.competitor_id)] = cell
    rows = [
        GridRow(
            kind=BY_THEME if by == BY_THEME else BY_FEATURE,
            pk=pk,
            title=title,
            cells=[(c, cells.get((pk, c.pk))) for c in competitors],
            market_position=position,
            status=status,
        )
        for pk, title, position, status in targets
    ]
    return ComparisonGrid(by=by, competitors=competitors, rows=rows)


def comparison_cell(
    *, competitor: Competitor, feature: Feature | None = None, lane: Lane | None = None
) -> Comparison | None:
    """One cell of the grid, or None when it is empty."""
    target = {"feature": feature} if feature is not None else {"lane": lane}
    return Comparison.objects.filter(competitor=competitor, **target).first()


# --- Market size ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarketSizes:
    """The newest estimate of each kind (TAM, SAM, SOM; None when missing) and every estimate."""

    # (acronym, what it stands for, the newest estimate or None), TAM first.
    latest: list[tuple[str, str, MarketSize | None]]
    all: list[MarketSize]


def market_sizes(*, product: Product) -> MarketSizes:
    """The product's market size estimates, newest first within each kind (one query)."""
    rows = list(MarketSize.objects.filter(product=product).order_by("kind", "-as_of", "-id"))
    newest: dict[str, MarketSize] = {}
    for row in rows:
        newest.setdefault(row.kind, row)
    order = {k: i for i, k in enumerate(MarketSizeKind.values)}
    rows.sort(key=lambda r: (order[r.kind], -r.as_of.toordinal(), -r.pk))
    return MarketSizes(
        latest=[
            (kind.upper(), label.split(": ", 1)[-1], newest.get(kind))
            for kind, label in MarketSizeKind.choices
        ],
        all=rows,
    )


def market_sizes_of(*, product: Product) -> QuerySet[MarketSize]:
    """The product's market size estimates (for looking one up from a URL)."""
    return MarketSize.objects.filter(product=product)


# --- Business case -------------------------------------------------------------------------------

UNSCHEDULED = "Unscheduled"
NO_RELEASE = "No release"
ZERO = Decimal("0")
CENT = Decimal("0.01")
_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class CaseFeature:
    """A feature's figures and when they land."""

    pk: int
    title: str
    status: str
    revenue: Decimal | None
    cost: Decimal | None
    release: str
    quarter: str
    # Where the quarter comes from: "roadmap end date", "release target date" or "".
    dated_by: str

    @property
    def status_label(self) -> str:
        return FeatureStatus(self.status).label


@dataclass
class Bucket:
    """The features landing in one release or one quarter, and their summed figures."""

    key: Any
    label: str
    revenue: Decimal = ZERO
    cost: Decimal = ZERO
    features: list[CaseFeature] = field(default_factory=list)
    date: datetime.date | None = None

    @property
    def net(self) -> Decimal:
        return self.revenue - self.cost

    def add(self, feature: CaseFeature) -> None:
        self.features.append(feature)
        self.revenue += feature.revenue or ZERO
        self.cost += feature.cost or ZERO


@dataclass(frozen=True)
class PlanForecast:
    """A price plan with the assumptions behind its expected customers and yearly revenue."""

    plan: PricePlan
    segment: str
    segment_size: int
    conversion_rate: Decimal
    # "plan" when the plan overrides the model's rate, else "model".
    rate_from: str
    customers: Decimal
    yearly_revenue: Decimal


@dataclass(frozen=True)
class CumulativePoint:
    label: str
    revenue: Decimal
    cost: Decimal

    @property
    def net(self) -> Decimal:
        return self.revenue - self.cost


@dataclass(frozen=True)
class BusinessCase:
    revenue_model: RevenueModel
    # False while the product has no revenue model of its own: the defaults are shown.
    model_saved: bool
    personas: list[Persona]
    plans: list[PlanForecast]
    by_release: list[Bucket]
    by_quarter: list[Bucket]
    cumulative: list[CumulativePoint]
    features_without_figures: int
    quarter_chart: charts.Chart
    cumulative_chart: charts.Chart

    @property
    def currency(self) -> str:
        return self.revenue_model.currency

    @property
    def revenue(self) -> Decimal:
        return sum((b.revenue for b in self.by_release), ZERO)

    @property
    def cost(self) -> Decimal:
        return sum((b.cost for b in self.by_release), ZERO)

    @property
    def net(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def plans_revenue(self) -> Decimal:
        return sum((p.yearly_revenue for p in self.plans), ZERO)

    @property
    def plans_customers(self) -> Decimal:
        return sum((p.customers for p in self.plans), ZERO)

    @property
    def features_counted(self) -> int:
        return sum(len(b.features) for b in self.by_release)


def _quarter_key(day: datetime.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def _quarter_start(key: tuple[int, int]) -> datetime.date:
    return datetime.date(key[0], 3 * (key[1] - 1) + 1, 1)


def _next_quarter(key: tuple[int, int]) -> tuple[int, int]:
    return (key[0] + 1, 1) if key[1] == 4 else (key[0], key[1] + 1)


def plan_forecast(*, plan: PricePlan, model: RevenueModel, personas: list[Persona]) -> PlanForecast:
    """Expected customers = segment size × conversion rate (the plan's, else the model's), and
    yearly revenue = customers × the plan's yearly price. A plan without a persona is sold to
    every persona's segment (their sizes summed)."""
    if plan.persona_id:
        persona = next((p for p in personas if p.pk == plan.persona_id), None)
        segment = persona.name if persona else "A removed persona"
        size = persona.segment_size if persona else 0
    else:
        segment = "All personas"
        size = sum(p.segment_size for p in personas)
    overridden = plan.conversion_rate is not None
    rate = plan.conversion_rate if plan.conversion_rate is not None else model.conversion_rate
    customers = (Decimal(size) * rate / 100).quantize(CENT)
    return PlanForecast(
        plan=plan,
        segment=segment,
        segment_size=size,
        conversion_rate=rate,
        rate_from="plan" if overridden else "model",
        customers=customers,
        yearly_revenue=(customers * plan.yearly_price).quantize(CENT),
    )


def business_case(*, product: Product, today: datetime.date | None = None) -> BusinessCase:
    """The product's business case: its features' expected revenue and cost rolled up by release
    and by quarter, the revenue model's plans with every assumption, and the two charts.

    A feature lands in the quarter of its roadmap item's end date, else of its release's target
    date; without either it is unscheduled. Archived features and features with neither figure
    are left out (the latter are counted, so the PM knows the case is incomplete). Quarters more
    than ``bounds.DRAWN_YEARS`` from ``today``'s (default: the local date) are summed in one
    bucket before and one after, so that rows dated in year 1 or 9999 (saved before dates were
    bounded) cost two rows, not forty thousand. Five queries.
    """
    first, last = bounds.drawn_window(today or timezone.localdate())
    before = after = None
    features = list(
        Feature.objects.filter(product=product)
        .exclude(status=FeatureStatus.ARCHIVED)
        .annotate(
            item_id=F("roadmap_item__id"),
            end_date=F("roadmap_item__end_date"),
            release_id=F("roadmap_item__release_id"),
        )
        .order_by(F("rank").asc(nulls_last=True), "id")
        .values("pk", "title", "status", "expected_revenue", "cost", "end_date", "release_id")
    )
    releases = {r.pk: r for r in Release.objects.filter(product=product)}
    model = RevenueModel.objects.filter(product=product).first()
    saved = model is not None
    model = model or RevenueModel(product=product)
    personas = list(Persona.objects.filter(product=product).order_by("name"))
    plans = [
        plan_forecast(plan=plan, model=model, personas=personas)
        for plan in PricePlan.objects.filter(product=product)
    ]

    by_release: dict[Any, Bucket] = {}
    by_quarter: dict[Any, Bucket] = {}
    missing = 0
    for row in features:
        if row["expected_revenue"] is None and row["cost"] is None:
            missing += 1
            continue
        release = releases.get(row["release_id"])
        day, dated_by = row["end_date"], "roadmap end date"
        if day is None and release is not None and release.target_date:
            day, dated_by = release.target_date, "release target date"
        if day is None:
            dated_by = ""
        feature = CaseFeature(
            pk=row["pk"],
            title=row["title"],
            status=row["status"],
            revenue=row["expected_revenue"],
            cost=row["cost"],
            release=release.name if release else "",
            quarter=quarter_label(day) if day else UNSCHEDULED,
            dated_by=dated_by,
        )
        release_key = release.pk if release else None
        if release_key not in by_release:
            by_release[release_key] = Bucket(
                key=release_key,
                label=release.name if release else NO_RELEASE,
                date=release.target_date if release else None,
            )
        by_release[release_key].add(feature)
        if day is not None and day < first:
            start = _quarter_start(_quarter_key(day))
            if before is None:
                before = Bucket(key="before", label=f"Before {quarter_label(first)}", date=start)
            before.date = min(before.date or start, start)
            before.add(feature)
            continue
        if day is not None and day > last:
            after = after or Bucket(
                key="after", label=f"After {quarter_label(last)}", date=last + _DAY
            )
            after.add(feature)
            continue
        quarter_key = _quarter_key(day) if day else None
        if quarter_key not in by_quarter:
            by_quarter[quarter_key] = Bucket(
                key=quarter_key,
                label=feature.quarter,
                date=_quarter_start(quarter_key) if quarter_key else None,
            )
        by_quarter[quarter_key].add(feature)

    # Every quarter from the first to the last, empty ones included, so time reads evenly.
    dated = sorted(k for k in by_quarter if k is not None)
    if dated:
        key = dated[0]
        while key < dated[-1]:
            key = _next_quarter(key)
            if key not in by_quarter:
                start = _quarter_start(key)
                by_quarter[key] = Bucket(key=key, label=quarter_label(start), date=start)
    quarters = [by_quarter[k] for k in sorted(k for k in by_quarter if k is not None)]
    quarters = [b for b in (before, *quarters, after) if b is not None]
    release_buckets = sorted(
        by_release.values(),
        key=lambda b: (b.key is None, b.date is None, b.date or datetime.date.max, b.label),
    )

    cumulative, revenue, cost = [], ZERO, ZERO
    for bucket in quarters:
        revenue, cost = revenue + bucket.revenue, cost + bucket.cost
        cumulative.append(CumulativePoint(bucket.label, revenue, cost))
    labels = [b.label for b in quarters]
    quarter_chart = charts.bar_chart(
        labels,
        [("Revenue", [b.revenue for b in quarters]), ("Cost", [b.cost for b in quarters])],
    )
    cumulative_chart = charts.line_chart(
        labels,
        [("Revenue", [p.revenue for p in cumulative]), ("Cost", [p.cost for p in cumulative])],
    )
    if None in by_quarter:
        quarters.append(by_quarter[None])
    return BusinessCase(
        revenue_model=model,
        model_saved=saved,
        personas=personas,
        plans=plans,
        by_release=release_buckets,
        by_quarter=quarters,
        cumulative=cumulative,
        features_without_figures=missing,
        quarter_chart=quarter_chart,
        cumulative_chart=cumulative_chart,
    )


def price_plans_of(*, product: Product) -> QuerySet[PricePlan]:
    """The product's price plans with their persona (for looking one up from a URL)."""
    return PricePlan.objects.filter(product=product).select_related("persona")
