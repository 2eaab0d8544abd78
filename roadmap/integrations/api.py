"""Webhook endpoints and their delivery log, for workspace admins only (every method).

Writes also need a token with the write scope. The signing secret is returned once, when an
endpoint is created (or its secret rotated).
"""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from roadmap.access import role_allows
from roadmap.api.permissions import IsMemberWithRole, request_roles
from roadmap.api.scoping import scoped
from roadmap.api.serializers import StrictMixin
from roadmap.api.viewsets import ERRORS, Pagination, WorkspaceRecordWrites
from roadmap.integrations.services import webhooks as webhook_services
from roadmap.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent

ADMINS_ONLY = "Only workspace admins can manage webhooks."


def _admin_workspace_ids(request) -> list[int]:
    return [wid for wid, role in request_roles(request).items() if role_allows(role, admin=True)]


class IsWorkspaceAdmin(IsMemberWithRole):
    """Admins only, for reads too: endpoints carry secrets and the deliveries carry payloads."""

    message = ADMINS_ONLY

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if not _admin_workspace_ids(request):
            raise PermissionDenied(ADMINS_ONLY)
        return True

    def has_object_permission(self, request, view, obj):
        if not role_allows(request_roles(request).get(view.workspace_id_of(obj)), admin=True):
            raise PermissionDenied(ADMINS_ONLY)
        return True


# --- Serializers ---------------------------------------------------------------------------------


class WebhookEndpointSerializer(StrictMixin, serializers.ModelSerializer):
    """Where Waymark POSTs events. Unknown input fields are refused (400)."""

    workspace = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices),
        help_text="Event names this endpoint receives (at least one).",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "workspace",
            "url",
            "description",
            "events",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """A just created endpoint, with its signing secret (the only time it is returned)."""

    secret = serializers.CharField(
        read_only=True,
        help_text="Signing secret: shown only now. Signature: HMAC-SHA256 of the body, hex.",
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookSecretSerializer(serializers.Serializer):
    """A new signing secret (the only time it is returned)."""

    secret = serializers.CharField(read_only=True)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    """One event sent (or to be sent) to one endpoint, with the last attempt's outcome."""

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event",
            "event_id",
            "status",
            "attempts",
            "response_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "payload",
        ]
        read_only_fields = fields


# --- Endpoints -----------------------------------------------------------------------------------


class AdminViewSetMixin:
    permission_classes = [IsWorkspaceAdmin]
    pagination_class = Pagination
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]

    def admin_scoped(self, queryset):
        """Rows of the workspaces the requester administers (others' are not found: 404)."""
        return scoped(queryset, self.request).filter(
            **{f"{queryset.workspace_path}__in": _admin_workspace_ids(self.request)}
        )


@extend_schema_view(
    list=extend_schema(summary="List webhook endpoints (admins)"),
    retrieve=extend_schema(summary="Get a webhook endpoint (admins)"),
    create=extend_schema(
        summary="Register a webhook endpoint; the answer holds its secret, shown only now",
        request=WebhookEndpointSerializer,
        responses={201: WebhookEndpointCreatedSerializer, **ERRORS},
    ),
    partial_update=extend_schema(summary="Edit a webhook endpoint (admins)"),
    destroy=extend_schema(summary="Delete a webhook endpoint and its delivery log (admins)"),
)
class WebhookEndpointViewSet(
    WorkspaceRecordWrites,
    AdminViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = WebhookEndpoint.objects.select_related("workspace")
    serializer_class = WebhookEndpointSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filterset_fields = ["is_active"]
    ordering_fields = ["url", "created_at", "id"]
    ordering = ["url", "id"]
    save_record = staticmethod(webhook_services.webhook_endpoint_save)
    record_argument = "endpoint"

    def get_queryset(self):
        return self.admin_scoped(self.queryset.all())

    def get_serializer_class(self):
        if self.action == "create":
            return WebhookEndpointCreatedSerializer
        return super().get_serializer_class()

    def workspace_id_of(self, obj) -> int:
        return obj.workspace_id

    def perform_destroy(self, instance):
        webhook_services.webhook_endpoint_delete(endpoint=instance)

    @extend_schema(
        summary="Give the endpoint a new signing secret (the old one stops working at once)",
        request=None,
        responses={200: WebhookSecretSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        endpoint = self.get_object()
        secret = webhook_services.webhook_endpoint_rotate_secret(endpoint=endpoint)
        return Response({"secret": secret})


# --- Deliveries ----------------------------------------------------------------------------------


class WebhookDeliveryFilter(filters.FilterSet):
    # One row per value: no DISTINCT needed.
    status = filters.MultipleChoiceFilter(choices=DeliveryStatus.choices, distinct=False)
    event = filters.MultipleChoiceFilter(choices=WebhookEvent.choices, distinct=False)

    class Meta:
        model = WebhookDelivery
        fields = ["endpoint"]


@extend_schema_view(
    list=extend_schema(summary="List webhook deliveries, newest first (admins)"),
    retrieve=extend_schema(summary="Get a webhook delivery with its payload (admins)"),
)
class WebhookDeliveryViewSet(
    AdminViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = WebhookDelivery.objects.select_related("endpoint")
    serializer_class = WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilter
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return self.admin_scoped(self.queryset.all())

    def workspace_id_of(self, obj) -> int:
        return obj.endpoint.workspace_id

    @extend_schema(
        summary="Send a delivery again: it starts over as pending and is enqueued",
        request=None,
        responses={202: WebhookDeliverySerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        delivery = self.get_object()
        webhook_services.webhook_resend(delivery=delivery)
        delivery.refresh_from_db()
        return Response(self.get_serializer(delivery).data, status=status.HTTP_202_ACCEPTED)
