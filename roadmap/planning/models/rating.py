"""Rating rounds: chosen members rate a set of features on the product's scoring inputs, blind,
and the PM accepts the consensus into the features (roadmap.planning.services.rating)."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from roadmap import bounds
from roadmap.models.base import ScopedQuerySet, TimeStamped
from roadmap.planning.models.feature import Feature
from roadmap.planning.models.product import Product

# A round's name goes into the feature's history ("From rating round “…”"), whose reason column
# holds 100 characters.
ROUND_NAME_MAX_LENGTH = 80


class RatingRoundQuerySet(ScopedQuerySet):
    pass


class RatingRound(TimeStamped):
    """A PM's request to chosen members to rate some features of a product; open until closed
    (``closed_at``), and reopened by clearing it."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="rating_rounds")
    name = models.CharField(max_length=ROUND_NAME_MAX_LENGTH, validators=[bounds.single_line])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    features = models.ManyToManyField(Feature, related_name="rating_rounds")
    raters = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="RatingRoundRater", related_name="rating_rounds"
    )

    objects = RatingRoundQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="rating_round_unique_name"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("roadmap:rating_results", args=[self.product.slug, self.pk])

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class RatingRoundRaterQuerySet(ScopedQuerySet):
    workspace_path = "round__product__workspace"


class RatingRoundRater(models.Model):
    """A member asked to rate a round: when they submitted (then their ratings are final and they
    see the others'), and when they were told by email (sent once)."""

    round = models.ForeignKey(RatingRound, on_delete=models.CASCADE, related_name="seats")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rating_seats"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    objects = RatingRoundRaterQuerySet.as_manager()

    class Meta:
        ordering = ["round", "id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "user"], name="rating_rater_unique"),
        ]

    def __str__(self):
        return f"{self.user.name} in {self.round}"


class RatingQuerySet(ScopedQuerySet):
    workspace_path = "round__product__workspace"


class Rating(models.Model):
    """One rater's value for one input of one feature in a round. ``input_key`` is the table's
    key of the input: a feature field (``reach``) or a driver (``driver-<id>``)."""

    round = models.ForeignKey(RatingRound, on_delete=models.CASCADE, related_name="ratings")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="+")
    input_key = models.CharField(max_length=40)
    # Wide enough for every input's range (reach up to a billion, effort to hundredths).
    value = models.DecimalField(max_digits=12, decimal_places=2)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RatingQuerySet.as_manager()

    class Meta:
        ordering = ["round", "feature", "input_key", "rater"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "rater", "feature", "input_key"], name="rating_unique"
            ),
            models.CheckConstraint(condition=models.Q(value__gte=0), name="rating_not_negative"),
        ]

    def __str__(self):
        return f"{self.rater.name} on {self.feature}: {self.input_key} = {self.value}"
