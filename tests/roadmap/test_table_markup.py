"""The prioritization table's rows, byte for byte: the markup of a fixed set of rows (an editor's,
a viewer's, hidden columns, a refused edit, a conflict, HTML in every text) is compared with the
frozen copy in ``table_rows.html``.

The rows are written in Python (``roadmap/templatetags/prioritization.py``) for speed; this test
keeps what they say the same as the template they replaced. A deliberate change of the markup
rewrites the file: ``WAYMARK_WRITE_MARKUP=1 pytest tests/roadmap/test_table_markup.py``, then
read the diff.
"""

import datetime
import os
from decimal import Decimal
from pathlib import Path

from django.template.loader import render_to_string

from roadmap.models import Feature, Horizon, Persona, Product, Release, RoadmapItem, Tag
from roadmap.planning.presenters.table import (
    CHOICE_COLUMNS,
    INPUT_COLUMNS,
    Column,
    Conflict,
    TableRow,
    _cell,
    field_column,
)
from roadmap.planning.selectors.priorities import FieldDefinition

FROZEN = Path(__file__).with_name("table_rows.html")
INPUTS = (INPUT_COLUMNS["reach"], INPUT_COLUMNS["impact"], INPUT_COLUMNS["confidence"])
COMPUTED = Column(
    key="reach", label="Reach", title="Reach (computed)", numeric=True, source="from the evidence"
)
DRIVER = Column(
    key="driver_7", label="Fit <&>", title="Fit", name="driver_7", numeric=True, driver_id=7
)
# Custom fields' columns: a choice (a label with HTML in it), yes/no and a number.
FIELDS = (
    field_column(
        FieldDefinition(4, "segment", "Segment <&>", "choice", ((8, "SMB"), (9, "Enterprise <&>")))
    ),
    field_column(FieldDefinition(5, "urgent", "Urgent", "yes_no")),
    field_column(FieldDefinition(6, "deal_size", "Deal size", "number")),
)


def _product(*, can_edit: bool) -> Product:
    product = Product(pk=3, slug="big-app", name="Big app")
    product.can_edit = can_edit  # as roadmap.access.product_for sets it
    return product


def _row(pk: int, *, title: str, rank, score, week_ago, inputs=INPUTS, **extra) -> TableRow:
    feature = Feature(
        pk=pk,
        title=title,
        rank=rank,
        score=score,
        version=pk % 7 + 1,
        status="planned" if pk % 2 else "idea",
        moscow="must" if pk % 3 else "",
        kano="",
        score_breakdown={"inputs": {"reach": {"value": None}, "effort": {"value": None}}},
    )
    # The selector annotates the count on the feature and the presenter copies it on the row.
    feature.evidence_count = extra["evidence_count"] = extra.pop("evidence", 0)
    values = {"reach": 1200, "impact": Decimal("0.50"), "confidence": 80, "driver_7": None}
    choices = {"status": feature.status, "moscow": feature.moscow, "kano": "delighter"}
    return TableRow(
        feature=feature,
        inputs=[_cell(c, values.get(c.key, 3)) for c in inputs],
        choices=[_cell(c, choices[c.key]) for c in CHOICE_COLUMNS],
        rank_week_ago=week_ago,
        placement=extra.pop("placement", None),
        url=f"/features/{pk}/",
        edit_url=f"/products/big-app/table/{pk}/edit/",
        **extra,
    )


def _rows() -> list[TableRow]:
    release = Release(name="Q3 <launch>", target_date=datetime.date(2026, 9, 30))
    item = RoadmapItem(horizon=Horizon.NOW, release=release)
    undated = RoadmapItem(horizon=Horizon.LATER, release=Release(name="Someday"))
    plain = RoadmapItem(horizon=Horizon.NEXT)
    refused = _row(14, title="Refused", rank=4, score=Decimal("2.5"), week_ago=4, error="Owner <x>")
    refused.show_input({"reach": "-3 <b>"}, {"reach": ["Must be 0 or more.", "Not <ok>."]})
    return [
        _row(
            11,
            title='Export to "CSV" & <PDF>',
            rank=1,
            score=Decimal("1234.5678"),
            week_ago=3,
            tags=[Tag(name="api"), Tag(name="<b>bold</b>")],
            personas=[Persona(name="Ops & admins")],
            evidence=12,
            vote_count=1234,
            requester_count=3,
            placement=item,
            selected=True,
            fresh=True,
        ),
        _row(
            12,
            title="Dark mode",
            rank=2,
            score=Decimal("40"),
            week_ago=1,
            placement=undated,
            shares="Reach 60% · Impact <40%>",
        ),
        _row(13, title="Same place", rank=3, score=Decimal("0.25"), week_ago=3, placement=plain),
        refused,
        _row(
            15,
            title="Lost someone's edit",
            rank=None,
            score=None,
            week_ago=None,
            conflict=Conflict(
                column=INPUT_COLUMNS["confidence"], theirs="90", yours="<70>", by="Ann & Bo"
            ),
            vote_count=0,
            requester_count=2,
        ),
        _row(
            16,
            title="Anonymous conflict",
            rank=5,
            score=None,
            week_ago=2,
            inputs=(COMPUTED, DRIVER),
            conflict=Conflict(column=DRIVER, theirs="4", yours="", by=""),
        ),
        _row(
            17,
            title="With custom fields",
            rank=6,
            score=Decimal("3"),
            week_ago=None,
            fields=[
                _cell(FIELDS[0], "Enterprise <&>"),
                _cell(FIELDS[1], "yes"),
                _cell(FIELDS[2], Decimal("12500.50")),
            ],
        ),
        _row(
            18,
            title="Custom fields not set",
            rank=7,
            score=Decimal("2"),
            week_ago=None,
            fields=[_cell(c, None) for c in FIELDS],
        ),
    ]


def _render(template: str, rows: list[TableRow], **context) -> str:
    context = {"csrf_token": "CSRF-TOKEN", "next_url": "/products/big-app/?sort=-score", **context}
    if template.endswith("_rows.html"):
        return render_to_string(template, {"rows": rows, **context})
    return "".join(render_to_string(template, {"row": row, **context}) for row in rows)


def _markup() -> str:
    editor, viewer = _product(can_edit=True), _product(can_edit=False)
    cases = {
        "an editor's rows, every column shown": ("_rows.html", editor, frozenset()),
        "a viewer's rows": ("_rows.html", viewer, frozenset()),
        "an editor's rows one at a time, columns hidden": (
            "_row.html",
            editor,
            frozenset({"personas", "evidence", "demand", "roadmap", "status"}),
        ),
        "a viewer's rows one at a time, no next URL": ("_row.html", viewer, frozenset()),
    }
    parts = []
    for name, (template, product, hidden) in cases.items():
        extra = {"next_url": ""} if "no next URL" in name else {}
        template = f"roadmap/table/{template}"
        html = _render(template, _rows(), product=product, hidden=hidden, **extra)
        parts.append(f"<!-- {name} -->\n{html}\n")
    return "".join(parts)


def test_table_rows_are_written_as_frozen():
    # Given a fixed set of rows, when they are rendered as the table renders them
    markup = _markup()
    if os.environ.get("WAYMARK_WRITE_MARKUP") == "1":
        FROZEN.write_text(markup, encoding="utf-8")
    # Then the markup is the frozen one, byte for byte
    assert markup == FROZEN.read_text(encoding="utf-8")
