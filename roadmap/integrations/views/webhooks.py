"""Webhook settings pages of the current workspace: endpoints, their secrets and delivery logs.

Admins only: other members get 403, another workspace's endpoints are not found (404).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from roadmap.forms import submit
from roadmap.integrations.services import webhooks as services
from roadmap.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent

DELIVERIES_PER_PAGE = 50
# The secret of a just created (or rotated) endpoint, shown on the next page only.
NEW_SECRET_SESSION_KEY = "webhooks:new_secret"


class EndpointForm(forms.Form):
    """Parses the endpoint form; the rules (http/https only, at least one event) are the
    service's, and its errors are shown next to these fields."""

    url = forms.URLField(
        label="Payload URL",
        max_length=500,
        assume_scheme="https",
        help_text="A public address: private, loopback and link-local networks are refused.",
        # A text input styled like the others, with the URL keyboard on phones.
        widget=forms.TextInput(
            attrs={"inputmode": "url", "placeholder": "https://example.com/hooks/waymark"}
        ),
    )
    description = forms.CharField(label="Description", max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label="Events",
        choices=WebhookEvent.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    is_active = forms.BooleanField(
        label="Active",
        required=False,
        initial=True,
        help_text="Inactive endpoints receive nothing.",
    )

    @classmethod
    def for_endpoint(cls, endpoint: WebhookEndpoint, data=None):
        initial = {
            "url": endpoint.url,
            "description": endpoint.description,
            "events": endpoint.events,
            "is_active": endpoint.is_active,
        }
        return cls(data, initial=initial)


def _admin_membership(request):
    if not request.membership:
        raise Http404("You are not a member of any workspace.")
    if not request.membership.is_admin:
        raise PermissionDenied("Only an admin of this workspace can manage its webhooks.")
    return request.membership


def _endpoint(request, pk: int) -> WebhookEndpoint:
    workspace = _admin_membership(request).workspace
    return get_object_or_404(
        WebhookEndpoint.objects.for_workspace(workspace).select_related("workspace"), pk=pk
    )


def _remember_secret(request, endpoint: WebhookEndpoint) -> None:
    request.session[NEW_SECRET_SESSION_KEY] = {"endpoint": endpoint.pk, "secret": endpoint.secret}


def _pop_secret(request, endpoint: WebhookEndpoint) -> str | None:
    shown = request.session.pop(NEW_SECRET_SESSION_KEY, None)
    if shown and shown.get("endpoint") == endpoint.pk:
        return shown.get("secret")
    return None


@login_required
def endpoint_list(request):
    """The current workspace's endpoints, with how many deliveries are failing."""
    membership = _admin_membership(request)
    endpoints = (
        WebhookEndpoint.objects.for_workspace(membership.workspace)
        .annotate(
            delivery_count=Count("deliveries"),
            failing_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
        )
        .order_by("url", "pk")
    )
    event_labels = dict(WebhookEvent.choices)
    rows = [(e, [event_labels.get(name, name) for name in e.events]) for e in endpoints]
    return render(request, "webhooks/list.html", {"workspace": membership.workspace, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_create(request):
    membership = _admin_membership(request)
    form = EndpointForm(request.POST or None)
    if request.method == "POST":
        endpoint = submit(
            form,
            lambda: services.webhook_endpoint_save(
                workspace=membership.workspace, data=form.cleaned_data, actor=request.user
            ),
        )
        if endpoint is not None:
            _remember_secret(request, endpoint)
            messages.success(request, f"Webhook endpoint {endpoint.url} added.")
            return redirect("webhooks:edit", pk=endpoint.pk)
    return render(
        request,
        "webhooks/form.html",
        {"workspace": membership.workspace, "form": form, "endpoint": None},
        status=400 if request.method == "POST" else 200,
    )


@never_cache  # shows a new secret once: no cache may keep it
@login_required
@require_http_methods(["GET", "POST"])
def endpoint_edit(request, pk: int):
    """Edit an endpoint; the secret is shown once, right after it is created or rotated."""
    endpoint = _endpoint(request, pk)
    form = EndpointForm.for_endpoint(endpoint, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        saved = submit(
            form,
            lambda: services.webhook_endpoint_save(
                workspace=endpoint.workspace, data=form.cleaned_data, endpoint=endpoint
            ),
        )
        if saved is not None:
            messages.success(request, "Webhook endpoint saved.")
            return redirect("webhooks:list")
        # The service may have set the rejected values on it: show the endpoint as stored.
        endpoint.refresh_from_db()
    context = {
        "workspace": endpoint.workspace,
        "form": form,
        "endpoint": endpoint,
        "new_secret": _pop_secret(request, endpoint) if request.method == "GET" else None,
    }
    return render(
        request, "webhooks/form.html", context, status=400 if request.method == "POST" else 200
    )


@login_required
@require_POST
def endpoint_rotate_secret(request, pk: int):
    endpoint = _endpoint(request, pk)
    services.webhook_endpoint_rotate_secret(endpoint=endpoint)
    _remember_secret(request, endpoint)
    messages.success(request, "New secret created. The old one no longer signs deliveries.")
    return redirect("webhooks:edit", pk=endpoint.pk)


@login_required
@require_POST
def endpoint_delete(request, pk: int):
    endpoint = _endpoint(request, pk)
    services.webhook_endpoint_delete(endpoint=endpoint)
    messages.success(request, f"Webhook endpoint {endpoint.url} deleted.")
    return redirect("webhooks:list")


@login_required
def delivery_log(request, pk: int):
    """An endpoint's deliveries, newest first, a page at a time."""
    endpoint = _endpoint(request, pk)
    page = Paginator(
        endpoint.deliveries.order_by("-created_at", "-pk").defer("payload"),
        DELIVERIES_PER_PAGE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "webhooks/deliveries.html",
        {"workspace": endpoint.workspace, "endpoint": endpoint, "page": page},
    )


@login_required
@require_POST
def delivery_resend(request, pk: int):
    """Send a delivery again; htmx gets its updated row, a plain form the log page."""
    workspace = _admin_membership(request).workspace
    delivery = get_object_or_404(
        WebhookDelivery.objects.for_workspace(workspace).select_related("endpoint"), pk=pk
    )
    services.webhook_resend(delivery=delivery)
    delivery.refresh_from_db()
    if request.htmx:
        return render(request, "webhooks/_delivery_row.html", {"delivery": delivery})
    messages.success(request, f"Delivery of {delivery.event} queued again.")
    return redirect("webhooks:deliveries", pk=delivery.endpoint_id)
