"""API endpoints of planning (products, features, releases, lanes, roadmap items, priorities):
thin adapters on the generic pieces of ``roadmap.api``. Scope with ``scoped``, check roles, call
one service."""

import base64
import functools
import json

from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, QueryDict
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from accounts.models import Workspace
from roadmap.access import product_by_slug
from roadmap.api.permissions import ensure_can_edit, request_roles, request_token
from roadmap.api.scoping import scoped_product
from roadmap.api.serializers import ConflictSerializer
from roadmap.api.viewsets import (
    ERRORS,
    BooleanFilter,
    ProductChildFilter,
    RepeatedTextFilter,
    RowsPaginator,
    ScopedViewSet,
    StrictBooleanWidget,
    UpdatedSinceFilter,
    data_without,
    product_record_viewset,
)
from roadmap.bounds import whole_number
from roadmap.models import (
    Feature,
    FeatureFieldValue,
    FeatureStatus,
    Horizon,
    Insight,
    Kano,
    Lane,
    MarketPosition,
    MoSCoW,
    Persona,
    Product,
    Release,
    RoadmapItem,
    ScoringFormulaVersion,
    ScoringFramework,
    Tag,
)
from roadmap.planning.api import serializers as s
from roadmap.planning.selectors.features import features_list_rows, features_related
from roadmap.planning.selectors.priorities import (
    FIELD_FILTER_TEXT_MAX,
    FIELD_FILTER_VALUES_MAX,
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    FieldCondition,
    features_meeting,
    field_filters_clean,
    priorities_page,
    product_field_definitions,
)
from roadmap.planning.services import features as feature_services
from roadmap.planning.services import products as product_services
from roadmap.planning.services import roadmap as records

# --- Products ----------------------------------------------------------------------------------

# Formula versions per answer of GET products/{slug}/formula-versions/ (then follow `next`).
FORMULA_VERSIONS_PAGE = 50


class ProductFilter(filters.FilterSet):
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Product
        fields = ["product_line", "scoring_framework"]


# The custom-field filter parameters (of the priorities and of the features list), what each
# checks in a field, and what the schema says of each.
FIELD_PARAMETERS = {"field": "value", "field_min": "min", "field_max": "max"}
FIELD_PARAMETER_HELP = {
    "field": "A custom field's value, as `key:value`: a choice's label (e.g. "
    "`segment:Enterprise`) or `yes`/`no` (e.g. `urgent:yes`). Repeat it for any of several "
    "values of a field; filters on different fields all apply. A feature without a value in "
    "the field does not pass. An unknown field or choice: 400.",
    "field_min": "A number custom field's minimum, as `key:number`, e.g. `deal_size:5000`.",
    "field_max": "A number custom field's maximum, as `key:number`, e.g. `deal_size:20000`.",
}
FIELD_FILTERS_NEED_PRODUCT = "Give `product` too: custom fields are a product's own."

PRIORITY_PARAMETERS = [
    OpenApiParameter(
        "status",
        str,
        many=True,
        enum=FeatureStatus.values,
        description="Default: every status but shipped and archived.",
    ),
    OpenApiParameter("horizon", str, many=True, enum=Horizon.values),
    OpenApiParameter("moscow", str, many=True, enum=MoSCoW.values),
    OpenApiParameter("kano", str, many=True, enum=Kano.values),
    OpenApiParameter(
        "market_position",
        str,
        many=True,
        enum=MarketPosition.values,
        description="Against competitors: parity or differentiator.",
    ),
    OpenApiParameter("persona", int, description="Persona id."),
    OpenApiParameter("tag", str, description="Tag name."),
    OpenApiParameter("release", int, description="Release id."),
    OpenApiParameter(
        "shares",
        bool,
        description="true: each row's `score_breakdown` also lists its terms' `shares` "
        "(what each part of the formula contributes; about 65 µs and 1 KB a row, so off by "
        "default in lists). One feature (`GET /features/{id}/`) always has them.",
    ),
    *(
        OpenApiParameter(name, str, many=True, description=text)
        for name, text in FIELD_PARAMETER_HELP.items()
    ),
    OpenApiParameter(
        "limit",
        int,
        description=f"Features per answer: {PAGE_SIZE} by default, 1–{MAX_PAGE_SIZE}.",
    ),
    OpenApiParameter(
        "cursor",
        str,
        description="Where to go on from: the cursor of the previous answer's `next` link.",
    ),
]


class PriorityFilterForm(filters.FilterSet):
    """Validates the priorities query string (bad values: 400 naming the parameter)."""

    status = filters.MultipleChoiceFilter(choices=FeatureStatus.choices)
    horizon = filters.MultipleChoiceFilter(choices=Horizon.choices)
    moscow = filters.MultipleChoiceFilter(choices=MoSCoW.choices)
    kano = filters.MultipleChoiceFilter(choices=Kano.choices)
    market_position = filters.MultipleChoiceFilter(choices=MarketPosition.choices)
    persona = filters.NumberFilter()
    tag = filters.CharFilter()
    release = filters.NumberFilter()
    shares = BooleanFilter()
    limit = filters.NumberFilter()
    cursor = filters.CharFilter()

    class Meta:
        model = Feature
        fields = []


@functools.cache
def priority_query_form() -> type:
    """The form ``PriorityFilterForm`` validates with, built once: a FilterSet copies its filters
    and builds its form class anew on every request (1 ms of an answer of a few)."""
    return PriorityFilterForm(queryset=Feature.objects.none()).form.__class__


# The form class of each FilterSet class that builds it once (``FeatureFilter.get_form_class``).
FILTER_FORMS: dict[type, type] = {}


def field_parameters_given(query: QueryDict) -> list[str]:
    """The custom-field filter parameters the query string gives (empty ones too)."""
    return [p for p in FIELD_PARAMETERS if query.getlist(p)]


def custom_field_conditions(query: QueryDict, product: Product | int) -> list[FieldCondition]:
    """The custom-field filters of the query string (``field``, ``field_min``, ``field_max``,
    each ``key:value``), checked against the fields of the product (or of the product of that
    id); a bad one: 400 naming the parameter. Reads the fields only when such a filter is
    given. The priorities and the features list both filter with it."""
    if not field_parameters_given(query):
        return []
    given = {p: query.getlist(p) for p in FIELD_PARAMETERS}
    errors: dict[str, list[str]] = {}
    parsed: dict[str, dict[str, list[str]]] = {p: {} for p in FIELD_PARAMETERS}
    for param, raws in given.items():
        if len(raws) > FIELD_FILTER_VALUES_MAX:
            errors[param] = [f"At most {FIELD_FILTER_VALUES_MAX} values."]
            continue
        for raw in raws:
            key, colon, value = raw[: FIELD_FILTER_TEXT_MAX * 2].partition(":")
            if not (colon and key and value):
                errors.setdefault(param, []).append(
                    "Give a field's key and a value as key:value, e.g. segment:Enterprise."
                )
            elif param != "field" and key in parsed[param]:
                errors.setdefault(param, []).append(f"{key}: give one {param} per field.")
            else:
                parsed[param].setdefault(key, []).append(value)
    if errors:
        raise ValidationError(errors)
    checked = field_filters_clean(
        definitions=product_field_definitions(product=product),
        values=parsed["field"],
        minimum={k: v[0] for k, v in parsed["field_min"].items()},
        maximum={k: v[0] for k, v in parsed["field_max"].items()},
    )
    param_of = {what: param for param, what in FIELD_PARAMETERS.items()}
    for (key, what), messages in checked.errors.items():
        errors.setdefault(param_of[what], []).extend(f"{key}: {m}" for m in messages)
    if errors:
        raise ValidationError(errors)
    return checked.conditions


def priorities_cursor(after: tuple[int | None, int]) -> str:
    """An opaque cursor for the row after ``after`` (its rank and id)."""
    return base64.urlsafe_b64encode(json.dumps(list(after)).encode()).decode().rstrip("=")


def priorities_after(cursor: str) -> tuple[int | None, int]:
    """The (rank, id) a cursor names; a cursor this API did not write: 400."""
    try:
        rank, pk = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        valid = (rank is None or (type(rank) is int and 0 <= rank < 2**31)) and (
            type(pk) is int and 0 <= pk < 2**63
        )
    except (ValueError, TypeError):
        valid = False
    if not valid:
        raise ValidationError({"cursor": ["Not a cursor of this list: follow a `next` link."]})
    return rank, pk


@extend_schema_view(
    list=extend_schema(summary="List products", responses={200: s.ProductSerializer(many=True)}),
    retrieve=extend_schema(summary="Get a product"),
    create=extend_schema(summary="Create a product (in the token's or your current workspace)"),
    partial_update=extend_schema(
        summary="Edit a product; changing its scoring settings recomputes its scores"
    ),
    destroy=extend_schema(summary="Delete a product and everything in it (admins only)"),
)
class ProductViewSet(ScopedViewSet):
    queryset = Product.objects.select_related("workspace").prefetch_related(
        "drivers", "custom_fields__choices"
    )
    serializer_class = s.ProductSerializer
    lookup_field = "slug"
    filterset_class = ProductFilter
    ordering_fields = ["name", "updated_at", "created_at"]
    ordering = ["name"]

    def workspace_id_of(self, obj) -> int:
        return obj.workspace_id

    def get_object(self):
        if self.action == "priorities":
            # Only the product's own row: the one read most, with a token by a baked query.
            product = scoped_product(self.request, self.kwargs["slug"])
        else:
            queryset = self.filter_queryset(self.get_queryset())
            product = product_by_slug(queryset, self.request, self.kwargs["slug"]).first()
        if product is None:
            raise Http404("No such product.")
        self.check_object_permissions(self.request, product)
        return product

    def perform_create(self, serializer):
        token = request_token(self.request)
        if token:
            workspace_id = token.workspace_id
        else:
            roles = request_roles(self.request)
            chosen = self.request.session.get("workspace_id")
            workspace_id = chosen if chosen in roles else min(roles, default=None)
        if workspace_id is None:
            raise ValidationError({"workspace": ["You are not a member of any workspace."]})
        ensure_can_edit(self.request, workspace_id)
        serializer.instance = product_services.product_create(
            workspace=Workspace.objects.get(pk=workspace_id),
            author=self.request.user,
            **serializer.validated_data,
        )

    def perform_update(self, serializer):
        product_services.product_update(
            product=serializer.instance, data=serializer.validated_data, author=self.request.user
        )

    def perform_destroy(self, instance):
        ensure_can_edit(self.request, instance.workspace_id, admin_only=True)
        product_services.product_delete(product=instance)

    @extend_schema(
        summary="The product's features in priority order, a page at a time (follow `next`)",
        parameters=PRIORITY_PARAMETERS,
        responses={200: s.PrioritiesSerializer, **{k: v for k, v in ERRORS.items() if k != 429}},
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def priorities(self, request, slug=None):
        product = self.get_object()
        form = priority_query_form()(request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors)
        params = dict(form.cleaned_data)
        limit = params.pop("limit", None)
        if limit is not None and (limit != int(limit) or not 1 <= limit <= MAX_PAGE_SIZE):
            raise ValidationError({"limit": [f"Between 1 and {MAX_PAGE_SIZE}."]})
        cursor = params.pop("cursor", None)
        params["fields"] = custom_field_conditions(request.query_params, product)
        page = priorities_page(
            product=product,
            shares=bool(params.pop("shares", False)),
            filters=params,
            limit=int(limit) if limit is not None else PAGE_SIZE,
            after=priorities_after(cursor) if cursor else None,
        )
        following = None
        if page.next_after is not None:
            following = replace_query_param(
                request.build_absolute_uri(), "cursor", priorities_cursor(page.next_after)
            )
        return Response(
            s.priorities_representation(
                {
                    "product": product.slug,
                    "framework": product.scoring_framework,
                    "scores_stale": product.scores_stale,
                    "scores_computed_at": product.scores_computed_at,
                    "count": len(page.results),
                    "next": following,
                    "results": page.results,
                }
            )
        )

    @extend_schema(
        summary="The product's formula versions, newest first, a page at a time (follow `next`)",
        parameters=[
            OpenApiParameter(
                "before",
                int,
                description="Only versions numbered below this (the `next` link sets it).",
            )
        ],
        responses={
            200: s.FormulaVersionsSerializer,
            **{k: v for k, v in ERRORS.items() if k != 429},
        },
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="formula-versions",
        pagination_class=None,
        filter_backends=[],
    )
    def formula_versions(self, request, slug=None):
        product = self.get_object()
        raw = request.query_params.get("before", "")
        before = whole_number(raw, low=1, high=2**31 - 1)
        if raw and before is None:
            raise ValidationError({"before": ["A version number."]})
        versions = ScoringFormulaVersion.objects.filter(product=product).select_related("author")
        if before:
            versions = versions.filter(number__lt=before)
        page = list(versions.order_by("-number")[: FORMULA_VERSIONS_PAGE + 1])
        following = None
        if len(page) > FORMULA_VERSIONS_PAGE:
            page = page[:FORMULA_VERSIONS_PAGE]
            following = replace_query_param(request.build_absolute_uri(), "before", page[-1].number)
        data = {
            "product": product.slug,
            "in_use": product.scoring_formula_version
            if product.scoring_framework == ScoringFramework.CUSTOM
            else None,
            "next": following,
            "results": page,
        }
        return Response(s.FormulaVersionsSerializer(data).data)


# --- Features ----------------------------------------------------------------------------------


class FeatureFilter(ProductChildFilter):
    status = filters.MultipleChoiceFilter(choices=FeatureStatus.choices)
    horizon = filters.MultipleChoiceFilter(
        field_name="roadmap_item__horizon", choices=Horizon.choices
    )
    moscow = filters.MultipleChoiceFilter(choices=MoSCoW.choices)
    kano = filters.MultipleChoiceFilter(choices=Kano.choices)
    market_position = filters.MultipleChoiceFilter(choices=MarketPosition.choices)
    tag = filters.CharFilter(field_name="tags__name", help_text="Tag name.")
    persona = filters.NumberFilter(field_name="personas__id", help_text="Persona id.")
    release = filters.NumberFilter(field_name="roadmap_item__release_id", help_text="Release id.")
    q = filters.CharFilter(field_name="title", lookup_expr="icontains", help_text="Title contains.")
    shares = BooleanFilter(
        method="with_shares",
        help_text="true: each feature's `score_breakdown` also lists its terms' `shares` (about "
        "65 µs and 1 KB a feature, so off by default in the list; one feature always has them).",
    )

    field = RepeatedTextFilter(
        description=f"{FIELD_PARAMETER_HELP['field']} Needs `product` (400 without)."
    )
    field_min = RepeatedTextFilter(
        description=f"{FIELD_PARAMETER_HELP['field_min']} Needs `product` (400 without)."
    )
    field_max = RepeatedTextFilter(
        description=f"{FIELD_PARAMETER_HELP['field_max']} Needs `product` (400 without)."
    )

    def with_shares(self, queryset, name, value):
        return queryset  # read by the serializer (FeatureViewSet.get_serializer_context)

    def get_form_class(self):
        # Built once, as ``priority_query_form``: a FilterSet builds its form class anew on
        # every request. Its fields are the filters' own, none of which reads the request (no
        # choices from a queryset): the same class for every request.
        form = FILTER_FORMS.get(type(self))
        if form is None:
            form = FILTER_FORMS[type(self)] = super().get_form_class()
        return form

    def filter_queryset(self, queryset):
        """The filters, then the custom-field ones (as the priorities read and check them):
        those need the product, whose fields they name; a slug naming none of the requester's
        products has already emptied the list."""
        queryset = super().filter_queryset(queryset)
        # The request's, not ``self.data``: a FilterSet takes an empty QueryDict for a plain {}.
        query = self.request.query_params
        given = field_parameters_given(query)
        if not given:
            return queryset
        slug = self.form.cleaned_data.get("product")
        if not slug:
            raise ValidationError({p: [FIELD_FILTERS_NEED_PRODUCT] for p in given})
        product_id = self.filters["product"].product_id(slug)
        if product_id is None:
            return queryset
        return features_meeting(queryset, custom_field_conditions(query, product_id))

    class Meta:
        model = Feature
        fields = []


@extend_schema_view(
    list=extend_schema(summary="List features"),
    retrieve=extend_schema(summary="Get a feature with its score explanation"),
    create=extend_schema(summary="Create a feature (scored at once)"),
    partial_update=extend_schema(
        summary="Edit a feature; send `version` to refuse overwriting someone else's save",
        responses={200: s.FeatureSerializer, 409: ConflictSerializer, **ERRORS},
    ),
    destroy=extend_schema(summary="Delete a feature"),
)
class FeatureViewSet(ScopedViewSet):
    queryset = (
        Feature.objects.select_related("product", "owner", "roadmap_item")
        .prefetch_related(
            # Into lists (to_attr), which the serializer reads (serializers.prefetched): no
            # queryset and manager made per feature and relation.
            Prefetch("tags", queryset=Tag.objects.order_by("name"), to_attr="prefetched_tags"),
            # In the order the list reads them in (features_related).
            Prefetch(
                "personas",
                queryset=Persona.objects.only("id").order_by("name", "id"),
                to_attr="prefetched_personas",
            ),
            Prefetch(
                "field_values",
                queryset=FeatureFieldValue.objects.select_related("field", "choice").order_by(
                    "field__position", "field_id"
                ),
                to_attr="prefetched_field_values",
            ),
        )
        # A subquery, not a join: the page's COUNT(*) stays a plain count.
        .annotate(
            insight_count=Coalesce(
                Subquery(
                    Insight.features.through.objects.filter(feature_id=OuterRef("pk"))
                    .order_by()
                    .values("feature_id")
                    .annotate(n=Count("id"))
                    .values("n")[:1]
                ),
                0,
            )
        )
    )
    serializer_class = s.FeatureSerializer
    filterset_class = FeatureFilter
    ordering_fields = ["score", "rank", "updated_at", "created_at", "title", "id"]
    ordering = ["product_id", "rank", "id"]

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.distinct() if self._filters_join_many() else queryset

    def _filters_join_many(self) -> bool:
        return bool({"tag", "persona"} & set(self.request.query_params))

    def get_serializer_context(self):
        # The list's breakdowns carry their shares when asked (the filter validated the value:
        # read as it reads it); one feature's always do.
        params = self.request.query_params
        asked = StrictBooleanWidget().value_from_datadict(params, {}, "shares") is True
        return {**super().get_serializer_context(), "shares": self.action != "list" or asked}

    def list(self, request, *args, **kwargs):
        # Rows as values, written by hand (what the serializer would write: a test holds them
        # equal). The page is counted as the queryset is, its rows read as values.
        shares = self.get_serializer_context()["shares"]
        queryset = self.filter_queryset(self.get_queryset())
        self.paginator.django_paginator_class = functools.partial(
            RowsPaginator, rows=functools.partial(features_list_rows, shares=shares)
        )
        # Always a page: the pagination has a default page size.
        page = self.paginate_queryset(queryset)
        data = s.features_representation(page, features_related(rows=page), shares=shares)
        return self.get_paginated_response(data)

    def perform_create(self, serializer):
        product = self.product_for_create(serializer)
        data = data_without(serializer, "product", "personas", "tags", "version", "field_values")
        feature = feature_services.feature_create(
            product=product,
            personas=serializer.validated_data.get("personas", ()),
            tags=serializer.validated_data.get("tags", ()),
            custom_fields=serializer.validated_data.get("field_values"),
            **data,
        )
        serializer.instance = self.get_queryset().get(pk=feature.pk)

    def perform_update(self, serializer):
        feature = serializer.instance
        feature_services.feature_update(
            feature=feature,
            data=data_without(serializer, "personas", "tags", "version", "field_values"),
            expected_version=serializer.validated_data.get("version"),
            personas=serializer.validated_data.get("personas"),
            tags=serializer.validated_data.get("tags"),
            custom_fields=serializer.validated_data.get("field_values"),
            actor=self.request.user,
        )
        serializer.instance = self.get_queryset().get(pk=feature.pk)

    def perform_destroy(self, instance):
        records.feature_delete(feature=instance)


# --- Supporting records --------------------------------------------------------------------------


ReleaseViewSet = product_record_viewset(
    Release, s.ReleaseSerializer, records.release_save, filter_fields=("status",)
)
LaneViewSet = product_record_viewset(Lane, s.LaneSerializer, records.lane_save)


class RoadmapItemFilter(ProductChildFilter):
    horizon = filters.MultipleChoiceFilter(choices=Horizon.choices)

    class Meta:
        model = RoadmapItem
        fields = ["visibility", "lane", "release", "feature"]


@extend_schema_view(
    list=extend_schema(summary="List roadmap items"),
    retrieve=extend_schema(summary="Get a roadmap item"),
    create=extend_schema(summary="Place a feature or a theme on the roadmap"),
    partial_update=extend_schema(summary="Edit a roadmap item"),
    destroy=extend_schema(summary="Take an item off the roadmap (the feature stays)"),
)
class RoadmapItemViewSet(ScopedViewSet):
    queryset = RoadmapItem.objects.select_related("product", "feature")
    serializer_class = s.RoadmapItemSerializer
    filterset_class = RoadmapItemFilter
    ordering_fields = ["position", "updated_at", "start_date", "id"]
    ordering = ["horizon", "position", "id"]

    def perform_create(self, serializer):
        product = self.product_for_create(serializer)
        item = records.roadmap_item_save(
            product=product, data=data_without(serializer, "product"), actor=self.request.user
        )
        serializer.instance = self.get_queryset().get(pk=item.pk)

    def perform_update(self, serializer):
        item = records.roadmap_item_save(
            product=serializer.instance.product,
            data=data_without(serializer, "product"),
            item=serializer.instance,
            actor=self.request.user,
        )
        serializer.instance = self.get_queryset().get(pk=item.pk)

    def perform_destroy(self, instance):
        records.roadmap_item_delete(item=instance, actor=self.request.user)

    @extend_schema(
        summary="Move an item to a horizon and position (the board's drag and drop)",
        request=s.RoadmapItemMoveSerializer,
        responses={200: s.RoadmapItemSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        item = self.get_object()
        form = s.RoadmapItemMoveSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        records.roadmap_item_move(item=item, actor=request.user, **form.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=item.pk)).data)
