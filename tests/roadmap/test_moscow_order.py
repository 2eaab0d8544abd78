"""The MoSCoW order is stated once (``scoring.MOSCOW_ORDER``): the tie-break, the table's sort,
its filter and cell choices, and the model's choices all follow it."""

import re

import pytest
from django.urls import reverse

from roadmap.models import MoSCoW
from roadmap.planning import scoring
from roadmap.planning.presenters.table import CHOICE_COLUMNS, MOSCOW_SHORT
from tests import factories as f

EXPECTED = ("must", "should", "could", "wont")


def test_the_order_is_must_should_could_wont():
    assert scoring.MOSCOW_ORDER == EXPECTED


def test_the_models_choices_follow_the_order():
    assert tuple(MoSCoW.values) == scoring.MOSCOW_ORDER


def test_the_tie_break_follows_the_order():
    keys = [scoring.tie_break_key("moscow", value, "") for value in (*scoring.MOSCOW_ORDER, "")]

    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_the_tables_labels_and_cell_choices_follow_the_order():
    (column,) = [c for c in CHOICE_COLUMNS if c.key == "moscow"]

    assert list(MOSCOW_SHORT.items()) == [
        ("must", "Must"),
        ("should", "Should"),
        ("could", "Could"),
        ("wont", "Won't"),
    ]
    assert [value for value, _ in column.choices] == ["", *scoring.MOSCOW_ORDER]


def _order(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="feature-(\d+)"', html)]


@pytest.mark.parametrize("sort", ["moscow", "-moscow"])
def test_the_tables_sort_and_filter_follow_the_order(viewer_client, product, sort):
    # Given one feature per MoSCoW value, made in the reverse order, and one without
    by_value = {
        value: f.FeatureFactory(product=product, title=f"F {value}", moscow=value)
        for value in reversed(scoring.MOSCOW_ORDER)
    }
    unset = f.FeatureFactory(product=product, title="F unset", moscow="")

    # When the table is sorted by MoSCoW
    response = viewer_client.get(reverse("roadmap:product", args=[product.slug]), {"sort": sort})

    # Then it lists them in scoring's order (reversed for "-moscow"), unset last either way
    assert response.status_code == 200
    order = list(scoring.MOSCOW_ORDER)
    if sort.startswith("-"):
        order.reverse()
    assert _order(response.content.decode()) == [*(by_value[v].pk for v in order), unset.pk]
    filter_values = re.findall(
        r'<option value="(\w+)"',
        re.search(r'<select id="filter-moscow".*?</select>', response.content.decode(), re.S)[0],
    )
    assert filter_values == [*scoring.MOSCOW_ORDER, "none"]
