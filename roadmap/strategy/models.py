"""Strategy and go-to-market: positioning, competitors, market size, the revenue model and the
launch checklist of each release, all tied to the same products, personas, insights and features."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from roadmap import bounds
from roadmap.evidence.models import Insight
from roadmap.models.base import ScopedQuerySet, TimeStamped
from roadmap.planning.models.feature import Feature
from roadmap.planning.models.product import Persona, Product
from roadmap.planning.models.roadmap import Lane, Release

# --- Positioning ---------------------------------------------------------------------------------


class PositioningQuestion(models.TextChoices):
    MARKET_GAP = "market_gap", "What gap in the market does it fill?"
    CUSTOMER_PAINS = "customer_pains", "Which pains do customers have today?"
    PROBLEM = "problem", "What is the main problem it solves?"
    SOLUTION = "solution", "How does it meet the target market's needs?"
    COMPETITOR_SENTIMENT = "competitor_sentiment", "How do customers feel about competing products?"
    DIFFERENTIATION = "differentiation", "How is it different?"
    STANDOUT = "standout", "What makes it stand out?"


class PositioningQuerySet(ScopedQuerySet):
    pass


class Positioning(TimeStamped):
    """A product's positioning: the product marketer's questions, answered (see answers), and
    which outside audiences may read it."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="positioning")
    show_to_investors = models.BooleanField(
        default=False, help_text="Show the positioning on investor share links."
    )
    show_to_executives = models.BooleanField(
        default=False, help_text="Show the positioning on executive share links."
    )

    objects = PositioningQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name_plural = "positionings"

    def __str__(self):
        return f"Positioning of {self.product}"


class PositioningAnswerQuerySet(ScopedQuerySet):
    workspace_path = "positioning__product__workspace"


class PositioningAnswer(TimeStamped):
    """One answer of a positioning, citing the evidence (insights) and personas behind it."""

    positioning = models.ForeignKey(Positioning, on_delete=models.CASCADE, related_name="answers")
    question = models.CharField(max_length=24, choices=PositioningQuestion.choices)
    text = models.TextField(blank=True, help_text="Markdown.", validators=[bounds.markdown_length])
    insights = models.ManyToManyField(Insight, blank=True, related_name="positioning_answers")
    personas = models.ManyToManyField(Persona, blank=True, related_name="positioning_answers")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = PositioningAnswerQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"], m2m_fields=[insights, personas])

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["positioning", "question"], name="positioning_answer_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(question__in=PositioningQuestion.values),
                name="positioning_question_valid",
            ),
        ]

    def __str__(self):
        return f"{self.positioning.product}: {self.get_question_display()}"


# --- Market and competitors ----------------------------------------------------------------------


class CompetitorQuerySet(ScopedQuerySet):
    pass


class Competitor(TimeStamped):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="competitors")
    name = models.CharField(max_length=120)
    website = models.URLField(blank=True)
    segment = models.CharField(max_length=120, blank=True, help_text="Who they sell to.")
    strengths = models.TextField(blank=True)
    weaknesses = models.TextField(blank=True)
    pricing_notes = models.TextField(blank=True)

    objects = CompetitorQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="competitor_name_unique"),
        ]

    def __str__(self):
        return self.name


class ComparisonStatus(models.TextChoices):
    HAS = "has", "Has it"
    PARTIAL = "partial", "Partly"
    MISSING = "missing", "Missing"
    BETTER = "better", "Better than ours"
    WORSE = "worse", "Worse than ours"


class ComparisonQuerySet(ScopedQuerySet):
    workspace_path = "competitor__product__workspace"


class Comparison(TimeStamped):
    """One cell of the comparison grid: how a competitor stands on one feature or one theme."""

    competitor = models.ForeignKey(Competitor, on_delete=models.CASCADE, related_name="comparisons")
    feature = models.ForeignKey(
        Feature, on_delete=models.CASCADE, null=True, blank=True, related_name="comparisons"
    )
    lane = models.ForeignKey(
        Lane,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="comparisons",
        help_text="A theme, when comparing by theme rather than by feature.",
    )
    status = models.CharField(max_length=8, choices=ComparisonStatus.choices)
    note = models.CharField(max_length=300, blank=True)

    objects = ComparisonQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(feature__isnull=True) ^ models.Q(lane__isnull=True),
                name="comparison_feature_xor_lane",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ComparisonStatus.values),
                name="comparison_status_valid",
            ),
            models.UniqueConstraint(
                fields=["competitor", "feature"],
                condition=models.Q(feature__isnull=False),
                name="comparison_feature_unique",
            ),
            models.UniqueConstraint(
                fields=["competitor", "lane"],
                condition=models.Q(lane__isnull=False),
                name="comparison_lane_unique",
            ),
        ]

    def __str__(self):
        return f"{self.competitor} · {self.feature or self.lane}: {self.get_status_display()}"

    def clean(self):
        super().clean()
        if bool(self.feature_id) == bool(self.lane_id):
            raise ValidationError("Compare either a feature or a theme.")
        if self.competitor_id:
            product_id = self.competitor.product_id
            if self.feature_id and self.feature.product_id != product_id:
                raise ValidationError({"feature": "This feature belongs to another product."})
            if self.lane_id and self.lane.product_id != product_id:
                raise ValidationError({"lane": "This theme belongs to another product."})


class MarketSizeKind(models.TextChoices):
    TAM = "tam", "TAM: total addressable market"
    SAM = "sam", "SAM: serviceable available market"
    SOM = "som", "SOM: serviceable obtainable market"


class MarketSizeQuerySet(ScopedQuerySet):
    pass


class MarketSize(TimeStamped):
    """A sourced, dated estimate of a product's TAM, SAM or SOM (older estimates are kept)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="market_sizes")
    kind = models.CharField(max_length=3, choices=MarketSizeKind.choices)
    value = models.DecimalField(
        max_digits=16,
        decimal_places=2,
        validators=[MinValueValidator(0, "A market size cannot be negative.")],
        help_text="Yearly revenue, in the product's currency.",
    )
    source = models.CharField(max_length=200, help_text="Where the figure comes from.")
    source_url = models.URLField(blank=True)
    as_of = models.DateField(help_text="When the estimate was made.", validators=bounds.date_range)
    notes = models.TextField(blank=True)

    objects = MarketSizeQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "-as_of"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=MarketSizeKind.values), name="market_size_kind_valid"
            ),
            models.CheckConstraint(condition=models.Q(value__gte=0), name="market_size_positive"),
        ]

    def __str__(self):
        return f"{self.product} {self.kind.upper()} {self.value} ({self.as_of})"


# --- Business case -------------------------------------------------------------------------------


class RevenueModelQuerySet(ScopedQuerySet):
    pass


class RevenueModel(TimeStamped):
    """The assumptions behind a product's business case: a currency and the share of each
    persona's segment expected to buy."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="revenue_model")
    currency = models.CharField(max_length=3, default="EUR", help_text="ISO 4217 code.")
    conversion_rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("2.00"),
        validators=[
            MinValueValidator(0, "A conversion rate cannot be negative."),
            MaxValueValidator(100, "A conversion rate is a percentage, at most 100."),
        ],
        help_text="Percent of a persona's segment expected to become customers.",
    )
    notes = models.TextField(blank=True)

    objects = RevenueModelQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(conversion_rate__gte=0, conversion_rate__lte=100),
                name="revenue_model_conversion_percent",
            ),
        ]

    def __str__(self):
        return f"Revenue model of {self.product}"


class PricePlanQuerySet(ScopedQuerySet):
    pass


class PricePlan(TimeStamped):
    """A price point, sold to one persona's segment (or to all, when no persona is set)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="price_plans")
    name = models.CharField(max_length=80)
    yearly_price = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(0, "A price cannot be negative.")],
        help_text="Per customer per year.",
    )
    persona = models.ForeignKey(
        Persona,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="price_plans",
        help_text="The segment this plan is sold to.",
    )
    conversion_rate = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[
            MinValueValidator(0, "A conversion rate cannot be negative."),
            MaxValueValidator(100, "A conversion rate is a percentage, at most 100."),
        ],
        help_text="Overrides the revenue model's conversion rate for this plan.",
    )

    objects = PricePlanQuerySet.as_manager()

    class Meta:
        ordering = ["yearly_price", "name"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="price_plan_name_unique"),
            models.CheckConstraint(
                condition=models.Q(yearly_price__gte=0), name="price_plan_price_positive"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.yearly_price}/year)"

    def clean(self):
        super().clean()
        if self.persona_id and self.product_id and self.persona.product_id != self.product_id:
            raise ValidationError({"persona": "This persona belongs to another product."})


# --- Launch readiness ----------------------------------------------------------------------------


class LaunchTeam(models.TextChoices):
    ENGINEERING = "engineering", "Engineering"
    DESIGN = "design", "Design"
    MARKETING = "marketing", "Marketing"
    SALES = "sales", "Sales enablement"
    SUPPORT = "support", "Support"
    DOCUMENTATION = "documentation", "Documentation"


class LaunchTemplateTaskQuerySet(ScopedQuerySet):
    workspace_path = "workspace"


class LaunchTemplateTask(TimeStamped):
    """A task of the workspace's launch checklist template, copied into each release's list."""

    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="launch_template_tasks"
    )
    team = models.CharField(max_length=16, choices=LaunchTeam.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    days_before_release = models.IntegerField(
        default=0,
        validators=bounds.lead_days_range,
        help_text="Due this many days before the release's target date.",
    )
    position = models.PositiveIntegerField(default=0)

    objects = LaunchTemplateTaskQuerySet.as_manager()

    class Meta:
        ordering = ["team", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(team__in=LaunchTeam.values), name="launch_template_team_valid"
            ),
        ]

    def __str__(self):
        return f"{self.get_team_display()}: {self.title}"


class LaunchTaskQuerySet(ScopedQuerySet):
    workspace_path = "release__product__workspace"


class LaunchTask(TimeStamped):
    """A task of one release's launch checklist, with an owner and a due date."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="launch_tasks")
    team = models.CharField(max_length=16, choices=LaunchTeam.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="launch_tasks",
    )
    due_on = models.DateField(null=True, blank=True, validators=bounds.date_range)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    position = models.PositiveIntegerField(default=0)

    objects = LaunchTaskQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["team", "position", "id"]
        indexes = [models.Index(fields=["release", "done_at"], name="launch_task_release_done")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(team__in=LaunchTeam.values), name="launch_task_team_valid"
            ),
        ]

    def __str__(self):
        return f"{self.release}: {self.title}"

    def clean(self):
        super().clean()
        if self.owner_id and self.release_id:
            workspace = self.release.product.workspace
            if not workspace.memberships.filter(user_id=self.owner_id).exists():
                raise ValidationError({"owner": "The owner must be a member of this workspace."})
