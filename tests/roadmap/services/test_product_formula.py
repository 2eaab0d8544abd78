"""A product's own formula (issue 19), as a product uses it: checked against the names the product
offers and how large they get, saved as versions, previewed against today's ranking without a
write, and applied by the one-UPDATE recompute, which agrees with Python feature by feature
(inputs, drivers scored by hand or fed by the evidence, evidence figures, persona segments)."""

import random
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from roadmap.models import Feature, FeatureDriverScore, Product, ScoringFormulaVersion
from roadmap.planning import scoring as s
from roadmap.planning.formula import FormulaError
from roadmap.planning.services import formula as formula_services
from roadmap.planning.services.scoring import (
    feature_score,
    feature_scoring_inputs,
    product_recompute_scores,
    product_scoring_config,
)
from tests import factories as f
from tests.roadmap.services.test_scoring_evidence import _driver, _evidence_world

ISSUE = "reach * impact * confidence / 100 / effort * (1 + at_stake / 100000)"


def _use(product, source, author=None):
    version = formula_services.product_formula_save(product=product, source=source, author=author)
    product.refresh_from_db()
    return version


# --- Checking --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message", "line", "column"),
    [
        ("reach * imapct", "Unknown name “imapct”", 1, 9),
        ("reach *\n  (impact + ", "ends where a number or a name was expected", 2, 13),
        ("   ", "The formula is empty", 1, 1),
    ],
)
def test_a_check_says_what_is_wrong_and_where(product, source, message, line, column):
    with pytest.raises(FormulaError) as caught:
        formula_services.formula_check(product=product, source=source)

    assert message in str(caught.value)
    assert (caught.value.line, caught.value.column) == (line, column)


def test_a_formula_that_could_overflow_the_database_is_refused_before_it_is_saved(product):
    # Revenue at stake can reach 2 × 10^21; its sixth power is past what a score may hold.
    source = "at_stake * at_stake * at_stake * at_stake * at_stake * at_stake"

    with pytest.raises(ValidationError) as caught:
        _use(product, source)

    assert "formula" in caught.value.message_dict
    assert "more than a score may hold" in caught.value.message_dict["formula"][0]
    product.refresh_from_db()
    assert product.scoring_framework == s.RICE and product.scoring_formula == ""
    assert not ScoringFormulaVersion.objects.exists()


def test_drivers_are_read_by_their_names_in_snake_case(product):
    _driver(product, "Strategic fit", "2")
    _driver(product, "Reach", "1")  # named like an input: the input wins, the driver is unread

    names = {n.name: n for n in formula_services.formula_names(product=product)}

    assert names["strategic_fit"].kind == s.DRIVER
    assert names["reach"].kind == s.MANUAL
    assert formula_services.formula_check(product=product, source="strategic_fit * 2")


# --- Versions --------------------------------------------------------------------------------


def test_each_saved_change_is_a_version_with_its_author_and_the_text_before(product, editor):
    first = _use(product, "value / effort", editor)
    same = _use(product, "value / effort  ", editor)
    second = _use(product, ISSUE, editor)
    back = _use(product, "value / effort", editor)

    assert (first.number, second.number, back.number) == (1, 2, 3)
    assert same is None  # the same text, already in use: nothing to version or recompute
    assert product.scoring_framework == s.CUSTOM
    assert (product.scoring_formula, product.scoring_formula_version) == ("value / effort", 3)
    assert list(
        ScoringFormulaVersion.objects.filter(product=product)
        .order_by("number")
        .values_list("source", "author")
    ) == [("value / effort", editor.pk), (ISSUE, editor.pk), ("value / effort", editor.pk)]


def test_taking_the_formula_back_after_a_built_in_framework_makes_no_new_version(product):
    _use(product, "value / effort")
    Product.objects.filter(pk=product.pk).update(scoring_framework=s.RICE)
    product.refresh_from_db()

    again = _use(product, "value / effort")

    assert again.number == 1 and product.scoring_framework == s.CUSTOM
    assert ScoringFormulaVersion.objects.filter(product=product).count() == 1


# --- Scores: Python and SQL agree --------------------------------------------------------------


FORMULAS = [
    ISSUE,
    "if(customers >= 2, reach * 2, reach) / max(effort, 0.5)",
    "round(log(1 + at_stake) * fit + demand, 2) - min(confidence, 50) / 10",
    "(fit * 3 + demand) / effort + segment_size / 1000",
    "portal_customers * 10 + customers - if(not (impact > 1 and effort < 4), 5, 0)",
]


@pytest.mark.parametrize("source", FORMULAS)
def test_sql_recompute_agrees_with_python_on_custom_formulas(product, source):
    # Given features with inputs (some missing), insights of companies, personas and drivers
    rng = random.Random(source)
    fit = _driver(product, "Fit", "3")
    demand = _driver(product, "Demand", "1", "customers", "4")
    personas = [f.PersonaFactory(product=product, segment_size=n) for n in (1200, 40_000)]
    features = [
        f.FeatureFactory(
            product=product,
            reach=rng.choice([None, 0, 50, 400]),
            impact=Decimal(rng.choice(["0.5", "1", "2", "3"])),
            confidence=rng.randint(10, 100),
            effort=rng.choice([None, Decimal("0.5"), Decimal("1"), Decimal("5")]),
        )
        for _ in range(30)
    ]
    _evidence_world(product, rng, features)
    for feature in features:
        feature.personas.set(rng.sample(personas, rng.randint(0, 2)))
        for driver in (fit, demand):
            if rng.random() < 0.8:
                FeatureDriverScore.objects.create(
                    feature=feature, driver=driver, score=rng.randint(0, 10)
                )

    # When the product uses the formula (one UPDATE for every feature)
    _use(product, source)
    assert product_recompute_scores(product_id=product.pk) == 30

    # Then every stored score and input is what Python computes for the feature alone
    config = product_scoring_config(product=product)
    scored = unscored = 0
    for feature in Feature.objects.filter(product=product):
        expected = s.evaluate(config, feature_scoring_inputs(feature=feature, config=config))
        stored = feature.score_breakdown
        if expected.score is None:
            assert feature.score is None, feature.pk
            unscored += 1
        else:
            assert feature.score == pytest.approx(expected.score, rel=1e-9), feature.pk
            scored += 1
        assert stored["formula"] == "custom formula v1"
        for name, term in expected.breakdown["inputs"].items():
            assert stored["inputs"][name]["source"] == term["source"], name
            assert stored["inputs"][name]["value"] == pytest.approx(term["value"]), name
        assert s.explain(stored, source) == s.explain(expected.breakdown, source)
    assert scored > 5


def test_a_feature_without_a_score_says_why(product):
    feature = f.FeatureFactory(product=product, reach=10, effort=Decimal("1"))
    other = f.FeatureFactory(product=product, reach=None)
    _use(product, "reach / (effort - 1)")
    product_recompute_scores(product_id=product.pk)
    feature.refresh_from_db()
    other.refresh_from_db()

    lines = s.explain(feature.score_breakdown, product.scoring_formula)
    other_lines = s.explain(other.score_breakdown, product.scoring_formula)

    assert feature.score is None
    assert lines[-1] == "No score: effort - 1 is 0, and reach / (effort - 1) divides by it."
    assert other_lines[-1] == "No score: missing reach."


def test_one_features_edit_scores_it_with_the_formula(product):
    feature = f.FeatureFactory(product=product, value=6, effort=Decimal("2"))
    _use(product, "value * 10 / effort")

    feature.value = 9
    feature.save()
    result = feature_score(feature=feature)

    assert result.score == 45
    feature.refresh_from_db()
    assert feature.score == 45 and feature.rank == 1


# --- Preview -----------------------------------------------------------------------------------


def test_the_preview_ranks_by_the_new_formula_beside_today_and_writes_nothing(
    product, django_assert_max_num_queries
):
    # Given five features ranked by RICE (reach): F1 first … F5, then "No value"
    for n in range(1, 6):
        f.FeatureFactory(
            product=product, title=f"F{n}", reach=100 * (6 - n), effort=Decimal(1), value=2 * n
        )
    lacking = f.FeatureFactory(product=product, title="No value", value=None, reach=1)
    product_recompute_scores(product_id=product.pk)
    before = list(Feature.objects.order_by("pk").values_list("score", "rank"))

    # When the PM previews "value / effort" (F5: 10 … F1: 2; "No value" has none)
    with django_assert_max_num_queries(6):
        preview = formula_services.formula_preview(product=product, source="value / effort")

    # Then the ranking reverses, the features without a value are counted and named, and no
    # score or rank changed
    assert [row.title for row in preview.top] == ["F5", "F4", "F3", "F2", "F1", "No value"]
    assert [row.new_rank for row in preview.top] == [1, 2, 3, 4, 5, 6]
    assert preview.top[0].rank == 5 and preview.top[0].move == 4
    assert [(row.title, row.move) for row in preview.moves] == [
        ("F5", 4),
        ("F1", -4),
        ("F4", 2),
        ("F2", -2),
    ]
    assert (preview.total, preview.unscored, preview.losing_score) == (6, 1, 1)
    assert preview.moved == 4  # F3 and "No value" keep their places
    assert preview.missing == [("value", 1)]
    assert list(Feature.objects.order_by("pk").values_list("score", "rank")) == before
    assert lacking.pk == preview.top[-1].id
