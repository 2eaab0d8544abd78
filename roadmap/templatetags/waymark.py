"""Template helpers of the Waymark pages: Markdown, numbers, the navigation's workspaces."""

from typing import Any

from django import template
from django.template import loader
from django.template.context import Context
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from accounts.selectors import nav_memberships
from roadmap.markdown import render as render_markdown

register = template.Library()


@register.filter(is_safe=True)
def markdown(text: str | None) -> str:
    """Markdown to HTML, then sanitised with an allow-list: safe to show any member's input."""
    return render_markdown(text)


@register.filter
def number(value) -> str:
    """A score or input for reading: thousands separated, at most two decimals, — when absent."""
    if value is None or value == "":
        return "—"
    return f"{float(value):,.2f}".rstrip("0").rstrip(".")


@register.filter
def percent(value) -> str:
    """A 0–1 share as a whole percentage."""
    if value is None:
        return "—"
    return f"{round(float(value) * 100)}%"


@register.filter
def share_width(value) -> str:
    """A share (−1…1) as a bar's width in percent: its size, whatever its sign."""
    return f"{min(abs(float(value or 0)), 1.0) * 100:.1f}"


@register.filter
def iso_datetime(value) -> str:
    """An instant for a ``<time datetime>`` attribute: ISO 8601 to the second in the current time
    zone. Django's ``date:"c"`` adds microseconds, which HTML does not allow (three digits at most).
    """
    if not value:
        return ""
    return timezone.localtime(value).isoformat(timespec="seconds")


@register.simple_tag
def workspaces_of(user):
    """The user's memberships for the workspace switcher (one query per page)."""
    return nav_memberships(user=user)


# URL patterns reversed once per process (and script prefix), then filled in: a board of 300 cards
# asks for 1,200 URLs, and ``reverse`` was a fifth of its time.
_PLACEHOLDER_SLUG = "slug-placeholder"
_PLACEHOLDER_PK = 987654321
_url_patterns: dict[tuple[str, str], str] = {}


@register.simple_tag
def product_record_url(name: str, slug: str, pk) -> str:
    """``{% url name slug pk %}`` for a route of ``<slug:slug>/…/<int:pk>/`` — the same URL,
    without a ``reverse`` per call."""
    key = (name, get_script_prefix())
    pattern = _url_patterns.get(key)
    if pattern is None:
        pattern = _url_patterns[key] = reverse(name, args=[_PLACEHOLDER_SLUG, _PLACEHOLDER_PK])
    # The id first: a slug may hold the placeholder's digits, the pattern's slug never does.
    return pattern.replace(str(_PLACEHOLDER_PK), str(int(pk)), 1).replace(
        _PLACEHOLDER_SLUG, slug, 1
    )


def record_url(name: str, pk) -> str:
    """``reverse(name, args=[pk])`` for a route of ``…/<int:pk>/`` (a feature's page), without
    a ``reverse`` per call (as ``product_record_url``)."""
    key = (f"{name} by id", get_script_prefix())
    pattern = _url_patterns.get(key)
    if pattern is None:
        pattern = _url_patterns[key] = reverse(name, args=[_PLACEHOLDER_PK])
    return pattern.replace(str(_PLACEHOLDER_PK), str(int(pk)), 1)


# --- For markup written in Python (the table's rows, the board's cards) --------------------------


def csrf_input(context: Context | dict[str, Any]) -> SafeString:
    """``{% csrf_token %}``'s hidden input from a template context ("" without a token). Reading
    the token sets the CSRF cookie, as the tag does: call it only where a form is written."""
    token = str(context.get("csrf_token") or "")
    if not token or token == "NOTPROVIDED":
        return SafeString("")
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)


def render_in_place(name: str, context: Context | dict[str, Any], **values: Any) -> str:
    """The template ``name`` rendered with a tag's template context and ``values``: for the rare
    part of Python-written markup that a template still writes (an open form, an alert)."""
    flat = context.flatten() if isinstance(context, Context) else dict(context)
    return loader.get_template(name).render({**flat, **values})
