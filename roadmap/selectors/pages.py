"""Reads for the browser pages: each page runs a fixed number of queries, whatever its size.

Rows are reached through ``for_user`` (roadmap) or the current workspace (members), so a page
never shows anything of a workspace its reader does not belong to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from django.db.models import (
    Count,
    IntegerField,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from accounts.models import Invitation, Membership, User, Workspace, hash_token
from roadmap import scoring
from roadmap.models import (
    Feature,
    FeatureDriverScore,
    FeatureStatus,
    Horizon,
    Insight,
    Objective,
    Product,
    RoadmapItem,
)
from roadmap.selectors.priorities import feature_filter

HOME_TOP_FEATURES = 5
# The product page's status filter: open features (the ranked ones) unless asked otherwise.
STATUS_OPEN = "open"
STATUS_ALL = "all"
STATUS_FILTERS = [
    (STATUS_OPEN, "Open (ranked)"),
    (STATUS_ALL, "All statuses"),
    *FeatureStatus.choices,
]


# --- Navigation and members --------------------------------------------------------------------


def nav_memberships(*, user) -> list[Membership]:
    """The workspaces the user can switch to, with their names (one query)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        Membership.objects.filter(user=user)
        .select_related("workspace")
        .order_by("workspace__name", "workspace_id")
    )


@dataclass(frozen=True)
class MembersOverview:
    members: list[Membership]
    invitations: list[Invitation]
    admin_count: int


def members_overview(*, workspace: Workspace) -> MembersOverview:
    """A workspace's members with their roles, and its pending invitations (two queries)."""
    members = list(
        Membership.objects.filter(workspace=workspace)
        .select_related("user")
        .order_by("user__display_name", "user__email")
    )
    invitations = list(
        Invitation.objects.pending()
        .filter(workspace=workspace)
        .select_related("invited_by")
        .order_by("email")
    )
    admin_count = sum(1 for m in members if m.is_admin)
    return MembersOverview(members=members, invitations=invitations, admin_count=admin_count)


def invitation_by_token(*, raw_token: str) -> Invitation | None:
    """The invitation a raw token opens, if it can still be used; None otherwise."""
    invitation = (
        Invitation.objects.select_related("workspace", "invited_by")
        .filter(token_hash=hash_token(raw_token))
        .first()
    )
    if invitation is None or not invitation.is_usable:
        return None
    return invitation


# --- Home ----------------------------------------------------------------------------------------


def _count(model: type[Model], *conditions: Q) -> Coalesce:
    """Rows of ``model`` for the outer product: a subquery, so counts do not multiply."""
    rows = (
        model.objects.filter(*conditions, product=OuterRef("pk"))
        .order_by()
        .values("product")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


@dataclass(frozen=True)
class ProductLine:
    name: str
    products: list[Product]


def home_product_lines(*, user, workspace: Workspace | None) -> list[ProductLine]:
    """The workspace's products grouped by product line, with counts and top-ranked features.

    Two queries: the annotated products, and their top features.
    """
    if workspace is None:
        return []
    top_features = Feature.objects.filter(rank__isnull=False).order_by("product_id", "rank")
    products = (
        Product.objects.for_user(user)
        .for_workspace(workspace)
        .annotate(
            feature_count=_count(Feature),
            open_feature_count=_count(Feature, ~Q(status__in=scoring.CLOSED_STATUSES)),
            insight_count=_count(Insight),
            item_count=_count(RoadmapItem),
        )
        .prefetch_related(
            Prefetch("features", queryset=top_features[:HOME_TOP_FEATURES], to_attr="top_features")
        )
        .order_by("product_line", "name", "pk")
    )
    return [
        ProductLine(name=line, products=list(group))
        for line, group in groupby(products, key=lambda p: p.product_line)
    ]


# --- Product -------------------------------------------------------------------------------------


def product_page_queryset(*, user) -> QuerySet[Product]:
    """Products the user may open, with their workspace (for the breadcrumb)."""
    return Product.objects.for_user(user).select_related("workspace")


def normalise_status_filter(value: str | None) -> str:
    """A known status filter, or the default (open features) for anything else."""
    known = {key for key, _ in STATUS_FILTERS}
    return value if value in known else STATUS_OPEN


def product_features(*, product: Product, status: str) -> list[Feature]:
    """The product's features in rank order, with personas, tags and evidence count.

    Three queries whatever the number of features. ``status`` is a normalised filter.
    """
    if status == STATUS_ALL:
        filters: dict[str, Any] = {"status": FeatureStatus.values}
    elif status == STATUS_OPEN:
        filters = {}
    else:
        filters = {"status": [status]}
    return list(
        feature_filter(Feature.objects.filter(product=product), filters)
        .annotate(evidence_count=Count("insights", distinct=True))
        .prefetch_related("personas", "tags")
        .order_by(*Feature._meta.ordering)
    )


@dataclass(frozen=True)
class HorizonColumn:
    horizon: str
    label: str
    items: list[RoadmapItem] = field(default_factory=list)


def product_roadmap(*, product: Product) -> list[HorizonColumn]:
    """The product's roadmap items by horizon, now → next → later, in board order (one query)."""
    items = (
        RoadmapItem.objects.filter(product=product)
        .select_related("feature", "lane", "release")
        .order_by("position", "id")
    )
    columns = {value: HorizonColumn(value, label) for value, label in Horizon.choices}
    for item in items:
        columns[item.horizon].items.append(item)
    return list(columns.values())


# --- Feature -------------------------------------------------------------------------------------


def feature_page_queryset(*, user) -> QuerySet[Feature]:
    """Features the user may open, with everything the feature page shows (six queries)."""
    return (
        Feature.objects.for_user(user)
        .select_related(
            "product__workspace",
            "owner",
            "roadmap_item__lane",
            "roadmap_item__release",
        )
        .prefetch_related(
            "personas",
            "tags",
            Prefetch(
                "insights",
                queryset=Insight.objects.select_related("persona").order_by(
                    "-importance", "-observed_on", "-id"
                ),
            ),
            Prefetch("objectives", queryset=Objective.objects.order_by("due", "name")),
            Prefetch(
                "driver_scores",
                queryset=FeatureDriverScore.objects.select_related("driver").order_by(
                    "driver__position", "driver_id"
                ),
            ),
        )
    )


@dataclass(frozen=True)
class ScoreInput:
    name: str
    label: str
    value: float | None
    source: str

    @property
    def missing(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class ScoreExplanation:
    framework: str
    formula: str
    score: float | None
    inputs: list[ScoreInput]
    lines: list[str]
    missing: list[str]


def _input_label(name: str) -> str:
    if name == "weighted_drivers":
        return "Weighted drivers"
    return str(Feature._meta.get_field(name).verbose_name).capitalize()


def feature_score_explanation(*, feature: Feature) -> ScoreExplanation:
    """The stored score of a feature, explained input by input (no query)."""
    breakdown = feature.score_breakdown or {}
    framework_key = breakdown.get("framework") or feature.product.scoring_framework
    definition = scoring.framework_for(
        framework_key, divide_by_effort=feature.product.weighted_divide_by_effort
    )
    inputs = [
        ScoreInput(
            name=name,
            label=_input_label(name),
            value=term["value"],
            source=scoring.SOURCE_WORDS.get(term["source"], term["source"]),
        )
        for name, term in scoring.ordered_inputs(breakdown)
    ]
    return ScoreExplanation(
        framework=definition.label,
        formula=breakdown.get("formula") or definition.formula_text,
        score=feature.score,
        inputs=inputs,
        lines=scoring.explain(breakdown),
        missing=scoring.missing_inputs(breakdown),
    )


def feature_placement(*, feature: Feature) -> RoadmapItem | None:
    """The feature's roadmap item, already joined by ``feature_page_queryset`` (no query)."""
    try:
        return feature.roadmap_item
    except RoadmapItem.DoesNotExist:
        return None


def customers_of(insights: Iterable[Insight]) -> list[str]:
    """Distinct customers among insights, case-insensitively, in first-seen order."""
    seen: dict[str, str] = {}
    for insight in insights:
        seen.setdefault(insight.customer.lower(), insight.customer)
    return list(seen.values())


def membership_of(*, user, workspace_id: int) -> Membership | None:
    """The user's membership of a workspace given by id; None when they are not a member."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Membership.objects.filter(user=user, workspace_id=workspace_id)
        .select_related("workspace")
        .first()
    )


def workspace_memberships(*, workspace: Workspace) -> QuerySet[Membership]:
    """Memberships of one workspace: members of others are not found through it (404)."""
    return Membership.objects.filter(workspace=workspace).select_related("user", "workspace")


def workspace_pending_invitations(*, workspace: Workspace) -> QuerySet[Invitation]:
    """Invitations of one workspace that can still be used (and so revoked)."""
    return Invitation.objects.pending().filter(workspace=workspace).select_related("workspace")


def account_exists(*, email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()
