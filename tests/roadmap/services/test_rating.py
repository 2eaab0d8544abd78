"""Rating rounds: created within bounds, rated blind, summed up, accepted through the one write
path with the round named in the history, closed and reopened, raters told once."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Role
from roadmap.models import Feature, FeatureDriverScore, Rating, RatingRound, RatingRoundRater
from roadmap.planning import rating as scales
from roadmap.planning.selectors.pages import feature_history
from roadmap.planning.selectors.rating import (
    rating_rounds_to_rate,
    rating_sheet,
    round_inputs,
    round_results,
)
from roadmap.planning.services import rating as services
from tests import factories as f

D = Decimal


@pytest.fixture
def raters(workspace):
    return [
        f.MembershipFactory(workspace=workspace, role=Role.VIEWER, user__display_name=name).user
        for name in ("Ada", "Bo", "Cy")
    ]


@pytest.fixture
def features(product):
    return [f.FeatureFactory(product=product, title=t) for t in ("Search", "SSO")]


@pytest.fixture
def rating_round(product, features, raters, editor):
    return services.round_create(
        product=product, name="Q3 planning", features=features, raters=raters, created_by=editor
    )


def _rate(rating_round, user, values, submit=True):
    return services.ratings_save(
        rating_round=rating_round,
        rater=user,
        values={scales.field_name(f.pk, k): v for (f, k), v in values.items()},
        submit=submit,
    )


# --- Scales: pure ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "raw", "message"),
    [
        ("confidence", "101", "Enter a value from 0 to 100."),
        ("confidence", "-1", "Enter a value from 0 to 100."),
        ("confidence", "50.5", "Enter a whole number."),
        ("impact", "1.5", "Choose one of 0.25, 0.5, 1, 2, 3."),
        ("effort", "0", "Enter a value from 0.01 to 99999.99."),
        ("effort", "1.001", "Use at most two decimals."),
        ("reach", "1e12", "Enter a value from 0 to 1000000000."),
        ("reach", "NaN", "Enter a number."),
        ("reach", "Infinity", "Enter a number."),
        ("reach", "lots", "Enter a number."),
    ],
)
def test_a_value_out_of_its_inputs_scale_is_refused_with_a_message(key, raw, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        scales.FIELD_SCALES[key].clean(raw)


def test_median_spread_and_disagreement_of_a_bounded_input():
    confidence = scales.FIELD_SCALES["confidence"]

    close = scales.summarise([D(60), D(70), D(80)], confidence)
    apart = scales.summarise([D(20), D(50), D(80)], confidence)

    assert close == scales.Summary(count=3, median=D(70), spread=D(20), disagree=False)
    assert apart == scales.Summary(count=3, median=D(50), spread=D(60), disagree=True)


def test_an_even_median_is_brought_to_the_inputs_step():
    impact = scales.FIELD_SCALES["impact"]
    ease = scales.FIELD_SCALES["ease"]

    assert scales.summarise([D(1), D(2)], impact).median == D(1)  # the lower choice on a tie
    assert scales.summarise([D(2), D(3), D(3), D(2)], impact).median == D(2)
    assert scales.summarise([D(4), D(7)], ease).median == D(6)  # 5.5 rounds half up


def test_open_ended_inputs_disagree_relative_to_their_median():
    reach = scales.FIELD_SCALES["reach"]
    job_size = scales.FIELD_SCALES["job_size"]

    assert scales.summarise([D(1000), D(1400)], reach).disagree is False
    assert scales.summarise([D(1000), D(2000)], reach).disagree is True
    assert scales.summarise([D(5), D(8)], job_size).disagree is False
    assert scales.summarise([D(3), D(8)], job_size).disagree is True


def test_no_values_no_summary():
    nothing = scales.summarise([], scales.FIELD_SCALES["reach"])

    assert nothing == scales.Summary(count=0, median=None, spread=None, disagree=False)


# --- Creating a round -------------------------------------------------------------------------


def test_a_round_asks_its_raters_and_emails_each_once(
    product, features, raters, editor, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        made = services.round_create(
            product=product, name="  Q3   planning ", features=features, raters=raters
        )

    assert made.name == "Q3 planning"
    assert set(made.features.all()) == set(features)
    assert sorted(s.user.display_name for s in made.seats.all()) == ["Ada", "Bo", "Cy"]
    assert sorted(m.to[0] for m in mailoutbox) == sorted(u.email for u in raters)
    assert "Q3 planning" in mailoutbox[0].subject
    assert f"/products/{product.slug}/rating/{made.pk}/rate/" in mailoutbox[0].body
    assert all(s.notified_at is not None for s in made.seats.all())
    # Run again (a task retried), nothing more is sent.
    assert services.rating_invitation_send(seat_id=made.seats.first().pk) == "sent"
    assert len(mailoutbox) == 3


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": ""}, "name", "This field cannot be blank."),
        ({"name": "x" * 81}, "name", "Ensure this value has at most 80 characters"),
        ({"features": []}, "features", "Choose at least one feature to rate."),
        ({"raters": []}, "raters", "Choose at least one rater."),
    ],
)
def test_a_round_without_name_features_or_raters_is_refused(
    product, features, raters, change, field, message
):
    arguments = {"name": "Round", "features": features, "raters": raters, **change}

    with pytest.raises(ValidationError) as refused:
        services.round_create(product=product, **arguments)

    assert message in refused.value.message_dict[field][0]
    assert not RatingRound.objects.exists()


def test_a_round_is_bounded_and_stays_in_its_workspace(product, features, raters, outsider):
    other_feature = f.FeatureFactory()
    many = [f.FeatureFactory(product=product) for _ in range(scales.MAX_FEATURES + 1)]

    with pytest.raises(ValidationError) as too_many:
        services.round_create(product=product, name="R", features=many, raters=raters)
    with pytest.raises(ValidationError) as foreign:
        services.round_create(
            product=product, name="R", features=[other_feature], raters=[outsider]
        )

    assert too_many.value.message_dict["features"] == ["Choose at most 50 features for one round."]
    assert foreign.value.message_dict == {
        "features": ["Some features belong to another product."],
        "raters": ["Raters must be members of the workspace."],
    }
    assert not RatingRound.objects.exists()


def test_a_round_name_is_unique_in_its_product(rating_round, product, features, raters):
    with pytest.raises(ValidationError) as refused:
        services.round_create(product=product, name="Q3 planning", features=features, raters=raters)

    assert refused.value.message_dict == {
        "name": ["There is already a rating round named “Q3 planning”."]
    }


# --- Rating, blind -------------------------------------------------------------------------


def test_a_rater_sees_only_their_own_values_until_they_submit(rating_round, features, raters):
    ada, bo, _ = raters
    search = features[0]
    _rate(rating_round, ada, {(search, "reach"): "500"})
    _rate(rating_round, bo, {(search, "reach"): "900"}, submit=False)

    sheet = rating_sheet(rating_round=rating_round, user=bo)

    assert sheet.values == {scales.field_name(search.pk, "reach"): "900"}
    assert [i.key for i in sheet.inputs] == ["reach", "impact", "confidence", "effort"]
    assert rating_rounds_to_rate(user=bo) == [rating_round]
    assert rating_rounds_to_rate(user=ada) == []


def test_a_bad_value_saves_nothing(rating_round, features, raters):
    search, sso = features
    name = scales.field_name(sso.pk, "confidence")

    with pytest.raises(ValidationError) as refused:
        _rate(rating_round, raters[0], {(search, "reach"): "10", (sso, "confidence"): "140"})

    assert refused.value.message_dict == {name: ["Enter a value from 0 to 100."]}
    assert not Rating.objects.exists()
    assert RatingRoundRater.objects.get(user=raters[0]).submitted_at is None


def test_submitted_ratings_are_final_and_a_non_rater_cannot_rate(rating_round, features, raters):
    search = features[0]
    _rate(rating_round, raters[0], {(search, "reach"): "10"})

    with pytest.raises(ValidationError, match="submitted your ratings already"):
        _rate(rating_round, raters[0], {(search, "reach"): "99"})
    with pytest.raises(ValidationError, match="not a rater"):
        _rate(rating_round, f.UserFactory(), {(search, "reach"): "99"})
    with pytest.raises(ValidationError, match="Rate at least one input"):
        _rate(rating_round, raters[1], {})

    assert list(Rating.objects.values_list("value", flat=True)) == [D(10)]


def test_a_closed_round_takes_no_ratings_until_reopened(rating_round, features, raters):
    search = features[0]
    services.round_close(rating_round=rating_round)

    with pytest.raises(ValidationError, match="closed"):
        _rate(rating_round, raters[0], {(search, "reach"): "10"})
    assert rating_rounds_to_rate(user=raters[0]) == []

    services.round_reopen(rating_round=rating_round)
    _rate(rating_round, raters[0], {(search, "reach"): "10"})

    assert rating_round.is_open
    assert Rating.objects.get().value == D(10)


# --- Results and accepting ------------------------------------------------------------------


def test_results_show_each_raters_value_median_spread_and_disagreement(
    rating_round, features, raters, django_assert_max_num_queries
):
    search, sso = features
    ada, bo, cy = raters
    _rate(rating_round, ada, {(search, "reach"): "100", (search, "confidence"): "20"})
    _rate(rating_round, bo, {(search, "reach"): "120", (search, "confidence"): "90"})
    _rate(rating_round, cy, {(search, "reach"): "110"})

    with django_assert_max_num_queries(5):
        results = round_results(rating_round=RatingRound.objects.get(pk=rating_round.pk))

    search_row = next(r for r in results.rows if r.feature == search)
    reach, _, confidence, effort = search_row.cells
    assert [s.user.display_name for s in results.seats] == ["Ada", "Bo", "Cy"]
    assert reach.values == [D(100), D(120), D(110)]
    assert reach.summary == scales.Summary(count=3, median=D(110), spread=D(20), disagree=False)
    assert reach.current == D(100) and reach.changes
    assert confidence.values == [D(20), D(90), None]
    assert confidence.summary.disagree is True
    assert effort.summary.median is None
    assert results.disagreements == 1
    assert next(r for r in results.rows if r.feature == sso).acceptable is False


def test_accepting_writes_the_features_and_their_history_names_the_round(
    rating_round, features, raters, editor
):
    search, sso = features
    version = search.version

    services.round_accept(
        rating_round=rating_round,
        values={search.pk: {"reach": "300", "confidence": "50"}},
        actor=editor,
    )

    search.refresh_from_db()
    sso.refresh_from_db()
    assert (search.reach, search.confidence, search.version) == (300, 50, version + 1)
    assert search.score == pytest.approx(300 * 1 * 0.5 / 2)
    assert sso.version == 1
    row = Feature.history.filter(id=search.pk).latest("history_date")
    assert row.history_change_reason == "From rating round “Q3 planning”"
    assert row.history_user == editor
    entry = feature_history(feature=search).entries[0]
    assert entry.summary == (
        "changed reach from 100 to 300, confidence from 80 to 50 (from rating round “Q3 planning”)"
    )


def test_accepting_a_bad_value_writes_nothing(rating_round, features, editor):
    search = features[0]

    with pytest.raises(ValidationError) as refused:
        services.round_accept(
            rating_round=rating_round, values={search.pk: {"impact": "1.5"}}, actor=editor
        )
    with pytest.raises(ValidationError, match="not in this round"):
        services.round_accept(
            rating_round=rating_round, values={f.FeatureFactory().pk: {"reach": "1"}}
        )

    assert refused.value.message_dict == {
        scales.field_name(search.pk, "impact"): ["Choose one of 0.25, 0.5, 1, 2, 3."]
    }
    search.refresh_from_db()
    assert (search.impact, search.version) == (D("1.00"), 1)


def test_weighted_drivers_are_rated_and_accepted_into_driver_scores(
    product, raters, editor, django_capture_on_commit_callbacks
):
    product.scoring_framework = "weighted"
    product.save()
    fit = f.ScoringDriverFactory(product=product, name="Strategic fit")
    feature = f.FeatureFactory(product=product)
    with django_capture_on_commit_callbacks(execute=True):
        made = services.round_create(
            product=product, name="Fit", features=[feature], raters=raters[:2]
        )
    key = f"driver-{fit.pk}"
    _rate(made, raters[0], {(feature, key): "6"})
    _rate(made, raters[1], {(feature, key): "9"})

    (cell,) = round_results(rating_round=made).rows[0].cells
    services.round_accept(
        rating_round=made, values={feature.pk: {key: cell.summary.median}}, actor=editor
    )

    assert [i.key for i in round_inputs(product=product)] == [key]
    assert cell.summary.median == D(8)  # 7.5 rounds half up
    assert FeatureDriverScore.objects.get(feature=feature, driver=fit).score == 8
    assert feature_history(feature=feature).entries[0].summary == (
        "changed the driver scores (from rating round “Fit”)"
    )


def test_a_products_own_formula_is_rated_on_the_inputs_it_reads(product, raters, editor):
    from roadmap.planning.services.formula import product_formula_save

    f.ScoringDriverFactory(product=product, name="Strategic fit")
    product_formula_save(product=product, source="value * strategic_fit / effort", author=editor)
    product.refresh_from_db()
    feature = f.FeatureFactory(product=product, value=3)
    made = services.round_create(product=product, name="Own", features=[feature], raters=raters)
    _rate(made, raters[0], {(feature, "value"): "8"})

    services.round_accept(rating_round=made, values={feature.pk: {"value": "8"}}, actor=editor)

    fit = product.drivers.get()
    assert [i.key for i in round_inputs(product=product)] == ["value", f"driver-{fit.pk}", "effort"]
    assert Feature.objects.get(pk=feature.pk).value == 8
