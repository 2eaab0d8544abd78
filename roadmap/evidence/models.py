"""Why features matter: customer evidence (insights) and success metrics (objectives)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
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
    PORTAL = "portal", "Roadmap page"


class Importance(models.IntegerChoices):
    LOW = 1, "Low"
    MEDIUM = 2, "Medium"
    HIGH = 3, "High"
    CRITICAL = 4, "Critical"


class CustomerQuerySet(ScopedQuerySet):
    pass


class Customer(TimeStamped):
    """A company that evidence comes from: insights naming the same customer count once, in reach
    and in revenue at stake. Found for a stakeholder's confirmed address by its email domains."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="customers")
    name = models.CharField(max_length=160, validators=[bounds.single_line])
    segment = models.CharField(
        max_length=60,
        blank=True,
        validators=[bounds.single_line],
        help_text='e.g. "Enterprise", "SMB".',
    )
    persona = models.ForeignKey(
        Persona, on_delete=models.SET_NULL, null=True, blank=True, related_name="customers"
    )
    annual_revenue = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="What the customer pays (or would pay) a year.",
    )

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "product", name="customer_name_unique"),
            models.CheckConstraint(
                condition=models.Q(annual_revenue__gte=0) | models.Q(annual_revenue__isnull=True),
                name="customer_revenue_not_negative",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        self.name = " ".join(self.name.split())
        if self.persona_id and self.product_id and self.persona.product_id != self.product_id:
            raise ValidationError({"persona": "This persona belongs to another product."})
        # The name constraint is on Lower(name): said here on the field, not as the constraint's
        # generic message.
        if (
            self.name
            and self.product_id
            and Customer.objects.filter(product_id=self.product_id, name__iexact=self.name)
            .exclude(pk=self.pk)
            .exists()
        ):
            raise ValidationError(
                {"name": f"There is already a customer named “{self.name}” in this product."}
            )


class CustomerDomain(models.Model):
    """An email domain of a customer (``acme.com``): unique within a product, lower case."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="domains")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    domain = models.CharField(max_length=253)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(fields=["product", "domain"], name="customer_domain_unique"),
            models.CheckConstraint(
                condition=models.Q(domain=Lower("domain")) & ~models.Q(domain=""),
                name="customer_domain_lower",
            ),
        ]

    def __str__(self):
        return self.domain


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
    company = models.ForeignKey(
        Customer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="insights",
        help_text="The customer (company) it comes from: insights of one company count once.",
    )
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
        if self.company_id and self.product_id and self.company.product_id != self.product_id:
            raise ValidationError({"company": "This customer belongs to another product."})


class ExperimentMethod(models.TextChoices):
    INTERVIEW = "interview", "Interviews"
    SURVEY = "survey", "Survey"
    PROTOTYPE = "prototype", "Prototype test"
    FAKE_DOOR = "fake_door", "Fake door"
    AB_TEST = "ab_test", "A/B test"
    CONCIERGE = "concierge", "Concierge"
    OTHER = "other", "Other"


class ExperimentDecision(models.TextChoices):
    PENDING = "pending", "Not decided"
    PERSEVERE = "persevere", "Go ahead"
    PIVOT = "pivot", "Change course"
    STOP = "stop", "Stop"


class ExperimentQuerySet(ScopedQuerySet):
    pass


class Experiment(TimeStamped):
    """A discovery experiment: what was believed, how it was tested, on whom, what came out and
    what was decided — validation evidence beside the insights of the features it tests."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="experiments")
    hypothesis = models.CharField(
        max_length=300,
        validators=[bounds.single_line],
        help_text="We believe that … will … (one line).",
    )
    method = models.CharField(
        max_length=12, choices=ExperimentMethod.choices, default=ExperimentMethod.INTERVIEW
    )
    audience = models.CharField(
        max_length=160, blank=True, validators=[bounds.single_line], help_text="Who took part."
    )
    result = models.TextField(blank=True, validators=[bounds.markdown_length])
    decision = models.CharField(
        max_length=10, choices=ExperimentDecision.choices, default=ExperimentDecision.PENDING
    )
    started_on = models.DateField(default=timezone.localdate, validators=bounds.date_range)
    ended_on = models.DateField(null=True, blank=True, validators=bounds.date_range)
    features = models.ManyToManyField(Feature, blank=True, related_name="experiments")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ExperimentQuerySet.as_manager()

    class Meta:
        ordering = ["-started_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(method__in=ExperimentMethod.values),
                name="experiment_method_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(decision__in=ExperimentDecision.values),
                name="experiment_decision_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True)
                | models.Q(ended_on__gte=models.F("started_on")),
                name="experiment_ends_after_start",
            ),
        ]

    def __str__(self):
        return self.hypothesis[:80]

    def clean(self):
        super().clean()
        if self.ended_on and self.started_on and self.ended_on < self.started_on:
            raise ValidationError({"ended_on": "The experiment cannot end before it starts."})


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
