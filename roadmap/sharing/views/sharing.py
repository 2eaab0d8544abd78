"""A product's share links, for its team: list, create, replace, revoke, and preview what each
audience sees; each link's digest subscribers: list, add, remove, and preview the next digest of
one.

Members of the product's workspace may list links, subscribers and previews; editors and admins
may also create, replace and revoke links and add and remove subscribers (viewers get 403).
Anyone else gets 404, as for any product they cannot see.
"""

from __future__ import annotations

import datetime

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from roadmap import bounds
from roadmap.access import product_for
from roadmap.forms import ServiceErrors, submit
from roadmap.models import Audience, Frequency, Product, ShareLink, Subscription
from roadmap.sharing import external
from roadmap.sharing.services import digests as digest_services
from roadmap.sharing.services import sharing as services


class ShareLinkForm(ServiceErrors, forms.Form):
    label = forms.CharField(
        max_length=120,
        help_text="Who it is for, e.g. “Acme QBR”. Only your team sees the label.",
    )
    audience = forms.ChoiceField(
        choices=Audience.choices,
        initial=Audience.CUSTOMERS,
        help_text="Customers: now / next / later and what shipped recently. Investors: quarters "
        "and objectives. Executives: quarters, themes and objectives.",
    )
    expires_on = forms.DateField(
        label="Expires after",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The last day the link works. Empty: until you revoke it.",
        # Checked on the day too: the end of 31 December 9999 is not a datetime.
        validators=bounds.date_range,
    )
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Optional. Share it separately from the link.",
    )
    allowed_embed_origins = forms.CharField(
        label="May be embedded by",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "https://intranet.example.com"}),
        help_text="Sites allowed to show the roadmap in an iframe, one https origin per line; "
        "https://*.example.com allows every subdomain of one domain. Empty: no site may embed it.",
    )
    allow_feedback = forms.BooleanField(
        label="Let visitors vote and send requests",
        required=False,
        help_text="“I want this” on each item and a request form; nothing counts until the "
        "visitor confirms their email address.",
    )

    # Service field -> form field, for errors.
    service_field_names = {"expires_at": "expires_on", "password_hash": "password"}

    def expires_at(self) -> datetime.datetime | None:
        """The end of the chosen day in the site's time zone."""
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(
            datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
        )


class SubscriberForm(ServiceErrors, forms.Form):
    """A PM adds someone to a link's digest: confirmed at once, since a member vouches for them."""

    email = forms.EmailField(max_length=254)
    name = forms.CharField(max_length=120, required=False)
    frequency = forms.ChoiceField(choices=Frequency.choices, initial=Frequency.WEEKLY)


def share_link_url(link: ShareLink) -> str:
    """The link's full address; empty for a link made before tokens were hashed (see
    ``ShareLink.token``)."""
    token = link.token
    if token is None:
        return ""
    return settings.SITE_URL + reverse("external:roadmap", kwargs={"token": token})


def _link_status(link: ShareLink) -> str:
    """Revoked, else active while usable (``ShareLink.is_usable``, the one rule), else expired."""
    if link.revoked_at is not None:
        return "revoked"
    return "active" if link.is_usable else "expired"


def _link(request, product: Product, pk: int) -> ShareLink:
    return get_object_or_404(
        ShareLink.objects.for_user(request.user).filter(product=product), pk=pk
    )


def _subscription(request, link: ShareLink, pk: int) -> Subscription:
    return get_object_or_404(
        Subscription.objects.for_user(request.user).filter(share_link=link), pk=pk
    )


def _list_page(
    request,
    product: Product,
    *,
    form: ShareLinkForm | None = None,
    subscriber_form: SubscriberForm | None = None,
    subscriber_link_id: int | None = None,
    status=200,
):
    links = ShareLink.objects.for_user(request.user).filter(product=product).order_by("-created_at")
    subscribers: dict[int, list[Subscription]] = {}
    for subscription in (
        Subscription.objects.for_user(request.user)
        .filter(product=product, share_link__isnull=False)
        .order_by("email")
    ):
        subscribers.setdefault(subscription.share_link_id, []).append(subscription)
    rows = [
        {
            "link": link,
            "url": share_link_url(link),
            "status": _link_status(link),
            "embed_origins": services.embed_origins_allowed(link.embed_origins),
            "subscribers": subscribers.get(link.pk, []),
            "subscriber_form": (
                subscriber_form
                if subscriber_form is not None and subscriber_link_id == link.pk
                else SubscriberForm(auto_id=f"id_sub{link.pk}_%s")
            ),
        }
        for link in links
    ]
    context = {
        "product": product,
        "rows": rows,
        "can_edit": product.can_edit,
        "form": form or ShareLinkForm(),
        "audiences": external.AUDIENCES.values(),
    }
    return render(request, "sharing/list.html", context, status=status)


@login_required
@require_GET
def share_links(request, slug: str):
    """A product's share links: who they are for, how often they were opened, whether they work."""
    return _list_page(request, product_for(request, slug))


@login_required
@require_POST
def share_link_create(request, slug: str):
    """Create a link and show its full URL; errors come back next to their fields."""
    product = product_for(request, slug, edit=True)
    form = ShareLinkForm(request.POST)
    link = submit(
        form,
        lambda: services.share_link_create(
            product=product,
            label=form.cleaned_data["label"],
            audience=form.cleaned_data["audience"],
            expires_at=form.expires_at(),
            password=form.cleaned_data["password"],
            embed_origins=form.cleaned_data["allowed_embed_origins"],
            allow_feedback=form.cleaned_data["allow_feedback"],
            created_by=request.user,
        ),
    )
    if link is None:
        return _list_page(request, product, form=form, status=400)
    messages.success(request, f"Share link “{link.label}” created: {share_link_url(link)}")
    return redirect("sharing:list", slug=product.slug)


@login_required
@require_POST
def share_link_replace(request, slug: str, pk: int):
    """A new link in place of one whose address can't be shown again; the old one keeps
    working until revoked."""
    product = product_for(request, slug, edit=True)
    link = _link(request, product, pk)
    if not link.is_usable:
        raise Http404("Only a working link is replaced.")
    replacement = services.share_link_replace(share_link=link, created_by=request.user)
    messages.success(
        request,
        f"Replacement for “{link.label}” created: {share_link_url(replacement)} — "
        "its subscribers now follow it. Revoke the old link once everyone has the new one.",
    )
    return redirect("sharing:list", slug=product.slug)


@login_required
@require_POST
def share_link_revoke(request, slug: str, pk: int):
    """Revoke a link: it stops working at once."""
    product = product_for(request, slug, edit=True)
    link = _link(request, product, pk)
    services.share_link_revoke(share_link=link)
    messages.success(request, f"Share link “{link.label}” is revoked; its URL no longer works.")
    return redirect("sharing:list", slug=product.slug)


@login_required
@require_GET
def preview(request, slug: str, audience: str):
    """What an audience would see, rendered by the external template from the same allow-list,
    marked as a preview. Nothing is shared and no view is counted."""
    product = product_for(request, slug)
    if audience not in external.AUDIENCES:
        raise Http404("No such audience.")
    context = {
        "roadmap": external.external_roadmap(product=product, audience=audience),
        "preview": True,
        "print_view": request.GET.get("print") == "1",
        "audiences": [
            {
                "key": preset.key,
                "label": preset.label,
                "url": reverse("sharing:preview", kwargs={"slug": slug, "audience": preset.key}),
                "current": preset.key == audience,
            }
            for preset in external.AUDIENCES.values()
        ],
        "back_url": reverse("sharing:list", kwargs={"slug": slug}),
        "product_url": product.get_absolute_url(),
    }
    return render(request, "external/roadmap.html", context)


@login_required
@require_POST
def subscriber_add(request, slug: str, pk: int):
    """Add a subscriber to a link's digest; errors come back next to their fields."""
    product = product_for(request, slug, edit=True)
    link = _link(request, product, pk)
    form = SubscriberForm(request.POST, auto_id=f"id_sub{link.pk}_%s")
    added = submit(
        form,
        lambda: digest_services.subscription_add(
            product=product,
            share_link=link,
            email=form.cleaned_data["email"],
            name=form.cleaned_data["name"],
            frequency=form.cleaned_data["frequency"],
        ),
    )
    if added is not None:
        email = form.cleaned_data["email"]
        messages.success(request, f"{email} now gets digests of “{link.label}”.")
        return redirect("sharing:list", slug=product.slug)
    return _list_page(
        request, product, subscriber_form=form, subscriber_link_id=link.pk, status=400
    )


@login_required
@require_POST
def subscriber_remove(request, slug: str, pk: int, subscription_pk: int):
    """Remove a subscriber: they get no more digests of this link."""
    product = product_for(request, slug, edit=True)
    link = _link(request, product, pk)
    subscription = _subscription(request, link, subscription_pk)
    digest_services.subscription_remove(subscription=subscription)
    messages.success(request, f"{subscription.email} no longer gets digests of “{link.label}”.")
    return redirect("sharing:list", slug=product.slug)


@login_required
@require_GET
def subscriber_preview(request, slug: str, pk: int, subscription_pk: int):
    """The digest this subscriber would get if it were sent now (nothing is sent or recorded)."""
    product = product_for(request, slug)
    link = _link(request, product, pk)
    subscription = _subscription(request, link, subscription_pk)
    digest = digest_services.digest_build(
        subscription=subscription, since=subscription.sent_through, until=timezone.now()
    )
    context = {
        "product": product,
        "link": link,
        "subscription": subscription,
        "digest": digest,
        "back_url": reverse("sharing:list", kwargs={"slug": slug}),
    }
    return render(request, "sharing/digest_preview.html", context)
