"""Template helpers of the Waymark pages: Markdown, numbers, the navigation's workspaces."""

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import mark_safe

from accounts.selectors import nav_memberships

register = template.Library()

# What requirements may contain once rendered: text structure, code, tables and links. No images
# (they would call outside servers from a member's browser), no styles, no scripts.
ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code",
    "em", "strong", "del", "sup", "sub", "abbr", "ul", "ol", "li", "dl", "dt", "dd",
    "table", "thead", "tbody", "tr", "th", "td", "a",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}


@register.filter(is_safe=True)
def markdown(text: str | None) -> str:
    """Markdown to HTML, then sanitised with an allow-list: safe to show any member's input."""
    if not text:
        return ""
    html = markdown_lib.markdown(text, extensions=["extra", "sane_lists"])
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)  # noqa: S308 — sanitised by nh3 just above


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


@register.simple_tag
def workspaces_of(user):
    """The user's memberships for the workspace switcher (one query per page)."""
    return nav_memberships(user=user)
