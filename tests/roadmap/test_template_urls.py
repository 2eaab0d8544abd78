"""``product_record_url``: the board's per-card URLs without a ``reverse`` each, equal to it."""

import pytest
from django.urls import reverse

from roadmap.templatetags.waymark import product_record_url


@pytest.mark.parametrize(
    "name",
    [
        "roadmap:board_item_text",
        "roadmap:board_item_move",
        "roadmap:board_item_visibility",
        "roadmap:board_item_remove",
    ],
)
@pytest.mark.parametrize(("slug", "pk"), [("mobile-app", 7), ("v987654321", 987654321), ("a", 1)])
def test_it_gives_what_reverse_gives(name, slug, pk):
    assert product_record_url(name, slug, pk) == reverse(name, args=[slug, pk])
