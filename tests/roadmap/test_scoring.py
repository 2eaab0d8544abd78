"""The formulas, checked on hand-computed cases. Pure: no database."""

import pytest

from roadmap.planning import scoring as s

RICE_INPUTS = s.FeatureInputs(reach=1000, impact=2.0, confidence=80, effort=4.0)
DRIVERS = (
    s.Driver(id=1, name="Revenue", weight=3.0),
    s.Driver(id=2, name="Strategic fit", weight=2.0),
    s.Driver(id=3, name="Customer pain", weight=1.0),
)


def test_rice_is_reach_times_impact_times_confidence_share_over_effort():
    # 1000 × 2 × 0.8 / 4
    result = s.evaluate(s.ScoringConfig(framework=s.RICE), RICE_INPUTS)

    assert result.score == 400.0
    assert result.missing == []
    assert result.breakdown == {
        "framework": "rice",
        "formula": "reach × impact × (confidence / 100) / effort",
        "inputs": {
            "reach": {"value": 1000.0, "source": "manual"},
            "impact": {"value": 2.0, "source": "manual"},
            "confidence": {"value": 80.0, "source": "manual"},
            "effort": {"value": 4.0, "source": "manual"},
        },
        "score": 400.0,
    }


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        (s.FeatureInputs(reach=0, impact=3.0, confidence=100, effort=1.0), 0.0),
        (s.FeatureInputs(reach=200, impact=0.25, confidence=50, effort=0.5), 50.0),
        (s.FeatureInputs(reach=300, impact=3.0, confidence=0, effort=2.0), 0.0),
    ],
)
def test_rice_edge_values(inputs, expected):
    assert s.evaluate(s.ScoringConfig(framework=s.RICE), inputs).score == expected


def test_ice_is_the_product_of_its_three_inputs():
    inputs = s.FeatureInputs(impact_ice=8, confidence_ice=7, ease=6)

    assert s.evaluate(s.ScoringConfig(framework=s.ICE), inputs).score == 336.0


def test_wsjf_is_cost_of_delay_over_job_size():
    inputs = s.FeatureInputs(business_value=8, time_criticality=5, risk_reduction=3, job_size=5)

    result = s.evaluate(s.ScoringConfig(framework=s.WSJF), inputs)

    assert result.score == pytest.approx(3.2)
    assert result.breakdown["formula"] == (
        "(business_value + time_criticality + risk_reduction) / job_size"
    )


def test_value_over_effort():
    inputs = s.FeatureInputs(value=7, effort=2.0)

    assert s.evaluate(s.ScoringConfig(framework=s.VALUE_EFFORT), inputs).score == 3.5


def test_weighted_scoring_is_the_weighted_average_of_driver_scores():
    # (3·8 + 2·5 + 1·2) / (3 + 2 + 1) = 36 / 6
    config = s.ScoringConfig(framework=s.WEIGHTED, drivers=DRIVERS)
    inputs = s.FeatureInputs(driver_scores={1: 8, 2: 5, 3: 2}, effort=4.0)

    result = s.evaluate(config, inputs)

    assert result.score == 6.0
    assert result.breakdown["formula"] == "Σ weightᵢ·scoreᵢ / Σ weightᵢ"
    assert result.breakdown["inputs"] == {"weighted_drivers": {"value": 6.0, "source": "drivers"}}


def test_weighted_scoring_can_be_divided_by_effort():
    config = s.ScoringConfig(framework=s.WEIGHTED, drivers=DRIVERS, divide_by_effort=True)
    inputs = s.FeatureInputs(driver_scores={1: 8, 2: 5, 3: 2}, effort=4.0)

    assert s.evaluate(config, inputs).score == 1.5


def test_weighted_scoring_without_every_driver_scored_has_no_score():
    config = s.ScoringConfig(framework=s.WEIGHTED, drivers=DRIVERS)

    result = s.evaluate(config, s.FeatureInputs(driver_scores={1: 8, 2: 5}))

    assert result.score is None
    assert result.missing == ["weighted_drivers"]


def test_weighted_scoring_without_drivers_has_no_score():
    result = s.evaluate(s.ScoringConfig(framework=s.WEIGHTED), s.FeatureInputs())

    assert result.score is None


def test_missing_inputs_are_named_in_formula_order():
    inputs = s.FeatureInputs(reach=10, impact=None, confidence=None, effort=1.0)

    result = s.evaluate(s.ScoringConfig(framework=s.RICE), inputs)

    assert result.score is None
    assert result.missing == ["impact", "confidence"]
    assert s.explain(result.breakdown)[-1] == "No score: missing impact, confidence."


def test_reach_from_insights_replaces_the_typed_reach():
    config = s.ScoringConfig(framework=s.RICE, reach_source=s.INSIGHTS)
    inputs = s.FeatureInputs(
        reach=99999, impact=1.0, confidence=100, effort=1.0, insight_customers=3
    )

    result = s.evaluate(config, inputs)

    assert result.score == 3.0
    assert result.breakdown["inputs"]["reach"] == {"value": 3.0, "source": "insights"}
    assert s.explain(result.breakdown)[0] == ("reach = 3 (distinct customers in linked insights)")


def test_reach_from_personas_uses_their_summed_segment_size():
    config = s.ScoringConfig(framework=s.RICE, reach_source=s.PERSONAS)
    inputs = s.FeatureInputs(impact=1.0, confidence=50, effort=2.0, persona_segment_size=800)

    assert s.evaluate(config, inputs).score == 200.0


def test_explanation_reads_like_a_sentence_per_input_then_the_result():
    result = s.evaluate(s.ScoringConfig(framework=s.RICE), RICE_INPUTS)

    assert s.explain(result.breakdown) == [
        "reach = 1,000 (entered by hand)",
        "impact = 2 (entered by hand)",
        "confidence = 80 (entered by hand)",
        "effort = 4 (entered by hand)",
        "reach × impact × (confidence / 100) / effort = 400",
    ]


def test_explanation_orders_inputs_even_when_the_json_does_not():
    # PostgreSQL's jsonb hands keys back sorted by length, not in formula order.
    breakdown = s.evaluate(s.ScoringConfig(framework=s.RICE), RICE_INPUTS).breakdown
    shuffled = dict(breakdown, inputs=dict(reversed(list(breakdown["inputs"].items()))))

    assert s.explain(shuffled) == s.explain(breakdown)


def test_rank_key_orders_by_score_then_tie_break_then_age():
    rows = [
        dict(id=1, score=None, moscow="must", kano="", created_at=1),
        dict(id=2, score=5.0, moscow="could", kano="", created_at=1),
        dict(id=3, score=5.0, moscow="must", kano="", created_at=2),
        dict(id=4, score=9.0, moscow="", kano="", created_at=3),
        dict(id=5, score=5.0, moscow="must", kano="", created_at=1),
    ]

    ordered = sorted(rows, key=lambda r: s.rank_key(tie_break="moscow", **r))

    assert [r["id"] for r in ordered] == [4, 5, 3, 2, 1]


def test_a_breakdowns_numbers_round_as_round_for_output_does():
    """``_round_number``'s fast paths (whole numbers, numbers past ±1) answer what
    ``round_for_output`` answers, type and all."""
    import random

    rng = random.Random(20)
    values = [0, 1, -1, 5, 4884, 2**53, 2**53 - 1, -(2**53), 10**20, True, False, 0.0, -0.0]
    values += [1.0, 0.5, -0.5, 1.005, 2.675, -2.675, 1e300, -1e300, 0.000123, 1 - 1e-16]
    values += [float("inf"), -float("inf"), float("nan"), "text", None]
    values += [rng.uniform(-1e6, 1e6) for _ in range(5000)]
    values += [rng.uniform(-2, 2) for _ in range(5000)]
    values += [rng.randint(-(10**6), 10**6) for _ in range(1000)]

    for value in values:
        expected = s.round_for_output(float(value)) if isinstance(value, int | float) else value
        assert repr(s._round_number(value)) == repr(expected), value
