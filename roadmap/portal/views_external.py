"""What a share link's visitor does without an account: "I want this" on an item, "Request
something", their own votes and requests ("mine"), and the confirmation of their address.

Every page is a plain form (POST, then a redirect or a page; no script needed) with the external
pages' headers. A link that takes no feedback, is revoked, expired or unknown gets the share
link's one 404. Nothing counts until the address is confirmed; the confirmation page acts only on
its button (mail scanners follow links), and then the browser is remembered for this product
(a signed cookie), so its next votes count at once.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from roadmap.forms import submit
from roadmap.models import Contact, ShareLink
from roadmap.portal import selectors, services
from roadmap.portal.forms import RequestForm, VoteForm
from roadmap.sharing import external

# The share link's own answers and checks, so a feedback page answers exactly as the roadmap
# page does (same 404, same headers, same password unlock).
from roadmap.sharing.views.external import (
    SubscribeForm,
    _client,
    _is_unlocked,
    _protect,
    _urls,
    not_found,
)

# RFC 8058: a mail client's one-click unsubscribe POSTs exactly this body, without cookies.
ONE_CLICK = [("List-Unsubscribe", ["One-Click"])]
REMEMBER_DAYS = 30
REMEMBER_MAX_AGE = REMEMBER_DAYS * 24 * 60 * 60
REQUEST_AUTO_ID = "request-%s"


def cookie_name(product_id: int) -> str:
    """The cookie that remembers a confirmed contact of one product (one per product)."""
    return f"waymark_portal_{product_id}"


def remembered_contact(request: HttpRequest, link: ShareLink) -> Contact | None:
    """The confirmed contact this browser is remembered as for the link's product, if any."""
    return services.contact_known(
        product=link.product,
        value=request.COOKIES.get(cookie_name(link.product_id)),
        max_age=REMEMBER_MAX_AGE,
    )


def _portal_urls(token: str) -> dict[str, str]:
    kwargs = {"token": token}
    return {
        "vote": reverse("portal:vote", kwargs=kwargs),
        "withdraw": reverse("portal:vote_withdraw", kwargs=kwargs),
        "request": reverse("portal:request", kwargs=kwargs),
        "mine": reverse("portal:mine", kwargs=kwargs),
    }


def _errors(form) -> dict[str, list[str]]:
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


def page_feedback(
    request: HttpRequest,
    link: ShareLink,
    token: str,
    *,
    vote_form: VoteForm | None = None,
    request_form: RequestForm | None = None,
) -> dict[str, Any]:
    """The feedback parts of the roadmap page for this visitor, as plain data: the form actions,
    who they are remembered as and what they voted for and asked, and a form sent back with its
    errors (``vote`` names the item it was for)."""
    contact = remembered_contact(request, link)
    mine = selectors.contact_feedback(contact=contact) if contact is not None else None
    vote: dict[str, Any] = {"anchor": ""}
    if vote_form is not None:
        vote = {
            "anchor": vote_form.data.get("item", ""),
            "note": vote_form.data.get("note", ""),
            "email": vote_form.data.get("email", ""),
            "notify": bool(vote_form.data.get("notify")),
            "errors": _errors(vote_form),
        }
    # "Tell me when it ships" starts as the contact left it: voting must not quietly undo an
    # unsubscribe.
    notify = contact.notify if contact is not None else True
    return {
        "urls": _portal_urls(token),
        "remembered": contact is not None,
        "notify": notify,
        "mine": mine,
        "voted": {v["anchor"] for v in mine["votes"]} if mine else set(),
        "vote": vote,
        "request_form": request_form
        or RequestForm(
            remembered=contact is not None, auto_id=REQUEST_AUTO_ID, initial={"notify": notify}
        ),
    }


def _page(
    request: HttpRequest,
    link: ShareLink,
    token: str,
    *,
    status: int,
    vote_form: VoteForm | None = None,
    request_form: RequestForm | None = None,
) -> HttpResponse:
    """The roadmap page again, with a form's errors where it was sent from."""
    context = {
        "roadmap": external.external_roadmap(product=link.product, audience=link.audience),
        "urls": _urls(token),
        "print_view": False,
        "preview": False,
        "subscribe_form": SubscribeForm(),
        "feedback": page_feedback(
            request, link, token, vote_form=vote_form, request_form=request_form
        ),
    }
    return _protect(render(request, "external/roadmap.html", context, status=status), link)


def _limited(request, link, token, exc: services.FeedbackLimited, **forms) -> HttpResponse:
    for form in forms.values():
        form.add_error(None, "Too many attempts. Please try again later.")
    response = _page(request, link, token, status=429, **forms)
    response["Retry-After"] = str(exc.retry_after)
    return response


def _sent(request: HttpRequest, link: ShareLink, token: str, *, what: str) -> HttpResponse:
    context = {"product_name": link.product.name, "page_url": _urls(token)["page"], "what": what}
    return _protect(render(request, "external/portal_sent.html", context), link)


def _open(request: HttpRequest, token: str) -> ShareLink | HttpResponse:
    """The link if it takes feedback and this browser may read it; else the answer to give."""
    link = selectors.feedback_link(token=token)
    if link is None:
        return not_found(request)
    if not _is_unlocked(request, link):
        return redirect(_urls(token)["page"])
    return link


@xframe_options_exempt
@require_POST
def vote(request: HttpRequest, token: str) -> HttpResponse:
    """ "I want this": counts at once for a remembered contact (back to the item, marked as
    voted); otherwise a "check your inbox" page. Bad input: the page with the errors (400)."""
    link = _open(request, token)
    if isinstance(link, HttpResponse):
        return link
    contact = remembered_contact(request, link)
    form = VoteForm(request.POST, remembered=contact is not None)
    page = _urls(token)["page"]
    if form.is_bot:
        return redirect(page) if contact is not None else _sent(request, link, token, what="vote")
    try:
        cast = submit(
            form,
            lambda: services.vote_cast(
                share_link=link,
                anchor=form.cleaned_data["item"],
                note=form.cleaned_data["note"],
                notify=form.cleaned_data["notify"],
                email=None if contact is not None else form.cleaned_data["email"],
                contact=contact,
                client=_client(request),
            ),
        )
    except services.FeedbackClosed:
        return not_found(request)
    except services.FeedbackLimited as exc:
        return _limited(request, link, token, exc, vote_form=form)
    if cast is None:
        return _page(request, link, token, status=400, vote_form=form)
    if cast.confirmed:
        messages.success(request, "Your vote counts. Thank you for telling us.")
        return redirect(f"{page}#{form.cleaned_data['item']}")
    return _sent(request, link, token, what="vote")


@xframe_options_exempt
@require_POST
def vote_withdraw(request: HttpRequest, token: str) -> HttpResponse:
    """ "Remove my vote", for a remembered contact; back to the item."""
    link = _open(request, token)
    if isinstance(link, HttpResponse):
        return link
    contact = remembered_contact(request, link)
    page = _urls(token)["page"]
    anchor = request.POST.get("item", "")[:40]
    if contact is None:
        return redirect(page)
    try:
        removed = services.vote_withdraw(share_link=link, anchor=anchor, contact=contact)
    except services.FeedbackClosed:
        return not_found(request)
    if removed:
        messages.success(request, "Your vote is removed.")
    return redirect(f"{page}#{anchor}" if removed else page)


@xframe_options_exempt
@require_POST
def request_create(request: HttpRequest, token: str) -> HttpResponse:
    """ "Request something": counts at once for a remembered contact (back to the page, where
    it is listed under theirs); otherwise a "check your inbox" page."""
    link = _open(request, token)
    if isinstance(link, HttpResponse):
        return link
    contact = remembered_contact(request, link)
    form = RequestForm(request.POST, remembered=contact is not None, auto_id=REQUEST_AUTO_ID)
    page = _urls(token)["page"]
    if form.is_bot:
        return (
            redirect(page) if contact is not None else _sent(request, link, token, what="request")
        )
    try:
        cast = submit(
            form,
            lambda: services.request_submit(
                product=link.product,
                share_link=link,
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                importance=form.cleaned_data["importance"],
                notify=form.cleaned_data["notify"],
                email=None if contact is not None else form.cleaned_data["email"],
                contact=contact,
                client=_client(request),
            ),
        )
    except services.FeedbackClosed:
        return not_found(request)
    except services.FeedbackLimited as exc:
        return _limited(request, link, token, exc, request_form=form)
    if cast is None:
        return _page(request, link, token, status=400, request_form=form)
    if cast.confirmed:
        messages.success(request, "Your request is in. You can follow it here.")
        return redirect(f"{page}#mine")
    return _sent(request, link, token, what="request")


@xframe_options_exempt
@require_safe
def mine(request: HttpRequest, token: str) -> HttpResponse:
    """The visitor's own votes and requests with the status they read; for a browser not
    remembered, how to get there."""
    link = _open(request, token)
    if isinstance(link, HttpResponse):
        return link
    contact = remembered_contact(request, link)
    context = {
        "product_name": link.product.name,
        "page_url": _urls(token)["page"],
        "mine": selectors.contact_feedback(contact=contact) if contact is not None else None,
    }
    return _protect(render(request, "external/portal_mine.html", context), link)


@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link of the confirmation email: a page with a button; the button confirms the address
    (its votes and requests count) and remembers this browser for the product."""
    contact = selectors.contact_by_confirmation_token(token=token)
    if contact is None:
        return not_found(request)
    context: dict[str, Any] = {"product_name": contact.product.name}
    if request.method != "POST":
        return _protect(render(request, "external/portal_confirm.html", context))
    contact = services.contact_confirm(token=token)
    assert contact is not None  # found above; contacts are not deleted in between
    back = selectors.contact_return_link(contact=contact)
    back_token = back.token if back is not None else None
    context["roadmap_url"] = (
        reverse("external:roadmap", kwargs={"token": back_token}) + "#mine" if back_token else ""
    )
    response = _protect(render(request, "external/portal_confirmed.html", context))
    response.set_cookie(
        cookie_name(contact.product_id),
        services.contact_remember_value(contact),
        max_age=REMEMBER_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


@csrf_exempt
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The "it's live" email's unsubscribe link: a page with a button, or RFC 8058's one-click
    POST (which alone skips the CSRF check: the signed token in the address authorises it)."""
    if request.method == "POST" and list(request.POST.lists()) == ONE_CLICK:
        return _unsubscribe(request, token)
    return _unsubscribe_page(request, token)


def _unsubscribed(request: HttpRequest, contact: Contact) -> HttpResponse:
    context = {"product_name": contact.product.name}
    return _protect(render(request, "external/portal_unsubscribed.html", context))


def _unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    contact = services.contact_unsubscribe(token=token)
    if contact is None:
        return not_found(request)
    return _unsubscribed(request, contact)


@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def _unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        return _unsubscribe(request, token)
    contact = selectors.contact_by_unsubscribe_token(token=token)
    if contact is None:
        return not_found(request)
    if not contact.notify:
        return _unsubscribed(request, contact)
    context = {"product_name": contact.product.name}
    return _protect(render(request, "external/portal_unsubscribe.html", context))
