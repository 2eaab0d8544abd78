"""Products, the people they serve (personas) and how their features are scored."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse

from roadmap import bounds
from roadmap.models.base import ScopedQuerySet, TimeStamped


class ScoringFramework(models.TextChoices):
    RICE = "rice", "RICE"
    ICE = "ice", "ICE"
    WSJF = "wsjf", "WSJF"
    VALUE_EFFORT = "value_effort", "Value / effort"
    WEIGHTED = "weighted", "Weighted scoring"
    CUSTOM = "custom", "Your own formula"


class ReachSource(models.TextChoices):
    MANUAL = "manual", "Entered by hand"
    INSIGHTS = "insights", "Distinct customers in linked insights"
    PERSONAS = "personas", "Summed segment size of linked personas"


class TieBreak(models.TextChoices):
    MOSCOW = "moscow", "MoSCoW (must before should before could before won't)"
    KANO = "kano", "Kano (basic before performance before delighter before indifferent)"
    DIFFERENTIATOR = "differentiator", "Differentiators before parity features"
    NONE = "none", "Oldest first"


class ProductQuerySet(ScopedQuerySet):
    workspace_path = "workspace"


class Product(TimeStamped):
    # No index of its own: (workspace, id) and (workspace, slug) lead with it (issue 20).
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="products", db_index=False
    )
    name = models.CharField(max_length=120, validators=[bounds.single_line])
    slug = models.SlugField(
        max_length=80, help_text="Used in URLs and the API; unique within the workspace."
    )
    product_line = models.CharField(
        max_length=120, blank=True, help_text="Optional grouping of related products."
    )
    vision = models.TextField(blank=True)
    description = models.TextField(blank=True)

    scoring_framework = models.CharField(
        max_length=20, choices=ScoringFramework.choices, default=ScoringFramework.RICE
    )
    reach_source = models.CharField(
        max_length=20,
        choices=ReachSource.choices,
        default=ReachSource.MANUAL,
        help_text="Where RICE's reach comes from.",
    )
    weighted_divide_by_effort = models.BooleanField(
        default=False, help_text="Weighted scoring: divide the weighted sum by effort."
    )
    tie_break = models.CharField(max_length=20, choices=TieBreak.choices, default=TieBreak.MOSCOW)
    # The product's own formula (framework "custom"), as last saved, and the number of that
    # version (ScoringFormulaVersion keeps each one, who wrote it and when).
    scoring_formula = models.TextField(blank=True, max_length=2000)
    scoring_formula_version = models.PositiveIntegerField(default=0)
    # Scores are stale while the last request for a recompute is newer than the start of the
    # last completed run. ``score_recompute_queued`` is set when a run is enqueued and cleared
    # when a worker starts it, so a burst of triggers enqueues one run.
    score_recompute_requested_at = models.DateTimeField(null=True, blank=True, db_index=True)
    score_recompute_queued = models.BooleanField(default=False)
    scores_computed_at = models.DateTimeField(null=True, blank=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["product_line", "name"]
        indexes = [
            # A workspace's products in id order: a list across the workspace ordered by product
            # (the API's features) reads them here instead of walking every workspace's products
            # by primary key (EXPLAIN, tests/roadmap/test_scale.py).
            models.Index(fields=["workspace", "id"], name="product_workspace_id"),
        ]
        constraints = [
            # Unique per workspace, not instance-wide: a slug taken elsewhere tells nothing.
            models.UniqueConstraint(
                fields=["workspace", "slug"], name="product_slug_per_workspace"
            ),
            models.CheckConstraint(
                condition=models.Q(scoring_framework__in=ScoringFramework.values),
                name="product_framework_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(reach_source__in=ReachSource.values),
                name="product_reach_source_valid",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("roadmap:product", kwargs={"slug": self.slug})

    @property
    def scores_stale(self) -> bool:
        requested, computed = self.score_recompute_requested_at, self.scores_computed_at
        return requested is not None and (computed is None or requested >= computed)


class PersonaQuerySet(ScopedQuerySet):
    pass


class Persona(TimeStamped):
    """A kind of user or buyer, with the size of that segment (users or accounts)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="personas")
    name = models.CharField(max_length=120)
    segment = models.CharField("role / segment", max_length=120, blank=True)
    description = models.TextField(blank=True)
    goals = models.TextField(blank=True)
    pains = models.TextField(blank=True)
    segment_size = models.PositiveIntegerField(
        default=0, help_text="How many users or accounts this persona stands for."
    )

    objects = PersonaQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="persona_name_unique"),
        ]

    def __str__(self):
        return self.name


class DriverSource(models.TextChoices):
    MANUAL = "manual", "Scored by hand (0–10)"
    REVENUE = "revenue", "Revenue at stake (from evidence)"
    CUSTOMERS = "customers", "Distinct customers asking (from evidence)"


class ScoringDriverQuerySet(ScopedQuerySet):
    pass


class ScoringDriver(TimeStamped):
    """A criterion of a product's weighted scoring, e.g. "Strategic fit" with weight 2."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="drivers")
    name = models.CharField(max_length=80)
    weight = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.01"), "A weight must be greater than 0.")],
    )
    position = models.PositiveIntegerField(default=0)
    # An evidence-fed driver scores each feature from its evidence: ``full_scale`` (an amount of
    # revenue at stake, or a number of customers) scores 10, proportionally below, capped at 10.
    source = models.CharField(
        max_length=10, choices=DriverSource.choices, default=DriverSource.MANUAL
    )
    full_scale = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"), "Full scale must be greater than 0.")],
        help_text="For a driver fed by evidence: the revenue at stake, or the number of "
        "customers, that scores 10.",
    )

    objects = ScoringDriverQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="driver_name_unique"),
            models.CheckConstraint(condition=models.Q(weight__gt=0), name="driver_weight_positive"),
            models.CheckConstraint(
                condition=models.Q(source__in=DriverSource.values), name="driver_source_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(source=DriverSource.MANUAL) | models.Q(full_scale__gt=0),
                name="driver_evidence_has_scale",
            ),
        ]

    def __str__(self):
        return f"{self.name} (×{self.weight})"


class ScoringFormulaVersionQuerySet(ScopedQuerySet):
    pass


class ScoringFormulaVersion(models.Model):
    """One saved version of a product's own scoring formula: what it said, who saved it, when.
    The product keeps the latest (``Product.scoring_formula``); these are its history."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="formula_versions")
    number = models.PositiveIntegerField()
    source = models.TextField(max_length=2000)
    author = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScoringFormulaVersionQuerySet.as_manager()

    class Meta:
        ordering = ["product", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "number"], name="formula_version_number_unique"
            ),
        ]

    def __str__(self):
        return f"{self.product} formula v{self.number}"
