"""A roadmap board's cards written out in Python: a cell's cards (``{% board_cards %}``) and one
card (``{% board_card %}``, the fragment htmx swaps after a visibility toggle or a text save).

A board shows up to twenty cards in each of its cells, about 300 for a product with four lanes.
Through the card's template (an include per card, a context lookup per value, a ``{% url %}``
and a ``{% csrf_token %}`` per form) each card took about 0.8 ms, most of the board's time. Here
each card is one string, every value escaped with ``django.utils.html``; the rare parts (a card's
customer-facing text form opened in place, the move form after a refused move) still render
through their templates. ``tests/roadmap/test_board_markup.py`` holds the cards' markup byte for
byte to what the template wrote.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import template
from django.template.context import Context
from django.utils import formats
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

from roadmap.models import Product, RoadmapItem
from roadmap.templatetags.waymark import (
    csrf_input,
    number,
    product_record_url,
    record_url,
    render_in_place,
)

register = template.Library()

TEXT_FORM = "roadmap/planning/_text_form.html"
MOVE_FORM = "roadmap/planning/_move_form.html"


@dataclass(frozen=True)
class CardsContext:
    """What every card of one board shares: the product (and whether the reader edits it), the
    lanes a move form offers, the CSRF field of the card's forms, and which card, if any, has its
    text form or a refused move open."""

    product: Product
    can_edit: bool
    lanes: Any
    csrf_field: str
    text_open: Any
    failed: Any
    # The template context, for the rare card with a form open in place.
    context: Context | dict[str, Any]


def cards_context(context: Context | dict[str, Any], lanes: Any = None) -> CardsContext:
    """The shared part of the cards, read once from the template context (``product``,
    ``lanes`` unless given, ``csrf_token``, ``text_open``, ``failed_item_id``)."""
    product = context["product"]
    can_edit = bool(getattr(product, "can_edit", False))
    # Read only for an editor's cards, as {% csrf_token %} was: reading it sets the cookie.
    csrf_field = csrf_input(context) if can_edit else ""
    failed = context.get("failed_item_id")
    return CardsContext(
        product=product,
        can_edit=can_edit,
        lanes=context.get("lanes") if lanes is None else lanes,
        csrf_field=csrf_field,
        text_open=context.get("text_open"),
        # As ``failed_item_id|default_if_none:0``: no card failed.
        failed=0 if failed is None else failed,
        context=context,
    )


def _plural(n: Any) -> str:
    """As the ``pluralize`` filter on a number."""
    return "" if n == 1 else "s"


def card_html(item: RoadmapItem, index: int, shared: CardsContext) -> str:
    """One roadmap item on the board: its title (a link to its feature), rank, status,
    visibility (a toggle for an editor), release, score and demand, its customer-facing text
    (loaded when opened) and, for an editor, its move menu (loaded when opened) and remove
    button. ``index``: its 1-based place in its cell, for a refused move's form."""
    can_edit, slug = shared.can_edit, shared.product.slug
    pk = int(item.pk)
    raw_title = item.display_title
    title = conditional_escape(raw_title)
    feature = item.feature if item.feature_id else None
    raw_text_url = product_record_url("roadmap:board_item_text", slug, pk)
    text_url = escape(raw_text_url)
    raw_move_url = move_url = visibility_url = remove_url = ""
    if can_edit:
        raw_move_url = product_record_url("roadmap:board_item_move", slug, pk)
        move_url = escape(raw_move_url)
        visibility_url = escape(product_record_url("roadmap:board_item_visibility", slug, pk))
        remove_url = escape(product_record_url("roadmap:board_item_remove", slug, pk))
    external = item.visibility == "external"

    # The top: the handle, the title, the rank.
    handle = (
        "    \n"
        '      <button class="plan-card__handle" type="button" '
        f'aria-label="Pick up “{title}”" aria-describedby="board-help" '
        'title="Drag, or press Space to pick up" hidden>\n'
        '        <span aria-hidden="true">⠿</span>\n'
        "      </button>\n"
        "    \n"
        if can_edit
        else "    \n"
    )
    if feature is not None:
        drag = ' draggable="false"' if can_edit else ""
        feature_url = record_url("roadmap:feature", feature.pk)
        heading = (
            "    \n"
            f'      <a class="plan-card__title" href="{escape(feature_url)}"{drag}>'
            f"{title}</a>\n"
            "    \n"
        )
    else:
        heading = f'    \n      <span class="plan-card__title">{title}</span>\n    \n'
    if feature is not None and feature.rank:
        rank = (
            "    \n"
            '      <span class="plan-card__rank" '
            f'title="Rank by score; score {escape(number(feature.score))}">'
            f"#{escape(feature.rank)}</span>\n"
            "    \n"
        )
    else:
        rank = "    \n"

    # The meta line: theme, status, visibility, release, score, demand.
    theme = (
        ""
        if feature is not None
        else '<span class="badge badge--accent" '
        'title="A standalone theme, without a feature">Theme</span>'
    )
    status_label = (
        feature.get_status_display() if feature is not None else item.get_theme_status_display()
    )
    status = (
        f'    <span class="badge status--{escape(item.status)}">{escape(status_label)}</span>\n'
    )
    if can_edit:
        if external:
            toggle = (
                "        \n"
                '          <input type="hidden" name="visibility" value="internal">\n'
                f'          <button class="badge badge--info plan-toggle" id="visibility-{pk}" '
                'type="submit" title="Visible on external roadmaps. Click to make it internal.">'
                f'External<span class="visually-hidden">: make “{title}” internal</span></button>\n'
                "        \n"
            )
        else:
            toggle = (
                "        \n"
                '          <input type="hidden" name="visibility" value="external">\n'
                f'          <button class="badge badge--outline plan-toggle" id="visibility-{pk}" '
                'type="submit" title="Only members see it. Click to make it external.">'
                f'Internal<span class="visually-hidden">: make “{title}” external</span></button>\n'
                "        \n"
            )
        visibility = (
            "    \n"
            f'      <form class="plan-card__visibility" method="post" action="{visibility_url}" '
            f'data-hx-post="{visibility_url}" data-hx-target="closest .plan-card" '
            'data-hx-swap="outerHTML">\n'
            f"        {shared.csrf_field}\n"
            f"{toggle}"
            "      </form>\n"
            "    \n"
        )
    elif external:
        visibility = (
            "    \n"
            '      <span class="badge badge--info" title="Visible on external roadmaps">'
            "External</span>\n"
            "    \n"
        )
    else:
        visibility = (
            "    \n"
            '      <span class="badge badge--outline" title="Only members see it">Internal</span>\n'
            "    \n"
        )
    release = ""
    if item.release_id and (planned := item.release):
        due = (
            f", due {escape(formats.date_format(planned.target_date, 'j M Y'))}"
            if planned.target_date
            else ""
        )
        name = conditional_escape(planned.name)
        release = f'<span class="chip" title="Release{due}">{name}</span>'
    score = (
        f'<span class="chip" title="Score">Score {escape(number(feature.score))}</span>'
        if feature is not None and feature.score is not None
        else ""
    )
    votes = getattr(item, "vote_count", 0)
    requesters = getattr(item, "requester_count", 0)
    demand = (
        '<span class="chip" title="Confirmed votes and requesters">'
        f"{escape(votes)} vote{_plural(votes)}, "
        f"{escape(requesters)} requester{_plural(requesters)}</span>"
        if votes or requesters
        else ""
    )

    # What customers read: the form in place (rare), or a link that loads it when opened.
    public = item.external_title
    summary = (
        f'<span class="plan-card__public">Customers read “{conditional_escape(public)}”</span>'
        if public and public != raw_title
        else "Customer-facing text"
    )
    summary += f'<span class="visually-hidden"> of “{title}”</span>'
    if shared.text_open == item.pk:
        values = {"item": item, "title": raw_title, "index": index, "text_url": raw_text_url}
        form = render_in_place(TEXT_FORM, shared.context, **values)
        text = f" open><summary>{summary}</summary>{form}"
    else:
        verb = "Edit" if can_edit else "Read"
        text = f' data-load><summary>{summary}</summary><a href="{text_url}">{verb} it</a>'

    actions = ""
    if can_edit:
        if shared.failed == item.pk:
            values = {
                "item": item,
                "title": raw_title,
                "failed": shared.failed,
                "index": index,
                "lanes": shared.lanes,
                "move_url": raw_move_url,
                "text_url": raw_text_url,
            }
            menu = " open"
            slot = render_in_place(MOVE_FORM, shared.context, **values)
        else:
            menu = (
                f' data-hx-get="{move_url}" data-hx-trigger="toggle once" '
                'data-hx-target="find .plan-move-slot" data-hx-swap="innerHTML settle:0ms"'
            )
            slot = f'<a href="{move_url}">Choose where</a>'
        stays = " The feature itself stays." if feature is not None else ""
        actions = (
            "\n"
            '    <div class="plan-card__actions">\n'
            "      \n"
            f'      <details class="plan-card__move"{menu}>\n'
            f'        <summary>Move to…<span class="visually-hidden"> (“{title}”)</span>'
            "</summary>\n"
            f'        <div class="plan-move-slot">{slot}</div>\n'
            "      </details>\n"
            f'      <form class="plan-card__remove" method="post" action="{remove_url}" '
            f'data-hx-post="{remove_url}" '
            f'data-hx-confirm="Take “{title}” off the roadmap?{stays}" '
            """data-hx-vals='{"confirm": "yes"}' data-hx-target="#board">\n"""
            f"        {shared.csrf_field}\n"
            '        <button class="button button--small button--ghost plan-card__remove-button" '
            f'type="submit">Remove<span class="visually-hidden"> “{title}”</span></button>\n'
            "      </form>\n"
            "    </div>\n"
            "  "
        )

    classes = "plan-card" if feature is not None else "plan-card plan-card--theme"
    draggable = f' draggable="true" data-move-url="{move_url}"' if can_edit else ""
    return (
        "\n\n\n"
        f'<li class="{classes}" id="item-{pk}" data-item="{pk}" data-title="{title}"{draggable}>\n'
        '  <div class="plan-card__top">\n'
        f"{handle}{heading}{rank}"
        "  </div>\n"
        '  <div class="plan-card__meta">\n'
        f"    {theme}\n"
        f"{status}{visibility}"
        f"    {release}\n"
        f"    {score}\n"
        f"    {demand}\n"
        "  </div>\n"
        f'  <details class="plan-card__text"{text}</details>\n'
        f"  {actions}\n"
        "</li>\n\n"
    )


@register.simple_tag(takes_context=True)
def board_cards(
    context, items: Iterable[RoadmapItem], start: int = 0, lanes: Any = None
) -> SafeString:
    """``{% board_cards cell.items %}``: a cell's cards (``product`` in context, ``lanes`` there
    or given); ``start``: how many of the cell's cards come before these."""
    shared = cards_context(context, lanes)
    return mark_safe(  # noqa: S308 — every value is escaped in card_html
        "".join(card_html(item, start + n, shared) for n, item in enumerate(items, start=1))
    )


@register.simple_tag(takes_context=True)
def board_card(context, item: RoadmapItem, index: int = 0) -> SafeString:
    """``{% board_card item %}``: one card, the fragment a toggle or a text save swaps."""
    return mark_safe(card_html(item, index, cards_context(context)))  # noqa: S308 — escaped
