"""Custom fields over the API (issue 19): a product lists its fields' definitions; a feature reads
and writes its values by key (a number, the choice's label, true or false; null clears), refused
with a 400 naming the key; the list prefetches them (no query per feature)."""

import pytest

from roadmap.models import Feature, FeatureFieldValue
from roadmap.planning.services import fields as field_services
from roadmap.planning.services import formula as formula_services
from roadmap.planning.services.features import feature_update
from tests import factories as f


@pytest.fixture
def fields(product):
    segment = field_services.custom_field_save(
        product=product, name="Segment", kind="choice", choices=[("Enterprise", "3"), ("SMB", "1")]
    )
    cost = field_services.custom_field_save(product=product, name="Cost", kind="number")
    strategic = field_services.custom_field_save(product=product, name="Strategic", kind="yes_no")
    return segment, cost, strategic


def test_a_product_lists_its_fields_definitions(read_api, product, fields):
    body = read_api.get(f"/api/v1/products/{product.slug}/").json()

    assert body["custom_fields"] == [
        {
            "key": "segment",
            "name": "Segment",
            "kind": "choice",
            "position": 0,
            "choices": [
                {"label": "Enterprise", "value": "3.00"},
                {"label": "SMB", "value": "1.00"},
            ],
        },
        {"key": "cost", "name": "Cost", "kind": "number", "position": 1, "choices": []},
        {"key": "strategic", "name": "Strategic", "kind": "yes_no", "position": 2, "choices": []},
    ]


def test_an_engineer_writes_values_and_reads_the_score_the_formula_gives(
    write_api, product, fields
):
    formula_services.product_formula_save(
        product=product, source="segment * cost + if(strategic = 1, 100, 0)", author=None
    )
    feature = f.FeatureFactory(product=product)

    response = write_api.patch(
        f"/api/v1/features/{feature.pk}/",
        {"custom_fields": {"segment": "Enterprise", "cost": 2.5, "strategic": True}},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["custom_fields"] == {"segment": "Enterprise", "cost": 2.5, "strategic": True}
    assert body["score"] == 107.5
    assert body["score_breakdown"]["inputs"]["segment"]["source"] == "field"

    cleared = write_api.patch(
        f"/api/v1/features/{feature.pk}/", {"custom_fields": {"cost": None}}, format="json"
    ).json()
    assert cleared["custom_fields"] == {"segment": "Enterprise", "strategic": True}
    assert cleared["score"] is None and cleared["missing_inputs"] == ["cost"]


def test_a_feature_is_created_with_its_values(write_api, product, fields):
    response = write_api.post(
        "/api/v1/features/",
        {"product": product.slug, "title": "Export", "custom_fields": {"segment": "SMB"}},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["custom_fields"] == {"segment": "SMB"}


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"segment": "Startup"}, {"segment": ["Give one of the choices: Enterprise, SMB."]}),
        (
            {"nope": 1, "cost": "x"},
            {
                "nope": ["This product has no custom field with this key."],
                "cost": ["Give a number."],
            },
        ),
        ({"strategic": "yes"}, {"strategic": ["Give true or false."]}),
    ],
)
def test_a_bad_key_or_value_is_a_400_naming_it_and_changes_nothing(
    write_api, product, fields, values, errors
):
    feature = f.FeatureFactory(product=product, title="Before")

    response = write_api.patch(
        f"/api/v1/features/{feature.pk}/",
        {"title": "After", "custom_fields": values},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"custom_fields": errors}
    assert Feature.objects.get(pk=feature.pk).title == "Before"
    assert not FeatureFieldValue.objects.exists()


def test_not_an_object_is_a_400(write_api, product, fields):
    feature = f.FeatureFactory(product=product)

    response = write_api.patch(
        f"/api/v1/features/{feature.pk}/", {"custom_fields": ["cost", 1]}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"custom_fields": ["Give an object of values by field key."]}


@pytest.mark.parametrize(
    "values", [{f"k{i}": 1 for i in range(31)}, {"k" * 81: 1}], ids=["31 keys", "a long key"]
)
def test_more_keys_than_a_product_can_have_is_a_400(write_api, product, fields, values):
    feature = f.FeatureFactory(product=product)

    response = write_api.patch(
        f"/api/v1/features/{feature.pk}/", {"custom_fields": values}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "custom_fields": ["A product has 30 custom fields at most, each key 80 characters at most."]
    }


def test_the_features_list_reads_values_without_a_query_per_feature(
    read_api, product, fields, django_assert_max_num_queries
):
    for n in range(20):
        feature = f.FeatureFactory(product=product)
        feature_update(
            feature=feature, data={}, custom_fields={"segment": "SMB", "cost": n, "strategic": True}
        )

    with django_assert_max_num_queries(10):
        results = read_api.get(f"/api/v1/features/?product={product.slug}").json()["results"]

    assert len(results) == 20
    assert all(r["custom_fields"]["segment"] == "SMB" for r in results)
