"""Filters of the priorities by custom fields (issue 19): ``field`` (a choice's label or
yes/no), ``field_min`` and ``field_max`` (a number's bounds), each ``key:value``; a bad one is a
400 naming the parameter; documented in the OpenAPI schema."""

import pytest

from roadmap.planning.services.features import FeatureWrite, features_write
from roadmap.planning.services.scoring import product_recompute_scores
from tests.roadmap.api.test_features_fields import BAD_QUERIES


def _url(product, query: str) -> str:
    return f"/api/v1/products/{product.slug}/priorities/?{query}"


@pytest.mark.parametrize(
    "query, titles",
    [
        ("field=segment:Enterprise", ["High"]),
        ("field=segment:SMB&field=segment:Enterprise", ["High", "Middle"]),
        ("field=urgent:no", ["Middle"]),
        ("field=segment:Enterprise&field=urgent:no", []),
        ("field_min=deal_size:1000", ["High"]),
        ("field_max=deal_size:800", ["Middle"]),
        ("field_min=deal_size:800&field_max=deal_size:12500.50", ["High", "Middle"]),
        ("field=segment:SMB&moscow=must", []),
        ("field=segment:Enterprise&limit=1", ["High"]),
    ],
)
def test_priorities_filter_by_custom_fields(read_api, product, valued, query, titles):
    response = read_api.get(_url(product, query))

    assert response.status_code == 200, response.content
    assert [r["title"] for r in response.json()["results"]] == titles


def test_the_next_link_keeps_the_field_filters(read_api, product, valued):
    body = read_api.get(_url(product, "field=urgent:yes&field=urgent:no&limit=1")).json()

    assert [r["title"] for r in body["results"]] == ["High"]
    assert "field=urgent%3Ayes" in body["next"] and "field=urgent%3Ano" in body["next"]
    following = read_api.get(body["next"]).json()
    assert [r["title"] for r in following["results"]] == ["Middle"]
    assert following["next"] is None


SMB_OF_5 = {"segment": "SMB", "deal_size": 5}


@pytest.mark.parametrize("query, param, message", BAD_QUERIES)
def test_a_bad_field_filter_is_a_400_naming_the_parameter(
    read_api, product, valued, query, param, message
):
    response = read_api.get(_url(product, query))

    assert response.status_code == 400, response.content
    body = response.json()
    assert list(body) == [param]
    assert any(m.startswith(message) for m in body[param]), body


def test_too_many_values_are_refused(read_api, product, valued):
    query = "&".join(["field=segment:SMB"] * 101)

    response = read_api.get(_url(product, query))

    assert response.status_code == 400
    assert "At most 100 values." in str(response.json())


def test_field_filters_cost_one_query_more_and_not_per_row(
    read_api, product, valued, django_assert_max_num_queries
):
    url = _url(product, "limit=1000")
    with django_assert_max_num_queries(10) as plain:
        read_api.get(url)
    filtered = _url(product, "limit=1000&field=segment:SMB&field_min=deal_size:1")
    with django_assert_max_num_queries(len(plain.captured_queries) + 1) as few:
        read_api.get(filtered)
    # 50 more features that pass the filter: each is read and written, none costs a query.
    features_write(
        product=product,
        writes=[
            FeatureWrite(fields={"title": f"More {n}"}, custom_fields=SMB_OF_5) for n in range(50)
        ],
    )
    product_recompute_scores(product_id=product.pk)

    # The product's fields once, to check the filters; the filter is part of the rows' query.
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = read_api.get(filtered)
    titles = [r["title"] for r in response.json()["results"]]
    assert titles[0] == "Middle" and len(titles) == 51


def test_the_schema_documents_the_field_filters(read_api):
    response = read_api.get("/api/v1/schema/?format=json")

    assert response.status_code == 200
    schema = response.json()
    operation = next(
        methods["get"] for path, methods in schema["paths"].items() if path.endswith("/priorities/")
    )
    parameters = {p["name"]: p for p in operation["parameters"]}
    for name in ("field", "field_min", "field_max"):
        assert parameters[name]["in"] == "query"
        assert parameters[name]["schema"]["type"] == "array"
        assert "key:" in parameters[name]["description"]
