"""Reads of the voice of the customer: what a share link's visitor sees of their own votes and
requests, and (for the PM) the requests to triage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core import signing
from django.core.paginator import Paginator
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce

from roadmap.models import (
    Contact,
    Customer,
    Feature,
    FeatureRequest,
    Product,
    Requester,
    RequestStatus,
    RoadmapItem,
    ShareLink,
    ShipNotice,
    ShipNoticeStatus,
    Visibility,
    Vote,
)
from roadmap.portal.notices import UNSUBSCRIBE_SALT
from roadmap.sharing.external import PUBLIC_STATUS, item_anchor
from roadmap.sharing.models.sharing import share_token_hash, usable_links

# --- Outsiders -----------------------------------------------------------------------------
# What a visitor reads of their own votes and requests, as plain dicts of allowed fields (the
# same policy as roadmap.sharing.external): public titles and statuses, their own request's
# words, a declined request's public reason. Never anyone else's note, address or count.


def feedback_link(*, token: str) -> ShareLink | None:
    """The usable link a token opens if it takes votes and requests, with its product; None
    otherwise (unknown, revoked, expired, or feedback off: the callers answer all alike)."""
    return (
        ShareLink.objects.filter(usable_links(), allow_feedback=True)
        .select_related("product")
        .filter(token_hash=share_token_hash(token))
        .first()
    )


def contact_by_confirmation_token(*, token: str) -> Contact | None:
    """The contact a confirmation link names, with its product; None for an unknown token."""
    if not token:
        return None
    return Contact.objects.select_related("product").filter(confirmation_token=token).first()


def contact_by_unsubscribe_token(*, token: str) -> Contact | None:
    """The contact an "it's live" email's unsubscribe link names (a signed id), with its
    product; None for a bad signature or a contact since removed."""
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return Contact.objects.select_related("product").filter(pk=pk).first()


def contact_return_link(*, contact: Contact) -> ShareLink | None:
    """The usable feedback link of the contact's latest vote or request (where they came from),
    or None: the confirmation page links back to it."""
    latest = []
    vote = (
        Vote.objects.filter(contact=contact, share_link__isnull=False)
        .filter(usable_links("share_link__"))
        .select_related("share_link")
        .order_by("-updated_at")
        .first()
    )
    if vote is not None:
        latest.append((vote.updated_at, vote.share_link))
    asked = (
        Requester.objects.filter(contact=contact, request__share_link__isnull=False)
        .filter(usable_links("request__share_link__"))
        .select_related("request__share_link")
        .order_by("-created_at")
        .first()
    )
    if asked is not None:
        latest.append((asked.created_at, asked.request.share_link))
    if not latest:
        return None
    return max(latest, key=lambda pair: pair[0])[1]


def _item_status(row: Mapping[str, Any], prefix: str) -> str | None:
    """An item's public status word, by the allow-list's rule (None: not told, e.g. archived)."""
    internal = (
        row[f"{prefix}feature__status"]
        if row[f"{prefix}feature_id"]
        else row[f"{prefix}theme_status"]
    )
    return PUBLIC_STATUS.get(internal)


def _public_title(row: Mapping[str, Any], prefix: str) -> str:
    # Same rule as RoadmapItem.public_title and the allow-list.
    return row[f"{prefix}external_title"] or (
        row[f"{prefix}feature__title"] if row[f"{prefix}feature_id"] else row[f"{prefix}title"]
    )


_VOTE_COLUMNS = (
    "item_id",
    "confirmed_at",
    "item__external_title",
    "item__title",
    "item__feature_id",
    "item__feature__title",
    "item__feature__status",
    "item__theme_status",
)


def _told(feature_id: int | None, feature_status: str | None, told: bool) -> str:
    """A linked feature's status as a requester reads it: its public word when an external item
    tells of it, else "planned" (a feature the roadmap does not show yet)."""
    if not feature_id or not told:
        return "planned"
    return PUBLIC_STATUS.get(feature_status or "", "planned")


def _request_status(row: Mapping[str, Any]) -> tuple[str, str]:
    """What a requester reads of a request's status, and the reason shown with it."""
    status, prefix, told = row["request__status"], "request__", row["told"]
    if status == RequestStatus.MERGED:  # the survivor's status
        status = row["request__merged_into__status"] or RequestStatus.NEW
        prefix, told = "request__merged_into__", row["survivor_told"]
    if status == RequestStatus.NEW:
        return "received", ""
    if status == RequestStatus.LINKED:
        return _told(row[f"{prefix}feature_id"], row[f"{prefix}feature__status"], told), ""
    if status == RequestStatus.DECLINED:
        return "declined", row[f"{prefix}public_reason"]
    # Spam (and anything unknown) reads as declined with no reason: a spammer learns nothing.
    return "declined", ""


def _feature_told(path: str) -> Exists:
    return Exists(
        RoadmapItem.objects.filter(feature_id=OuterRef(path), visibility=Visibility.EXTERNAL)
    )


def contact_feedback(*, contact: Contact) -> dict[str, Any]:
    """A remembered contact's own votes (external items only: anchor, public title and status,
    whether confirmed) and requests (their title and the status they read). Two queries."""
    votes = []
    for row in (
        Vote.objects.filter(contact=contact, item__visibility=Visibility.EXTERNAL)
        .order_by("-created_at", "-id")
        .values(*_VOTE_COLUMNS)
    ):
        status = _item_status(row, "item__")
        if status is None:
            continue
        votes.append(
            {
                "anchor": item_anchor(row["item_id"]),
                "title": _public_title(row, "item__"),
                "status": status,
                "confirmed": row["confirmed_at"] is not None,
            }
        )
    requests = []
    for row in (
        Requester.objects.filter(contact=contact)
        .annotate(
            told=_feature_told("request__feature_id"),
            survivor_told=_feature_told("request__merged_into__feature_id"),
        )
        .order_by("-created_at", "-id")
        .values(
            "confirmed_at",
            "title",
            "request__title",
            "request__status",
            "request__public_reason",
            "request__feature_id",
            "request__feature__status",
            "told",
            "request__merged_into__status",
            "request__merged_into__public_reason",
            "request__merged_into__feature_id",
            "request__merged_into__feature__status",
            "survivor_told",
        )
    ):
        status, reason = _request_status(row)
        requests.append(
            {
                "title": row["title"] or row["request__title"],
                "status": status,
                "reason": reason,
                "confirmed": row["confirmed_at"] is not None,
            }
        )
    return {"email": contact.email, "votes": votes, "requests": requests}


# --- The PM's reads ------------------------------------------------------------------------
# The requests inbox, a request's page and a feature's demand, for members of the product
# (views check the role with roadmap.access first). Counts are confirmed ones only.

INBOX_PAGE_SIZE = 50
INBOX_QUERY_MAX = 100


def _confirmed_requesters() -> Prefetch:
    return Prefetch(
        "requesters",
        queryset=Requester.objects.filter(confirmed_at__isnull=False).select_related(
            "contact__customer"
        ),
        to_attr="confirmed_requesters",
    )


def _with_requester_count(queryset):
    counted = (
        Requester.objects.filter(request=OuterRef("pk"), confirmed_at__isnull=False)
        .order_by()
        .values("request")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(requester_count=Coalesce(Subquery(counted), 0))


def requests_inbox(
    *, product: Product, status: str = RequestStatus.NEW, query: str = "", page: int = 1
) -> dict[str, Any]:
    """A product's requests with ``status`` ("" for all) matching ``query`` in title or
    description, confirmed ones only, newest first, a page of 50: each with its confirmed
    requester count, their customers and its feature. Four queries whatever the page holds."""
    requests = FeatureRequest.objects.filter(product=product)
    if status:
        requests = requests.filter(status=status)
    query = " ".join(query.split())[:INBOX_QUERY_MAX]
    if query:
        requests = requests.filter(Q(title__icontains=query) | Q(description__icontains=query))
    confirmed = Exists(Requester.objects.filter(request=OuterRef("pk"), confirmed_at__isnull=False))
    counts = requests.aggregate(
        shown=Count("pk", filter=Q(confirmed)), awaiting=Count("pk", filter=~Q(confirmed))
    )
    paginator = Paginator(range(counts["shown"]), INBOX_PAGE_SIZE)
    current = paginator.get_page(page)
    start = (current.number - 1) * INBOX_PAGE_SIZE
    rows = list(
        _with_requester_count(requests.filter(confirmed))
        .select_related("feature")
        .prefetch_related(_confirmed_requesters())
        .order_by("-created_at", "-id")[start : start + INBOX_PAGE_SIZE]
    )
    for row in rows:
        row.customers = _customers(row.confirmed_requesters)
    return {
        "requests": rows,
        "page": current,
        "shown": counts["shown"],
        "awaiting": counts["awaiting"],
        "query": query,
        "status": status,
    }


def _customers(requesters) -> list[Customer]:
    """The distinct customers of these requesters, by name."""
    found = {r.contact.customer_id: r.contact.customer for r in requesters if r.contact.customer}
    return sorted(found.values(), key=lambda c: c.name.lower())


def new_requests_count(*, product: Product) -> int:
    """How many of the product's requests are new and confirmed (the nav's badge). One query."""
    return (
        FeatureRequest.objects.filter(product=product, status=RequestStatus.NEW)
        .filter(
            Exists(Requester.objects.filter(request=OuterRef("pk"), confirmed_at__isnull=False))
        )
        .count()
    )


def request_for_pm(*, product: Product, pk: int) -> FeatureRequest | None:
    """One of the product's requests with its feature, survivor, requesters (confirmed or not)
    and their customers; None if it is not the product's."""
    request = (
        FeatureRequest.objects.filter(product=product, pk=pk)
        .select_related("feature", "merged_into")
        .prefetch_related(
            Prefetch(
                "requesters",
                queryset=Requester.objects.select_related("contact__customer").order_by(
                    "created_at", "id"
                ),
                to_attr="all_requesters",
            )
        )
        .first()
    )
    if request is not None:
        asking = [r for r in request.all_requesters if r.confirmed_at]
        request.customers = _customers(asking)  # type: ignore[attr-defined]
    return request


def request_merge_targets(*, product: Product, exclude: int) -> list[tuple[int, str]]:
    """The product's open requests (new or linked) another can be merged into: id and title."""
    return list(
        FeatureRequest.objects.filter(
            product=product, status__in=(RequestStatus.NEW, RequestStatus.LINKED)
        )
        .exclude(pk=exclude)
        .order_by("title", "id")
        .values_list("pk", "title")
    )


def vote_count_sql(feature_ref: str = "pk", *, item_ref: str | None = None) -> Coalesce:
    """Confirmed votes on the roadmap item of the feature ``feature_ref`` names (a column of the
    outer query) — or on the item ``item_ref`` names — as a correlated subquery for
    ``annotate``: what a table row or a board card shows of demand, without a query per row."""
    confirmed = Vote.objects.filter(confirmed_at__isnull=False).order_by()
    votes = (
        confirmed.filter(item_id=OuterRef(item_ref)).values("item_id")
        if item_ref is not None
        else confirmed.filter(item__feature_id=OuterRef(feature_ref)).values("item__feature_id")
    )
    rows = votes.annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(rows[:1], output_field=IntegerField()), Value(0))


def requester_count_sql(feature_ref: str = "pk") -> Coalesce:
    """Confirmed requesters (distinct people) of the requests linked to the feature
    ``feature_ref`` names, as a correlated subquery for ``annotate``."""
    rows = (
        Requester.objects.filter(
            request__feature_id=OuterRef(feature_ref),
            request__status=RequestStatus.LINKED,
            confirmed_at__isnull=False,
        )
        .order_by()
        .values("request__feature_id")
        .annotate(n=Count("contact", distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(rows[:1], output_field=IntegerField()), Value(0))


def demand_text(votes: int, requesters: int) -> str:
    """How a count of demand reads: "12 votes, 3 requesters"."""
    return (
        f"{votes} vote{'' if votes == 1 else 's'}, "
        f"{requesters} requester{'' if requesters == 1 else 's'}"
    )


def feature_demand_counts(*, product: Product, feature_ids) -> dict[int, tuple[int, int]]:
    """Per feature of ``product``: confirmed votes on its roadmap item and confirmed requesters
    of the requests linked to it (distinct contacts) — counted as the table and the board count
    them (``vote_count_sql``, ``requester_count_sql``). One query."""
    ids = list(feature_ids)
    out = {pk: (0, 0) for pk in ids}
    rows = (
        Feature.objects.filter(product=product, pk__in=ids)
        .annotate(votes=vote_count_sql(), requesters=requester_count_sql())
        .values_list("pk", "votes", "requesters")
    )
    for pk, votes, requesters in rows:
        out[pk] = (votes, requesters)
    return out


def feature_demand(*, feature: Feature) -> dict[str, Any]:
    """What the feature page shows of demand: its vote and requester counts, its linked
    requests (with their confirmed requester counts) and how many were told it is live."""
    counts = feature_demand_counts(product=feature.product, feature_ids=[feature.pk])
    votes, requesters = counts[feature.pk]
    linked = list(
        _with_requester_count(
            FeatureRequest.objects.filter(feature=feature, status=RequestStatus.LINKED)
        ).order_by("-created_at", "-id")
    )
    notified = ShipNotice.objects.filter(feature=feature, status=ShipNoticeStatus.SENT).count()
    return {
        "votes": votes,
        "requesters": requesters,
        "requests": linked,
        "notified": notified,
    }
