"""The board's cards, byte for byte: the markup of a fixed set of cards (an editor's and a
viewer's; a feature, a theme, external and internal, with a release, a score, demand, a
customer-facing title, HTML in every text; a card with its customer-facing text form open, and
one after a refused move) is compared with the frozen copy in ``board_cards.html``, so that a
faster way of writing them keeps what they say.

A deliberate change of the markup rewrites the file:
``WAYMARK_WRITE_MARKUP=1 pytest tests/roadmap/test_board_markup.py``, then read the diff.
"""

import datetime
import os
from decimal import Decimal
from pathlib import Path

from django.template import Context, Template
from django.template.loader import render_to_string

from roadmap.models import Feature, Horizon, Lane, Product, Release, RoadmapItem

FROZEN = Path(__file__).with_name("board_cards.html")
CELL = Template("{% load board %}{% board_cards items %}")


def _product(*, can_edit: bool) -> Product:
    product = Product(pk=3, slug="big-app", name="Big app")
    product.can_edit = can_edit  # as roadmap.access.product_for sets it
    return product


def _items() -> list[RoadmapItem]:
    lane = Lane(pk=5, name="Mobile <apps>")
    release = Release(pk=9, name="Q3 <launch>", target_date=datetime.date(2026, 9, 30))
    scored = Feature(pk=11, title='Export "CSV" & <PDF>', rank=3, score=Decimal("1234.5678"))
    scored.status = "planned"
    unranked = Feature(pk=12, title="Dark mode", rank=None, score=None, status="shipped")
    items = [
        RoadmapItem(
            pk=21,
            feature=scored,
            horizon=Horizon.NOW,
            lane=lane,
            release=release,
            visibility="external",
            external_title="Exports <for> everyone",
        ),
        RoadmapItem(
            pk=22, feature=unranked, horizon=Horizon.NEXT, visibility="internal", external_title=""
        ),
        RoadmapItem(
            pk=23,
            title="Theme: speed & <polish>",
            theme_status="in_progress",
            horizon=Horizon.LATER,
            release=Release(pk=10, name="Someday"),
            visibility="external",
            external_title="Theme: speed & <polish>",
        ),
    ]
    demand = [(1, 0), (0, 2), (12, 3)]
    for item, (votes, requesters) in zip(items, demand, strict=True):
        item.vote_count, item.requester_count = votes, requesters
    return items


def _markup() -> str:
    parts = []
    for name, product in (
        ("an editor's cards", _product(can_edit=True)),
        ("a viewer's cards", _product(can_edit=False)),
    ):
        # As the board writes a cell's cards (roadmap/templatetags/board.py)
        html = CELL.render(
            Context(
                {
                    "items": _items(),
                    "product": product,
                    "lanes": [Lane(pk=5, name="Mobile <apps>")],
                    "csrf_token": "CSRF-TOKEN",
                }
            )
        )
        parts.append(f"<!-- {name} -->\n{html}\n")
    return "".join(parts)


def _rare_cards() -> str:
    """An editor's card with its customer-facing text form open (after a save), and one after
    a refused move, its move form open with the errors: one card, as the views render it
    (``_card.html``, through ``board_card``)."""
    from roadmap.planning.views.planning import ItemMoveForm, ItemTextForm

    product = _product(can_edit=True)
    lanes = [Lane(pk=5, name="Mobile <apps>")]
    scored, unranked, _ = _items()
    common = {"product": product, "lanes": lanes, "csrf_token": "CSRF-TOKEN"}
    text = render_to_string(
        "roadmap/planning/_card.html",
        {
            **common,
            "item": scored,
            "index": 1,
            "text_open": scored.pk,
            "text_form": ItemTextForm(item=scored),
            "text_origin": "board",
            "text_saved": "Saved what customers read.",
        },
    )
    refused = ItemMoveForm({"horizon": "soon", "lane": "", "position": "0"}, product=product)
    assert not refused.is_valid()
    move = render_to_string(
        "roadmap/planning/_card.html",
        {
            **common,
            "item": unranked,
            "index": 2,
            "move_form": refused,
            "failed_item_id": unranked.pk,
        },
    )
    return f"<!-- a card with its text open -->\n{text}\n<!-- a refused move -->\n{move}\n"


def test_board_cards_are_written_as_frozen():
    # Given a fixed set of cards, when they are rendered as the board renders them
    markup = _markup() + _rare_cards()
    if os.environ.get("WAYMARK_WRITE_MARKUP") == "1":
        FROZEN.write_text(markup, encoding="utf-8")
    # Then the markup is the frozen one, byte for byte
    assert markup == FROZEN.read_text(encoding="utf-8")
