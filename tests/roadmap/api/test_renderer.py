"""The API's JSON renderer (orjson) writes what DRF's renderer writes: the same JSON values, the
same bytes wherever a number needs no exponent, the same escapes; what it cannot write goes to
DRF's renderer."""

import datetime
import json
import uuid
import zoneinfo
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers

from roadmap.api.renderers import JSONRenderer

PAYLOADS = [
    {"rank": 1, "title": "Single sign-on", "score": 29010.96, "stale": False, "next": None},
    [1, -2, 3.5, 0.1, -0.0, 4884.0, 2**63 - 1, -(2**63)],
    {"unicode": "Zoë’s “roadmap” — ✓ 日本語 🚀", "quote": 'a "b" \\ c', "control": "\x00\x1f\t\n"},
    {"line separators": "a\u2028b\u2029c"},
    {
        "utc": datetime.datetime(2026, 12, 6, 1, 2, 3, 456789, tzinfo=datetime.UTC),
        "paris": datetime.datetime(2026, 7, 1, 9, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
        "naive": datetime.datetime(2026, 1, 2, 3, 4, 5),
        "date": datetime.date(2026, 12, 6),
        "time": datetime.time(9, 30, 15, 12),
        "duration": datetime.timedelta(hours=1, seconds=1),
    },
    {"money": Decimal("1200.50"), "id": uuid.UUID("12345678-1234-5678-1234-567812345678")},
    {"lazy": gettext_lazy("Invalid input"), "tuple": (1, 2), "nested": {"a": [{"b": {}}]}},
    {1: "integer key", None: "null key", 2.5: "number key"},
    {"empty": [], "object": {}, "text": ""},
]


@pytest.mark.parametrize("data", PAYLOADS, ids=range(len(PAYLOADS)))
def test_the_bytes_are_drfs(data):
    assert JSONRenderer().render(data) == renderers.JSONRenderer().render(data)


def test_a_number_may_be_spelled_otherwise_but_is_the_same_number():
    data = {"small": 1e-05, "large": 1e16, "tiny": 1.5e-300}
    ours, drfs = JSONRenderer().render(data), renderers.JSONRenderer().render(data)

    assert json.loads(ours) == json.loads(drfs) == data
    assert b"0.00001" in ours  # orjson's spelling; DRF writes 1e-05


def test_what_orjson_cannot_write_is_drfs_answer():
    huge = {"id": 2**70, "list": [2**64]}

    assert JSONRenderer().render(huge) == renderers.JSONRenderer().render(huge)
    assert json.loads(JSONRenderer().render(huge)) == huge


def test_nothing_is_no_bytes():
    assert JSONRenderer().render(None) == b""


def test_an_indented_answer_is_drfs(read_api, product):
    plain = read_api.get(f"/api/v1/products/{product.slug}/")
    indented = read_api.get(
        f"/api/v1/products/{product.slug}/", HTTP_ACCEPT="application/json; indent=2"
    )

    assert plain.status_code == indented.status_code == 200
    assert b"\n" not in plain.content
    assert indented.content == renderers.JSONRenderer().render(
        indented.data, "application/json; indent=2"
    )
    assert indented.content.startswith(b'{\n  "slug"')
    assert json.loads(indented.content) == json.loads(plain.content)


def test_every_answer_is_written_by_it(read_api, product):
    """The setting is in force: the answer was written by our renderer, as DRF would have
    written it (a datetime in UTC as "Z", U+2028 escaped)."""
    product.description = "Line\u2028separated"
    product.save()

    response = read_api.get(f"/api/v1/products/{product.slug}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert type(response.accepted_renderer) is JSONRenderer
    assert response.content == JSONRenderer().render(response.data)
    assert response.content == renderers.JSONRenderer().render(response.data)
    assert b"Line\\u2028separated" in response.content
    assert response.json()["updated_at"].endswith("Z")
