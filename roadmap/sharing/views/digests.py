"""Public digest endpoints: confirm a subscription, unsubscribe. No login.

A link in an email only shows a page with one button: mail scanners that open links must not
confirm a subscription (that would undo double opt-in) or unsubscribe anyone. Pressing the button
(a POST with the CSRF token) acts. Mail clients unsubscribe without a page by RFC 8058's one-click
POST, whose body is exactly ``List-Unsubscribe=One-Click``: that POST alone skips the CSRF check,
since it comes from a mail client without cookies and the signed token in the address is the
authorisation.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from roadmap.models import Subscription
from roadmap.sharing import selectors
from roadmap.sharing.services import digests
from roadmap.sharing.views.external import _protect

ONE_CLICK = [("List-Unsubscribe", ["One-Click"])]


def _page(request, template: str, subscription: Subscription | None = None, status: int = 200):
    context = {}
    if subscription is not None:
        link = subscription.share_link
        context = {
            "product": subscription.product.name,
            "email": subscription.email,
            "frequency": subscription.get_frequency_display().lower(),
            "active": subscription.confirmed_at is not None
            and subscription.unsubscribed_at is None,
            "roadmap_url": (
                reverse("external:roadmap", kwargs={"token": link.token})
                if link is not None and link.is_usable and link.token
                else ""
            ),
        }
    # The address holds a token: the external pages' headers keep it from other origins.
    return _protect(render(request, template, context, status=status))


@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The confirmation link: a page with a "Confirm" button; the button confirms."""
    subscription = selectors.subscription_by_confirmation_token(token=token)
    if subscription is None:
        return _page(request, "digests/invalid.html", status=404)
    if request.method == "POST":
        subscription = digests.subscription_confirm(token=token)
        return _page(request, "digests/confirmed.html", subscription)
    if subscription.confirmed_at is not None and subscription.unsubscribed_at is None:
        return _page(request, "digests/confirmed.html", subscription)
    return _page(request, "digests/confirm.html", subscription)


@csrf_exempt
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The unsubscribe link: a page with an "Unsubscribe" button, or RFC 8058's one-click POST."""
    if request.method == "POST" and list(request.POST.lists()) == ONE_CLICK:
        return _unsubscribe(request, token)
    return _unsubscribe_page(request, token)


def _unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscription = digests.subscription_unsubscribe(token=token)
    if subscription is None:
        return _page(request, "digests/invalid.html", status=404)
    return _page(request, "digests/unsubscribed.html", subscription)


@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def _unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        return _unsubscribe(request, token)
    subscription = selectors.subscription_by_unsubscribe_token(token=token)
    if subscription is None:
        return _page(request, "digests/invalid.html", status=404)
    if subscription.unsubscribed_at is not None:
        return _page(request, "digests/unsubscribed.html", subscription)
    return _page(request, "digests/unsubscribe.html", subscription)
