"""Writes of the voice of the customer: votes and requests from a share link's visitors, their
confirmation by email, the PM's triage of requests, and the "it's live" notices.

Who may do what:
- A visitor acts on a share link whose PM allows feedback (``ShareLink.allow_feedback``) and that
  is usable; anything else is ``FeedbackClosed``, which the views answer with the same 404 as an
  unknown link.
- Nothing a visitor does counts until the address is confirmed: the confirmation email carries
  only the product's name and, for a vote, the item's public title — never text the visitor
  typed, as the address may be someone else's. A confirmed contact the browser remembers
  (``contact`` given) acts at once.
- Every attempt that sends mail counts against the visitor's address and the mailbox (``+tags``
  dropped): ``FeedbackLimited``, and nothing is sent.

What a confirmed vote or request leaves behind: an ``Insight`` (source "portal") of the contact's
customer, linked to the feature (for a request, once the PM links one), written through
``insight_save`` so scores follow; and a ``vote.created`` / ``request.created`` webhook.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.addresses import mailbox, normalize_email
from accounts.throttle import client_key, window_count
from config.dispatch import enqueue_on_commit
from config.mail import message_id
from roadmap.events import webhooks_emit
from roadmap.evidence.services import insight_delete, insight_save
from roadmap.models import (
    Contact,
    Customer,
    CustomerDomain,
    Feature,
    FeatureRequest,
    FeatureStatus,
    Importance,
    InsightSource,
    Product,
    Requester,
    RequestSource,
    RequestStatus,
    RoadmapItem,
    ShareLink,
    ShipNotice,
    ShipNoticeStatus,
    Visibility,
    Vote,
)
from roadmap.portal.notices import UNSUBSCRIBE_SALT, ship_notice_message
from roadmap.sharing.external import item_anchor

# Limits on what sends mail: per client address an hour, per mailbox a day.
FEEDBACK_PER_CLIENT = 20
FEEDBACK_CLIENT_WINDOW = 60 * 60
FEEDBACK_PER_EMAIL = 5
FEEDBACK_EMAIL_WINDOW = 24 * 60 * 60

# Addresses at these domains are people, not companies: their insights name the person.
PERSONAL_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "yandex.com",
        "yandex.ru",
        "zoho.com",
        "fastmail.com",
        "hey.com",
        "example.com",
    }
)


class FeedbackClosed(Exception):
    """The link does not take votes or requests (feedback off, revoked, expired)."""


class FeedbackLimited(Exception):
    """Too many attempts from one client address, or for one mailbox."""

    def __init__(self, retry_after: int):
        super().__init__(f"Too many attempts; retry in {retry_after} s.")
        self.retry_after = retry_after


def _open_link(share_link: ShareLink) -> None:
    if not (share_link.allow_feedback and share_link.is_usable):
        raise FeedbackClosed


def _count_attempt(*, email: str, client: str | None) -> None:
    """Count one attempt that sends mail; FeedbackLimited once the client or mailbox is over."""
    if client is not None:
        key = f"portal:client:{client_key(client)}"
        if window_count(key, FEEDBACK_CLIENT_WINDOW) > FEEDBACK_PER_CLIENT:
            raise FeedbackLimited(FEEDBACK_CLIENT_WINDOW)
    hashed = hashlib.sha256(mailbox(email).encode()).hexdigest()[:32]
    if window_count(f"portal:email:{hashed}", FEEDBACK_EMAIL_WINDOW) > FEEDBACK_PER_EMAIL:
        raise FeedbackLimited(FEEDBACK_EMAIL_WINDOW)


# --- Contacts ------------------------------------------------------------------------------


def contact_remember_value(contact: Contact) -> str:
    """What a browser keeps to be known as a confirmed contact (signed; see ``contact_known``)."""
    return signing.dumps({"c": contact.pk, "p": contact.product_id}, salt="waymark.portal.contact")


def contact_known(*, product: Product, value: str | None, max_age: int) -> Contact | None:
    """The confirmed contact a browser's remembered ``value`` names for this product, or None
    (absent, tampered, older than ``max_age`` seconds, another product, or unconfirmed)."""
    if not value:
        return None
    try:
        data = signing.loads(value, salt="waymark.portal.contact", max_age=max_age)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("p") != product.pk:
        return None
    return Contact.objects.confirmed().filter(pk=data.get("c"), product=product).first()


def _contact_for(*, product: Product, email: str) -> Contact:
    """The product's contact for ``email`` (normalised), made unconfirmed if new."""
    email = normalize_email(email)
    contact = Contact.objects.filter(product=product, email=email).first()
    if contact is None:
        contact = Contact(product=product, email=email)
        contact.full_clean(exclude=["customer"])
        try:
            with transaction.atomic():
                contact.save()
        except IntegrityError:  # made by a concurrent request
            contact = Contact.objects.get(product=product, email=email)
    return contact


def customer_for_email(*, product: Product, email: str) -> Customer | None:
    """The customer an address belongs to: by its domain, made (named after the domain) the first
    time a company domain confirms; None for personal mail domains."""
    domain = normalize_email(email).rpartition("@")[2]
    if not domain:
        return None
    known = CustomerDomain.objects.filter(product=product, domain=domain).select_related("customer")
    found = known.first()
    if found is not None:
        return found.customer
    if domain in PERSONAL_MAIL_DOMAINS:
        return None
    customer = Customer.objects.filter(product=product, name__iexact=domain).first()
    if customer is None:
        customer = Customer.objects.create(product=product, name=domain)
    CustomerDomain.objects.get_or_create(
        product=product, domain=domain, defaults={"customer": customer}
    )
    return customer


def confirm_url(contact: Contact) -> str:
    return settings.SITE_URL + reverse(
        "portal:confirm", kwargs={"token": contact.confirmation_token}
    )


def _send_confirmation(contact_id: int, item_title: str | None) -> None:
    contact = Contact.objects.select_related("product").get(pk=contact_id)
    context = {
        "product": contact.product.name,
        "item_title": item_title,
        "confirm_url": confirm_url(contact),
    }
    what = "vote" if item_title else "request"
    message = EmailMultiAlternatives(
        subject=" ".join(f"Confirm your {what} on the {contact.product.name} roadmap".split()),
        body=render_to_string("emails/portal_confirm.txt", context),
        to=[contact.email],
        headers={"Message-ID": message_id()},
    )
    message.attach_alternative(render_to_string("emails/portal_confirm.html", context), "text/html")
    message.send()


@transaction.atomic
def contact_confirm(*, token: str) -> Contact | None:
    """Confirm a contact by the token of its email (idempotent): its customer is found by domain,
    and its pending votes and requests count from now on. None for an unknown token."""
    contact = (
        Contact.objects.select_for_update().filter(confirmation_token=token).first()
        if token
        else None
    )
    if contact is None:
        return None
    now = timezone.now()
    if contact.confirmed_at is None:
        contact.confirmed_at = now
        contact.customer = contact.customer or customer_for_email(
            product=contact.product, email=contact.email
        )
        contact.save(update_fields=["confirmed_at", "customer", "updated_at"])
    for vote in contact.votes.filter(confirmed_at__isnull=True).select_related("item__feature"):
        _vote_confirmed(vote, now)
    for requester in contact.requests_made.filter(confirmed_at__isnull=True).select_related(
        "request__feature"
    ):
        _requester_confirmed(requester, now)
    return contact


@transaction.atomic
def contact_unsubscribe(*, token: str) -> Contact | None:
    """Stop "it's live" notices to a contact (one-click, idempotent); None for a bad token."""
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    contact = Contact.objects.filter(pk=pk).first()
    if contact is not None and contact.notify:
        contact.notify = False
        contact.save(update_fields=["notify", "updated_at"])
    return contact


# --- Insights from the portal ------------------------------------------------------------


def _insight(contact: Contact, *, text: str, importance: int, features: Iterable[Feature]):
    customer = contact.customer
    return insight_save(
        product=contact.product,
        data={
            "source": InsightSource.PORTAL,
            "customer": customer.name if customer else contact.email,
            "company": customer,
            "text": text,
            "observed_on": timezone.localdate(),
            "importance": importance,
        },
        features=list(features),
    )


def _vote_confirmed(vote: Vote, now) -> None:
    item = vote.item
    title = item.public_title
    vote.confirmed_at = now
    vote.insight = _insight(
        vote.contact,
        text=vote.note or f"Voted for “{title}” on the roadmap page.",
        importance=Importance.MEDIUM,
        features=[item.feature] if item.feature is not None else [],
    )
    vote.save(update_fields=["confirmed_at", "insight", "updated_at"])
    webhooks_emit(
        workspace_id=item.product.workspace_id,
        event="vote.created",
        payload={
            "product_id": item.product_id,
            "roadmap_item_id": item.pk,
            "feature_id": item.feature_id,
            "vote_id": vote.pk,
            "customer": vote.contact.customer.name if vote.contact.customer else None,
        },
    )


def _requester_confirmed(requester: Requester, now) -> None:
    request = requester.request
    requester.confirmed_at = now
    requester.insight = _insight(
        requester.contact,
        text=f"Asked on the roadmap page: “{request.title}”. {request.description}".strip(),
        importance=request.importance,
        features=[request.feature] if request.feature is not None else [],
    )
    requester.save(update_fields=["confirmed_at", "insight", "updated_at"])
    if request.requesters.filter(confirmed_at__isnull=False).count() == 1:
        webhooks_emit(
            workspace_id=request.product.workspace_id,
            event="request.created",
            payload=request_payload(request),
        )


def request_payload(request: FeatureRequest) -> dict:
    """A request as webhooks tell it: what was asked, how important, where it stands."""
    return {
        "product_id": request.product_id,
        "request_id": request.pk,
        "title": request.title,
        "description": request.description,
        "importance": request.importance,
        "status": request.status,
        "source": request.source,
        "feature_id": request.feature_id,
    }


# --- Votes ---------------------------------------------------------------------------------


def item_for_anchor(*, product: Product, anchor: str) -> RoadmapItem | None:
    """The external item of ``product`` whose public anchor is ``anchor`` (one query)."""
    pks = RoadmapItem.objects.filter(product=product, visibility=Visibility.EXTERNAL).values_list(
        "pk", flat=True
    )
    for pk in pks:
        if item_anchor(pk) == anchor:
            return RoadmapItem.objects.select_related("feature", "product").get(pk=pk)
    return None


@dataclass(frozen=True)
class Cast:
    """What a visitor's vote or request became: ``confirmed`` if it counts already, else an email
    was sent to confirm it."""

    confirmed: bool
    vote: Vote | None = None
    request: FeatureRequest | None = None


@transaction.atomic
def vote_cast(
    *,
    share_link: ShareLink,
    anchor: str,
    note: str = "",
    notify: bool = True,
    email: str | None = None,
    contact: Contact | None = None,
    client: str | None = None,
) -> Cast:
    """Vote for an external item of the link ("I want this"): at once for a remembered confirmed
    ``contact``, else pending until ``email`` is confirmed. Voting again replaces the note.
    FeedbackClosed, FeedbackLimited, or ValidationError (unknown item, bad address, long note)."""
    _open_link(share_link)
    product = share_link.product
    item = item_for_anchor(product=product, anchor=anchor)
    if item is None:
        raise ValidationError({"item": "This item is not on the roadmap."})
    if contact is None:
        if not email:
            raise ValidationError({"email": "Enter your email address."})
        _count_attempt(email=email, client=client)
        contact = _contact_for(product=product, email=email)
    vote = Vote.objects.filter(item=item, contact=contact).first() or Vote(
        item=item, contact=contact
    )
    vote.note, vote.share_link = note.strip(), share_link
    vote.full_clean(exclude=["insight"])
    vote.save()
    if notify != contact.notify and contact.confirmed_at is not None and email is None:
        contact.notify = notify
        contact.save(update_fields=["notify", "updated_at"])
    if email is None:  # a remembered, confirmed contact: it counts now
        if vote.confirmed_at is None:
            _vote_confirmed(vote, timezone.now())
        elif vote.insight is not None:
            insight_save(
                product=product, insight=vote.insight, data={"text": vote.note or vote.insight.text}
            )
        return Cast(confirmed=True, vote=vote)
    if contact.confirmed_at is None:
        contact.notify = notify
        contact.save(update_fields=["notify", "updated_at"])
    transaction.on_commit(lambda: _send_confirmation(contact.pk, item.public_title))
    return Cast(confirmed=False, vote=vote)


@transaction.atomic
def vote_withdraw(*, share_link: ShareLink, anchor: str, contact: Contact) -> bool:
    """Take back a remembered contact's vote and its insight (changing one's mind); False if
    there was none."""
    _open_link(share_link)
    item = item_for_anchor(product=share_link.product, anchor=anchor)
    vote = Vote.objects.filter(item=item, contact=contact).select_related("insight").first()
    if vote is None:
        return False
    insight = vote.insight
    vote.delete()
    if insight is not None:
        insight_delete(insight=insight)
    return True


# --- Requests ------------------------------------------------------------------------------


@transaction.atomic
def request_submit(
    *,
    product: Product,
    title: str,
    description: str = "",
    importance: int = Importance.MEDIUM,
    notify: bool = True,
    share_link: ShareLink | None = None,
    source: str = RequestSource.PORTAL,
    email: str | None = None,
    contact: Contact | None = None,
    client: str | None = None,
) -> Cast:
    """A visitor (or a support tool through the API, ``source``) asks for something. Counts at
    once for a remembered confirmed ``contact``, else once ``email`` is confirmed.
    FeedbackClosed for a link that takes none, FeedbackLimited, or ValidationError."""
    if share_link is not None:
        _open_link(share_link)
    request = FeatureRequest(
        product=product,
        share_link=share_link,
        source=source,
        title=" ".join(title.split()),
        description=description.strip(),
        importance=importance,
    )
    request.full_clean(exclude=["feature", "merged_into"])
    if contact is None:
        if not email:
            raise ValidationError({"email": "Enter your email address."})
        _count_attempt(email=email, client=client)
        contact = _contact_for(product=product, email=email)
    request.save()
    requester = Requester.objects.create(request=request, contact=contact, title=request.title)
    if email is None:
        _requester_confirmed(requester, timezone.now())
        return Cast(confirmed=True, request=request)
    if contact.confirmed_at is None:
        contact.notify = notify
        contact.save(update_fields=["notify", "updated_at"])
    transaction.on_commit(lambda: _send_confirmation(contact.pk, None))
    return Cast(confirmed=False, request=request)


def _requester_insights_link(request: FeatureRequest, feature: Feature | None) -> None:
    """Point the insights of a request's confirmed requesters at ``feature`` (or at none)."""
    for requester in request.requesters.exclude(insight=None).select_related("insight"):
        insight_save(
            product=request.product,
            insight=requester.insight,
            data={},
            features=[feature] if feature is not None else [],
        )


def _open(request: FeatureRequest) -> None:
    if request.status in (RequestStatus.MERGED, RequestStatus.SPAM):
        raise ValidationError(
            {"status": f"This request is {request.get_status_display().lower()} already."}
        )


@transaction.atomic
def request_link(*, request: FeatureRequest, feature: Feature) -> FeatureRequest:
    """Link a request to the feature that answers it: its requesters' insights support that
    feature (reach and revenue at stake follow)."""
    _open(request)
    if feature.product_id != request.product_id:
        raise ValidationError({"feature": "This feature belongs to another product."})
    request.feature, request.status, request.public_reason = feature, RequestStatus.LINKED, ""
    request.save(update_fields=["feature", "status", "public_reason", "updated_at"])
    _requester_insights_link(request, feature)
    return request


@transaction.atomic
def request_decline(*, request: FeatureRequest, reason: str) -> FeatureRequest:
    """Decline a request with a reason its requesters read on the roadmap page."""
    _open(request)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"public_reason": "Say why, in words the requesters will read."})
    request.status, request.public_reason = RequestStatus.DECLINED, reason
    if request.feature_id:
        request.feature = None
        _requester_insights_link(request, None)
    request.full_clean(exclude=["merged_into"])
    request.save(update_fields=["status", "public_reason", "feature", "updated_at"])
    return request


@transaction.atomic
def request_reopen(*, request: FeatureRequest) -> FeatureRequest:
    """Put a declined request (or one marked as spam by mistake) back among the new ones."""
    if request.status not in (RequestStatus.DECLINED, RequestStatus.SPAM):
        raise ValidationError({"status": "Only declined or spam requests can be reopened."})
    request.status, request.public_reason = RequestStatus.NEW, ""
    request.save(update_fields=["status", "public_reason", "updated_at"])
    return request


@transaction.atomic
def request_mark_spam(*, request: FeatureRequest) -> FeatureRequest:
    """Mark a request as spam: its insights are deleted (it is no evidence); requesters read it
    as "declined" with no reason."""
    _open(request)
    for requester in request.requesters.exclude(insight=None).select_related("insight"):
        insight = requester.insight
        requester.insight = None
        requester.save(update_fields=["insight", "updated_at"])
        if insight is not None:  # excluded above; said again for the type checker
            insight_delete(insight=insight)
    request.status, request.feature = RequestStatus.SPAM, None
    request.save(update_fields=["status", "feature", "updated_at"])
    return request


@transaction.atomic
def request_merge(*, request: FeatureRequest, into: FeatureRequest) -> FeatureRequest:
    """Merge a duplicate into ``into``: its requesters move to the survivor (one per contact)
    and their insights follow the survivor's feature. Returns the survivor."""
    _open(request)
    _open(into)
    if into.pk == request.pk:
        raise ValidationError({"merged_into": "A request cannot be merged into itself."})
    if into.product_id != request.product_id:
        raise ValidationError({"merged_into": "This request belongs to another product."})
    present = set(into.requesters.values_list("contact_id", flat=True))
    for requester in request.requesters.select_related("insight"):
        if requester.contact_id in present:
            insight = requester.insight
            requester.delete()
            if insight is not None:
                insight_delete(insight=insight)
            continue
        requester.request = into
        requester.save(update_fields=["request", "updated_at"])
    request.status, request.merged_into, request.feature = RequestStatus.MERGED, into, None
    request.save(update_fields=["status", "merged_into", "feature", "updated_at"])
    _requester_insights_link(into, into.feature)
    # Requests merged into the duplicate earlier now point at the survivor.
    FeatureRequest.objects.filter(merged_into=request).update(merged_into=into)
    return into


# --- Through the API (a support tool vouches for its customers) ---------------------------


def _contact_vouched(*, product: Product, email: str) -> Contact:
    """The product's contact for ``email``, confirmed now if it was not: a member's token
    vouches for the address, so no confirmation email is sent (and none is counted)."""
    contact = _contact_for(product=product, email=email)
    if contact.confirmed_at is None:
        contact.confirmed_at = timezone.now()
        contact.customer = contact.customer or customer_for_email(product=product, email=email)
        contact.save(update_fields=["confirmed_at", "customer", "updated_at"])
    return contact


@transaction.atomic
def request_import(
    *,
    product: Product,
    title: str,
    email: str,
    description: str = "",
    importance: int = Importance.MEDIUM,
) -> FeatureRequest:
    """A request pushed in by a support tool for a customer's address (source "api"): it counts
    at once, as an insight of the address's customer, and sends ``request.created``.
    ValidationError for a bad title, description, importance or address."""
    request = FeatureRequest(
        product=product,
        source=RequestSource.API,
        title=" ".join(title.split()),
        description=description.strip(),
        importance=importance,
    )
    request.full_clean(exclude=["feature", "merged_into"])  # before any contact is made
    contact = _contact_vouched(product=product, email=email)
    cast = request_submit(
        product=product,
        title=title,
        description=description,
        importance=importance,
        source=RequestSource.API,
        contact=contact,
    )
    assert cast.request is not None  # request_submit returns the request it made
    return cast.request


@transaction.atomic
def vote_import(*, item: RoadmapItem, email: str, note: str = "") -> tuple[Vote, bool]:
    """A vote for ``item`` on behalf of a customer's address, pushed by a support tool: it
    counts at once (insight, ``vote.created``); voting again replaces the note. Returns the vote
    and whether it is new. ValidationError for a bad address or a long note."""
    note = note.strip()
    probe = Vote(item=item, note=note)
    probe.full_clean(exclude=["contact", "insight", "share_link"])
    contact = _contact_vouched(product=item.product, email=email)
    vote = Vote.objects.filter(item=item, contact=contact).select_related("insight").first()
    created = vote is None
    if vote is None:
        vote = Vote.objects.create(item=item, contact=contact, note=note)
    elif vote.note != note:
        vote.note = note
        vote.save(update_fields=["note", "updated_at"])
    if vote.confirmed_at is None:
        _vote_confirmed(vote, timezone.now())
    elif vote.insight is not None and vote.insight.text != (note or vote.insight.text):
        insight_save(product=item.product, insight=vote.insight, data={"text": note})
    return vote, created


@transaction.atomic
def vote_delete(*, vote: Vote) -> None:
    """Remove a vote and the insight it left (a PM or a support tool takes it back)."""
    insight = vote.insight
    vote.delete()
    if insight is not None:
        insight_delete(insight=insight)


# --- Closing the loop --------------------------------------------------------------------


def feature_requesters(feature: Feature):
    """Confirmed contacts who asked for a feature: voted for one of its external items or asked
    in a request linked to it."""
    return (
        Contact.objects.confirmed()
        .filter(
            Q(votes__item__feature=feature, votes__confirmed_at__isnull=False)
            | Q(
                requests_made__request__feature=feature,
                requests_made__request__status=RequestStatus.LINKED,
                requests_made__confirmed_at__isnull=False,
            )
        )
        .distinct()
    )


@transaction.atomic
def ship_notices_enqueue(*, feature_id: int) -> list[int]:
    """Create the "it's live" outbox rows of a shipped feature, one per requester who wants to
    hear (a row exists at most once per contact and feature: asking twice sends nothing more),
    and enqueue their sends after commit. Returns the new rows' ids."""
    feature = Feature.objects.filter(pk=feature_id).first()
    if feature is None or feature.status != FeatureStatus.SHIPPED:
        return []
    contacts = (
        feature_requesters(feature).filter(notify=True).exclude(ship_notices__feature=feature)
    )
    made = ShipNotice.objects.bulk_create(
        [ShipNotice(contact=contact, feature=feature) for contact in contacts],
        ignore_conflicts=True,
    )
    ids = list(
        ShipNotice.objects.filter(
            feature=feature, status=ShipNoticeStatus.PENDING, contact__in=[n.contact for n in made]
        ).values_list("pk", flat=True)
    )
    for pk in ids:
        enqueue_on_commit("roadmap.tasks.send_ship_notice", pk)
    return ids


def ship_notice_send(*, notice_id: int) -> str:
    """Send one "it's live" email unless it was sent or skipped already (the row is locked while
    sending, so a task run twice sends once). A failure is recorded and raised, for the task to
    retry. Returns the row's status."""
    with transaction.atomic():
        notice = (
            ShipNotice.objects.select_for_update()
            .select_related("contact__product", "feature")
            .filter(pk=notice_id)
            .first()
        )
        if notice is None:
            return "gone"
        if notice.status in (ShipNoticeStatus.SENT, ShipNoticeStatus.SKIPPED):
            return notice.status
        if not notice.contact.notify:
            notice.status = ShipNoticeStatus.SKIPPED
            notice.save(update_fields=["status", "updated_at"])
            return notice.status
        message = ship_notice_message(notice=notice)
        if message is None:  # nothing of it may be told outside any more
            notice.status = ShipNoticeStatus.SKIPPED
            notice.save(update_fields=["status", "updated_at"])
            return notice.status
        notice.attempts += 1
        try:
            message.send()
        except Exception as error:
            notice.status = ShipNoticeStatus.FAILED
            notice.last_error = str(error)[:2000]
            notice.save(update_fields=["status", "attempts", "last_error", "updated_at"])
            raise
        notice.status, notice.sent_at = ShipNoticeStatus.SENT, timezone.now()
        notice.save(update_fields=["status", "attempts", "sent_at", "updated_at"])
        return notice.status
