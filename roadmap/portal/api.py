"""API of the voice of the customer: a product's requests (read, pushed in by a support tool,
triaged) and votes (read, cast on behalf of a customer's address, removed), under
``/api/v1/products/<slug>/``. Every write goes through the portal's services; the rules are the
pages' (members read, editors and admins write, a read-scoped token only reads)."""

from __future__ import annotations

from django.db.models import Count, Q
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from roadmap.api.permissions import IsMemberWithRole
from roadmap.api.serializers import StrictMixin
from roadmap.api.viewsets import (
    ERRORS,
    BooleanFilter,
    Pagination,
    ProductNested,
    UpdatedSinceFilter,
)
from roadmap.models import (
    Feature,
    FeatureRequest,
    Importance,
    RequestStatus,
    RoadmapItem,
    Vote,
)
from roadmap.portal import services
from roadmap.portal.models import DESCRIPTION_MAX_LENGTH, NOTE_MAX_LENGTH

PRODUCT_SLUG = OpenApiParameter(
    "product_slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="Product slug."
)

# --- Serializers ---------------------------------------------------------------------------------


class StakeholderRequestSerializer(serializers.ModelSerializer):
    requesters = serializers.IntegerField(
        source="requester_count",
        read_only=True,
        help_text="How many people asked for it (confirmed), duplicates included.",
    )

    class Meta:
        model = FeatureRequest
        fields = [
            "id",
            "title",
            "description",
            "importance",
            "status",
            "source",
            "feature",
            "merged_into",
            "public_reason",
            "requesters",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class StakeholderRequestCreateSerializer(StrictMixin, serializers.Serializer):
    """A request a support tool pushes in for one of its customers' addresses."""

    title = serializers.CharField(max_length=160)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    importance = serializers.ChoiceField(choices=Importance.choices, default=Importance.MEDIUM)
    email = serializers.EmailField(
        max_length=254, help_text="The customer's address: their company is found by its domain."
    )


class RequestLinkSerializer(StrictMixin, serializers.Serializer):
    feature = serializers.PrimaryKeyRelatedField(queryset=Feature.objects.none())


class RequestDeclineSerializer(StrictMixin, serializers.Serializer):
    public_reason = serializers.CharField(
        max_length=NOTE_MAX_LENGTH, allow_blank=True, help_text="Shown to the requesters."
    )


class RequestMergeSerializer(StrictMixin, serializers.Serializer):
    merged_into = serializers.PrimaryKeyRelatedField(
        queryset=FeatureRequest.objects.none(), help_text="The request that stays."
    )


class VoteSerializer(serializers.ModelSerializer):
    feature = serializers.IntegerField(source="item.feature_id", read_only=True, allow_null=True)
    customer = serializers.CharField(
        source="contact.customer.name", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Vote
        fields = ["id", "item", "feature", "customer", "note", "confirmed_at", "created_at"]
        read_only_fields = fields


class VoteCreateSerializer(StrictMixin, serializers.Serializer):
    """A vote a support tool casts for one of its customers' addresses."""

    item = serializers.PrimaryKeyRelatedField(
        queryset=RoadmapItem.objects.none(), help_text="Roadmap item id."
    )
    email = serializers.EmailField(max_length=254)
    note = serializers.CharField(
        max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True, default=""
    )


# --- Endpoints -----------------------------------------------------------------------------------


class RequestFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=RequestStatus.choices)
    q = filters.CharFilter(method="search", help_text="Title or description contains.")
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = FeatureRequest
        fields = ["source", "feature"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))


@extend_schema(parameters=[PRODUCT_SLUG])
@extend_schema_view(
    list=extend_schema(summary="List the product's requests (newest first)"),
    retrieve=extend_schema(summary="Get one of the product's requests"),
    create=extend_schema(
        summary="Push a request in for a customer's address (source “api”): it counts at once "
        "and sends request.created",
        request=StakeholderRequestCreateSerializer,
        responses={201: StakeholderRequestSerializer, **ERRORS},
    ),
)
class StakeholderRequestViewSet(
    ProductNested,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = FeatureRequest.objects.none()  # the schema's model; get_queryset gives the rows
    permission_classes = [IsMemberWithRole]
    pagination_class = Pagination
    serializer_class = StakeholderRequestSerializer
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = RequestFilter
    ordering_fields = ["created_at", "updated_at", "id"]
    ordering = ["-created_at", "-id"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return FeatureRequest.objects.filter(product=self.product()).annotate(
            requester_count=Count("requesters", filter=Q(requesters__confirmed_at__isnull=False))
        )

    def workspace_id_of(self, obj) -> int:
        return self.product().workspace_id

    def _answer(self, request: FeatureRequest, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=request.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def create(self, request, *args, **kwargs):
        product = self.product_to_edit()
        form = StakeholderRequestCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        made = services.request_import(product=product, **form.validated_data)
        return self._answer(made, status.HTTP_201_CREATED)

    def _form(self, form_class, **querysets):
        """The action's input, valid (else 400), its relations limited to the product."""
        form = form_class(data=self.request.data)
        for name, queryset in querysets.items():
            form.fields[name].queryset = queryset
        form.is_valid(raise_exception=True)
        return form.validated_data

    # get_object() checks the object permission: a write action is for editors and admins.

    @extend_schema(
        summary="Link the request to the feature that answers it (its requesters' insights "
        "support that feature)",
        request=RequestLinkSerializer,
        responses={200: StakeholderRequestSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def link(self, request, product_slug=None, pk=None):
        instance = self.get_object()
        data = self._form(
            RequestLinkSerializer, feature=Feature.objects.filter(product=self.product())
        )
        return self._answer(services.request_link(request=instance, feature=data["feature"]))

    @extend_schema(
        summary="Decline the request with a reason its requesters read",
        request=RequestDeclineSerializer,
        responses={200: StakeholderRequestSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, product_slug=None, pk=None):
        instance = self.get_object()
        data = self._form(RequestDeclineSerializer)
        return self._answer(
            services.request_decline(request=instance, reason=data["public_reason"])
        )

    @extend_schema(
        summary="Merge the request (a duplicate) into another: its requesters move there",
        request=RequestMergeSerializer,
        responses={200: StakeholderRequestSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, product_slug=None, pk=None):
        instance = self.get_object()
        data = self._form(
            RequestMergeSerializer,
            merged_into=FeatureRequest.objects.filter(product=self.product()),
        )
        services.request_merge(request=instance, into=data["merged_into"])
        return self._answer(instance)

    @extend_schema(
        summary="Mark the request as spam (its insights are deleted)",
        request=None,
        responses={200: StakeholderRequestSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def spam(self, request, product_slug=None, pk=None):
        return self._answer(services.request_mark_spam(request=self.get_object()))

    @extend_schema(
        summary="Put a declined or spam request back among the new ones",
        request=None,
        responses={200: StakeholderRequestSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, product_slug=None, pk=None):
        return self._answer(services.request_reopen(request=self.get_object()))


class VoteFilter(filters.FilterSet):
    confirmed = BooleanFilter(
        field_name="confirmed_at", lookup_expr="isnull", exclude=True, help_text="Confirmed only."
    )
    feature = filters.NumberFilter(field_name="item__feature_id", help_text="Feature id.")

    class Meta:
        model = Vote
        fields = ["item"]


@extend_schema(parameters=[PRODUCT_SLUG])
@extend_schema_view(
    list=extend_schema(summary="List the votes on the product's roadmap items (newest first)"),
    retrieve=extend_schema(summary="Get one vote"),
    create=extend_schema(
        summary="Vote for a roadmap item on behalf of a customer's address: it counts at once "
        "(201 when new, 200 when it replaced that address's note) and sends vote.created",
        request=VoteCreateSerializer,
        responses={201: VoteSerializer, 200: VoteSerializer, **ERRORS},
    ),
    destroy=extend_schema(summary="Remove a vote and the insight it left"),
)
class VoteViewSet(
    ProductNested,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Vote.objects.none()  # the schema's model; get_queryset gives the rows
    permission_classes = [IsMemberWithRole]
    pagination_class = Pagination
    serializer_class = VoteSerializer
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = VoteFilter
    ordering_fields = ["created_at", "confirmed_at", "id"]
    ordering = ["-created_at", "-id"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return Vote.objects.filter(item__product=self.product()).select_related(
            "item", "contact__customer"
        )

    def workspace_id_of(self, obj) -> int:
        return self.product().workspace_id

    def create(self, request, *args, **kwargs):
        product = self.product_to_edit()
        form = VoteCreateSerializer(data=request.data)
        form.fields["item"].queryset = RoadmapItem.objects.filter(product=product)
        form.is_valid(raise_exception=True)
        vote, created = services.vote_import(**form.validated_data)
        fresh = self.get_queryset().get(pk=vote.pk)
        return Response(
            self.get_serializer(fresh).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def perform_destroy(self, instance):
        services.vote_delete(vote=instance)
