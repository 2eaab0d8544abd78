"""Admin of integrations: webhook endpoints and their deliveries, CSV uploads awaiting import.

Endpoints are saved through ``webhook_endpoint_save``, so an address that is not public (or not
http/https) is refused with the service's message on the form, as on the webhooks page; the
secret is made by the service and shown on the webhooks page. Deliveries are a log: view-only.
"""

from django.contrib import admin
from django.db import models
from django.db.models.functions import Length

from roadmap.admin_base import (
    TIMESTAMPS,
    LargeTableAdmin,
    ServiceWritesAdmin,
    ViewOnlyAdmin,
    form_data,
)
from roadmap.integrations.services import webhooks as webhook_services
from roadmap.models import CsvUpload, WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ServiceWritesAdmin):
    fixed_on_change = ("workspace",)
    list_display = ("url", "workspace", "is_active", "events", "created_at")
    list_filter = ("is_active", "workspace")
    list_select_related = ("workspace",)
    search_fields = ("url", "description", "workspace__name")
    autocomplete_fields = ("workspace",)
    readonly_fields = ("secret", "created_by", *TIMESTAMPS)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def service_save(self, request, form, stored):
        return webhook_services.webhook_endpoint_save(
            workspace=stored.workspace if stored else form.cleaned_data["workspace"],
            data=form_data(form, webhook_services.ENDPOINT_FIELDS),
            endpoint=stored,
            actor=request.user,
        )

    def service_delete(self, request, obj) -> None:
        webhook_services.webhook_endpoint_delete(endpoint=obj)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ViewOnlyAdmin):
    list_display = (
        "event",
        "endpoint",
        "status",
        "attempts",
        "response_code",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status", "event")
    list_select_related = ("endpoint",)
    search_fields = ("endpoint__url",)
    raw_id_fields = ("endpoint",)


@admin.register(CsvUpload)
class CsvUploadAdmin(LargeTableAdmin):
    """CSV files previewed and not yet imported: they can be looked at and deleted, never
    written here (the import page makes them; beat sweeps them after an hour)."""

    list_display = ("filename", "user", "product", "size", "created_at")
    list_select_related = ("user", "product")
    search_fields = ("filename", "user__email", "product__name")
    fields = ("filename", "user", "product", "size", "fingerprint", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("data").annotate(data_size=Length("data"))

    @admin.display(description="size (bytes)", ordering="data_size")
    def size(self, obj) -> int:
        return obj.data_size

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
