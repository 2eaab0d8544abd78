"""Every term's share of a score (issue 19): for the built-in frameworks and a product's own
formula, what each part contributes and what the score would be without it; in the API's
breakdown (features and priorities) and on the feature page."""

from decimal import Decimal

import pytest
from django.urls import reverse

from roadmap.models import Feature
from roadmap.planning import scoring as s
from roadmap.planning.formula import parse
from roadmap.planning.services import formula as formula_services
from roadmap.planning.services.scoring import product_recompute_scores
from roadmap.planning.shares import DIVIDE, TAKE, TIMES, driver_shares, shares
from tests import factories as f


def _table(found):
    return [(x.term, x.effect, x.value, round(x.share, 3), x.without) for x in found]


def test_rice_splits_into_its_factors_weighed_in_orders_of_magnitude():
    found = shares(
        s.framework_for(s.RICE).formula,
        {"reach": 1000, "impact": 2, "confidence": 80, "effort": 2},
    )

    assert _table(found) == [
        ("reach", TIMES, 1000, 0.811, 0.8),
        ("impact", TIMES, 2, 0.081, 400),
        ("confidence / 100", TIMES, 0.8, 0.026, 1000),
        ("effort", DIVIDE, 2, 0.081, 1600),
    ]
    assert sum(x.share for x in found) == pytest.approx(1)


def test_wsjf_shows_cost_of_delay_and_its_parts():
    [delay, size] = shares(
        s.framework_for(s.WSJF).formula,
        {"business_value": 8, "time_criticality": 6, "risk_reduction": 2, "job_size": 4},
    )

    assert (delay.effect, delay.value, delay.without) == (TIMES, 16, 0.25)
    assert (size.effect, size.value, size.without) == (DIVIDE, 4, 16)
    assert [(p.term, p.share, p.without) for p in delay.parts] == [
        ("business_value", 0.5, 2),
        ("time_criticality", 0.375, 2.5),
        ("risk_reduction", 0.125, 3.5),
    ]


def test_a_sum_splits_into_signed_addends_and_follows_the_branch_taken():
    formula = parse("if(customers >= 2, reach * 2, reach) - penalty + 10", None)

    found = shares(formula, {"customers": 3, "reach": 45, "penalty": 5})

    assert _table(found) == [
        ("if(customers >= 2, reach × 2, reach)", "+", 90, 0.857, 5),
        ("penalty", TAKE, 5, -0.048, 100),
        ("10", "+", 10, 0.095, 85),
    ]


def test_min_max_and_round_follow_the_part_that_decided():
    formula = parse("round(max(value / effort, reach / 100), 1)", None)

    found = shares(formula, {"value": 8, "effort": 2, "reach": 100})

    assert [(x.term, x.effect, x.value) for x in found] == [
        ("value", TIMES, 8),
        ("effort", DIVIDE, 2),
    ]


def test_a_zero_factor_is_the_whole_share_and_no_score_has_no_shares():
    rice = s.framework_for(s.RICE).formula
    zero = shares(rice, {"reach": 0, "impact": 2, "confidence": 80, "effort": 2})

    assert [x.share for x in zero] == [1, 0, 0, 0]
    assert shares(rice, {"reach": None, "impact": 2, "confidence": 80, "effort": 2}) == []


def test_weighted_drivers_share_their_weighted_sum():
    assert driver_shares([(3.0, 8), (1.0, 6)]) == [0.8, 0.2]
    assert driver_shares([(3.0, 8), (1.0, None)]) == []
    assert driver_shares([(3.0, 0), (1.0, 0)]) == []


def test_the_api_breakdown_carries_the_shares_of_features_and_priorities(client, editor, product):
    from accounts.tokens import api_token_issue

    f.FeatureFactory(product=product, title="Big", reach=1000, impact=Decimal("2"))
    product_recompute_scores(product_id=product.pk)
    _, raw = api_token_issue(user=editor, workspace=product.workspace, name="t", scope="read")
    auth = {"Authorization": f"Bearer {raw}"}

    priorities = f"/api/v1/products/{product.slug}/priorities/"
    feature = client.get("/api/v1/features/?shares=true", headers=auth).json()["results"][0]
    priority = client.get(f"{priorities}?shares=true", headers=auth).json()
    one = client.get(f"/api/v1/features/{feature['id']}/", headers=auth).json()
    # Lists leave them out unless asked (they cost a row a third of its time); one feature not.
    plain_list = client.get("/api/v1/features/", headers=auth).json()["results"][0]
    plain_priority = client.get(priorities, headers=auth).json()["results"][0]
    assert "shares" not in plain_list["score_breakdown"]
    assert "shares" not in plain_priority["score_breakdown"]
    assert plain_priority["score_breakdown"]["score"] == 800.0
    for url in ("/api/v1/features/?shares=maybe", f"{priorities}?shares=maybe"):
        refused = client.get(url, headers=auth)
        assert refused.status_code == 400 and set(refused.json()) == {"shares"}, url

    expected = [
        {"term": "reach", "effect": "×", "value": 1000.0, "share": 0.811, "without": 0.8},
        {"term": "impact", "effect": "×", "value": 2.0, "share": 0.0814, "without": 400.0},
        {"term": "confidence / 100", "effect": "×", "value": 0.8, "share": 0.0262,
         "without": 1000.0},
        {"term": "effort", "effect": "÷", "value": 2.0, "share": 0.0814, "without": 1600.0},
    ]  # fmt: skip
    shown_in = (feature, priority["results"][0], one)
    for shown in (row["score_breakdown"] for row in shown_in):
        assert [{k: v for k, v in x.items() if k != "parts"} for x in shown["shares"]] == expected


def test_a_custom_formulas_shares_wait_for_its_recompute(editor, product):
    feature = f.FeatureFactory(product=product, value=6, effort=Decimal("2"))
    formula_services.product_formula_save(product=product, source="value / effort", author=None)
    from roadmap.planning.shares import product_shares

    product.refresh_from_db()
    feature.refresh_from_db()
    before = product_shares(product, feature.score_breakdown)  # still RICE's breakdown
    product_recompute_scores(product_id=product.pk)
    feature.refresh_from_db()
    after = product_shares(product, feature.score_breakdown)

    assert before == []
    assert [(x.term, x.effect, x.without) for x in after] == [
        ("value", TIMES, 0.5),
        ("effort", DIVIDE, 6),
    ]


def test_the_feature_page_shows_each_terms_share(viewer_client, product):
    feature = f.FeatureFactory(product=product, reach=1000, impact=Decimal("2"))
    product_recompute_scores(product_id=product.pk)

    page = viewer_client.get(reverse("roadmap:feature", args=[feature.pk])).content.decode()

    assert "What each part contributes" in page
    assert "81%" in page
    assert "without it: 0.8" in page


def test_the_matrix_says_what_makes_each_points_score(viewer_client, product):
    f.FeatureFactory(product=product, title="Big", reach=1000, impact=Decimal("2"))
    product_recompute_scores(product_id=product.pk)

    page = viewer_client.get(reverse("roadmap:matrix", args=[product.slug])).content.decode()

    line = "reach ×1,000 (81%) · impact ×2 (8%) · confidence / 100 ×0.8 (3%) · effort ÷2 (8%)"
    assert f"Score: {line}</title>" in page
    assert f'<td class="small">{line}</td>' in page


def test_the_tables_score_says_what_makes_it_on_hover_and_focus(viewer_client, product):
    f.FeatureFactory(product=product, title="Big", reach=1000, impact=Decimal("2"))
    f.FeatureFactory(product=product, title="Unscored", reach=None)
    product_recompute_scores(product_id=product.pk)

    page = viewer_client.get(product.get_absolute_url()).content.decode()

    line = "reach ×1,000 (81%) · impact ×2 (8%) · confidence / 100 ×0.8 (3%) · effort ÷2 (8%)"
    big = Feature.objects.get(title="Big").pk
    # The score is focusable and described by its shares (a tooltip on hover and focus).
    assert (
        f'<span class="prio__shares" tabindex="0" aria-describedby="f{big}-shares">800</span>'
        f'<span class="prio__tip" role="tooltip" id="f{big}-shares">{line}</span>'
    ) in page
    assert 'title="No score: missing reach"' in page
