"""The public roadmap behind a share link: page, print view, JSON, Atom feed and the digest
sign-up form. No login.

Every answer renders from ``roadmap.sharing.external`` (plain dicts of permitted fields), sends
``X-Robots-Tag: noindex``, never sends its address (the capability) to another origin, and may be
framed only by the origins the PM allowed. Pages are never cached; the JSON and the feed of a link
without a password answer conditional requests (ETag, and Last-Modified for the feed) and HEAD.
A revoked, expired or unknown token gets one and the same 404 page.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import (
    add_never_cache_headers,
    get_conditional_response,
    patch_cache_control,
    set_response_etag,
)
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.feedgenerator import Atom1Feed
from django.utils.http import http_date
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_http_methods, require_safe

from accounts.throttle import client_address
from roadmap.bounds import whole_number
from roadmap.forms import ServiceErrors, submit
from roadmap.models import Frequency, ShareLink
from roadmap.sharing import external
from roadmap.sharing.models.sharing import share_token_hash
from roadmap.sharing.services import digests, sharing

SESSION_KEY = "external_unlocked"
FEED_ENTRIES = 50
# The external pages run no script at all and load only their own stylesheet.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors {ancestors}"
)


def _usable_link(token: str) -> ShareLink | None:
    return (
        ShareLink.objects.usable()
        .select_related("product")
        .filter(token_hash=share_token_hash(token))
        .first()
    )


def _protect(
    response: HttpResponse, link: ShareLink | None = None, *, revalidate: bool = False
) -> HttpResponse:
    """Headers every external answer carries: not indexed, framed only where the link allows it
    (views are exempt from the X-Frame-Options middleware, so it is set here), never cached —
    or, with ``revalidate``, kept by the reader but checked on every use.

    The address is the capability, so it must not reach another origin (links, images, embeds):
    ``same-origin`` sends it only to this site. ``no-referrer`` did that too, but made Chromium
    send ``Origin: null`` with the page's own forms, which the CSRF check refuses.
    """
    origins = sharing.embed_origins_allowed(link.embed_origins) if link is not None else []
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Content-Security-Policy"] = CSP.format(
        ancestors=" ".join(origins) if origins else "'none'"
    )
    if not origins:
        response["X-Frame-Options"] = "DENY"
    response["Referrer-Policy"] = "same-origin"
    if revalidate:
        patch_cache_control(response, private=True, no_cache=True)
    else:
        add_never_cache_headers(response)
    return response


def not_found(request: HttpRequest) -> HttpResponse:
    """The one answer for every unusable token: same status, same body."""
    return _protect(render(request, "external/not_found.html", status=404))


def _client(request: HttpRequest) -> str:
    return client_address(request) or "unknown"


def _unlock_mark(link: ShareLink) -> str:
    # Tied to the current hash, so a new password locks out earlier sessions.
    return salted_hmac("waymark.share.unlocked", link.password_hash).hexdigest()[:32]


def _is_unlocked(request: HttpRequest, link: ShareLink) -> bool:
    if not link.has_password:
        return True
    mark = request.session.get(SESSION_KEY, {}).get(str(link.pk), "")
    return constant_time_compare(mark, _unlock_mark(link))


def _unlock(request: HttpRequest, link: ShareLink) -> None:
    unlocked = dict(request.session.get(SESSION_KEY, {}))
    unlocked[str(link.pk)] = _unlock_mark(link)
    request.session[SESSION_KEY] = unlocked


def _urls(token: str) -> dict[str, str]:
    # From the visited address: a link made before tokens were hashed can't derive its own.
    kwargs = {"token": token}
    page = reverse("external:roadmap", kwargs=kwargs)
    return {
        "page": page,
        "print": f"{page}?print=1",
        "json": reverse("external:json", kwargs=kwargs),
        "feed": reverse("external:feed", kwargs=kwargs),
        "releases": reverse("external:releases", kwargs=kwargs),
        "subscribe": reverse("external:subscribe", kwargs=kwargs),
    }


class SubscribeForm(ServiceErrors, forms.Form):
    """An outsider asks for digests of the roadmap: confirmed by email before anything is sent.
    Only the address: whoever fills it in may not own it, so nothing else they type is mailed."""

    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    frequency = forms.ChoiceField(
        label="How often",
        choices=Frequency.choices,
        initial=Frequency.WEEKLY,
        widget=forms.RadioSelect,
    )


def _password_page(request, link: ShareLink, token: str, *, error: str = "", status: int = 200):
    context = {"product_name": link.product.name, "error": error, "action": _urls(token)["page"]}
    return _protect(render(request, "external/password.html", context, status=status), link)


@xframe_options_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def roadmap_page(request: HttpRequest, token: str) -> HttpResponse:
    """The external roadmap; behind a password form when the link has one. ``?print=1`` gives the
    print layout (slides, PDF) on screen too. Each page shown counts as a view."""
    link = _usable_link(token)
    if link is None:
        return not_found(request)
    if request.method == "POST":
        if not link.has_password:
            return redirect(_urls(token)["page"])
        result = sharing.share_link_check_password(
            share_link=link, password=request.POST.get("password", ""), client=_client(request)
        )
        if result is sharing.PasswordCheck.LIMITED:
            error = "Too many wrong passwords. Try again in 15 minutes."
            return _password_page(request, link, token, error=error, status=429)
        if result is sharing.PasswordCheck.WRONG:
            error = "That password is not right."
            return _password_page(request, link, token, error=error, status=400)
        _unlock(request, link)
        return redirect(_urls(token)["page"])
    if not _is_unlocked(request, link):
        return _password_page(request, link, token)
    response = _roadmap_response(request, link, token)
    if request.method == "GET":
        sharing.share_link_record_view(share_link=link)
    return response


def _roadmap_response(
    request, link: ShareLink, token: str, *, form: SubscribeForm | None = None, status=200
):
    context = {
        "roadmap": external.external_roadmap(product=link.product, audience=link.audience),
        "urls": _urls(token),
        "print_view": request.GET.get("print") == "1",
        "preview": False,
        "subscribe_form": form or SubscribeForm(),
        # Whether the portal adds its vote and request forms (templatetags/portal.py).
        "allow_feedback": link.allow_feedback,
    }
    return _protect(render(request, "external/roadmap.html", context, status=status), link)


@xframe_options_exempt
@require_http_methods(["POST"])
def subscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Ask for digests of this roadmap. The answer is the same "check your inbox" page whether or
    not the address is already subscribed; a bad address brings the page back with the error, and
    so does asking too often (429)."""
    link = _usable_link(token)
    if link is None:
        return not_found(request)
    if not _is_unlocked(request, link):
        return redirect(_urls(token)["page"])
    form = SubscribeForm(request.POST)
    try:
        requested = submit(
            form,
            lambda: digests.subscription_request(
                share_link=link,
                email=form.cleaned_data["email"],
                frequency=form.cleaned_data["frequency"],
                client=_client(request),
            ),
        )
    except digests.SubscribeLimited as exc:
        form.add_error(None, "Too many subscription requests. Please try again later.")
        response = _roadmap_response(request, link, token, form=form, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    if requested is None:
        return _roadmap_response(request, link, token, form=form, status=400)
    context = {"product_name": link.product.name, "page_url": _urls(token)["page"]}
    return _protect(render(request, "external/subscribe_sent.html", context), link)


def _basic_auth_password(request: HttpRequest) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2]


def _machine_access(request: HttpRequest, link: ShareLink) -> HttpResponse | None:
    """JSON and feed readers of a password-protected link: the browser session that entered the
    password, or HTTP Basic with the password (any user name), rate-limited like the form."""
    if _is_unlocked(request, link):
        return None
    password = _basic_auth_password(request)
    if password is not None:
        result = sharing.share_link_check_password(
            share_link=link, password=password, client=_client(request)
        )
        if result is sharing.PasswordCheck.OK:
            return None
        if result is sharing.PasswordCheck.LIMITED:
            return _protect(JsonResponse({"error": "Too many wrong passwords."}, status=429), link)
    response = JsonResponse({"error": "This roadmap needs its password."}, status=401)
    response["WWW-Authenticate"] = 'Basic realm="Waymark roadmap", charset="UTF-8"'
    return _protect(response, link)


def _machine_answer(
    request: HttpRequest,
    response: HttpResponse,
    link: ShareLink,
    *,
    last_modified: datetime.datetime | None = None,
) -> HttpResponse:
    """The JSON or the feed as sent. A link without a password gets validators (an ETag of the
    body, and ``last_modified``) and a 304 when the reader's copy is current, for GET and HEAD
    alike. A password-protected link's answers are never stored, so never revalidated."""
    if link.has_password:
        return _protect(response, link)
    set_response_etag(response)
    modified = int(last_modified.timestamp()) if last_modified is not None else None
    if modified is not None:
        response["Last-Modified"] = http_date(modified)
    response = get_conditional_response(
        request, etag=response["ETag"], last_modified=modified, response=response
    )
    return _protect(response, link, revalidate=True)


@xframe_options_exempt
@require_safe
def roadmap_json(request: HttpRequest, token: str) -> HttpResponse:
    """The same content as the page, as JSON."""
    link = _usable_link(token)
    if link is None:
        return not_found(request)
    denied = _machine_access(request, link)
    if denied is not None:
        return denied
    data = external.external_roadmap(product=link.product, audience=link.audience)
    return _machine_answer(
        request, JsonResponse(data, json_dumps_params={"ensure_ascii": False}), link
    )


@xframe_options_exempt
@require_safe
def release_notes(request: HttpRequest, token: str) -> HttpResponse:
    """The product's published release notes on the share link, newest first, ten a page
    (``?page=``): each release's name, summary and shipped external items. The same 404 as the
    roadmap for an unusable link; behind the link's password like its page."""
    link = _usable_link(token)
    if link is None:
        return not_found(request)
    if not _is_unlocked(request, link):
        return redirect(_urls(token)["page"])
    page = whole_number(request.GET.get("page"), low=1, high=999_999) or 1
    notes = external.external_release_notes(product=link.product, page=page)
    context = {
        "product": {"name": link.product.name},
        "notes": notes,
        "urls": _urls(token),
        "preview": False,
    }
    return _protect(render(request, "external/releases.html", context), link)


# Characters XML 1.0 can't carry: a text saved before names were one line (or a description with
# a stray control character) would otherwise make the feed a 500.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str | None) -> str | None:
    return _NOT_XML.sub("", text) if text else text


class ExternalFeed(Atom1Feed):
    """Atom (RFC 4287) as outsiders read it: summaries are plain text (``type="text"``: a PM's
    ``<`` or ``&`` is a character, not markup), and ``updated`` of a feed without entries is
    ``quiet_since``, not the time of the request, so it changes only with the content."""

    def latest_post_date(self) -> datetime.datetime:
        return super().latest_post_date() if self.items else self.feed["quiet_since"]

    def add_item_elements(self, handler, item) -> None:
        super().add_item_elements(handler, item)
        handler.addQuickElement("summary", item["summary"], {"type": "text"})


@xframe_options_exempt
@require_safe
def roadmap_feed(request: HttpRequest, token: str) -> HttpResponse:
    """An Atom feed of the changes the link's audience may read (added, moved, shipped…); each
    entry links to its item on the page. The product is the author (people stay internal)."""
    link = _usable_link(token)
    if link is None:
        return not_found(request)
    denied = _machine_access(request, link)
    if denied is not None:
        return denied
    urls = _urls(token)
    page_url = settings.SITE_URL + urls["page"]
    entries = external.external_changes(
        product=link.product, audience=link.audience, limit=FEED_ENTRIES
    )
    product = link.product
    name, vision = _xml_text(product.name), _xml_text(product.vision)
    feed = ExternalFeed(
        title=f"{name} roadmap",
        link=page_url,
        description=vision,
        subtitle=vision or None,
        author_name=name,
        feed_url=settings.SITE_URL + urls["feed"],
        feed_guid=page_url,
        language="en",
        quiet_since=link.created_at,
    )
    for entry in entries:
        description = entry["summary"]
        if entry["timeframe"] and entry["kind"] in ("added", "moved"):
            description = f"{description} · {entry['timeframe']}"
        if entry["lane"]:
            description = f"{description} · {entry['lane']}"
        if entry["description"]:
            description = f"{description}\n\n{entry['description']}"
        entry_url = f"{page_url}#{entry['anchor']}" if entry["anchor"] else page_url
        if entry["kind"] == "release_notes":
            entry_url = f"{settings.SITE_URL}{urls['releases']}#{entry['release_anchor']}"
        feed.add_item(
            title=_xml_text(f"{entry['summary'].split(';')[0]}: {entry['title']}"),
            link=entry_url,
            description=None,
            summary=_xml_text(description),
            author_name=name,
            unique_id=f"{page_url}#change-{entry['id']}",
            updateddate=entry["occurred_at"],
            pubdate=entry["occurred_at"],
            categories=[entry["kind"]],
        )
    response = HttpResponse(content_type=feed.content_type)
    feed.write(response, "utf-8")
    # The title and subtitle come from the product: renaming it changes the feed too.
    last_modified = max(feed.latest_post_date(), product.updated_at)
    return _machine_answer(request, response, link, last_modified=last_modified)
