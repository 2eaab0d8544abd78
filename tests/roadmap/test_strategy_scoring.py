"""The "differentiator" tie-break: differentiators before parity features before unmarked ones,
in the Python twin and in the stored ranking alike."""

import pytest

from roadmap.models import Feature, Product
from roadmap.planning import scoring as s
from roadmap.planning.services.features import feature_update
from roadmap.planning.services.scoring import product_recompute_scores
from tests import factories as f


def test_differentiator_tie_break_key_orders_differentiator_parity_then_unset():
    keys = {
        position: s.tie_break_key("differentiator", "must", "basic", position)
        for position in ("differentiator", "parity", "")
    }

    assert keys == {"differentiator": 0, "parity": 1, "": 2}
    # The other tie-breaks ignore the market position.
    assert s.tie_break_key("moscow", "could", "", "differentiator") == 2
    assert s.tie_break_key("none", "must", "basic", "differentiator") == 0


def test_rank_key_with_differentiator_tie_break():
    columns = ("id", "score", "moscow", "market_position", "created_at")
    rows = [
        dict(zip(columns, values, strict=True), kano="")
        for values in (
            (1, 5.0, "must", "parity", 1),
            (2, 5.0, "", "", 1),
            (3, 5.0, "wont", "differentiator", 2),
            (4, 9.0, "", "parity", 3),
            (5, None, "", "differentiator", 0),
        )
    ]

    ordered = sorted(rows, key=lambda r: s.rank_key(tie_break="differentiator", **r))

    assert [r["id"] for r in ordered] == [4, 3, 1, 2, 5]


def test_rank_key_defaults_keep_the_old_signature():
    # Callers that do not know about market positions still get the MoSCoW order.
    a = s.rank_key(score=1.0, tie_break="moscow", moscow="must", kano="", created_at=2, id=2)
    b = s.rank_key(score=1.0, tie_break="moscow", moscow="could", kano="", created_at=1, id=1)

    assert a < b


@pytest.mark.parametrize(
    ("tie_break", "expected"),
    [
        ("differentiator", ["diff-new", "parity-old", "unset-old"]),
        ("moscow", ["parity-old", "diff-new", "unset-old"]),
    ],
)
def test_stored_ranks_follow_the_differentiator_tie_break(product, tie_break, expected):
    Product.objects.filter(pk=product.pk).update(tie_break=tie_break)
    for title, position, moscow in (
        ("parity-old", "parity", "must"),
        ("unset-old", "", "could"),
        ("diff-new", "differentiator", "should"),
    ):
        f.FeatureFactory(product=product, title=title, market_position=position, moscow=moscow)

    product_recompute_scores(product_id=product.pk)

    assert list(Feature.objects.filter(product=product).values_list("title", "rank")) == [
        (expected[0], 1),
        (expected[1], 2),
        (expected[2], 3),
    ]


def test_sql_and_python_ranking_agree_on_the_differentiator_tie_break(product):
    Product.objects.filter(pk=product.pk).update(tie_break="differentiator")
    positions = ["", "parity", "differentiator"]
    for n in range(12):
        f.FeatureFactory(
            product=product,
            title=f"F{n}",
            reach=100 * (n % 3),  # many ties
            market_position=positions[(n * 7) % 3],
        )

    product_recompute_scores(product_id=product.pk)

    rows = list(Feature.objects.filter(product=product))
    python_order = sorted(
        rows,
        key=lambda x: s.rank_key(
            score=x.score,
            tie_break="differentiator",
            moscow=x.moscow,
            kano=x.kano,
            market_position=x.market_position,
            created_at=x.created_at,
            id=x.pk,
        ),
    )
    assert [x.pk for x in python_order] == [x.pk for x in sorted(rows, key=lambda x: x.rank)]


def test_marking_a_feature_as_differentiator_reranks_at_once(product):
    Product.objects.filter(pk=product.pk).update(tie_break="differentiator")
    first = f.FeatureFactory(product=product, title="Older")
    second = f.FeatureFactory(product=product, title="Newer")
    product_recompute_scores(product_id=product.pk)
    assert Feature.objects.get(pk=second.pk).rank == 2

    feature_update(feature=second, data={"market_position": "differentiator"})

    assert Feature.objects.get(pk=second.pk).rank == 1
    assert Feature.objects.get(pk=first.pk).rank == 2
    assert Feature.objects.get(pk=second.pk).version == 2
