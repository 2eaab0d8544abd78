"""The value vs. effort matrix: how each framework splits into value and effort (pure), and the
matrix page read through the HTTP client."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from roadmap.models import Feature
from roadmap.planning import scoring as s
from roadmap.planning.selectors.matrix import PLOT_BOTTOM, PLOT_LEFT, PLOT_RIGHT, PLOT_TOP
from roadmap.planning.services.scoring import product_recompute_scores
from tests import factories as f

# --- Axes from the framework definitions (pure) --------------------------------------------------


def _axes(framework: str, *, divide_by_effort: bool = False) -> s.MatrixAxes:
    return s.matrix_axes(s.framework_for(framework, divide_by_effort=divide_by_effort))


@pytest.mark.parametrize(
    ("framework", "divide", "value_text", "effort_text"),
    [
        (s.RICE, False, "reach × impact × (confidence / 100)", "effort"),
        (s.ICE, False, "impact_ice × confidence_ice", "11 − ease"),
        (s.WSJF, False, "business_value + time_criticality + risk_reduction", "job_size"),
        (s.VALUE_EFFORT, False, "value", "effort"),
        (s.WEIGHTED, False, "weighted_drivers", "effort"),
        (s.WEIGHTED, True, "weighted_drivers", "effort"),
    ],
)
def test_each_framework_splits_into_value_and_effort(framework, divide, value_text, effort_text):
    axes = _axes(framework, divide_by_effort=divide)

    assert axes.value.text() == value_text
    assert axes.effort.text() == effort_text
    assert axes.note


@pytest.mark.parametrize(
    ("framework", "inputs"),
    [
        (s.RICE, {"reach": 1000, "impact": 2, "confidence": 80, "effort": 4}),
        (s.WSJF, {"business_value": 8, "time_criticality": 5, "risk_reduction": 3, "job_size": 5}),
        (s.VALUE_EFFORT, {"value": 9, "effort": 3}),
    ],
)
def test_where_a_framework_divides_value_over_effort_is_its_score(framework, inputs):
    axes = _axes(framework)
    config = s.ScoringConfig(framework=framework)

    score = s.evaluate(config, s.FeatureInputs(**inputs)).score

    assert axes.value.evaluate(inputs) / axes.effort.evaluate(inputs) == pytest.approx(score)


def test_rice_value_is_reach_times_impact_times_confidence_share():
    axes = _axes(s.RICE)
    values = {"reach": 1000, "impact": 2, "confidence": 80, "effort": 4}

    assert axes.value.evaluate(values) == 1600.0
    assert axes.effort.evaluate(values) == 4.0


def test_ice_value_drops_ease_and_effort_is_ease_reversed():
    axes = _axes(s.ICE)

    assert axes.value.evaluate({"impact_ice": 8, "confidence_ice": 5, "ease": 10}) == 40.0
    assert axes.effort.evaluate({"ease": 10}) == 1.0
    assert axes.effort.evaluate({"ease": 1}) == 10.0
    assert axes.effort.evaluate({"ease": None}) is None
    assert axes.variables() == ("impact_ice", "confidence_ice", "ease")


def test_weighted_scoring_without_a_division_takes_the_features_effort():
    axes = _axes(s.WEIGHTED)

    assert axes.variables() == ("weighted_drivers", "effort")
    assert axes.value.evaluate({"weighted_drivers": 7.5}) == 7.5
    assert axes.effort.evaluate({"effort": 2}) == 2.0


def test_matrix_values_take_typed_inputs_from_the_fields_and_derived_ones_from_the_scoring():
    config = s.ScoringConfig(framework=s.RICE, reach_source=s.INSIGHTS)
    axes = s.matrix_axes(config.definition)
    breakdown = {"framework": "rice", "inputs": {"reach": {"value": 3.0, "source": "insights"}}}
    fields = {"reach": 999, "impact": Decimal("2.00"), "confidence": 50, "effort": Decimal("1.5")}

    values = s.matrix_values(config, axes, fields=fields, breakdown=breakdown)

    assert values == {"reach": 3.0, "impact": 2.0, "confidence": 50.0, "effort": 1.5}


def test_matrix_values_ignore_a_scoring_of_another_framework():
    config = s.ScoringConfig(framework=s.WEIGHTED)
    axes = s.matrix_axes(config.definition)
    breakdown = {"framework": "ice", "inputs": {"weighted_drivers": {"value": 9.0}}}

    values = s.matrix_values(config, axes, fields={"effort": 2}, breakdown=breakdown)

    assert values == {"weighted_drivers": None, "effort": 2.0}


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [([], None), ([5.0], 5.0), ([3.0, 1.0, 2.0], 2.0), ([4.0, 1.0, 3.0, 2.0], 2.5)],
)
def test_median(numbers, expected):
    assert s.median(numbers) == expected


@pytest.mark.parametrize(
    ("value", "effort", "expected"),
    [
        (9, 1, s.QUICK_WINS),
        (9, 9, s.BIG_BETS),
        (1, 1, s.FILL_INS),
        (1, 9, s.MONEY_PITS),
        # On a split counts on the better side: high value, low effort.
        (5, 5, s.QUICK_WINS),
        (5, 6, s.BIG_BETS),
        (4.9, 5, s.FILL_INS),
        (4.9, 5.1, s.MONEY_PITS),
    ],
)
def test_quadrant_splits_at_the_median_on_the_better_side(value, effort, expected):
    assert s.quadrant(value=value, effort=effort, value_split=5, effort_split=5) == expected


# --- The page -------------------------------------------------------------------------------------

POINT = re.compile(
    r'<a class="matrix__point matrix-status--(?P<status>\w+)" href="/features/(?P<id>\d+)/" '
    r'data-feature="\d+" data-quadrant="(?P<quadrant>\w+)">\s*'
    r"<title>(?P<title>.*?)</title>\s*"
    r'<circle cx="(?P<x>[\d.]+)" cy="(?P<y>[\d.]+)"',
    re.S,
)


def _url(product, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("roadmap:matrix", kwargs={"slug": product.slug}) + (f"?{query}" if query else "")


def _html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def _points(html: str) -> dict[int, dict]:
    return {
        int(m["id"]): {**m.groupdict(), "x": float(m["x"]), "y": float(m["y"])}
        for m in POINT.finditer(html)
    }


def _rice(product, title, reach, effort, **extra) -> Feature:
    return f.FeatureFactory(
        product=product,
        title=title,
        reach=reach,
        impact=Decimal("1.00"),
        confidence=100,
        effort=Decimal(effort),
        **extra,
    )


def test_points_are_placed_by_value_and_effort_in_their_quadrants(viewer_client, product):
    quick = _rice(product, "Quick", reach=900, effort="1")
    bet = _rice(product, "Bet", reach=1000, effort="9")
    fill = _rice(product, "Fill", reach=10, effort="2")
    pit = _rice(product, "Pit", reach=20, effort="10")
    product_recompute_scores(product_id=product.pk)

    html = _html(viewer_client.get(_url(product)))
    points = _points(html)

    assert {p["quadrant"] for p in [points[quick.pk]]} == {"quick_wins"}
    assert points[bet.pk]["quadrant"] == "big_bets"
    assert points[fill.pk]["quadrant"] == "fill_ins"
    assert points[pit.pk]["quadrant"] == "money_pits"
    # Less effort is further left; more value is higher up (a smaller y in SVG).
    assert points[quick.pk]["x"] < points[fill.pk]["x"] < points[bet.pk]["x"] < points[pit.pk]["x"]
    assert points[bet.pk]["y"] < points[quick.pk]["y"] < points[pit.pk]["y"] < points[fill.pk]["y"]
    # The tooltip says what the point is: value 900 × 1 × 1, effort 1, score 900.
    assert points[quick.pk]["title"].startswith("Quick — value 900, effort 1, score 900")
    assert "reach × impact × (confidence / 100)" in html
    assert "Quick wins · 1" in html
    # Medians: value (20 + 900) / 2 = 460, effort (2 + 9) / 2 = 5.5.
    assert "value 460, effort 5.5" in html


def _plotted_inside(point: dict) -> bool:
    """The dot, hovered (radius 6 and a 3-unit outline), is inside the plot area, off its edges."""
    reach = 6 + 3
    return (
        PLOT_LEFT <= point["x"] - reach < point["x"] + reach < PLOT_RIGHT
        and PLOT_TOP < point["y"] - reach < point["y"] + reach <= PLOT_BOTTOM
    )


def test_a_feature_alone_is_a_quick_win_in_the_middle_of_the_chart(viewer_client, product):
    only = _rice(product, "Export to Excel", reach=1000, effort="0.5")
    product_recompute_scores(product_id=product.pk)

    html = _html(viewer_client.get(_url(product)))
    point = _points(html)[only.pk]

    assert point["quadrant"] == "quick_wins"
    assert "Quick wins · 1" in html
    assert "Fill-ins · 0" in html
    # Alone, it is on both medians, drawn mid-chart: value 1,000 of 2,000, effort 0.5 of 1.
    assert point["x"] == (PLOT_LEFT + PLOT_RIGHT) / 2
    assert point["y"] == (PLOT_TOP + PLOT_BOTTOM) / 2
    assert _plotted_inside(point)


def test_two_features_split_between_them(viewer_client, product):
    best = _rice(product, "Best", reach=1000, effort="1")
    worst = _rice(product, "Worst", reach=100, effort="8")
    same_effort = _rice(product, "Same effort", reach=500, effort="1", status="planned")
    product_recompute_scores(product_id=product.pk)

    two = _points(_html(viewer_client.get(_url(product, status="idea"))))
    # The same effort, different values: both cheap, the better one valuable.
    alike = _points(_html(viewer_client.get(_url(product, status="all"))))

    assert (two[best.pk]["quadrant"], two[worst.pk]["quadrant"]) == ("quick_wins", "money_pits")
    assert all(_plotted_inside(p) for p in two.values())
    assert alike[best.pk]["quadrant"] == "quick_wins"
    assert alike[same_effort.pk]["quadrant"] == "quick_wins"  # on the value median
    assert alike[worst.pk]["quadrant"] == "money_pits"


def test_the_top_and_rightmost_dots_are_off_the_chart_edges(viewer_client, product):
    # 1,000 and 10 are round numbers: without headroom they would be the axes' ends.
    top = _rice(product, "Top", reach=1000, effort="2")
    right = _rice(product, "Right", reach=200, effort="10")
    _rice(product, "Middle", reach=500, effort="5")
    product_recompute_scores(product_id=product.pk)

    points = _points(_html(viewer_client.get(_url(product))))

    assert _plotted_inside(points[top.pk])
    assert _plotted_inside(points[right.pk])
    assert points[top.pk]["quadrant"] == "quick_wins"


def test_each_point_links_to_its_feature_and_is_in_the_table(viewer_client, product):
    feature = _rice(product, "Offline mode", reach=100, effort="2")

    html = _html(viewer_client.get(_url(product)))

    assert f'href="{feature.get_absolute_url()}" data-feature="{feature.pk}"' in html
    table = html[html.index('<details class="matrix__table">') :]
    assert f'<a href="{feature.get_absolute_url()}">Offline mode</a>' in table
    assert re.search(r'<svg class="matrix__chart"[^>]*role="group"', html)
    assert '<title id="matrix-chart-title">Value vs. effort of 1 feature</title>' in html


def test_features_missing_inputs_are_listed_not_plotted(viewer_client, product):
    plotted = _rice(product, "Complete", reach=100, effort="2")
    missing = f.FeatureFactory(product=product, title="No estimate", effort=None)

    html = _html(viewer_client.get(_url(product)))

    assert set(_points(html)) == {plotted.pk}
    unplotted = html[html.index("Not plotted") :]
    assert f'<a href="{missing.get_absolute_url()}">No estimate</a>' in unplotted
    assert "missing effort" in unplotted


def test_a_matrix_with_no_plottable_feature_says_so(viewer_client, product):
    f.FeatureFactory(product=product, title="No estimate", effort=None)

    html = _html(viewer_client.get(_url(product)))

    assert "<svg" not in html
    assert "No feature here has every input the matrix needs." in html
    assert "No estimate" in html


def test_titles_are_escaped_in_the_svg(viewer_client, product):
    _rice(product, "<script>alert(1)</script>", reach=100, effort="2")

    html = _html(viewer_client.get(_url(product)))

    assert "<script>alert(1)" not in html
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt; — value" in html


def test_open_features_only_by_default_and_the_status_filter(viewer_client, product):
    open_feature = _rice(product, "Open one", reach=100, effort="2", status="planned")
    shipped = _rice(product, "Shipped one", reach=100, effort="2", status="shipped")

    default = _points(_html(viewer_client.get(_url(product))))
    everything = _points(_html(viewer_client.get(_url(product, status="all"))))
    only_shipped = _points(_html(viewer_client.get(_url(product, status="shipped"))))

    assert set(default) == {open_feature.pk}
    assert set(everything) == {open_feature.pk, shipped.pk}
    assert set(only_shipped) == {shipped.pk}


def test_persona_filter(viewer_client, product):
    persona = f.PersonaFactory(product=product)
    theirs = _rice(product, "Theirs", reach=100, effort="2")
    theirs.personas.add(persona)
    _rice(product, "Others", reach=100, effort="2")

    html = _html(viewer_client.get(_url(product, persona=persona.pk)))

    assert set(_points(html)) == {theirs.pk}
    assert f'<option value="{persona.pk}" selected>' in html


def test_a_persona_of_another_product_is_ignored(viewer_client, product, workspace):
    elsewhere = f.PersonaFactory(product=f.ProductFactory(workspace=workspace))
    feature = _rice(product, "Mine", reach=100, effort="2")

    html = _html(viewer_client.get(_url(product, persona=elsewhere.pk)))

    assert set(_points(html)) == {feature.pk}


def test_reach_from_insights_comes_from_the_last_scoring(viewer_client, product):
    product.reach_source = "insights"
    product.save()
    feature = _rice(product, "Evidence backed", reach=None, effort="2")
    for customer in ("Acme", "Globex", "acme"):
        f.InsightFactory(product=product, customer=customer).features.add(feature)
    product_recompute_scores(product_id=product.pk)

    html = _html(viewer_client.get(_url(product)))

    # Two distinct customers × impact 1 × 100% confidence.
    assert _points(html)[feature.pk]["title"].startswith("Evidence backed — value 2, effort 2")
    assert "<code>reach</code> is the distinct customers in linked insights" in html


def test_ice_plots_ease_reversed_as_effort(viewer_client, workspace):
    product = f.ProductFactory(workspace=workspace, scoring_framework="ice")
    easy = f.FeatureFactory(product=product, title="Easy", impact_ice=8, confidence_ice=5, ease=10)

    html = _html(viewer_client.get(_url(product)))

    assert _points(html)[easy.pk]["title"].startswith("Easy — value 40, effort 1")
    assert "11 − ease" in html
    assert "ICE has no effort input" in html


def test_htmx_filter_request_gets_the_chart_alone(viewer_client, product):
    _rice(product, "One", reach=100, effort="2")

    response = viewer_client.get(_url(product, status="all"), HTTP_HX_REQUEST="true")

    html = _html(response)
    assert "<svg" in html
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_members_only(client, viewer, outsider, product):
    assert client.get(_url(product)).status_code == 302

    client.force_login(viewer)
    assert client.get(_url(product)).status_code == 200

    client.force_login(outsider)
    assert client.get(_url(product)).status_code == 404


def test_the_matrix_runs_a_constant_number_of_queries(
    viewer_client, product, django_assert_max_num_queries
):
    personas = [f.PersonaFactory(product=product) for _ in range(3)]
    Feature.objects.bulk_create(
        Feature(
            product=product,
            title=f"Feature {i}",
            reach=10 + i,
            impact=Decimal("1.00"),
            confidence=80,
            effort=Decimal(1 + i % 9) if i % 10 else None,
        )
        for i in range(1000)
    )
    product_recompute_scores(product_id=product.pk)

    with django_assert_max_num_queries(7):
        html = _html(viewer_client.get(_url(product)))

    assert len(_points(html)) == 900
    assert "Not plotted: 100 features missing inputs" in html
    assert personas[0].name in html
