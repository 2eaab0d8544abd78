"""Template helpers of the Waymark pages: Markdown, numbers, the navigation's workspaces."""

from django import template
from django.utils import timezone

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
