"""The Rating tab (issue 19, several raters): an editor starts a round, raters rate blind on their
sheet, the results show every value with the median, spread and disagreement, and the editor
accepts values into the features. Bad input is a form error (400) that changes nothing; every page
reads a fixed number of queries."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from roadmap.models import Feature, RatingRound, RatingRoundRater
from roadmap.planning.services import rating as services
from tests import factories as f


def _url(name: str, product, pk: int | None = None) -> str:
    kwargs = {"slug": product.slug} if pk is None else {"slug": product.slug, "pk": pk}
    return reverse(f"roadmap:{name}", kwargs=kwargs)


def _html(response, status: int = 200) -> str:
    assert response.status_code == status, response.content.decode()[:2000]
    return response.content.decode()


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def raters(workspace):
    return [
        f.MembershipFactory(workspace=workspace, role=Role.VIEWER, user__display_name=name).user
        for name in ("Ada", "Bo")
    ]


@pytest.fixture
def feature(product):
    return f.FeatureFactory(product=product, title="Offline mode", reach=7345)


@pytest.fixture
def rating_round(product, feature, raters, editor):
    return services.round_create(
        product=product, name="Q3 planning", features=[feature], raters=raters, created_by=editor
    )


def _v(feature, key):
    return f"v-{feature.pk}-{key}"


# --- Starting a round ---------------------------------------------------------------------


def test_an_editor_starts_a_round_and_the_raters_are_emailed(
    editor_client, product, feature, raters, mailoutbox, django_capture_on_commit_callbacks
):
    data = {"name": "Q4 bets", "features": [feature.pk], "raters": [u.pk for u in raters]}

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(_url("rating_rounds", product), data)

    made = RatingRound.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url("rating_results", product, made.pk)
    assert list(made.features.all()) == [feature]
    assert sorted(m.to[0] for m in mailoutbox) == sorted(u.email for u in raters)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "features": ["f"], "raters": ["r"]}, "This field is required."),
        ({"name": "R", "raters": ["r"]}, "Choose at least one feature to rate."),
        ({"name": "R", "features": ["f"]}, "Choose at least one rater."),
        ({"name": "R", "features": ["999999"], "raters": ["r"]}, "not one of the available"),
        ({"name": "R", "features": ["f"], "raters": ["x"]}, "is not a valid value"),
    ],
)
def test_a_bad_round_is_a_form_error_and_nothing_is_made(
    editor_client, product, feature, raters, data, message
):
    posted = {
        k: [str(feature.pk) if v == "f" else str(raters[0].pk) if v == "r" else v for v in vs]
        if isinstance(vs, list)
        else vs
        for k, vs in data.items()
    }

    page = _html(editor_client.post(_url("rating_rounds", product), posted), 400)

    assert message in page
    assert not RatingRound.objects.exists()


def test_a_rater_of_another_workspace_is_not_offered_nor_taken(
    editor_client, product, feature, outsider
):
    page = _html(editor_client.get(_url("rating_rounds", product)))
    response = editor_client.post(
        _url("rating_rounds", product),
        {"name": "R", "features": [feature.pk], "raters": [outsider.pk]},
    )

    assert outsider.email not in page
    assert response.status_code == 400
    assert not RatingRound.objects.exists()


def test_the_rounds_list_reads_a_fixed_number_of_queries(
    editor_client, product, raters, editor, django_assert_max_num_queries
):
    features = [f.FeatureFactory(product=product) for _ in range(5)]
    for i in range(8):
        services.round_create(product=product, name=f"Round {i}", features=features, raters=raters)

    with django_assert_max_num_queries(14):
        page = _html(editor_client.get(_url("rating_rounds", product)))

    assert page.count('id="round-') == 8
    assert "0 of 2 raters" in page


# --- Rating, blind ----------------------------------------------------------------------------


def test_a_rater_sees_neither_the_others_values_nor_the_features(
    rating_round, product, feature, raters, django_assert_max_num_queries
):
    ada, bo = raters
    services.ratings_save(
        rating_round=rating_round, rater=ada, values={_v(feature, "reach"): "9123"}, submit=True
    )

    client = _client(bo)

    with django_assert_max_num_queries(10):
        page = _html(client.get(_url("rating_sheet", product, rating_round.pk)))
    results = client.get(_url("rating_results", product, rating_round.pk))

    assert "Offline mode" in page
    assert "9123" not in page and "9,123" not in page  # Ada's value
    assert "7345" not in page and "7,345" not in page  # the feature's current reach
    assert f'name="{_v(feature, "reach")}"' in page
    assert results.status_code == 403


def test_a_bad_value_comes_back_with_its_error_and_nothing_is_saved(
    rating_round, product, feature, raters
):
    client = _client(raters[0])
    data = {_v(feature, "reach"): "500", _v(feature, "confidence"): "140", "submit": ""}

    page = _html(client.post(_url("rating_sheet", product, rating_round.pk), data), 400)

    assert "Enter a value from 0 to 100." in page
    assert 'value="140"' in page and 'value="500"' in page
    assert not rating_round.ratings.exists()
    assert RatingRoundRater.objects.get(user=raters[0]).submitted_at is None


def test_a_draft_is_kept_and_a_submission_shows_the_results(rating_round, product, feature, raters):
    client = _client(raters[0])
    url = _url("rating_sheet", product, rating_round.pk)

    draft = client.post(url, {_v(feature, "reach"): "500", "draft": ""})
    again = _html(client.get(url))
    submitted = client.post(url, {_v(feature, "reach"): "600", "submit": ""})
    late = client.post(url, {_v(feature, "reach"): "700", "submit": ""})

    assert draft["Location"] == url
    assert 'value="500"' in again
    assert submitted["Location"] == _url("rating_results", product, rating_round.pk)
    assert late.status_code == 400
    assert list(rating_round.ratings.values_list("value", flat=True)) == [Decimal(600)]
    assert _client(raters[0]).get(submitted["Location"]).status_code == 200


def test_someone_not_asked_cannot_rate(rating_round, product, feature, viewer, editor):
    for user in (viewer, editor):
        response = _client(user).post(
            _url("rating_sheet", product, rating_round.pk), {_v(feature, "reach"): "1"}
        )
        assert response.status_code == 403
    assert not rating_round.ratings.exists()


# --- Results and accepting --------------------------------------------------------------------


def test_results_read_a_fixed_number_of_queries_however_many_raters_and_features(
    editor_client, product, workspace, django_assert_max_num_queries
):
    features = [f.FeatureFactory(product=product) for _ in range(12)]
    people = [f.MembershipFactory(workspace=workspace).user for _ in range(6)]
    made = services.round_create(product=product, name="Big", features=features, raters=people)
    for i, person in enumerate(people):
        services.ratings_save(
            rating_round=made,
            rater=person,
            values={_v(x, "reach"): str(100 + i) for x in features},
            submit=True,
        )

    with django_assert_max_num_queries(14):
        page = _html(editor_client.get(_url("rating_results", product, made.pk)))

    assert page.count('class="rating-results__feature"') == 12


def test_results_flag_disagreement_and_accept_all_writes_the_medians(
    editor_client, rating_round, product, feature, raters
):
    ada, bo = raters
    values = [{"reach": "1000", "confidence": "20"}, {"reach": "1100", "confidence": "90"}]
    for rater, given in zip(raters, values, strict=True):
        services.ratings_save(
            rating_round=rating_round,
            rater=rater,
            values={_v(feature, k): v for k, v in given.items()},
            submit=True,
        )

    page = _html(editor_client.get(_url("rating_results", product, rating_round.pk)))
    response = editor_client.post(
        _url("rating_accept", product, rating_round.pk),
        {_v(feature, "reach"): "1050", _v(feature, "confidence"): "55", "feature": "all"},
    )

    assert "1 disagreement" in page
    assert f'name="{_v(feature, "reach")}" value="1050"' in page  # the median, to accept
    assert response.status_code == 302
    feature.refresh_from_db()
    assert (feature.reach, feature.confidence) == (1050, 55)
    history = _html(editor_client.get(reverse("roadmap:feature", args=[feature.pk])))
    assert "from rating round “Q3 planning”" in history


def test_an_edited_value_out_of_range_is_refused_and_nothing_changes(
    editor_client, rating_round, product, feature
):
    page = _html(
        editor_client.post(
            _url("rating_accept", product, rating_round.pk),
            {_v(feature, "reach"): "800", _v(feature, "impact"): "7", "feature": str(feature.pk)},
        ),
        400,
    )

    assert "Choose one of 0.25, 0.5, 1, 2, 3." in page
    assert 'value="7"' in page
    assert Feature.objects.get(pk=feature.pk).reach == 7345


def test_accepting_one_feature_leaves_the_others(editor_client, product, raters):
    first, second = (f.FeatureFactory(product=product, reach=1) for _ in range(2))
    made = services.round_create(product=product, name="R", features=[first, second], raters=raters)

    editor_client.post(
        _url("rating_accept", product, made.pk),
        {_v(first, "reach"): "40", _v(second, "reach"): "50", "feature": str(first.pk)},
    )

    assert Feature.objects.get(pk=first.pk).reach == 40
    assert Feature.objects.get(pk=second.pk).reach == 1


def test_closing_and_reopening_a_round(editor_client, rating_round, product, feature, raters):
    editor_client.post(_url("rating_close", product, rating_round.pk))
    refused = _client(raters[0]).post(
        _url("rating_sheet", product, rating_round.pk), {_v(feature, "reach"): "5"}
    )
    editor_client.post(_url("rating_reopen", product, rating_round.pk))
    taken = _client(raters[0]).post(
        _url("rating_sheet", product, rating_round.pk), {_v(feature, "reach"): "5"}
    )

    assert refused.status_code == 400
    assert "This round is closed" in refused.content.decode()
    assert taken.status_code == 302
    assert rating_round.ratings.count() == 1


def test_the_home_page_tells_a_rater_of_their_rounds(rating_round, product, raters, editor):
    ada = _client(raters[0])

    page = _html(ada.get(reverse("roadmap:home")))
    services.ratings_save(
        rating_round=rating_round,
        rater=raters[0],
        values={_v(rating_round.features.get(), "reach"): "5"},
        submit=True,
    )
    after = _html(ada.get(reverse("roadmap:home")))

    assert "You have 1 rating round to rate" in page
    assert _url("rating_sheet", product, rating_round.pk) in page
    assert "rating round" not in after
    assert "rating round" not in _html(_client(editor).get(reverse("roadmap:home")))


def test_reopening_a_closed_round_emails_the_raters_who_have_not_submitted(
    editor_client, rating_round, product, feature, raters, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    ada, bo = raters
    _client(ada).post(
        _url("rating_sheet", product, rating_round.pk),
        {_v(feature, "reach"): "5", "submit": ""},
    )
    editor_client.post(_url("rating_close", product, rating_round.pk))
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(_url("rating_reopen", product, rating_round.pk))
    with django_capture_on_commit_callbacks(execute=True):  # reopening an open round: no mail
        editor_client.post(_url("rating_reopen", product, rating_round.pk))

    assert [m.to for m in mailoutbox] == [[bo.email]]
    assert "Q3 planning" in mailoutbox[0].subject
