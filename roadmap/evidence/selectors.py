"""Reads for a product's records pages: personas, the insights inbox, objectives, customers and
experiments.

Every function takes a product the caller already scoped (``roadmap.access.product_for``)
and runs a fixed number of queries, whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, IntegerField, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower

from roadmap.bounds import whole_number
from roadmap.models import (
    Contact,
    Customer,
    CustomerDomain,
    Experiment,
    Feature,
    Insight,
    InsightSource,
    Objective,
    Persona,
    Product,
)

INSIGHTS_PER_PAGE = 50
# Customer names suggested while typing an insight: the most recently heard from.
CUSTOMER_SUGGESTIONS = 300


def _features_by_rank() -> QuerySet[Feature]:
    """Features as links need little: ranked ones first, then by title."""
    return Feature.objects.only("id", "title", "status", "rank", "product_id").order_by(
        F("rank").asc(nulls_last=True), "title", "id"
    )


def feature_options(*, product: Product) -> QuerySet[Feature]:
    """The product's features to link evidence or objectives to, ranked ones first."""
    return _features_by_rank().filter(product=product)


# --- Personas -----------------------------------------------------------------------------------


def personas_of(*, product: Product) -> QuerySet[Persona]:
    """The product's personas, whole."""
    return Persona.objects.filter(product=product)


def persona_choices(*, product: Product) -> QuerySet[Persona]:
    """The product's personas by name, for filters and pickers."""
    return Persona.objects.filter(product=product).only("id", "name", "product_id")


def _count_of(model, link: str) -> Coalesce:
    """How many rows of ``model`` point at the outer persona through ``link`` (a subquery, so two
    counts on one row do not multiply each other)."""
    rows = (
        model.objects.filter(**{link: OuterRef("pk")})
        .order_by()
        .values(link)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def personas_with_counts(*, product: Product) -> QuerySet[Persona]:
    """The product's personas by name, each with ``feature_count`` and ``insight_count`` (the
    features and insights that cite it); one query."""
    return Persona.objects.filter(product=product).annotate(
        feature_count=_count_of(Feature.personas.through, "persona"),
        insight_count=_count_of(Insight, "persona"),
    )


# --- Insights -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InsightFilters:
    source: str = ""
    persona_id: int | None = None
    customer: str = ""
    q: str = ""

    @property
    def active(self) -> bool:
        return bool(self.source or self.persona_id or self.customer or self.q)

    @property
    def querystring(self) -> str:
        """The active filters as a query string, for pagination links."""
        params = {
            "source": self.source,
            "persona": self.persona_id or "",
            "customer": self.customer,
            "q": self.q,
        }
        return urlencode({k: v for k, v in params.items() if v})


def insight_filters(params: Mapping[str, str], *, personas: list[Persona]) -> InsightFilters:
    """The inbox filters from a query string; unknown sources or personas are ignored."""
    source = params.get("source", "")
    persona = whole_number(params.get("persona"))
    persona_ids = {p.pk for p in personas}
    return InsightFilters(
        source=source if source in InsightSource.values else "",
        persona_id=persona if persona in persona_ids else None,
        customer=" ".join(params.get("customer", "").split()),
        q=params.get("q", "").strip(),
    )


def insights_queryset(*, product: Product) -> QuerySet[Insight]:
    """The product's insights with what each row shows: persona and linked features."""
    return (
        Insight.objects.filter(product=product)
        .select_related("persona")
        .prefetch_related(Prefetch("features", queryset=_features_by_rank()))
    )


def insights_page(*, product: Product, filters: InsightFilters, page_number) -> Page:
    """One page of the product's insights, newest first, filtered (three queries: count, rows,
    linked features)."""
    insights = insights_queryset(product=product).order_by("-observed_on", "-id")
    if filters.source:
        insights = insights.filter(source=filters.source)
    if filters.persona_id:
        insights = insights.filter(persona_id=filters.persona_id)
    if filters.customer:
        insights = insights.filter(customer__iexact=filters.customer)
    if filters.q:
        insights = insights.filter(Q(text__icontains=filters.q) | Q(customer__icontains=filters.q))
    return Paginator(insights, INSIGHTS_PER_PAGE).get_page(page_number)


def customer_suggestions(*, product: Product) -> list[str]:
    """Customers of the product's insights, the most recently heard from first (one query)."""
    return list(
        Insight.objects.filter(product=product)
        .values("customer")
        .annotate(last=Max("id"))
        .order_by("-last")
        .values_list("customer", flat=True)[:CUSTOMER_SUGGESTIONS]
    )


# --- Objectives ---------------------------------------------------------------------------------


def objectives_with_features(*, product: Product) -> QuerySet[Objective]:
    """The product's objectives (soonest due first) with the features that serve them, ranked
    ones first (two queries)."""
    return (
        Objective.objects.filter(product=product)
        .prefetch_related(Prefetch("features", queryset=_features_by_rank()))
        .order_by(F("due").asc(nulls_last=True), "name", "id")
    )


# --- Customers and experiments ------------------------------------------------------------------

CUSTOMERS_PER_PAGE = 50
CUSTOMER_SEARCH_MAX = 200
# The insights a customer's page lists, newest first (the count says how many in all).
CUSTOMER_INSIGHTS = 100


def customers_with_counts(*, product: Product) -> QuerySet[Customer]:
    """The product's customers by name, each with ``insight_count`` and ``contact_count`` (people
    of theirs who voted or asked on the roadmap page), their persona and domains (two queries)."""
    return (
        Customer.objects.filter(product=product)
        .select_related("persona")
        .prefetch_related(Prefetch("domains", queryset=CustomerDomain.objects.order_by("domain")))
        .annotate(
            insight_count=_count_of(Insight, "company"),
            contact_count=_count_of(Contact, "customer"),
        )
        .order_by(Lower("name"), "pk")
    )


def customers_page(*, product: Product, search: str, page_number) -> Page:
    """A page of the product's customers whose name contains ``search`` (bounded)."""
    customers = customers_with_counts(product=product)
    search = search.strip()[:CUSTOMER_SEARCH_MAX]
    if search:
        customers = customers.filter(name__icontains=search)
    return Paginator(customers, CUSTOMERS_PER_PAGE).get_page(page_number)


def customer_choices(*, product: Product) -> QuerySet[Customer]:
    """The product's customers to merge into, by name (one query)."""
    return Customer.objects.filter(product=product).only("id", "name").order_by(Lower("name"))


def customer_insights(*, customer: Customer) -> list[Insight]:
    """The customer's newest insights with the features they support (two queries)."""
    return list(
        Insight.objects.filter(company=customer)
        .select_related("persona")
        .prefetch_related(Prefetch("features", queryset=_features_by_rank()))
        .order_by("-observed_on", "-id")[:CUSTOMER_INSIGHTS]
    )


def experiments_of(*, product: Product) -> QuerySet[Experiment]:
    """The product's experiments, newest first, with the features they test (two queries)."""
    return (
        Experiment.objects.filter(product=product)
        .prefetch_related(Prefetch("features", queryset=_features_by_rank()))
        .order_by("-started_on", "-id")
    )
