"""The feedback parts of a share link's page ("I want this", "Request something", "mine"),
for the visitor the page is shown to: the roadmap page is the share link's view, which knows
nothing of the portal, so the page asks for them here."""

from django import template

from roadmap.portal import selectors
from roadmap.portal.views_external import page_feedback

register = template.Library()


@register.simple_tag(takes_context=True)
def portal_feedback(context):
    """The portal's plain data for this page (``feedback`` if the view gave it), or None where
    the link takes no feedback, and in the print view and the PM's preview."""
    if context.get("feedback"):
        return context["feedback"]
    request = context.get("request")
    if not context.get("allow_feedback") or context.get("preview") or context.get("print_view"):
        return None
    if request is None or not context.get("urls"):
        return None
    match = request.resolver_match
    token = match.kwargs.get("token") if match is not None else None
    if not token:
        return None
    link = selectors.feedback_link(token=token)
    return page_feedback(request, link, token) if link is not None else None
