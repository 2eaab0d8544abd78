"""The feedback parts of a share link's page ("I want this", "Request something", "mine"),
for the visitor the page is shown to: the roadmap page is the share link's view, which knows
nothing of the portal, so the page asks for them here."""

from django import template
from django.middleware.csrf import get_token
from django.template.defaultfilters import linebreaksbr
from django.template.loader import get_template
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import capfirst, slugify

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


_VOTED = (
    '<div class="x-vote">'
    '<form method="post" action="{withdraw}" class="x-vote__done">{csrf}'
    '<input type="hidden" name="item" value="{a}">'
    '<p class="x-voted"><span aria-hidden="true">✓</span> You want this</p>'
    '<button type="submit" class="x-link-button">Remove my vote'
    '<span class="x-visually-hidden"> for {title}</span></button>'
    "</form></div>"
)
_EMAIL = (
    '<label for="{a}-email">Your email</label>'
    '<input id="{a}-email" name="email" type="email" autocomplete="email" maxlength="254" '
    'required value="">'
    '<p class="x-muted x-small">We email you a link to confirm: your vote counts once you press '
    "it.</p>"
)
_VOTE = (
    '<div class="x-vote"><details class="x-vote__details">'
    '<summary class="x-vote__summary">I want this'
    '<span class="x-visually-hidden">: {title}</span></summary>'
    '<form method="post" action="{vote}" class="x-form x-vote__form" novalidate>{csrf}'
    '<input type="hidden" name="item" value="{a}">'
    '<label for="{a}-note">Why it matters to you <span class="x-muted">(optional)</span></label>'
    '<textarea id="{a}-note" name="note" rows="2" maxlength="1000"></textarea>'
    "{email}"
    '<p class="x-check"><input id="{a}-notify" name="notify" type="checkbox" value="on"{checked}>'
    ' <label for="{a}-notify">Tell me when it ships</label></p>'
    '<div class="x-hp" aria-hidden="true"><label for="{a}-website">Leave this empty</label>'
    '<input id="{a}-website" name="website" type="text" tabindex="-1" autocomplete="off"></div>'
    '<button type="submit" class="x-button">I want this'
    '<span class="x-visually-hidden">: {title}</span></button>'
    "</form></details></div>"
)


@register.simple_tag(takes_context=True)
def vote_form(context, item):
    """ "I want this" (or "Remove my vote") on one item of the feedback page. The item a vote
    was just refused for comes from ``external/_vote.html``, with its errors and what was typed;
    every other item — 500 on a large roadmap — is written here in one ``format_html``, the
    same markup (a test compares the two), at a tenth of the template's cost."""
    feedback = context["feedback"]
    anchor = item["anchor"]
    if feedback["vote"].get("anchor") == anchor:
        with context.push(item=item):
            return mark_safe(get_template("external/_vote.html").template.render(context))
    # One masked token for the page's 500 forms (masking one is ~0.1 ms), kept on the request:
    # each item is an include, whose render context is its own.
    request = context["request"]
    csrf = getattr(request, "_portal_csrf_input", None)
    if csrf is None:
        csrf = request._portal_csrf_input = format_html(
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
        )
    urls = feedback["urls"]
    if anchor in feedback["voted"]:
        return format_html(
            _VOTED, withdraw=urls["withdraw"], csrf=csrf, a=anchor, title=item["title"]
        )
    return format_html(
        _VOTE,
        title=item["title"],
        vote=urls["vote"],
        csrf=csrf,
        a=anchor,
        email=mark_safe("") if feedback["remembered"] else format_html(_EMAIL, a=anchor),
        checked=mark_safe(" checked" if feedback["notify"] else ""),
    )


_ITEM = (
    '<li class="x-item" id="{anchor}"><h3 class="x-item__title">{title}</h3>{description}'
    '<p class="x-item__meta"><span class="x-status x-status--{status_class}">{status}</span>'
    "{lane}{when}</p>{vote}</li>"
)


@register.simple_tag(takes_context=True)
def external_item(context, item, show_timeframe=False):
    """One item of the external roadmap (``external.external_roadmap``'s plain data), with its
    "I want this" where the page takes feedback. Written in Python: a roadmap of 500 items
    rendered through an include per item spent most of its time in the template engine."""
    feedback = context.get("feedback")
    status = item["status"]
    return format_html(
        _ITEM,
        anchor=item["anchor"],
        title=item["title"],
        description=(
            format_html('<p class="x-item__text">{}</p>', linebreaksbr(item["description"]))
            if item["description"]
            else ""
        ),
        status_class=slugify(status),
        status=capfirst(status),
        lane=format_html('<span class="x-lane">{}</span>', item["lane"]) if item["lane"] else "",
        when=(
            format_html('<span class="x-when">{}</span>', item["timeframe"])
            if show_timeframe and item["timeframe"]
            else ""
        ),
        vote=vote_form(context, item) if feedback and status != "shipped" else "",
    )
