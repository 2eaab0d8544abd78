"""Filters of the features list by custom fields (issue 19): the priorities' ``field``,
``field_min`` and ``field_max`` (each ``key:value``), read and checked by the same code, with the
same 400s; the list may span products, so they need ``product``; documented in the schema as
lists of strings."""

import pytest

from roadmap.planning.services import fields as field_services
from roadmap.planning.services.features import feature_update
from tests import factories as f

NEEDS_PRODUCT = ["Give `product` too: custom fields are a product's own."]


def _url(product, query: str) -> str:
    return f"/api/v1/features/?product={product.slug}&{query}"


@pytest.mark.parametrize(
    "query, titles",
    [
        ("field=segment:Enterprise", ["High"]),
        ("field=segment:SMB&field=segment:Enterprise", ["High", "Middle"]),
        ("field=urgent:no", ["Middle"]),
        ("field=urgent:yes&field=urgent:no", ["High", "Middle"]),
        ("field=segment:Enterprise&field=urgent:no", []),
        ("field_min=deal_size:1000", ["High"]),
        ("field_max=deal_size:800", ["Middle"]),
        ("field_min=deal_size:800&field_max=deal_size:12500.50", ["High", "Middle"]),
        ("field_min=deal_size:800.01&field_max=deal_size:12500.49", []),
        ("field=segment:SMB&q=midd", ["Middle"]),
        ("field=segment:SMB&q=high", []),
        ("field=segment:Enterprise&status=idea", ["High"]),
        ("field=segment:Enterprise&status=planned", []),
    ],
)
def test_the_features_list_filters_by_custom_fields(read_api, product, valued, query, titles):
    response = read_api.get(_url(product, query))

    assert response.status_code == 200, response.content
    body = response.json()
    assert [r["title"] for r in body["results"]] == titles
    assert body["count"] == len(titles)


def test_only_the_named_products_features_pass(read_api, product, valued, workspace):
    # given: another product of the workspace with a field of the same key and choice, set
    other = f.ProductFactory(workspace=workspace)
    field_services.custom_field_save(
        product=other, name="Segment", kind="choice", choices=[("SMB", "1")]
    )
    twin = f.FeatureFactory(product=other, title="Other SMB")
    feature_update(feature=twin, data={}, custom_fields={"segment": "SMB"})

    # when: each product is asked for its SMB features
    mine = read_api.get(_url(product, "field=segment:SMB")).json()
    theirs = read_api.get(_url(other, "field=segment:SMB")).json()
    # a field the other product does not have is checked against the product named
    refused = read_api.get(_url(other, "field=urgent:yes"))

    # then
    assert [r["title"] for r in mine["results"]] == ["Middle"]
    assert [r["title"] for r in theirs["results"]] == ["Other SMB"]
    assert refused.status_code == 400
    assert refused.json() == {"field": ["urgent: This product has no custom field “urgent”."]}


@pytest.mark.parametrize(
    "query, expected",
    [
        ("field=segment:SMB", {"field": NEEDS_PRODUCT}),
        ("field=nonsense", {"field": NEEDS_PRODUCT}),
        (
            "field_min=deal_size:1&field_max=deal_size:2",
            {"field_min": NEEDS_PRODUCT, "field_max": NEEDS_PRODUCT},
        ),
        ("product=&field_max=deal_size:2", {"field_max": NEEDS_PRODUCT}),
    ],
)
def test_custom_field_filters_without_a_product_are_a_400(read_api, valued, query, expected):
    response = read_api.get(f"/api/v1/features/?{query}")

    assert response.status_code == 400
    assert response.json() == expected


def test_a_product_the_requester_cannot_see_lists_nothing(read_api, valued, other_workspace):
    # given: a product of another workspace with the same field
    hidden = f.ProductFactory(workspace=other_workspace)
    field_services.custom_field_save(
        product=hidden, name="Segment", kind="choice", choices=[("SMB", "1")]
    )
    feature_update(
        feature=f.FeatureFactory(product=hidden), data={}, custom_fields={"segment": "SMB"}
    )

    # when/then: as for any other filter with that slug, an empty list (the fields unread)
    for slug in (hidden.slug, "no-such-product"):
        response = read_api.get(f"/api/v1/features/?product={slug}&field=segment:SMB")
        assert response.status_code == 200
        assert (response.json()["count"], response.json()["results"]) == (0, [])


BAD_QUERIES = [
    ("field=tier:Gold", "field", "tier: This product has no custom field “tier”."),
    (
        "field=segment:Galactic",
        "field",
        "segment: “Galactic” is not a choice of Segment: SMB, Enterprise.",
    ),
    ("field=urgent:maybe", "field", "urgent: Urgent is “yes” or “no”."),
    ("field=deal_size:3", "field", "deal_size: Deal size is a number"),
    ("field=segment", "field", "Give a field's key and a value as key:value"),
    ("field=:SMB", "field", "Give a field's key and a value as key:value"),
    ("field=", "field", "Give a field's key and a value as key:value"),
    ("field_min=deal_size:lots", "field_min", "deal_size: Give a number"),
    ("field_max=deal_size:NaN", "field_max", "deal_size: Give a number"),
    ("field_max=deal_size:1e99", "field_max", "deal_size: Give a number"),
    ("field_min=segment:1", "field_min", "segment: Segment is not a number field."),
    (
        "field_min=deal_size:10&field_max=deal_size:5",
        "field_max",
        "deal_size: The maximum of Deal size is below its minimum.",
    ),
    (
        "field_min=deal_size:1&field_min=deal_size:2",
        "field_min",
        "deal_size: give one field_min per field.",
    ),
    ("field_max=ghost:1", "field_max", "ghost: This product has no custom field “ghost”."),
    ("&".join(["field=segment:SMB"] * 101), "field", "At most 100 values."),
]


@pytest.mark.parametrize("query, param, message", BAD_QUERIES)
def test_a_bad_field_filter_is_the_priorities_400(read_api, product, valued, query, param, message):
    response = read_api.get(_url(product, query))
    priorities = read_api.get(f"/api/v1/products/{product.slug}/priorities/?{query}")

    assert response.status_code == 400, response.content
    body = response.json()
    assert list(body) == [param]
    assert any(m.startswith(message) for m in body[param]), body
    # the same check, word for word, as the priorities'
    assert priorities.status_code == 400
    assert priorities.json() == body


def test_the_next_page_keeps_the_field_filters(read_api, product, valued):
    body = read_api.get(_url(product, "field=urgent:yes&field=urgent:no&page_size=1")).json()

    assert [r["title"] for r in body["results"]] == ["High"]
    assert "field=urgent%3Ayes" in body["next"] and "field=urgent%3Ano" in body["next"]
    following = read_api.get(body["next"]).json()
    assert [r["title"] for r in following["results"]] == ["Middle"]
    assert following["next"] is None


def test_field_filters_cost_one_query_more_and_not_per_row(
    read_api, product, valued, django_assert_max_num_queries
):
    url = _url(product, "page_size=200")
    # The token and its first use, the product, the count, the rows, their tags, personas and
    # custom-field values.
    with django_assert_max_num_queries(8) as plain:
        read_api.get(url)
    filtered = _url(
        product, "page_size=200&field=segment:SMB&field=segment:Enterprise&field_min=deal_size:1"
    )
    with django_assert_max_num_queries(len(plain.captured_queries) + 1) as few:
        assert read_api.get(filtered).json()["count"] == 2

    # given: 50 more features with values, then: the same queries
    for feature in f.FeatureFactory.create_batch(50, product=product):
        feature_update(feature=feature, data={}, custom_fields={"segment": "SMB", "deal_size": 5})

    # The product's fields once, to check the filters; the filter is part of the rows' query.
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = read_api.get(filtered)
    assert response.json()["count"] == 52
    assert len(response.json()["results"]) == 52


def test_the_schema_documents_the_features_field_filters(read_api):
    response = read_api.get("/api/v1/schema/?format=json")

    assert response.status_code == 200
    operation = response.json()["paths"]["/api/v1/features/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    for name in ("field", "field_min", "field_max"):
        assert parameters[name]["in"] == "query"
        assert parameters[name]["schema"] == {"type": "array", "items": {"type": "string"}}
        assert parameters[name]["explode"] is True
        assert "key:" in parameters[name]["description"]
        assert "Needs `product`" in parameters[name]["description"]
    assert "400" in operation["responses"]
