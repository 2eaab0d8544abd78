"""A product's own formula over the API (issue 19): written on the product, refused with a 400
that says where, versioned with the token's user as author, and read back in every feature's
breakdown and in the priorities."""

from decimal import Decimal

import pytest

from roadmap.models import Product, ScoringFormulaVersion
from tests import factories as f

ISSUE = "reach * impact * confidence / 100 / effort * (1 + at_stake / 100000)"


def _patch(api, product, body):
    return api.patch(f"/api/v1/products/{product.slug}/", body, format="json")


def test_an_engineer_writes_the_formula_and_reads_the_same_scores(
    write_api, product, editor, django_capture_on_commit_callbacks
):
    f.FeatureFactory(product=product, title="Big", reach=1000, impact=Decimal("2"), confidence=80)
    f.FeatureFactory(product=product, title="Small", reach=10)

    with django_capture_on_commit_callbacks(execute=True):
        response = _patch(write_api, product, {"scoring_formula": ISSUE})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["scoring_framework"], body["scoring_formula"]) == ("custom", ISSUE)
    assert body["scoring_formula_version"] == 1
    assert ScoringFormulaVersion.objects.get().author == editor
    priorities = write_api.get(f"/api/v1/products/{product.slug}/priorities/").json()
    assert priorities["framework"] == "custom"
    assert [(p["title"], p["score"]) for p in priorities["results"]] == [
        ("Big", 800.0),
        ("Small", 4.0),
    ]
    features = write_api.get("/api/v1/features/", {"product": product.slug}).json()["results"]
    breakdown = {row["title"]: row["score_breakdown"] for row in features}["Big"]
    assert breakdown["framework"] == "custom"
    assert breakdown["formula"] == "custom formula v1"
    assert breakdown["inputs"]["at_stake"] == {"value": 0.0, "source": "evidence"}


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("reach * (impact", "Expected “)”, found the end (line 1, column 16)"),
        ("reach * nope", "Unknown name “nope”"),
        ("reach + " * 300, "Ensure this field has no more than 2000 characters."),
    ],
)
def test_a_bad_formula_is_a_400_on_the_field_and_changes_nothing(
    write_api, product, formula, message
):
    response = _patch(write_api, product, {"scoring_formula": formula, "name": "Renamed"})

    assert response.status_code == 400
    assert message in " ".join(response.json()["scoring_formula"])
    product.refresh_from_db()
    assert product.name != "Renamed"
    assert product.scoring_framework == "rice" and product.scoring_formula == ""
    assert not ScoringFormulaVersion.objects.exists()


def test_a_formula_cannot_be_blanked_but_an_absent_one_may_be_echoed_blank(write_api, product):
    assert _patch(write_api, product, {"scoring_formula": ""}).status_code == 200
    _patch(write_api, product, {"scoring_formula": "value"})

    response = _patch(write_api, product, {"scoring_formula": "  "})

    assert response.status_code == 400
    assert response.json()["scoring_formula"] == ["The formula is empty (line 1, column 1)"]


def test_a_product_is_created_with_its_own_formula(write_api, editor):
    response = write_api.post(
        "/api/v1/products/",
        {"name": "Formula", "slug": "formula", "scoring_formula": "value / effort"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    product = Product.objects.get(slug="formula")
    assert (product.scoring_framework, product.scoring_formula_version) == ("custom", 1)


def test_echoing_a_product_back_changes_nothing(write_api, product):
    _patch(write_api, product, {"scoring_formula": "value"})
    read = write_api.get(f"/api/v1/products/{product.slug}/").json()
    writable = {
        k: v
        for k, v in read.items()
        if k not in {"workspace", "drivers", "scores_stale", "scores_computed_at"}
        and not k.endswith("_at")
        and k != "scoring_formula_version"
    }

    again = _patch(write_api, product, writable)

    assert again.status_code == 200, again.json()
    assert ScoringFormulaVersion.objects.count() == 1


def test_going_back_to_a_built_in_framework_keeps_the_formula(write_api, product):
    _patch(write_api, product, {"scoring_formula": "value"})

    response = _patch(write_api, product, {"scoring_framework": "wsjf"})

    assert response.status_code == 200
    assert response.json()["scoring_formula"] == "value"
    assert response.json()["scoring_framework"] == "wsjf"


def test_custom_without_a_formula_is_refused(write_api, product):
    response = _patch(write_api, product, {"scoring_framework": "custom"})

    assert response.status_code == 400
    assert "formula" in " ".join(response.json()["scoring_framework"])


def test_a_read_token_cannot_write_the_formula(read_api, product):
    assert _patch(read_api, product, {"scoring_formula": "value"}).status_code == 403


def test_the_formula_versions_are_listed_newest_first_a_page_at_a_time(
    read_api, product, editor, monkeypatch, django_assert_max_num_queries
):
    from roadmap.planning.api import views
    from roadmap.planning.services.formula import product_formula_save

    monkeypatch.setattr(views, "FORMULA_VERSIONS_PAGE", 2)
    for source in ("value", "value * 2", "value * 3"):
        product_formula_save(product=product, source=source, author=editor)
    url = f"/api/v1/products/{product.slug}/formula-versions/"

    with django_assert_max_num_queries(8):
        first = read_api.get(url).json()
    rest = read_api.get(first["next"]).json()
    refused = read_api.get(url, {"before": "x"})

    assert first["in_use"] == 3
    assert [(v["number"], v["source"], v["author"]) for v in first["results"]] == [
        (3, "value * 3", editor.email),
        (2, "value * 2", editor.email),
    ]
    assert [v["number"] for v in rest["results"]] == [1] and rest["next"] is None
    assert refused.status_code == 400 and "before" in refused.json()
