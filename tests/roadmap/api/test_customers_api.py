"""Customers (with their email domains, and merging) and discovery experiments (with the features
they test) through the API: the same rules as insights — members read, editors write."""

import datetime

import pytest

from roadmap.models import Customer, CustomerDomain, Experiment, Insight
from tests import factories as f


def test_an_editor_creates_a_customer_with_its_domains(write_api, product):
    persona = f.PersonaFactory(product=product)

    response = write_api.post(
        "/api/v1/customers/",
        {
            "product": product.slug,
            "name": "Acme Corp",
            "segment": "Enterprise",
            "persona": persona.pk,
            "annual_revenue": "48000.00",
            "domains": ["acme.example", "acme-corp.example"],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    customer = Customer.objects.get()
    body = response.json()
    assert body == {
        "id": customer.pk,
        "product": product.slug,
        "name": "Acme Corp",
        "segment": "Enterprise",
        "persona": persona.pk,
        "annual_revenue": "48000.00",
        "domains": ["acme-corp.example", "acme.example"],
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert sorted(customer.domains.values_list("domain", flat=True)) == [
        "acme-corp.example",
        "acme.example",
    ]


def test_a_domain_of_another_customer_or_a_negative_revenue_is_a_400(write_api, product):
    taken = Customer.objects.create(product=product, name="Beta")
    CustomerDomain.objects.create(customer=taken, product=product, domain="beta.example")

    response = write_api.post(
        "/api/v1/customers/",
        {"product": product.slug, "name": "Gamma", "annual_revenue": "-1", "domains": []},
        format="json",
    )
    clash = write_api.post(
        "/api/v1/customers/",
        {"product": product.slug, "name": "Gamma", "domains": ["beta.example"]},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["annual_revenue"]
    assert clash.status_code == 400
    assert list(clash.json()) == ["domains"]
    assert list(Customer.objects.values_list("name", flat=True)) == ["Beta"]


def test_members_list_customers_with_their_domains_in_few_queries(
    read_api, product, django_assert_max_num_queries
):
    for n in range(12):
        customer = Customer.objects.create(product=product, name=f"Customer {n:02}")
        CustomerDomain.objects.create(customer=customer, product=product, domain=f"c{n}.example")

    with django_assert_max_num_queries(7):
        response = read_api.get("/api/v1/customers/", {"product": product.slug})

    assert response.status_code == 200
    assert response.json()["count"] == 12
    assert response.json()["results"][0]["domains"] == ["c0.example"]


def test_merging_a_customer_moves_its_domains_and_insights_to_the_survivor(write_api, product):
    # given a duplicate customer with a domain and an insight
    survivor = Customer.objects.create(product=product, name="Acme")
    duplicate = Customer.objects.create(product=product, name="ACME Inc")
    CustomerDomain.objects.create(customer=duplicate, product=product, domain="acme.example")
    insight = f.InsightFactory(product=product, company=duplicate)

    # when it is merged
    response = write_api.post(
        f"/api/v1/customers/{duplicate.pk}/merge/", {"into": survivor.pk}, format="json"
    )

    # then the survivor has both, and the duplicate is gone
    assert response.status_code == 200, response.json()
    assert (response.json()["id"], response.json()["domains"]) == (survivor.pk, ["acme.example"])
    assert Insight.objects.get(pk=insight.pk).company == survivor
    assert not Customer.objects.filter(pk=duplicate.pk).exists()


def test_a_customer_of_another_product_cannot_be_merged_into(write_api, product):
    mine = Customer.objects.create(product=product, name="Acme")
    theirs = Customer.objects.create(
        product=f.ProductFactory(workspace=product.workspace), name="Acme"
    )

    response = write_api.post(
        f"/api/v1/customers/{mine.pk}/merge/", {"into": theirs.pk}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"into": [f'Invalid pk "{theirs.pk}" - object does not exist.']}
    assert Customer.objects.count() == 2


@pytest.mark.parametrize(
    ("who", "status"), [("read_api", 403), ("viewer_write_api", 403), ("outsider_api", 404)]
)
def test_only_editors_merge_customers(request, product, who, status):
    survivor = Customer.objects.create(product=product, name="Acme")
    duplicate = Customer.objects.create(product=product, name="ACME Inc")

    response = request.getfixturevalue(who).post(
        f"/api/v1/customers/{duplicate.pk}/merge/", {"into": survivor.pk}, format="json"
    )

    assert response.status_code == status
    assert Customer.objects.count() == 2


def test_an_editor_records_an_experiment_on_features(write_api, product):
    feature = f.FeatureFactory(product=product)

    response = write_api.post(
        "/api/v1/experiments/",
        {
            "product": product.slug,
            "hypothesis": "Admins want SSO",
            "method": "fake_door",
            "audience": "Trial admins",
            "started_on": "2027-01-04",
            "ended_on": "2027-01-18",
            "result": "31% clicked",
            "decision": "persevere",
            "features": [feature.pk],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    experiment = Experiment.objects.get()
    assert list(experiment.features.all()) == [feature]
    assert (experiment.method, experiment.decision, experiment.ended_on) == (
        "fake_door",
        "persevere",
        datetime.date(2027, 1, 18),
    )
    assert response.json()["features"] == [feature.pk]


def test_an_experiment_ending_before_it_starts_is_a_400_naming_the_field(write_api, product):
    other = f.FeatureFactory(product=f.ProductFactory(workspace=product.workspace))

    response = write_api.post(
        "/api/v1/experiments/",
        {
            "product": product.slug,
            "hypothesis": "Admins want SSO",
            "started_on": "2027-01-04",
            "ended_on": "2027-01-01",
        },
        format="json",
    )
    foreign = write_api.post(
        "/api/v1/experiments/",
        {"product": product.slug, "hypothesis": "x", "features": [other.pk]},
        format="json",
    )

    assert (response.status_code, response.json()) == (
        400,
        {"ended_on": ["The experiment cannot end before it starts."]},
    )
    assert foreign.status_code == 400 and list(foreign.json()) == ["features"]
    assert Experiment.objects.count() == 0


def test_members_list_experiments_in_few_queries(read_api, product, django_assert_max_num_queries):
    feature = f.FeatureFactory(product=product)
    for n in range(12):
        Experiment.objects.create(product=product, hypothesis=f"Idea {n}").features.add(feature)

    with django_assert_max_num_queries(7):
        response = read_api.get("/api/v1/experiments/", {"product": product.slug})

    assert response.json()["count"] == 12
    assert {tuple(e["features"]) for e in response.json()["results"]} == {(feature.pk,)}
