"""API endpoints: thin adapters. Scope with ``scoped``, check roles, call one service."""

import datetime

from django import forms
from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from accounts.models import Workspace
from roadmap.access import product_by_slug
from roadmap.api.permissions import IsMemberWithRole, ensure_can_edit, request_roles, request_token
from roadmap.api.schema import VALIDATION_ERROR_SCHEMA
from roadmap.api.scoping import scoped
from roadmap.evidence import services as evidence_services
from roadmap.models import (
    Feature,
    FeatureStatus,
    Horizon,
    Insight,
    Kano,
    Lane,
    MarketPosition,
    MoSCoW,
    Objective,
    Persona,
    Product,
    Release,
    RoadmapItem,
    Tag,
)
from roadmap.planning.api import serializers as s
from roadmap.planning.selectors.priorities import priorities_list
from roadmap.planning.services import features as feature_services
from roadmap.planning.services import products as product_services
from roadmap.planning.services import roadmap as records

MAX_PAGE_SIZE = 200


class Pagination(PageNumberPagination):
    """Pages of 50 by default; ``page_size`` up to 200."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class ScopedViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [IsMemberWithRole]
    pagination_class = Pagination
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["updated_at", "created_at", "id"]
    ordering = ["id"]

    def get_queryset(self):
        return scoped(self.queryset.all(), self.request)

    def workspace_id_of(self, obj) -> int:
        return obj.product.workspace_id

    def product_for_create(self, serializer) -> Product:
        product = serializer.validated_data["product"]
        ensure_can_edit(self.request, product.workspace_id)
        return product


class UTCDateTimeField(IsoDateTimeField):
    """An ISO 8601 instant, normalised to UTC (databases refuse offsets beyond ±15:59)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(datetime.UTC)
        except (OverflowError, ValueError) as exc:
            raise forms.ValidationError("This instant is out of range.") from exc


class UpdatedSinceFilter(filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField

    def __init__(self, **kwargs):
        kwargs.setdefault("field_name", "updated_at")
        kwargs.setdefault("lookup_expr", "gte")
        kwargs.setdefault("help_text", "Only rows changed at or after this instant (ISO 8601).")
        super().__init__(**kwargs)


class ProductSlugFilter(filters.CharFilter):
    """Rows of the product a slug names for the requester (``product_by_slug``): with a token,
    only its workspace's product; with a session, the current workspace's first.
    ``field_name`` is the path from the row to its product."""

    def __init__(self, field_name="product", **kwargs):
        kwargs.setdefault("help_text", "Product slug.")
        super().__init__(field_name=field_name, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        request = self.parent.request
        named = product_by_slug(scoped(Product.objects.all(), request), request, value)
        return qs.filter(**{f"{self.field_name}__in": named.values("pk")[:1]})


class ProductChildFilter(filters.FilterSet):
    product = ProductSlugFilter()
    updated_since = UpdatedSinceFilter()


def _data(serializer, *names):
    return {k: v for k, v in serializer.validated_data.items() if k not in names}


ERRORS = {
    400: OpenApiResponse(response=VALIDATION_ERROR_SCHEMA, description="Invalid input"),
    401: s.ErrorSerializer,
    403: s.ErrorSerializer,
    404: s.ErrorSerializer,
    429: s.ErrorSerializer,
}


# --- Products ----------------------------------------------------------------------------------


class ProductFilter(filters.FilterSet):
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Product
        fields = ["product_line", "scoring_framework"]


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
    OpenApiParameter("limit", int, description="Only the top N (1–1000)."),
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
    limit = filters.NumberFilter()

    class Meta:
        model = Feature
        fields = []


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
    queryset = Product.objects.select_related("workspace").prefetch_related("drivers")
    serializer_class = s.ProductSerializer
    lookup_field = "slug"
    filterset_class = ProductFilter
    ordering_fields = ["name", "updated_at", "created_at"]
    ordering = ["name"]

    def workspace_id_of(self, obj) -> int:
        return obj.workspace_id

    def get_object(self):
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
            workspace=Workspace.objects.get(pk=workspace_id), **serializer.validated_data
        )

    def perform_update(self, serializer):
        product_services.product_update(product=serializer.instance, data=serializer.validated_data)

    def perform_destroy(self, instance):
        ensure_can_edit(self.request, instance.workspace_id, admin_only=True)
        product_services.product_delete(product=instance)

    @extend_schema(
        summary="The product's features in priority order",
        parameters=PRIORITY_PARAMETERS,
        responses={200: s.PrioritiesSerializer, **{k: v for k, v in ERRORS.items() if k != 429}},
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def priorities(self, request, slug=None):
        product = self.get_object()
        form = PriorityFilterForm(request.query_params, queryset=Feature.objects.none())
        if not form.is_valid():
            raise ValidationError(form.errors)
        params = form.form.cleaned_data
        limit = params.pop("limit", None)
        if limit is not None and not 1 <= limit <= 1000:
            raise ValidationError({"limit": ["Between 1 and 1000."]})
        results = priorities_list(
            product=product, filters=params, limit=int(limit) if limit else None
        )
        return Response(
            s.PrioritiesSerializer(
                {
                    "product": product.slug,
                    "framework": product.scoring_framework,
                    "scores_stale": product.scores_stale,
                    "scores_computed_at": product.scores_computed_at,
                    "count": len(results),
                    "results": results,
                }
            ).data
        )


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

    class Meta:
        model = Feature
        fields = []


@extend_schema_view(
    list=extend_schema(summary="List features"),
    retrieve=extend_schema(summary="Get a feature with its score explanation"),
    create=extend_schema(summary="Create a feature (scored at once)"),
    partial_update=extend_schema(
        summary="Edit a feature; send `version` to refuse overwriting someone else's save",
        responses={200: s.FeatureSerializer, 409: s.ConflictSerializer, **ERRORS},
    ),
    destroy=extend_schema(summary="Delete a feature"),
)
class FeatureViewSet(ScopedViewSet):
    queryset = (
        Feature.objects.select_related("product", "owner", "roadmap_item")
        .prefetch_related(
            Prefetch("tags", queryset=Tag.objects.order_by("name")),
            Prefetch("personas", queryset=Persona.objects.only("id")),
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
        return (
            super().get_queryset().distinct()
            if self._filters_join_many()
            else super().get_queryset()
        )

    def _filters_join_many(self) -> bool:
        return bool({"tag", "persona"} & set(self.request.query_params))

    def _members_only(self, serializer, product):
        owner = serializer.validated_data.get("owner")
        if owner and not product.workspace.memberships.filter(user=owner).exists():
            raise ValidationError({"owner": ["The owner must be a member of this workspace."]})

    def perform_create(self, serializer):
        product = self.product_for_create(serializer)
        self._members_only(serializer, product)
        data = _data(serializer, "product", "personas", "tags", "version")
        feature = feature_services.feature_create(
            product=product,
            personas=serializer.validated_data.get("personas", ()),
            tags=serializer.validated_data.get("tags", ()),
            **data,
        )
        serializer.instance = self.get_queryset().get(pk=feature.pk)

    def perform_update(self, serializer):
        feature = serializer.instance
        self._members_only(serializer, feature.product)
        feature_services.feature_update(
            feature=feature,
            data=_data(serializer, "personas", "tags", "version"),
            expected_version=serializer.validated_data.get("version"),
            personas=serializer.validated_data.get("personas"),
            tags=serializer.validated_data.get("tags"),
            actor=self.request.user,
        )
        serializer.instance = self.get_queryset().get(pk=feature.pk)

    def perform_destroy(self, instance):
        records.feature_delete(feature=instance)


# --- Supporting records --------------------------------------------------------------------------


def product_record_viewset(
    model_class,
    serializer,
    save,
    *,
    delete=None,
    argument="",
    filter_fields=(),
    m2m=(),
    extra=None,
):
    """A CRUD viewset for a product's record whose writes go through services: ``save`` (and
    ``delete``, else the row is deleted as is), which take the record as ``argument`` (the
    model's name by default). ``m2m`` names the relations ``save`` takes on their own;
    ``extra(request)`` adds arguments to a create."""
    argument = argument or model_class._meta.model_name

    class Filter(ProductChildFilter):
        class Meta:
            model = model_class
            fields = list(filter_fields)

    class ViewSet(ScopedViewSet):
        queryset = model_class.objects.select_related("product").prefetch_related(*m2m)
        serializer_class = serializer
        filterset_class = Filter

        def _save(self, serializer, product, instance=None):
            related = {
                name: serializer.validated_data[name]
                for name in m2m
                if name in serializer.validated_data
            }
            kwargs = {argument: instance} if instance else {}
            obj = save(
                product=product,
                data=_data(serializer, "product", *m2m),
                **kwargs,
                **related,
                **(extra(self.request) if extra and instance is None else {}),
            )
            serializer.instance = self.get_queryset().get(pk=obj.pk)

        def perform_create(self, serializer):
            self._save(serializer, self.product_for_create(serializer))

        def perform_update(self, serializer):
            self._save(serializer, serializer.instance.product, serializer.instance)

        if delete is not None:

            def perform_destroy(self, instance):
                delete(**{argument: instance})

    ViewSet.__name__ = ViewSet.__qualname__ = f"{model_class.__name__}ViewSet"
    name = model_class._meta.verbose_name_plural
    return extend_schema_view(
        list=extend_schema(summary=f"List {name}"),
        retrieve=extend_schema(summary=f"Get one of the {name}"),
        create=extend_schema(summary=f"Create one of the {name}"),
        partial_update=extend_schema(summary=f"Edit one of the {name}"),
        destroy=extend_schema(summary=f"Delete one of the {name}"),
    )(ViewSet)


PersonaViewSet = product_record_viewset(
    Persona,
    s.PersonaSerializer,
    evidence_services.persona_save,
    delete=evidence_services.persona_delete,
)
InsightViewSet = product_record_viewset(
    Insight,
    s.InsightSerializer,
    evidence_services.insight_save,
    delete=evidence_services.insight_delete,
    filter_fields=("source", "persona", "customer"),
    m2m=("features",),
    extra=lambda request: {"created_by": request.user},
)
ObjectiveViewSet = product_record_viewset(
    Objective, s.ObjectiveSerializer, evidence_services.objective_save, m2m=("features",)
)
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
            product=product, data=_data(serializer, "product"), actor=self.request.user
        )
        serializer.instance = self.get_queryset().get(pk=item.pk)

    def perform_update(self, serializer):
        item = records.roadmap_item_save(
            product=serializer.instance.product,
            data=_data(serializer, "product"),
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
