"""Public digest endpoints: confirm a subscription, unsubscribe in one click. No login."""

from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from roadmap.services import digests


def confirm(request, token):
    subscription = digests.subscription_confirm(token=token)
    if subscription is None:
        return render(request, "digests/invalid.html", status=404)
    return render(
        request,
        "digests/confirmed.html",
        {"product": subscription.product.name, "email": subscription.email},
    )


# RFC 8058 one-click unsubscribe POSTs from the mail client, which has no CSRF token; the
# signed token is the authorisation.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    subscription = digests.subscription_unsubscribe(token=token)
    if subscription is None:
        return render(request, "digests/invalid.html", status=404)
    return render(
        request,
        "digests/unsubscribed.html",
        {"product": subscription.product.name, "email": subscription.email},
    )
