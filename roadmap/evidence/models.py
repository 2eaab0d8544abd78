"""Why features matter: customer evidence (insights) and success metrics (objectives)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from roadmap import bounds
from roadmap.models.base import ScopedQuerySet, TimeStamped
from roadmap.planning.models.feature import Feature
from roadmap.planning.models.product import Persona, Product


class InsightSource(models.TextChoices):
    CALL = "call", "Customer call"
    INTERVIEW = "interview", "Interview"
    TICKET = "ticket", "Support ticket"
    SURVEY = "survey", "Survey"
    SALES = "sales", "Sales"


class Importance(models.IntegerChoices):
    LOW = 1, "Low"
    MEDIUM = 2, "Medium"
    HIGH = 3, "High"
    CRITICAL = 4, "Critical"


class InsightQuerySet(ScopedQuerySet):
    pass


class Insight(TimeStamped):
    """A piece of customer evidence: who said what, where, and how much it matters."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="insights")
    source = models.CharField(max_length=12, choices=InsightSource.choices, db_index=True)
    customer = models.CharField(
        "customer or account", max_length=120, db_index=True, help_text="Who said it."
    )
    persona = models.ForeignKey(
        Persona, on_delete=models.SET_NULL, null=True, blank=True, related_name="insights"
    )
    text = models.TextField("quote or note")
    observed_on = models.DateField("date", default=timezone.localdate, validators=bounds.date_range)
    importance = models.PositiveSmallIntegerField(
        choices=Importance.choices, default=Importance.MEDIUM
    )
    features = models.ManyToManyField(Feature, blank=True, related_name="insights")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = InsightQuerySet.as_manager()

    class Meta:
        ordering = ["-observed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(source__in=InsightSource.values), name="insight_source_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(importance__gte=1, importance__lte=4),
                name="insight_importance_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(customer=""), name="insight_customer_required"
            ),
        ]

    def __str__(self):
        return f"{self.customer}: {self.text[:60]}"

    def clean(self):
        super().clean()
        self.customer = " ".join(self.customer.split())
        if self.persona_id and self.product_id and self.persona.product_id != self.product_id:
            raise ValidationError({"persona": "This persona belongs to another product."})


class ObjectiveQuerySet(ScopedQuerySet):
    pass


class Objective(TimeStamped):
    """A success metric of a product: where it started, where it should get to, where it is."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="objectives")
    name = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    metric = models.CharField(max_length=120, help_text='What is measured, e.g. "weekly actives".')
    unit = models.CharField(max_length=20, blank=True, help_text='e.g. "%", "€", "users".')
    baseline = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    target = models.DecimalField(max_digits=14, decimal_places=2)
    current = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    due = models.DateField(null=True, blank=True, validators=bounds.date_range)
    features = models.ManyToManyField(Feature, blank=True, related_name="objectives")

    objects = ObjectiveQuerySet.as_manager()

    class Meta:
        ordering = ["due", "name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.baseline is not None and self.target is not None and self.baseline == self.target:
            raise ValidationError({"target": "The target must differ from the baseline."})

    @property
    def progress(self) -> float | None:
        """Share of the way from baseline to target, 0–1 (None without a baseline and current)."""
        if self.baseline is None or self.current is None or self.target == self.baseline:
            return None
        share = float((self.current - self.baseline) / (self.target - self.baseline))
        return max(0.0, min(1.0, share))
