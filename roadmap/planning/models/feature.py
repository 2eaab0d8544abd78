"""Features: what a product could build, why (business case, evidence) and how it scores."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from roadmap import bounds
from roadmap.models.base import ScopedQuerySet, TimeStamped
from roadmap.planning.models.product import Persona, Product, ScoringDriver


class FeatureStatus(models.TextChoices):
    IDEA = "idea", "Idea"
    DISCOVERY = "discovery", "Discovery"
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    SHIPPED = "shipped", "Shipped"
    ARCHIVED = "archived", "Archived"


class MoSCoW(models.TextChoices):
    MUST = "must", "Must have"
    SHOULD = "should", "Should have"
    COULD = "could", "Could have"
    WONT = "wont", "Won't have"


class Kano(models.TextChoices):
    BASIC = "basic", "Basic"
    PERFORMANCE = "performance", "Performance"
    DELIGHTER = "delighter", "Delighter"
    INDIFFERENT = "indifferent", "Indifferent"


class MarketPosition(models.TextChoices):
    PARITY = "parity", "Parity (competitors have it)"
    DIFFERENTIATOR = "differentiator", "Differentiator"


IMPACT_CHOICES = [
    (Decimal("0.25"), "0.25 — minimal"),
    (Decimal("0.50"), "0.5 — low"),
    (Decimal("1.00"), "1 — medium"),
    (Decimal("2.00"), "2 — high"),
    (Decimal("3.00"), "3 — massive"),
]
WSJF_SCALE = (1, 2, 3, 5, 8, 13, 20)


def _one_to_ten(label: str):
    return [
        MinValueValidator(1, f"{label} must be between 1 and 10."),
        MaxValueValidator(10, f"{label} must be between 1 and 10."),
    ]


def _at_least_one(label: str):
    return [MinValueValidator(1, f"{label} must be at least 1.")]


class TagQuerySet(ScopedQuerySet):
    pass


class Tag(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=50)

    objects = TagQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["product", "name"], name="tag_unique")]

    def __str__(self):
        return self.name


class FeatureQuerySet(ScopedQuerySet):
    pass


class Feature(TimeStamped):
    # No index of its own: the (product, rank), (product, status) and (product, updated_at)
    # indexes lead with it, and serve its lookups and a product's delete (issue 20).
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="features", db_index=False
    )
    title = models.CharField(max_length=200, validators=[bounds.single_line])
    description = models.TextField(blank=True)
    requirements = models.TextField(
        blank=True, help_text="Markdown.", validators=[bounds.markdown_length]
    )
    status = models.CharField(
        max_length=20, choices=FeatureStatus.choices, default=FeatureStatus.IDEA, db_index=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_features",
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="features")
    personas = models.ManyToManyField(Persona, blank=True, related_name="features")

    # Business case
    expected_revenue = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0, "Expected revenue cannot be negative.")],
        help_text="Expected yearly revenue this feature brings.",
    )
    cost = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0, "Cost cannot be negative.")],
    )
    business_case_notes = models.TextField(blank=True)
    internal_notes = models.TextField(blank=True)

    # Scoring inputs. Which ones matter depends on the product's framework (planning/scoring.py).
    reach = models.PositiveIntegerField(
        null=True, blank=True, help_text="People or events per quarter."
    )
    impact = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        choices=IMPACT_CHOICES,
        error_messages={"invalid_choice": "Impact must be one of 0.25, 0.5, 1, 2 or 3."},
    )
    confidence = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(100, "Confidence is a percentage between 0 and 100.")],
        help_text="Percent, 0–100.",
    )
    effort = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"), "Effort must be greater than 0.")],
        help_text="Person-months.",
    )
    impact_ice = models.PositiveSmallIntegerField(
        "impact (ICE)", null=True, blank=True, validators=_one_to_ten("Impact (ICE)")
    )
    confidence_ice = models.PositiveSmallIntegerField(
        "confidence (ICE)", null=True, blank=True, validators=_one_to_ten("Confidence (ICE)")
    )
    ease = models.PositiveSmallIntegerField(null=True, blank=True, validators=_one_to_ten("Ease"))
    business_value = models.PositiveIntegerField(
        null=True, blank=True, validators=_at_least_one("Business value")
    )
    time_criticality = models.PositiveIntegerField(
        null=True, blank=True, validators=_at_least_one("Time criticality")
    )
    risk_reduction = models.PositiveIntegerField(
        "risk reduction / opportunity enablement",
        null=True,
        blank=True,
        validators=_at_least_one("Risk reduction"),
    )
    job_size = models.PositiveIntegerField(
        null=True, blank=True, validators=_at_least_one("Job size")
    )
    value = models.PositiveSmallIntegerField(null=True, blank=True, validators=_one_to_ten("Value"))

    moscow = models.CharField("MoSCoW", max_length=10, choices=MoSCoW.choices, blank=True)
    kano = models.CharField(max_length=12, choices=Kano.choices, blank=True)
    market_position = models.CharField(
        max_length=14,
        choices=MarketPosition.choices,
        blank=True,
        help_text="Against competitors: table stakes (parity) or what sets the product apart.",
    )

    # Written only by the scoring services (see roadmap.planning.services.scoring).
    score = models.FloatField(null=True, blank=True, db_index=True, editable=False)
    score_breakdown = models.JSONField(default=dict, blank=True, editable=False)
    scored_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Indexed with its product (feature_product_rank), never alone: a rank range without the
    # product would match that range in every product of the database (issue 20).
    # Position by score within the product's open features (not shipped or archived); null for
    # closed ones. Ties: see roadmap.planning.services.scoring.product_rerank.
    rank = models.PositiveIntegerField(null=True, blank=True, editable=False)

    # Optimistic concurrency: every edit through a service bumps it.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = FeatureQuerySet.as_manager()
    # Who changed what, when: a row per save (score columns are written with update() by the
    # scoring services, so recomputes do not flood the history).
    history = HistoricalRecords(
        excluded_fields=["score", "score_breakdown", "scored_at", "rank", "version", "updated_at"],
    )

    class Meta:
        ordering = [models.F("rank").asc(nulls_last=True), "id"]
        indexes = [
            models.Index(fields=["product", "status"], name="feature_product_status"),
            models.Index(fields=["product", "rank"], name="feature_product_rank"),
            models.Index(fields=["product", "updated_at"], name="feature_product_updated"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=FeatureStatus.values), name="feature_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(impact__isnull=True)
                | models.Q(impact__in=[c[0] for c in IMPACT_CHOICES]),
                name="feature_impact_scale",
            ),
            models.CheckConstraint(
                condition=models.Q(confidence__isnull=True) | models.Q(confidence__lte=100),
                name="feature_confidence_percent",
            ),
            models.CheckConstraint(
                condition=models.Q(effort__isnull=True) | models.Q(effort__gt=0),
                name="feature_effort_positive",
            ),
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{f}__isnull": True})
                    | models.Q(**{f"{f}__gte": 1, f"{f}__lte": 10}),
                    name=f"feature_{f}_1_10",
                )
                for f in ("impact_ice", "confidence_ice", "ease", "value")
            ],
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{f}__isnull": True}) | models.Q(**{f"{f}__gte": 1}),
                    name=f"feature_{f}_min_1",
                )
                for f in ("business_value", "time_criticality", "risk_reduction", "job_size")
            ],
            models.CheckConstraint(
                condition=models.Q(moscow__in=["", *MoSCoW.values]), name="feature_moscow_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(kano__in=["", *Kano.values]), name="feature_kano_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(market_position__in=["", *MarketPosition.values]),
                name="feature_market_position_valid",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("roadmap:feature", kwargs={"pk": self.pk})

    def clean(self):
        super().clean()
        if self.owner_id and self.product_id:
            if not self.product.workspace.memberships.filter(user_id=self.owner_id).exists():
                raise ValidationError({"owner": "The owner must be a member of this workspace."})


class FeatureDriverScoreQuerySet(ScopedQuerySet):
    workspace_path = "feature__product__workspace"


class FeatureDriverScore(models.Model):
    """A feature's 0–10 score on one driver of its product's weighted scoring."""

    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="driver_scores")
    driver = models.ForeignKey(ScoringDriver, on_delete=models.CASCADE, related_name="scores")
    score = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(10, "A driver score must be between 0 and 10.")]
    )

    objects = FeatureDriverScoreQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["feature", "driver"], name="driver_score_unique"),
            models.CheckConstraint(
                condition=models.Q(score__gte=0, score__lte=10), name="driver_score_0_10"
            ),
        ]

    def __str__(self):
        return f"{self.feature} · {self.driver.name}: {self.score}"

    def clean(self):
        super().clean()
        if self.feature_id and self.driver_id and self.feature.product_id != self.driver.product_id:
            raise ValidationError({"driver": "This driver belongs to another product."})


class FeatureRankSnapshot(models.Model):
    """A feature's rank and score on a day, so movement ("up 3 since last week") can be shown."""

    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="rank_snapshots")
    taken_on = models.DateField(db_index=True)
    rank = models.PositiveIntegerField()
    score = models.FloatField(null=True)

    class Meta:
        ordering = ["-taken_on"]
        constraints = [
            models.UniqueConstraint(fields=["feature", "taken_on"], name="rank_snapshot_unique"),
        ]

    def __str__(self):
        return f"{self.feature} #{self.rank} on {self.taken_on}"
