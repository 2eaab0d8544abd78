"""The PM's pages of the voice of the customer: the requests inbox, a request's page with its
triage actions (each one POST form calling one service), and the feature page's "tell the
requesters" button. Editors write, viewers read (roadmap.access)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from roadmap.access import product_by_id, product_for
from roadmap.forms import LongSelect, submit
from roadmap.models import Feature, FeatureRequest, FeatureStatus, RequestStatus
from roadmap.planning.services.features import feature_create
from roadmap.portal import selectors, services

STATUS_FILTERS = [("", "All")] + [(value, label) for value, label in RequestStatus.choices]


class InboxFilter(forms.Form):
    status = forms.ChoiceField(choices=STATUS_FILTERS, required=False)
    q = forms.CharField(
        label="Search", required=False, max_length=selectors.INBOX_QUERY_MAX, strip=True
    )
    page = forms.IntegerField(required=False, min_value=1)


class LinkForm(forms.Form):
    feature = forms.ModelChoiceField(queryset=Feature.objects.none(), widget=LongSelect)

    def __init__(self, *args, product, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["feature"].queryset = Feature.objects.filter(product=product).order_by(
            "title", "id"
        )


class CreateFeatureForm(forms.Form):
    title = forms.CharField(
        label="Feature title", max_length=Feature._meta.get_field("title").max_length
    )


class MergeForm(forms.Form):
    merged_into = forms.TypedChoiceField(label="Merge into", coerce=int, choices=())

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["merged_into"].choices = targets


class DeclineForm(forms.Form):
    public_reason = forms.CharField(
        label="Reason (the requesters read it)", widget=forms.Textarea(attrs={"rows": 3})
    )


class EmptyForm(forms.Form):
    pass


@login_required
def requests_inbox(request: HttpRequest, slug: str) -> HttpResponse:
    """The product's requests to triage: new ones by default, filtered by status and words."""
    product = product_for(request, slug)
    data = request.GET.copy()
    data.setdefault("status", RequestStatus.NEW)
    form = InboxFilter(data)
    valid = form.is_valid()
    clean = form.cleaned_data if valid else {"status": RequestStatus.NEW, "q": "", "page": 1}
    inbox = selectors.requests_inbox(
        product=product,
        status=clean.get("status") or "",
        query=clean.get("q") or "",
        page=clean.get("page") or 1,
    )
    context = {"product": product, "filter": form, "inbox": inbox, "statuses": STATUS_FILTERS}
    return render(request, "roadmap/portal/inbox.html", context)


def _forms(product, feature_request, data=None, which=None) -> dict:
    """The request page's action forms, the one named ``which`` bound to ``data``."""
    targets = [
        (pk, title)
        for pk, title in selectors.request_merge_targets(
            product=product, exclude=feature_request.pk
        )
    ]
    built = {
        "link": LinkForm(product=product),
        "create": CreateFeatureForm(initial={"title": feature_request.title}),
        "merge": MergeForm(targets=targets),
        "decline": DeclineForm(),
    }
    if which == "link":
        built["link"] = LinkForm(data, product=product)
    elif which == "create":
        built["create"] = CreateFeatureForm(data)
    elif which == "merge":
        built["merge"] = MergeForm(data, targets=targets)
    elif which == "decline":
        built["decline"] = DeclineForm(data)
    return built


def _request_or_404(product, pk: int) -> FeatureRequest:
    found = selectors.request_for_pm(product=product, pk=pk)
    if found is None:
        raise Http404("No such request.")
    return found


def _page(request, product, feature_request, built, status=200, errors=()):
    context = {
        "product": product,
        "req": feature_request,
        "forms": built,
        "errors": list(errors),
        "open": feature_request.status in (RequestStatus.NEW, RequestStatus.LINKED),
        "reopenable": feature_request.status in (RequestStatus.DECLINED, RequestStatus.SPAM),
    }
    return render(request, "roadmap/portal/request.html", context, status=status)


@login_required
def request_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """One request: its words, who asked (addresses for members), their customers, actions."""
    product = product_for(request, slug)
    feature_request = _request_or_404(product, pk)
    return _page(request, product, feature_request, _forms(product, feature_request))


def _create_and_link(product, feature_request, title):
    """A new feature from the request (through the one feature writer), the request linked to
    it; all or nothing."""
    with transaction.atomic():
        feature = feature_create(product=product, title=title)
        services.request_link(request=feature_request, feature=feature)
    return feature


ACTIONS = {
    "link": lambda product, req, form: services.request_link(
        request=req, feature=form.cleaned_data["feature"]
    ),
    "create": lambda product, req, form: _create_and_link(product, req, form.cleaned_data["title"]),
    "merge": lambda product, req, form: services.request_merge(
        request=req,
        into=get_object_or_404(
            FeatureRequest, product=product, pk=form.cleaned_data["merged_into"]
        ),
    ),
    "decline": lambda product, req, form: services.request_decline(
        request=req, reason=form.cleaned_data["public_reason"]
    ),
    "spam": lambda product, req, form: services.request_mark_spam(request=req),
    "reopen": lambda product, req, form: services.request_reopen(request=req),
}

DONE = {
    "link": "Linked to the feature.",
    "create": "Feature created and linked.",
    "merge": "Merged: its requesters moved to this request.",
    "decline": "Declined.",
    "spam": "Marked as spam.",
    "reopen": "Reopened.",
}


@login_required
@require_POST
def request_action(request: HttpRequest, slug: str, pk: int, action: str) -> HttpResponse:
    """One triage action on a request (editors only); errors come back on the page's form."""
    if action not in ACTIONS:
        raise Http404("No such action.")
    product = product_for(request, slug, edit=True)
    feature_request = _request_or_404(product, pk)
    built = _forms(product, feature_request, request.POST, action)
    form = built.get(action) or EmptyForm(request.POST)
    result = submit(form, lambda: ACTIONS[action](product, feature_request, form))
    if result is None:
        fresh = _request_or_404(product, pk)
        errors = form.non_field_errors() if action not in built else ()
        return _page(request, product, fresh, built, status=400, errors=errors)
    messages.success(request, DONE[action])
    target = result if isinstance(result, FeatureRequest) else feature_request
    return redirect("roadmap:request", slug=product.slug, pk=target.pk)


@login_required
@vary_on_headers("HX-Request")
def requests_badge(request: HttpRequest, slug: str) -> HttpResponse:
    """The "Requests" tab's count of new requests (htmx, after the page); elsewhere, the inbox."""
    product = product_for(request, slug)
    if not request.htmx:
        return redirect("roadmap:requests", slug=product.slug)
    count = selectors.new_requests_count(product=product)
    return render(request, "roadmap/portal/_requests_badge.html", {"count": count})


@login_required
@vary_on_headers("HX-Request")
def feature_demand(request: HttpRequest, pk: int) -> HttpResponse:
    """A feature's demand block (htmx, after its page): votes and requesters counted, its
    linked requests, the "it's live" button; elsewhere, the feature page."""
    feature = get_object_or_404(Feature.objects.select_related("product"), pk=pk)
    product = product_by_id(request, feature.product_id)
    if not request.htmx:
        return redirect(reverse("roadmap:feature", args=[feature.pk]) + "#demand")
    context = {
        "feature": feature,
        "product": product,
        "demand": selectors.feature_demand(feature=feature),
    }
    return render(request, "roadmap/portal/_feature_demand.html", context)


@login_required
@require_POST
def feature_ship_notices(request: HttpRequest, pk: int) -> HttpResponse:
    """Tell a shipped feature's requesters it is live (each once: the outbox keeps count)."""
    feature = get_object_or_404(Feature.objects.select_related("product"), pk=pk)
    product_by_id(request, feature.product_id, edit=True)
    if feature.status != FeatureStatus.SHIPPED:
        messages.error(request, "Only a shipped feature can be announced.")
    else:
        made = services.ship_notices_enqueue(feature_id=feature.pk)
        messages.success(
            request,
            f"Telling {len(made)} requester{'s' if len(made) != 1 else ''} it's live."
            if made
            else "Everyone who asked has been told already.",
        )
    return redirect(reverse("roadmap:feature", args=[feature.pk]) + "#demand")
