"""A product's custom fields (issue 19): a number, a choice with a numeric value, or yes/no,
set on each feature and read by the product's own formula under its key."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from roadmap import bounds
from roadmap.models.base import ScopedQuerySet, TimeStamped
from roadmap.planning.models.feature import Feature
from roadmap.planning.models.product import Product

# How many fields a product has, and choices a field has, at most.
FIELDS_PER_PRODUCT = 30
KEY_MAX_LENGTH = 80
CHOICES_PER_FIELD = 30
# The largest magnitude of a number (or a choice's value), and its precision: 2 decimals.
VALUE_LIMIT = Decimal("1000000000")
VALUE_STEP = Decimal("0.01")
_in_range = [
    MinValueValidator(-VALUE_LIMIT, "Keep this between −1,000,000,000 and 1,000,000,000."),
    MaxValueValidator(VALUE_LIMIT, "Keep this between −1,000,000,000 and 1,000,000,000."),
]


class CustomFieldKind(models.TextChoices):
    NUMBER = "number", "Number"
    CHOICE = "choice", "Choice"
    YES_NO = "yes_no", "Yes / no"


class CustomFieldQuerySet(ScopedQuerySet):
    workspace_path = "product__workspace"


class CustomField(TimeStamped):
    """A field every feature of a product can have a value in, e.g. "Segment" (a choice)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="custom_fields")
    name = models.CharField(max_length=60, validators=[bounds.single_line])
    # The name a formula reads it by (``scoring.driver_key`` of the name), unique in the product.
    key = models.CharField(max_length=KEY_MAX_LENGTH, editable=False)
    kind = models.CharField(
        max_length=10, choices=CustomFieldKind.choices, default=CustomFieldKind.NUMBER
    )
    position = models.PositiveIntegerField(default=0)

    objects = CustomFieldQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="custom_field_name_unique"),
            models.UniqueConstraint(fields=["product", "key"], name="custom_field_key_unique"),
            models.CheckConstraint(
                condition=models.Q(kind__in=CustomFieldKind.values), name="custom_field_kind_valid"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"


class CustomFieldChoiceQuerySet(ScopedQuerySet):
    workspace_path = "field__product__workspace"


class CustomFieldChoice(models.Model):
    """One choice of a choice field, with the number a formula reads for it."""

    field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="choices")
    label = models.CharField(max_length=60, validators=[bounds.single_line])
    value = models.DecimalField(max_digits=12, decimal_places=2, validators=_in_range)
    position = models.PositiveIntegerField(default=0)

    objects = CustomFieldChoiceQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["field", "label"], name="custom_choice_label_unique"),
            models.CheckConstraint(
                condition=models.Q(value__gte=-VALUE_LIMIT, value__lte=VALUE_LIMIT),
                name="custom_choice_value_range",
            ),
        ]

    def __str__(self):
        return f"{self.label} = {self.value}"


class FeatureFieldValueQuerySet(ScopedQuerySet):
    workspace_path = "feature__product__workspace"


class FeatureFieldValue(models.Model):
    """A feature's value in one custom field: a number (yes/no: 1 or 0), or a choice. No row: no
    value (a formula reading the field gives the feature no score, and says so)."""

    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="field_values")
    field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="values")
    value = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, validators=_in_range
    )
    choice = models.ForeignKey(
        CustomFieldChoice, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    objects = FeatureFieldValueQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["feature", "field"], name="field_value_unique"),
            models.CheckConstraint(
                condition=(models.Q(value__isnull=True) & models.Q(choice__isnull=False))
                | (models.Q(value__isnull=False) & models.Q(choice__isnull=True)),
                name="field_value_number_or_choice",
            ),
            models.CheckConstraint(
                condition=models.Q(value__isnull=True)
                | models.Q(value__gte=-VALUE_LIMIT, value__lte=VALUE_LIMIT),
                name="field_value_range",
            ),
        ]

    def __str__(self):
        return f"{self.feature} · {self.field.name}: {self.display}"

    @property
    def number(self) -> Decimal:
        """What a formula reads: the number, or the choice's value."""
        return self.choice.value if self.choice is not None else self.value  # type: ignore[return-value]

    @property
    def display(self) -> str:
        if self.choice is not None:
            return self.choice.label
        if self.field.kind == CustomFieldKind.YES_NO:
            return "Yes" if self.value else "No"
        return f"{self.value.normalize():f}" if self.value is not None else ""

    def clean(self):
        super().clean()
        if not (self.feature_id and self.field_id):
            return
        if self.feature.product_id != self.field.product_id:
            raise ValidationError({"field": "This field belongs to another product."})
        kind = self.field.kind
        if kind == CustomFieldKind.CHOICE:
            if self.choice is None or self.choice.field_id != self.field_id:
                raise ValidationError(
                    {"choice": f"Choose one of the choices of {self.field.name}."}
                )
        elif self.choice_id is not None:
            raise ValidationError({"choice": f"{self.field.name} takes no choice."})
        elif kind == CustomFieldKind.YES_NO and self.value not in (Decimal(0), Decimal(1)):
            raise ValidationError({"value": f"{self.field.name} is yes (1) or no (0)."})
