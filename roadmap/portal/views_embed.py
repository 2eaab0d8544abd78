"""The embeddable request form: "Request something" for a product's own app, in an iframe.

It is the share link's request form on a page of its own (GET the form, POST to send it), framed
only by the origins the link allows (``frame-ancestors``; X-Frame-Options DENY when none) and
only on a link that takes feedback (else the share link's one 404). Inside a frame on another
site the browser sends none of our cookies, so the visitor is never "remembered" here: the
address is always asked and confirmed by email. For the same reason Django's CSRF cookie cannot
work; the form carries its own signed token instead (bound to the link, valid a day), and no
ambient credential is read that a forged POST could borrow.
"""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from roadmap.forms import submit
from roadmap.models import RequestSource, ShareLink
from roadmap.portal import services
from roadmap.portal.forms import RequestForm

# The outsider pages' answers (same 404, headers and password unlock as the roadmap page).
from roadmap.portal.views_external import _client, _open, _protect, not_found

FORM_TOKEN_SALT = "waymark.portal.embed"
FORM_TOKEN_MAX_AGE = 24 * 60 * 60
EXPIRED = "This form has expired. Reload the page and send it again."


def form_token(link: ShareLink) -> str:
    """What the embedded form carries in place of a CSRF token: the link's id, signed, dated."""
    return signing.dumps(link.pk, salt=FORM_TOKEN_SALT)


def _token_valid(value: str, link: ShareLink) -> bool:
    try:
        return signing.loads(value, salt=FORM_TOKEN_SALT, max_age=FORM_TOKEN_MAX_AGE) == link.pk
    except signing.BadSignature:
        return False


def _page(
    request: HttpRequest,
    link: ShareLink,
    token: str,
    form: RequestForm | None,
    *,
    status: int = 200,
) -> HttpResponse:
    """The form (again, with its errors), or with no form the "check your inbox" answer."""
    context = {
        "product_name": link.product.name,
        "form": form,
        "form_token": form_token(link),
        "action": reverse("portal_embed:request", kwargs={"token": token}),
    }
    return _protect(render(request, "external/embed_request.html", context, status=status), link)


@csrf_exempt  # the signed form token stands in for it (see the module's docstring)
@xframe_options_exempt  # _protect sets the frame headers from the link's allowed origins
@require_http_methods(["GET", "HEAD", "POST"])
def request_form(request: HttpRequest, token: str) -> HttpResponse:
    """GET: the form. POST: send the request (source "embed"); "check your inbox" (the address
    is confirmed by email), or the form with its errors (400), or 429 with Retry-After."""
    link = _open(request, token)
    if isinstance(link, HttpResponse):
        return link
    if request.method != "POST":
        return _page(request, link, token, RequestForm(auto_id="embed-%s"))
    form = RequestForm(request.POST, auto_id="embed-%s")
    if form.is_bot:
        return _page(request, link, token, None)
    if not _token_valid(request.POST.get("form_token", ""), link):
        form.is_valid()
        form.add_error(None, EXPIRED)
        return _page(request, link, token, form, status=400)
    try:
        cast = submit(
            form,
            lambda: services.request_submit(
                product=link.product,
                share_link=link,
                source=RequestSource.EMBED,
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                importance=form.cleaned_data["importance"],
                notify=form.cleaned_data["notify"],
                email=form.cleaned_data["email"],
                client=_client(request),
            ),
        )
    except services.FeedbackClosed:
        return not_found(request)
    except services.FeedbackLimited as exc:
        form.add_error(None, "Too many attempts. Please try again later.")
        response = _page(request, link, token, form, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    if cast is None:
        return _page(request, link, token, form, status=400)
    return _page(request, link, token, None)
