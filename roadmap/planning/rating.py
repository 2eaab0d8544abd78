"""What a rating round rates, and how its values are summed up: pure, no ORM.

Each scoring input has a scale: the values a rater may give (its range, whole numbers or
hundredths, or impact's five choices) and how far apart raters may be before they are said to
disagree:

- **bounded inputs** (impact, confidence, the 1–10 scores of ICE and value/effort, weighted
  drivers' 0–10): when the spread (highest − lowest) is more than a quarter of the input's range
  (confidence: more than 25 points; a 1–10 score: more than 2.25; a driver: more than 2.5;
  impact, 0.25–3: more than 0.6875, so 0.5 against 1 agrees and 1 against 2 disagrees);
- **open-ended inputs** (reach, effort, WSJF's relative sizes): when the spread is more than half
  the median (1,000 against 2,000 people disagrees; WSJF's 5 against 8 does not, 3 against 8 does).

The consensus is the median; with an even number of raters, the midpoint of the middle two,
brought to the input's step (whole numbers round half up, effort to hundredths, impact to the
nearest of its choices, the lower on a tie), so it can be written into the feature as it is.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from roadmap.planning.models.feature import IMPACT_CHOICES

# Bounds of a round: how many features and raters one can ask for (a rater's sheet is
# features × inputs fields; 50 × 8 is already long).
MAX_FEATURES = 50
MAX_RATERS = 20
# Bounded inputs disagree beyond this share of their range; open-ended ones beyond this share of
# their median.
BOUNDED_SHARE = Decimal("0.25")
OPEN_SHARE = Decimal("0.5")

WHOLE = Decimal("1")
HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True)
class Scale:
    """The values a rater may give an input, and how a disagreement on it is told."""

    label: str
    hint: str
    low: Decimal
    high: Decimal
    step: Decimal = WHOLE
    choices: tuple[Decimal, ...] = ()
    # Open-ended inputs (no natural top) disagree relative to their median, not their range.
    open_ended: bool = False

    def clean(self, raw: str | Decimal) -> Decimal:
        """The value typed, as stored; ValueError with a message a rater can act on."""
        try:
            value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValueError("Enter a number.") from None
        if not value.is_finite():
            raise ValueError("Enter a number.")
        if self.choices:
            if value not in self.choices:
                raise ValueError(f"Choose one of {', '.join(_text(c) for c in self.choices)}.")
            return value
        if not self.low <= value <= self.high:
            raise ValueError(f"Enter a value from {_text(self.low)} to {_text(self.high)}.")
        if value != value.quantize(self.step, rounding=ROUND_HALF_UP):
            whole = self.step == WHOLE
            raise ValueError("Enter a whole number." if whole else "Use at most two decimals.")
        return value.quantize(self.step)

    def snap(self, value: Decimal) -> Decimal:
        """``value`` brought to a value of the scale (the nearest choice, the lower on a tie)."""
        if self.choices:
            return min(self.choices, key=lambda c: (abs(c - value), c))
        return min(self.high, max(self.low, value.quantize(self.step, rounding=ROUND_HALF_UP)))

    def threshold(self, median: Decimal) -> Decimal:
        """The spread beyond which raters disagree."""
        if self.open_ended:
            return abs(median) * OPEN_SHARE
        return (self.high - self.low) * BOUNDED_SHARE


def field_name(feature_id: int, key: str) -> str:
    """The name of a value's field on a rater's sheet and the results' accept form (and of its
    error): ``v-<feature id>-<input key>``."""
    return f"v-{feature_id}-{key}"


def text(value: Decimal) -> str:
    """A value as a person types it: 2.50 reads 2.5, 100 stays 100."""
    return _text(value)


def _text(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _score(label: str, hint: str = "1–10") -> Scale:
    return Scale(label=label, hint=hint, low=Decimal(1), high=Decimal(10))


def _size(label: str, hint: str) -> Scale:
    return Scale(label=label, hint=hint, low=Decimal(1), high=Decimal(1000), open_ended=True)


FIELD_SCALES: dict[str, Scale] = {
    "reach": Scale(
        "Reach",
        "people or events per quarter",
        Decimal(0),
        Decimal(1_000_000_000),
        open_ended=True,
    ),
    "impact": Scale(
        "Impact",
        "0.25 minimal, 0.5 low, 1 medium, 2 high, 3 massive",
        Decimal("0.25"),
        Decimal(3),
        choices=tuple(value for value, _ in IMPACT_CHOICES),
    ),
    "confidence": Scale("Confidence", "percent, 0–100", Decimal(0), Decimal(100)),
    "effort": Scale(
        "Effort",
        "person-months",
        HUNDREDTH,
        Decimal("99999.99"),
        step=HUNDREDTH,
        open_ended=True,
    ),
    "impact_ice": _score("Impact (ICE)"),
    "confidence_ice": _score("Confidence (ICE)"),
    "ease": _score("Ease", "1–10, 10 is easiest"),
    "business_value": _size("Business value", "1 or more, e.g. 1, 2, 3, 5, 8, 13, 20"),
    "time_criticality": _size("Time criticality", "1 or more"),
    "risk_reduction": _size("Risk reduction", "1 or more"),
    "job_size": _size("Job size", "1 or more"),
    "value": _score("Value"),
}


def driver_scale(name: str) -> Scale:
    """A weighted-scoring driver's scale: 0–10, whole numbers."""
    return Scale(label=name, hint="0–10", low=Decimal(0), high=Decimal(10))


@dataclass(frozen=True)
class Summary:
    """The raters' values of one input of one feature, summed up."""

    count: int
    median: Decimal | None
    spread: Decimal | None
    disagree: bool


def summarise(values: Sequence[Decimal], scale: Scale) -> Summary:
    """Median (brought to the scale), spread and whether the raters disagree; None for both
    without values."""
    if not values:
        return Summary(count=0, median=None, spread=None, disagree=False)
    raw = Decimal(statistics.median(values))
    spread = max(values) - min(values)
    return Summary(
        count=len(values),
        median=scale.snap(raw),
        spread=spread,
        disagree=spread > scale.threshold(raw),
    )
