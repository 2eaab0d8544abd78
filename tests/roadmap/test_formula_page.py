"""The formula page (issue 19): every member reads the formula and its versions; editors check it
as they type (htmx answers with the error in place), preview the ranking it gives and save it.
Bad formulas are refused with a 400 that keeps the PM's text; nothing saved is lost."""

import html
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from roadmap.models import Product, ScoringFormulaVersion
from roadmap.planning import scoring as s
from roadmap.planning.services import formula as formula_services
from tests import factories as f

HTMX = {"HX-Request": "true"}
ISSUE = "reach * impact * confidence / 100 / effort * (1 + at_stake / 100000)"


def _url(product):
    return reverse("roadmap:product_formula", args=[product.slug])


@pytest.fixture
def features(product):
    return [
        f.FeatureFactory(product=product, title=f"F{n}", reach=100 * (6 - n), value=2 * n)
        for n in range(1, 6)
    ]


def test_an_editor_starts_from_the_products_framework_written_as_a_formula(
    editor_client, product, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        response = editor_client.get(_url(product))

    assert response.status_code == 200
    assert (
        response.context["form"]["formula"].value() == "reach * impact * confidence / 100 / effort"
    )
    page = response.content.decode()
    assert 'name="action" value="preview"' in page
    assert "<code>at_stake</code>" in page  # the names it can read, listed beside
    assert "No version saved yet." in page


def test_a_viewer_reads_the_formula_and_its_versions_but_gets_no_editor(viewer, product):
    formula_services.product_formula_save(product=product, source="value / effort", author=None)
    client = Client()
    client.force_login(viewer)

    page = client.get(_url(product)).content.decode()
    refused = client.post(_url(product), {"formula": "value", "action": "save"})

    assert "<textarea" not in page
    assert "value / effort" in page and "Version 1" in page
    assert refused.status_code == 403
    product.refresh_from_db()
    assert product.scoring_formula == "value / effort"


def test_the_check_answers_htmx_with_the_error_where_it_is(editor_client, product):
    response = editor_client.post(
        _url(product), {"formula": "reach *\n  imapct", "action": "check"}, headers=HTMX
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="formula-status"')
    assert "Unknown name “imapct”" in page
    assert "line 2, column 3" in page
    assert "  imapct\n  ^" in page  # the line, and a caret under the column


def test_the_check_of_a_good_formula_says_what_it_reads(editor_client, product):
    response = editor_client.post(
        _url(product), {"formula": ISSUE, "action": "check"}, headers=HTMX
    )

    page = response.content.decode()
    assert "Reads reach, impact, confidence, effort, at_stake." in page


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("reach * (impact", "Expected “)”, found the end"),
        ("", "This field is required."),
        ("reach + " * 300, "Ensure this value has at most 2000 characters"),
    ],
)
def test_saving_a_bad_formula_is_refused_in_place_and_changes_nothing(
    editor_client, product, formula, message
):
    response = editor_client.post(_url(product), {"formula": formula, "action": "save"})

    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'aria-invalid="true"' in page
    product.refresh_from_db()
    assert product.scoring_framework == s.RICE and product.scoring_formula == ""
    assert not ScoringFormulaVersion.objects.exists()


def test_the_preview_shows_the_new_ranking_beside_today_and_saves_nothing(
    editor_client, product, features, django_assert_max_num_queries
):
    from roadmap.planning.services.scoring import product_recompute_scores

    product_recompute_scores(product_id=product.pk)

    with django_assert_max_num_queries(16):
        response = editor_client.post(
            _url(product), {"formula": "value / effort", "action": "preview"}
        )

    assert response.status_code == 200
    preview = response.context["preview"]
    assert [row.title for row in preview.top] == ["F5", "F4", "F3", "F2", "F1"]
    page = response.content.decode()
    assert "4 of 5 open features would change rank." in page
    assert "↑ 4" in page and "↓ 4" in page
    assert "value / effort" in page  # the PM's text is kept in the editor
    product.refresh_from_db()
    assert product.scoring_framework == s.RICE
    assert not ScoringFormulaVersion.objects.exists()


def test_saving_uses_the_formula_rescoring_every_feature(
    editor_client, editor, product, features, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            _url(product), {"formula": "value * 10 / effort\n", "action": "save"}, follow=True
        )

    assert response.redirect_chain == [(_url(product), 302)]
    assert "Formula v1 saved and in use." in response.content.decode()
    product.refresh_from_db()
    assert (product.scoring_framework, product.scoring_formula) == (s.CUSTOM, "value * 10 / effort")
    version = ScoringFormulaVersion.objects.get()
    assert (version.number, version.author) == (1, editor)
    scores = dict(product.features.values_list("title", "score"))
    assert scores == {"F1": 10, "F2": 20, "F3": 30, "F4": 40, "F5": 50}
    ranks = dict(product.features.values_list("title", "rank"))
    assert ranks["F5"] == 1 and ranks["F1"] == 5


def test_saving_the_formula_in_use_again_says_so(editor_client, product):
    formula_services.product_formula_save(product=product, source="value", author=None)

    response = editor_client.post(
        _url(product), {"formula": "value", "action": "save"}, follow=True
    )

    assert "already in use" in response.content.decode()
    assert ScoringFormulaVersion.objects.count() == 1


def test_an_old_version_opens_in_the_editor_and_each_version_shows_its_change(
    editor_client, product
):
    for source in ("value / effort", "value * 2 / effort", "reach"):
        formula_services.product_formula_save(product=product, source=source, author=None)

    response = editor_client.get(_url(product), {"version": "2"})
    unknown = editor_client.get(_url(product), {"version": "99"})

    assert response.context["form"]["formula"].value() == "value * 2 / effort"
    assert unknown.context["form"]["formula"].value() == "reach"
    page = response.content.decode()
    assert "What changed from version 1" in page
    assert '<span class="formula-diff__removed">-value / effort</span>' in page
    assert '<span class="formula-diff__added">+value * 2 / effort</span>' in page


def test_the_feature_page_explains_a_custom_score_with_the_formula(
    viewer_client, product, django_capture_on_commit_callbacks
):
    feature = f.FeatureFactory(product=product, value=4, effort=Decimal("2"))
    with django_capture_on_commit_callbacks(execute=True):
        formula_services.product_formula_save(
            product=product, source="value * 10 / effort", author=None
        )

    page = viewer_client.get(reverse("roadmap:feature", args=[feature.pk])).content.decode()

    assert "value * 10 / effort = 20" in page


def test_a_built_in_framework_can_be_taken_back_and_the_formula_again(editor_client, product):
    formula_services.product_formula_save(product=product, source="value", author=None)
    settings_url = reverse("roadmap:product_settings", args=[product.slug])

    page = editor_client.get(settings_url).content.decode()
    Product.objects.filter(pk=product.pk).update(scoring_framework=s.RICE)
    again = editor_client.get(settings_url).content.decode()

    # The framework select offers the formula (chosen while in use), and still once it is not.
    assert '<option value="custom" selected>Your own formula</option>' in page
    assert '<option value="custom">Your own formula</option>' in again


@pytest.mark.parametrize(
    ("reach_source", "figure", "counts"),
    [
        (s.INSIGHTS, "customers", "distinct customers in the feature's linked insights"),
        (s.PERSONAS, "segment_size", "summed segment size of the feature's personas"),
    ],
)
def test_a_formula_reading_reach_where_reach_comes_from_evidence_is_told_the_figure(
    editor_client, product, reach_source, figure, counts
):
    # given a product whose reach comes from the evidence: its features' typed reach is empty
    Product.objects.filter(pk=product.pk).update(reach_source=reach_source)
    for n in range(3):
        f.FeatureFactory(product=product, title=f"F{n}", reach=None, value=n + 1)

    check = editor_client.post(
        _url(product), {"formula": "reach * value", "action": "check"}, headers=HTMX
    )
    preview = editor_client.post(_url(product), {"formula": "reach * value", "action": "preview"})
    fixed = editor_client.post(
        _url(product), {"formula": f"{figure} * value", "action": "check"}, headers=HTMX
    )

    assert check.status_code == 200
    assert f"write <code>{figure}</code> ({counts}) to read that evidence." in html.unescape(
        check.content.decode()
    )
    assert preview.status_code == 200
    assert (
        "3 would have no score: reach has no value on 3 (this product’s reach comes from the "
        f"evidence: write <code>{figure}</code>, the {counts})."
    ) in html.unescape(preview.content.decode())
    assert "reach comes from the evidence" not in html.unescape(fixed.content.decode())


def test_a_formula_reading_reach_where_reach_is_typed_gets_no_such_hint(editor_client, product):
    f.FeatureFactory(product=product, title="F", reach=None, value=1)

    check = editor_client.post(
        _url(product), {"formula": "reach * value", "action": "check"}, headers=HTMX
    )
    preview = editor_client.post(_url(product), {"formula": "reach * value", "action": "preview"})

    assert "Reads reach, value." in html.unescape(check.content.decode())
    assert "reach comes from the evidence" not in html.unescape(check.content.decode())
    assert "1 would have no score: reach has no value on 1." in html.unescape(
        preview.content.decode()
    )


def test_a_rice_product_with_reach_from_evidence_starts_from_that_figure(editor_client, product):
    Product.objects.filter(pk=product.pk).update(reach_source=s.INSIGHTS)

    response = editor_client.get(_url(product))

    assert response.context["form"]["formula"].value() == (
        "customers * impact * confidence / 100 / effort"
    )
    assert "reach comes from the evidence" not in html.unescape(response.content.decode())
