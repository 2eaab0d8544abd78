"""The roadmap itself: releases, lanes (themes) and the items placed on now / next / later."""

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from roadmap import bounds
from roadmap.models.base import ScopedQuerySet, TimeStamped
from roadmap.planning.models.feature import Feature, FeatureStatus
from roadmap.planning.models.product import Product


class ReleaseStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    RELEASED = "released", "Released"
    CANCELLED = "cancelled", "Cancelled"


class ReleaseQuerySet(ScopedQuerySet):
    pass


class Release(TimeStamped):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="releases")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    target_date = models.DateField(null=True, blank=True, validators=bounds.date_range)
    status = models.CharField(
        max_length=12, choices=ReleaseStatus.choices, default=ReleaseStatus.PLANNED
    )
    # Release notes: what the PM publishes of a release to the external roadmap (its name, this
    # summary and its shipped external items). Unpublished, nothing of a release leaves.
    public_summary = models.TextField(
        blank=True,
        validators=[bounds.markdown_length],
        help_text="The release notes' introduction, for customers (Markdown).",
    )
    notes_published_at = models.DateTimeField(null=True, blank=True)

    objects = ReleaseQuerySet.as_manager()

    class Meta:
        ordering = ["target_date", "name"]
        constraints = [
            models.UniqueConstraint(fields=["product", "name"], name="release_name_unique"),
            models.CheckConstraint(
                condition=models.Q(status__in=ReleaseStatus.values), name="release_status_valid"
            ),
        ]

    def __str__(self):
        return self.name


class LaneQuerySet(ScopedQuerySet):
    pass


class Lane(TimeStamped):
    """A theme that groups roadmap items (a swimlane on the board and the timeline)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="lanes")
    name = models.CharField(max_length=80, validators=[bounds.single_line])
    position = models.PositiveIntegerField(default=0)

    objects = LaneQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        constraints = [models.UniqueConstraint(fields=["product", "name"], name="lane_unique")]

    def __str__(self):
        return self.name


class Horizon(models.TextChoices):
    NOW = "now", "Now"
    NEXT = "next", "Next"
    LATER = "later", "Later"


class Visibility(models.TextChoices):
    INTERNAL = "internal", "Internal"
    EXTERNAL = "external", "External"


class RoadmapItemQuerySet(ScopedQuerySet):
    pass


class RoadmapItem(TimeStamped):
    """A feature, or a standalone theme, placed on a product's roadmap.

    Outsiders only ever read ``external_title``/``external_description`` (falling back to the
    feature's title), and only for items whose visibility is external: see roadmap.sharing.external.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="roadmap_items")
    feature = models.OneToOneField(
        Feature,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="roadmap_item",
        help_text="Leave empty for a standalone theme.",
    )
    title = models.CharField(
        max_length=200,
        blank=True,
        help_text="Internal title of a theme (features use theirs).",
        validators=[bounds.single_line],
    )
    theme_status = models.CharField(
        max_length=20,
        choices=FeatureStatus.choices,
        default=FeatureStatus.PLANNED,
        help_text="Status of a standalone theme; feature items follow their feature.",
    )
    horizon = models.CharField(
        max_length=5, choices=Horizon.choices, default=Horizon.LATER, db_index=True
    )
    position = models.PositiveIntegerField(default=0)
    lane = models.ForeignKey(
        Lane, on_delete=models.SET_NULL, null=True, blank=True, related_name="items"
    )
    start_date = models.DateField(null=True, blank=True, validators=bounds.date_range)
    end_date = models.DateField(null=True, blank=True, validators=bounds.date_range)
    release = models.ForeignKey(
        Release, on_delete=models.SET_NULL, null=True, blank=True, related_name="items"
    )
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.INTERNAL, db_index=True
    )
    external_title = models.CharField(
        max_length=200,
        blank=True,
        help_text="What outsiders read. Defaults to the title.",
        validators=[bounds.single_line],
    )
    external_description = models.TextField(blank=True)

    objects = RoadmapItemQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["horizon", "position", "id"]
        indexes = [
            models.Index(fields=["product", "horizon", "position"], name="item_board_order"),
            # A board cell's first cards (planning selectors' _cell_firsts), read cell by cell.
            models.Index(
                fields=["product", "lane", "horizon", "position", "id"], name="item_cell_order"
            ),
            # The home page's overdue count of a product: without it, a sequential scan of every
            # product's items (132 ms beside 1M features; 0.04 ms with it).
            models.Index(fields=["product", "end_date"], name="item_product_end"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(horizon__in=Horizon.values), name="item_horizon_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(visibility__in=Visibility.values), name="item_visibility_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(start_date__isnull=True)
                | models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="item_dates_in_order",
            ),
            models.CheckConstraint(
                condition=models.Q(feature__isnull=False) | ~models.Q(title=""),
                name="item_feature_or_title",
            ),
        ]

    def __str__(self):
        return self.display_title

    @property
    def display_title(self) -> str:
        if self.feature_id:
            return self.feature.title
        return self.title

    @property
    def public_title(self) -> str:
        return self.external_title or self.display_title

    @property
    def status(self) -> str:
        return self.feature.status if self.feature_id else self.theme_status

    def clean(self):
        super().clean()
        errors = {}
        if not self.feature_id and not self.title.strip():
            errors["title"] = "A theme needs a title (or pick a feature)."
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = "The end date cannot be before the start date."
        if self.product_id:
            if self.feature_id and self.feature.product_id != self.product_id:
                errors["feature"] = "This feature belongs to another product."
            if self.lane_id and self.lane.product_id != self.product_id:
                errors["lane"] = "This lane belongs to another product."
            if self.release_id and self.release.product_id != self.product_id:
                errors["release"] = "This release belongs to another product."
        if errors:
            raise ValidationError(errors)
