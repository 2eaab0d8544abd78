import pytest

from roadmap.services.scoring import product_recompute_scores
from tests import factories as f


@pytest.mark.django_db
def test_recompute_ranks(product):
    a = f.FeatureFactory(product=product, reach=10)
    b = f.FeatureFactory(product=product, reach=1000)
    c = f.FeatureFactory(product=product, reach=None)
    assert product_recompute_scores(product_id=product.id) == 3
    for x in (a, b, c):
        x.refresh_from_db()
    assert (b.rank, a.rank, c.rank) == (1, 2, 3)
    assert b.score == pytest.approx(1000 * 1 * 0.8 / 2)
    assert c.score is None
    print(b.score_breakdown, c.score_breakdown)
