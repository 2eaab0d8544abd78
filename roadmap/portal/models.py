"""Who asked for what on an external roadmap: contacts, votes, requests and their requesters,
and the outbox of "it's live" notices."""

import secrets

from django.core.validators import MaxLengthValidator
from django.db import models

from roadmap import bounds
from roadmap.evidence.models import Customer, Importance, Insight
from roadmap.models.base import ScopedQuerySet, TimeStamped
from roadmap.planning.models.feature import Feature
from roadmap.planning.models.product import Product
from roadmap.planning.models.roadmap import RoadmapItem
from roadmap.sharing.models.sharing import ShareLink

# A stranger's note or request text: long enough to explain, short enough to read in a list.
NOTE_MAX_LENGTH = 1_000
DESCRIPTION_MAX_LENGTH = 4_000

note_length = MaxLengthValidator(
    NOTE_MAX_LENGTH, "Keep this to %(limit_value)s characters at most."
)
description_length = MaxLengthValidator(
    DESCRIPTION_MAX_LENGTH, "Keep this to %(limit_value)s characters at most."
)


def new_contact_token() -> str:
    return secrets.token_urlsafe(32)


class ContactQuerySet(ScopedQuerySet):
    def confirmed(self):
        return self.filter(confirmed_at__isnull=False)


class Contact(TimeStamped):
    """An outsider known by an email address on one product's external roadmap. Nothing they do
    counts until they confirm the address (the link in the email carries ``confirmation_token``)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="contacts")
    email = models.EmailField()
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts"
    )
    confirmation_token = models.CharField(
        max_length=64, unique=True, default=new_contact_token, editable=False
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # "Tell me when it ships": asked with each vote or request; one-click unsubscribe clears it.
    notify = models.BooleanField(default=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(fields=["product", "email"], name="contact_unique_per_product"),
        ]

    def __str__(self):
        return self.email


class VoteQuerySet(ScopedQuerySet):
    workspace_path = "item__product__workspace"

    def confirmed(self):
        return self.filter(confirmed_at__isnull=False)


class Vote(TimeStamped):
    """ "I want this": one contact's vote for one external roadmap item, counted once confirmed."""

    item = models.ForeignKey(RoadmapItem, on_delete=models.CASCADE, related_name="votes")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="votes")
    share_link = models.ForeignKey(
        ShareLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="votes"
    )
    note = models.TextField(blank=True, validators=[note_length])
    confirmed_at = models.DateTimeField(null=True, blank=True)
    insight = models.OneToOneField(
        Insight, on_delete=models.SET_NULL, null=True, blank=True, related_name="portal_vote"
    )

    objects = VoteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "contact"], name="vote_once_per_item"),
        ]
        indexes = [models.Index(fields=["item", "confirmed_at"], name="vote_item_confirmed")]

    def __str__(self):
        return f"{self.contact} → {self.item}"


class RequestStatus(models.TextChoices):
    NEW = "new", "New"
    LINKED = "linked", "Linked to a feature"
    DECLINED = "declined", "Declined"
    MERGED = "merged", "Merged"
    SPAM = "spam", "Spam"


# What a requester reads of their request's status (never "spam": a spammer learns nothing).
OPEN_REQUEST_STATUSES = (RequestStatus.NEW, RequestStatus.LINKED)


class RequestSource(models.TextChoices):
    PORTAL = "portal", "Roadmap page"
    EMBED = "embed", "Embedded form"
    API = "api", "API"


class FeatureRequestQuerySet(ScopedQuerySet):
    def confirmed(self):
        return self.filter(requesters__confirmed_at__isnull=False).distinct()


class FeatureRequest(TimeStamped):
    """Something stakeholders asked for, in their words: triaged by the PM into a feature (linked),
    a duplicate (merged into another request), declined with a public reason, or spam."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="requests")
    share_link = models.ForeignKey(
        ShareLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="requests"
    )
    source = models.CharField(
        max_length=8, choices=RequestSource.choices, default=RequestSource.PORTAL
    )
    title = models.CharField(max_length=160, validators=[bounds.single_line])
    description = models.TextField(blank=True, validators=[description_length])
    importance = models.PositiveSmallIntegerField(
        choices=Importance.choices, default=Importance.MEDIUM
    )
    status = models.CharField(
        max_length=8, choices=RequestStatus.choices, default=RequestStatus.NEW, db_index=True
    )
    feature = models.ForeignKey(
        Feature, on_delete=models.SET_NULL, null=True, blank=True, related_name="requests"
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged"
    )
    public_reason = models.TextField(
        blank=True,
        validators=[note_length],
        help_text="Shown to the requesters when the request is declined.",
    )

    objects = FeatureRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=RequestStatus.values), name="request_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(importance__gte=1, importance__lte=4),
                name="request_importance_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=RequestStatus.LINKED) | models.Q(feature__isnull=False),
                name="request_linked_has_feature",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=RequestStatus.MERGED)
                | models.Q(merged_into__isnull=False),
                name="request_merged_has_survivor",
            ),
        ]
        indexes = [models.Index(fields=["product", "status"], name="request_product_status")]

    def __str__(self):
        return self.title


class Requester(TimeStamped):
    """A contact who asked for a request (its author, or the author of a duplicate merged into
    it), counted once confirmed; their insight carries the request to its feature."""

    request = models.ForeignKey(FeatureRequest, on_delete=models.CASCADE, related_name="requesters")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="requests_made")
    # What this person asked, in their words: a request merged into another keeps telling its
    # requester their own title, never the survivor's (typed by someone else).
    title = models.CharField(max_length=160, blank=True, validators=[bounds.single_line])
    confirmed_at = models.DateTimeField(null=True, blank=True)
    insight = models.OneToOneField(
        Insight, on_delete=models.SET_NULL, null=True, blank=True, related_name="portal_request"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "contact"], name="requester_once"),
        ]

    def __str__(self):
        return f"{self.contact} asked for {self.request}"


class ShipNoticeStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Not sent"
    FAILED = "failed", "Failed"


class ShipNotice(TimeStamped):
    """The outbox row of one "you asked for it — it's live" email: at most one per contact and
    feature, created before sending (sent exactly once, like a digest)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="ship_notices")
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="ship_notices")
    status = models.CharField(
        max_length=8,
        choices=ShipNoticeStatus.choices,
        default=ShipNoticeStatus.PENDING,
        db_index=True,
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "feature"], name="ship_notice_once"),
        ]

    def __str__(self):
        return f"Ship notice of {self.feature} to {self.contact} ({self.status})"
