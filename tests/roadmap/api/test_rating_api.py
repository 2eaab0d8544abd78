"""Rating rounds over the API (issue 19): the Rating tab's rules behind a token. Editors start,
accept, close and reopen rounds; raters (viewers too) rate blind and see the results once they
submit; bad input is a 400 naming the entry and changes nothing; reads take a fixed number of
queries."""

from decimal import Decimal

import pytest

from accounts.models import Role
from roadmap.models import Feature, RatingRound, RatingRoundRater
from roadmap.planning import rating as scales
from roadmap.planning.selectors import rating as selectors
from roadmap.planning.services import rating as services
from tests import factories as f

from .conftest import _client_with


def _leaves(data):
    """Every value of a parsed JSON answer that is neither an object nor an array."""
    if isinstance(data, dict):
        for value in data.values():
            yield from _leaves(value)
    elif isinstance(data, list):
        for value in data:
            yield from _leaves(value)
    else:
        yield data


def _url(product, *rest) -> str:
    tail = "".join(f"{part}/" for part in rest)
    return f"/api/v1/products/{product.slug}/rating-rounds/{tail}"


@pytest.fixture
def raters(workspace):
    return [
        f.MembershipFactory(
            workspace=workspace, role=Role.VIEWER, user__display_name=name, user__email=email
        ).user
        for name, email in (("Ada", "ada@example.com"), ("Bo", "bo@example.com"))
    ]


@pytest.fixture
def ada_api(raters, workspace):
    return _client_with(raters[0], workspace, "write")


@pytest.fixture
def bo_api(raters, workspace):
    return _client_with(raters[1], workspace, "write")


@pytest.fixture
def feature(product):
    return f.FeatureFactory(product=product, title="Offline mode", reach=7345)


@pytest.fixture
def rating_round(product, feature, raters, editor):
    return services.round_create(
        product=product, name="Q3 planning", features=[feature], raters=raters, created_by=editor
    )


def _values(feature, **given):
    return [{"feature": feature.pk, "input": k, "value": v} for k, v in given.items()]


# --- Starting a round -----------------------------------------------------------------------


def test_an_editor_starts_a_round_and_the_raters_are_emailed(
    write_api, product, feature, raters, editor, mailoutbox, django_capture_on_commit_callbacks
):
    body = {
        "name": "Q4 bets",
        "features": [feature.pk],
        "raters": ["ADA@example.com", "bo@example.com"],
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = write_api.post(_url(product), body, format="json")

    made = RatingRound.objects.get()
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["id"], data["name"], data["is_open"], data["created_by"]) == (
        made.pk,
        "Q4 bets",
        True,
        editor.email,
    )
    assert (data["feature_count"], data["rater_count"], data["submitted_count"]) == (1, 2, 0)
    assert (data["is_rater"], data["sheet"]) == (False, None)
    assert data["features"] == [{"id": feature.pk, "title": "Offline mode"}]
    assert [i["key"] for i in data["inputs"]] == ["reach", "impact", "confidence", "effort"]
    assert data["inputs"][1]["choices"] == ["0.25", "0.5", "1", "2", "3"]
    assert [r["email"] for r in data["results"]["raters"]] == ["ada@example.com", "bo@example.com"]
    assert sorted(m.to[0] for m in mailoutbox) == ["ada@example.com", "bo@example.com"]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"name": "", "features": ["f"], "raters": ["ada@example.com"]},
            {"name": ["This field may not be blank."]},
        ),
        (
            {"name": "R", "features": [], "raters": ["ada@example.com"]},
            {"features": ["Choose at least one feature to rate."]},
        ),
        (
            {"name": "R", "features": ["f"], "raters": []},
            {"raters": ["Choose at least one rater."]},
        ),
        (
            {"name": "R", "features": [999999], "raters": ["ada@example.com"]},
            {"features": ["Not features of this product: 999999."]},
        ),
        (
            {"name": "R", "features": ["f"], "raters": ["nobody@example.com"]},
            {"raters": ["Not members of this workspace: nobody@example.com."]},
        ),
        (
            {"name": "R", "features": ["f"], "raters": ["x"]},
            {"raters": {"0": ["Enter a valid email address."]}},
        ),
        (
            {"name": "R" * 81, "features": ["f"], "raters": ["ada@example.com"]},
            {"name": ["Ensure this field has no more than 80 characters."]},
        ),
        (
            {"name": "R", "features": list(range(1, 52)), "raters": ["ada@example.com"]},
            {"features": ["Ensure this field has no more than 50 elements."]},
        ),
        (
            {"name": "R", "features": ["f"], "raters": ["ada@example.com"], "due": "2026-07-01"},
            {"due": ["Unknown field."]},
        ),
        (
            {"name": "Q3 planning", "features": ["f"], "raters": ["ada@example.com"]},
            {"name": ["There is already a rating round named “Q3 planning”."]},
        ),
    ],
)
def test_a_bad_round_is_a_400_naming_the_field_and_nothing_is_made(
    write_api, product, feature, raters, rating_round, body, errors
):
    body = {
        k: [feature.pk if x == "f" else x for x in v] if k == "features" else v
        for k, v in body.items()
    }

    response = write_api.post(_url(product), body, format="json")

    assert response.status_code == 400
    assert response.json() == errors
    assert RatingRound.objects.count() == 1


def test_another_workspaces_feature_or_member_is_not_taken(
    write_api, product, feature, outsider, other_workspace
):
    theirs = f.FeatureFactory(product=f.ProductFactory(workspace=other_workspace))

    wrong_feature = write_api.post(
        _url(product),
        {"name": "R", "features": [theirs.pk], "raters": [outsider.email]},
        format="json",
    )

    assert wrong_feature.status_code == 400
    assert wrong_feature.json() == {
        "features": [f"Not features of this product: {theirs.pk}."],
        "raters": [f"Not members of this workspace: {outsider.email}."],
    }
    assert not RatingRound.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [("viewer_write_api", 403), ("read_api", 403), ("outsider_api", 404), ("api", 401)],
)
def test_only_editors_with_a_write_token_start_rounds(
    request, product, feature, raters, who, status
):
    client = request.getfixturevalue(who)

    response = client.post(
        _url(product),
        {"name": "R", "features": [feature.pk], "raters": ["ada@example.com"]},
        format="json",
    )

    assert response.status_code == status
    assert not RatingRound.objects.exists()


def test_members_list_rounds_newest_first_in_few_queries(
    read_api, product, raters, django_assert_max_num_queries
):
    features = [f.FeatureFactory(product=product) for _ in range(5)]
    made = [
        services.round_create(product=product, name=f"Round {i}", features=features, raters=raters)
        for i in range(8)
    ]
    services.round_close(rating_round=made[0])

    with django_assert_max_num_queries(6):
        response = read_api.get(_url(product), {"page_size": 5})

    data = response.json()
    assert response.status_code == 200
    assert data["count"] == 8 and data["next"] is not None
    assert [r["name"] for r in data["results"]] == [f"Round {i}" for i in (7, 6, 5, 4, 3)]
    assert {(r["feature_count"], r["rater_count"], r["is_rater"]) for r in data["results"]} == {
        (5, 2, False)
    }
    last = read_api.get(_url(product), {"page_size": 5, "page": 2}).json()["results"]
    assert [(r["name"], r["is_open"]) for r in last][-1] == ("Round 0", False)
    assert read_api.get(_url(product), {"page_size": 201}).json()["results"].__len__() == 8


# --- Rating, blind ----------------------------------------------------------------------------


def test_a_rater_sees_only_their_sheet_until_they_submit_then_the_results(
    rating_round, product, feature, ada_api, bo_api, django_assert_max_num_queries
):
    ada_sent = ada_api.post(
        _url(product, rating_round.pk, "ratings"),
        {"values": _values(feature, reach="9123", impact="2"), "submit": True},
        format="json",
    )

    with django_assert_max_num_queries(10):
        before = bo_api.get(_url(product, rating_round.pk))
    draft = bo_api.post(
        _url(product, rating_round.pk, "ratings"),
        {"values": _values(feature, reach="8000", confidence=None)},
        format="json",
    )
    submitted = bo_api.post(
        _url(product, rating_round.pk, "ratings"),
        {"values": _values(feature, reach=9000), "submit": True},
        format="json",
    )

    assert ada_sent.status_code == 200, ada_sent.json()
    assert ada_sent.json()["submitted_at"] is not None
    seen = before.json()
    assert before.status_code == 200
    assert seen["results"] is None  # blind: neither Ada's values nor the feature's
    # Nowhere in the answer as a value (a substring of the text could be a timestamp's digits).
    assert not {"9123", "7345"} & set(_leaves(seen))
    assert seen["sheet"] == {"values": [], "editable": True}
    assert draft.status_code == 200
    assert draft.json()["sheet"]["values"] == _values(feature, reach="8000")
    assert draft.json()["results"] is None
    assert submitted.status_code == 200
    results = submitted.json()["results"]
    assert submitted.json()["sheet"]["editable"] is False
    reach = results["rows"][0]["cells"][0]
    assert (reach["input"], reach["current"], reach["values"], reach["median"]) == (
        "reach",
        "7345",
        ["9123", "9000"],
        "9062",  # the midpoint of 9000 and 9123, brought to a whole number
    )
    impact = results["rows"][0]["cells"][1]
    assert (impact["values"], impact["median"], impact["count"]) == ([("2"), None], "2", 1)


def test_a_bad_value_is_a_400_on_its_entry_and_nothing_is_saved(
    rating_round, product, feature, ada_api
):
    other = f.FeatureFactory(product=product)
    url = _url(product, rating_round.pk, "ratings")

    out_of_range = ada_api.post(
        url,
        {"values": _values(feature, reach="500", confidence="140"), "submit": True},
        format="json",
    )
    not_in_round = ada_api.post(url, {"values": _values(other, reach="5")}, format="json")
    not_an_input = ada_api.post(url, {"values": _values(feature, ease="5")}, format="json")
    twice = ada_api.post(
        url, {"values": _values(feature, reach="5") + _values(feature, reach="6")}, format="json"
    )
    nothing = ada_api.post(url, {"values": [], "submit": True}, format="json")
    too_many = ada_api.post(url, {"values": _values(feature, reach="1") * 1001}, format="json")

    assert out_of_range.status_code == 400
    assert out_of_range.json() == {"values": [{}, {"value": ["Enter a value from 0 to 100."]}]}
    assert not_in_round.json() == {"values": [{"feature": ["Not a feature of this round."]}]}
    assert not_an_input.json() == {
        "values": [
            {"input": ["Not an input of this round: one of confidence, effort, impact, reach."]}
        ]
    }
    assert twice.json() == {"values": [{}, {"input": ["This feature's input is given twice."]}]}
    assert nothing.json() == {"non_field_errors": ["Rate at least one input before submitting."]}
    assert too_many.json() == {
        "values": {"non_field_errors": ["Ensure this field has no more than 1000 elements."]}
    }
    assert not rating_round.ratings.exists()
    assert RatingRoundRater.objects.get(user__email="ada@example.com").submitted_at is None


def test_submitted_ratings_are_final_and_a_closed_round_takes_none(
    write_api, rating_round, product, feature, ada_api, bo_api
):
    url = _url(product, rating_round.pk, "ratings")
    ada_api.post(url, {"values": _values(feature, reach="600"), "submit": True}, format="json")

    late = ada_api.post(url, {"values": _values(feature, reach="700")}, format="json")
    closed = write_api.post(_url(product, rating_round.pk, "close"), format="json")
    refused = bo_api.post(url, {"values": _values(feature, reach="5")}, format="json")
    reopened = write_api.post(_url(product, rating_round.pk, "reopen"), format="json")
    taken = bo_api.post(url, {"values": _values(feature, reach="5")}, format="json")

    assert late.json() == {"non_field_errors": ["You have submitted your ratings already."]}
    assert (closed.status_code, closed.json()["is_open"]) == (200, False)
    assert closed.json()["closed_at"] is not None
    assert refused.json() == {
        "non_field_errors": ["This round is closed: ratings can no longer change."]
    }
    assert (reopened.status_code, reopened.json()["is_open"]) == (200, True)
    assert taken.status_code == 200
    assert sorted(rating_round.ratings.values_list("value", flat=True)) == [
        Decimal(5),
        Decimal(600),
    ]


def test_someone_not_asked_cannot_rate_and_sees_no_results(
    rating_round, product, feature, write_api, viewer_write_api, read_api
):
    body = {"values": _values(feature, reach="1")}

    editor_rates = write_api.post(_url(product, rating_round.pk, "ratings"), body, format="json")
    viewer_rates = viewer_write_api.post(
        _url(product, rating_round.pk, "ratings"), body, format="json"
    )
    viewer_reads = viewer_write_api.get(_url(product, rating_round.pk)).json()
    read_token = read_api.post(_url(product, rating_round.pk, "ratings"), body, format="json")

    assert editor_rates.status_code == 403
    assert editor_rates.json()["detail"] == "Only the round's raters rate it."
    assert viewer_rates.status_code == 403
    assert (viewer_reads["sheet"], viewer_reads["results"]) == (None, None)
    assert viewer_reads["features"] == [{"id": feature.pk, "title": "Offline mode"}]
    assert read_token.status_code == 403
    assert not rating_round.ratings.exists()


def test_a_round_of_another_product_or_workspace_is_not_found(
    rating_round, product, write_api, outsider_api
):
    other = f.ProductFactory(workspace=product.workspace)

    assert write_api.get(_url(other, rating_round.pk)).status_code == 404
    assert write_api.get(_url(product, 2**40)).status_code == 404
    assert write_api.get(_url(product, 2**70)).status_code == 404
    assert outsider_api.get(_url(product, rating_round.pk)).status_code == 404
    assert outsider_api.post(_url(product, rating_round.pk, "close")).status_code == 404
    assert RatingRound.objects.get().is_open


# --- Results and accepting --------------------------------------------------------------------


def test_results_read_a_fixed_number_of_queries_however_many_raters_and_features(
    write_api, product, workspace, django_assert_max_num_queries
):
    features = [f.FeatureFactory(product=product) for _ in range(12)]
    people = [f.MembershipFactory(workspace=workspace).user for _ in range(6)]
    made = services.round_create(product=product, name="Big", features=features, raters=people)
    for i, person in enumerate(people):
        services.ratings_save(
            rating_round=made,
            rater=person,
            values={scales.field_name(x.pk, "reach"): str(100 + i) for x in features},
            submit=True,
        )

    with django_assert_max_num_queries(10):
        response = write_api.get(_url(product, made.pk))

    rows = response.json()["results"]["rows"]
    assert len(rows) == 12
    assert {row["cells"][0]["median"] for row in rows} == {"103"}  # 102.5 rounds half up


def test_accept_all_writes_the_medians_through_the_features_history(
    write_api, rating_round, product, feature, raters
):
    for rater, given in zip(
        raters,
        [{"reach": "1000", "confidence": "20"}, {"reach": "1100", "confidence": "90"}],
        strict=True,
    ):
        services.ratings_save(
            rating_round=rating_round,
            rater=rater,
            values={scales.field_name(feature.pk, k): v for k, v in given.items()},
            submit=True,
        )

    read = write_api.get(_url(product, rating_round.pk)).json()
    response = write_api.post(_url(product, rating_round.pk, "accept"), {}, format="json")

    assert read["results"]["disagreements"] == 1
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "accepted": 1,
        "changed": [{"feature": feature.pk, "fields": ["confidence", "reach"]}],
    }
    feature.refresh_from_db()
    assert (feature.reach, feature.confidence) == (1050, 55)
    assert feature.history.latest("history_id").history_change_reason == (
        "From rating round “Q3 planning”"
    )


def test_accept_one_feature_with_the_pms_values(write_api, product, raters):
    first, second = (f.FeatureFactory(product=product, reach=1, confidence=50) for _ in range(2))
    made = services.round_create(product=product, name="R", features=[first, second], raters=raters)
    services.ratings_save(
        rating_round=made,
        rater=raters[1],
        values={
            scales.field_name(first.pk, "reach"): "40",
            scales.field_name(first.pk, "confidence"): "80",
            scales.field_name(second.pk, "reach"): "60",
        },
        submit=True,
    )

    response = write_api.post(
        _url(product, made.pk, "accept"),
        {"feature": first.pk, "values": _values(first, reach="45", confidence=None)},
        format="json",
    )

    assert response.json() == {
        "accepted": 1,
        "changed": [{"feature": first.pk, "fields": ["reach"]}],
    }
    assert Feature.objects.get(pk=first.pk).reach == 45
    assert Feature.objects.get(pk=first.pk).confidence == 50  # left alone
    assert Feature.objects.get(pk=second.pk).reach == 1


def test_a_bad_accepted_value_is_a_400_and_nothing_changes(
    write_api, rating_round, product, feature
):
    other = f.FeatureFactory(product=product)
    url = _url(product, rating_round.pk, "accept")

    out_of_range = write_api.post(
        url, {"values": _values(feature, reach="800", impact="7")}, format="json"
    )
    wrong_feature = write_api.post(url, {"feature": other.pk}, format="json")
    other_feature_value = write_api.post(
        url, {"feature": feature.pk, "values": _values(other, reach="1")}, format="json"
    )
    second = f.FeatureFactory(product=product)
    rating_round.features.add(second)
    not_the_one = write_api.post(
        url, {"feature": feature.pk, "values": _values(second, reach="1")}, format="json"
    )
    nothing = write_api.post(url, {}, format="json")

    assert out_of_range.status_code == 400
    assert out_of_range.json() == {"values": [{}, {"value": ["Choose one of 0.25, 0.5, 1, 2, 3."]}]}
    assert wrong_feature.json() == {"feature": ["Not a feature of this round."]}
    assert other_feature_value.json() == {"values": [{"feature": ["Not a feature of this round."]}]}
    assert not_the_one.json() == {
        "values": [{"feature": ["Not the feature being accepted (`feature`)."]}]
    }
    assert nothing.json() == {
        "non_field_errors": ["Nothing to accept: no feature has a rated value."]
    }
    assert Feature.objects.get(pk=feature.pk).reach == 7345


@pytest.mark.parametrize("action", ["accept", "close", "reopen"])
def test_viewers_raters_and_read_tokens_cannot_accept_close_or_reopen(
    rating_round, product, viewer_write_api, read_api, ada_api, action
):
    for client in (viewer_write_api, read_api, ada_api):
        assert (
            client.post(_url(product, rating_round.pk, action), {}, format="json").status_code
            == 403
        )
    assert RatingRound.objects.get().is_open


def test_a_round_of_a_weighted_product_reads_its_drivers_once(
    product, feature, raters, editor, ada_api
):
    """The sheet and the results both need the round's inputs (the drivers, under weighted
    scoring): read once for the answer."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from roadmap.planning.services import products as product_services

    product_services.driver_save(product=product, name="Revenue", weight=Decimal("2"))
    product.scoring_framework = "weighted"
    product.save(update_fields=["scoring_framework"])
    rating_round = services.round_create(
        product=product, name="Drivers", features=[feature], raters=raters, created_by=editor
    )
    key = next(i.key for i in selectors.round_inputs(product=product))
    ada_api.post(
        _url(product, rating_round.pk, "ratings"),
        {"values": _values(feature, **{key: "7"}), "submit": True},
        format="json",
    )

    with CaptureQueriesContext(connection) as captured:
        answer = ada_api.get(_url(product, rating_round.pk))

    assert answer.status_code == 200 and answer.json()["results"] is not None
    drivers = [q for q in captured.captured_queries if "scoringdriver" in q["sql"].lower()]
    assert len(drivers) == 1, [q["sql"] for q in drivers]
