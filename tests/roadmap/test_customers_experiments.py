"""The PM's customers and experiments pages (issue 18): customers with their email domains (a
domain another customer holds is an error naming it), search, merge and delete; experiments with
the features they test, shown on those features' pages. Editors write, viewers read, outsiders
get 404, and bad input changes nothing."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from roadmap.evidence import services
from roadmap.models import Customer, CustomerDomain, Experiment, Insight
from tests import factories as f


def _url(name: str, product, pk: int | None = None) -> str:
    kwargs = {"slug": product.slug} if pk is None else {"slug": product.slug, "pk": pk}
    return reverse(f"roadmap:{name}", kwargs=kwargs)


def _html(response, status: int = 200) -> str:
    assert response.status_code == status, response.content.decode()[:1000]
    return response.content.decode()


def _customer(product, name, domains=(), revenue=None) -> Customer:
    return services.customer_save(
        product=product,
        data={"name": name, "annual_revenue": revenue},
        domains=domains,
    )


CUSTOMER = {
    "name": "Acme Corp",
    "segment": "Enterprise",
    "persona": "",
    "annual_revenue": "120000",
    "domains": "acme.com\n@Acme.co.uk, acme.com",
}


def test_an_editor_adds_a_customer_with_its_domains(editor_client, product):
    response = editor_client.post(_url("customers", product), CUSTOMER)

    assert response.status_code == 302
    acme = Customer.objects.get(product=product)
    assert (acme.name, acme.segment, acme.annual_revenue) == (
        "Acme Corp",
        "Enterprise",
        Decimal("120000"),
    )
    assert sorted(acme.domains.values_list("domain", flat=True)) == ["acme.co.uk", "acme.com"]


def test_a_domain_another_customer_holds_is_an_error_naming_it(editor_client, product):
    _customer(product, "Globex", ["globex.com"])

    html = _html(
        editor_client.post(_url("customers", product), {**CUSTOMER, "domains": "globex.com"}), 400
    )

    assert "globex.com belongs to Globex." in html
    assert 'aria-invalid="true"' in html[html.index('name="domains"') - 300 :]
    assert not Customer.objects.filter(name="Acme Corp").exists()


@pytest.mark.parametrize(
    ("domains", "message"),
    [
        ("not a domain!", "is not an email domain"),
        ("acme", "is not an email domain"),
        ("a" * 64 + ".com", "is not an email domain"),
        ("\n".join(f"d{n}.example" for n in range(51)), "At most 50 domains"),
    ],
)
def test_bad_domains_are_form_errors_and_nothing_is_saved(editor_client, product, domains, message):
    html = _html(
        editor_client.post(_url("customers", product), {**CUSTOMER, "domains": domains}), 400
    )

    assert message in html
    assert not Customer.objects.exists()


def test_a_duplicate_name_is_an_error_on_the_name(editor_client, product):
    _customer(product, "ACME corp")

    html = _html(editor_client.post(_url("customers", product), CUSTOMER), 400)

    assert "There is already a customer named “Acme Corp” in this product." in html
    assert "Constraint" not in html
    assert Customer.objects.count() == 1


def test_the_list_searches_pages_and_counts_in_a_constant_number_of_queries(
    viewer_client, product, django_assert_max_num_queries
):
    acme = _customer(product, "Acme", ["acme.com"], revenue=5000)
    f.InsightFactory(product=product, company=acme)
    _customer(product, "Globex")
    url = _url("customers", product)
    viewer_client.get(url)
    with django_assert_max_num_queries(12) as few:
        viewer_client.get(url)
    for n in range(30):
        _customer(product, f"Initech {n}", [f"initech{n}.com"])

    with django_assert_max_num_queries(len(few.captured_queries)):
        html = _html(viewer_client.get(url))
    found = _html(viewer_client.get(url, {"q": "acm"}))

    assert "Initech 29" in html and "acme.com" in html
    row = found[found.index(f'id="customer-{acme.pk}"') :]
    assert "5,000" in row[: row.index("</tr>")]
    assert "Globex" not in found
    assert "New customer" not in html  # a viewer reads only


def test_the_customers_page_lists_its_evidence_and_merges_a_duplicate(editor_client, product):
    acme = _customer(product, "Acme", ["acme.com"], revenue=100)
    dupe = _customer(product, "ACME Inc", ["acme-inc.com"], revenue=50)
    feature = f.FeatureFactory(product=product, title="Offline mode")
    said = f.InsightFactory(product=product, company=dupe, text="Need offline!")
    said.features.add(feature)

    page = _html(editor_client.get(_url("customer", product, dupe.pk)))
    assert "Need offline!" in page and "Offline mode" in page and "acme-inc.com" in page

    response = editor_client.post(_url("customer_merge", product, dupe.pk), {"into": acme.pk})

    assert response.status_code == 302
    assert response.url == _url("customer", product, acme.pk)
    assert not Customer.objects.filter(pk=dupe.pk).exists()
    assert Insight.objects.get(pk=said.pk).company_id == acme.pk
    assert sorted(acme.domains.values_list("domain", flat=True)) == ["acme-inc.com", "acme.com"]


def test_merging_into_nothing_or_itself_is_refused(editor_client, product):
    acme = _customer(product, "Acme")
    other_product = f.ProductFactory(workspace=product.workspace)
    elsewhere = _customer(other_product, "Elsewhere")

    for into in ("", acme.pk, elsewhere.pk):
        html = _html(
            editor_client.post(_url("customer_merge", product, acme.pk), {"into": into}), 400
        )
        assert "field__error" in html
    assert Customer.objects.filter(pk__in=[acme.pk, elsewhere.pk]).count() == 2


def test_editing_replaces_the_domains_and_deleting_keeps_the_evidence(editor_client, product):
    acme = _customer(product, "Acme", ["acme.com", "old.acme.com"])
    said = f.InsightFactory(product=product, company=acme)

    form = _html(editor_client.get(_url("customer_edit", product, acme.pk)))
    assert "acme.com\nold.acme.com" in form
    editor_client.post(
        _url("customer_edit", product, acme.pk), {**CUSTOMER, "name": "Acme", "domains": "acme.io"}
    )
    assert list(acme.domains.values_list("domain", flat=True)) == ["acme.io"]

    ask = _html(editor_client.get(_url("customer_delete", product, acme.pk)))
    assert "1 insight come" in ask
    assert editor_client.post(_url("customer_delete", product, acme.pk)).status_code == 302
    assert not Customer.objects.filter(pk=acme.pk).exists()
    assert Insight.objects.get(pk=said.pk).company_id is None
    assert not CustomerDomain.objects.exists()


def test_viewers_cannot_write_and_outsiders_get_404(
    viewer_client, client, product, other_workspace
):
    acme = _customer(product, "Acme")
    for name, pk in (("customers", None), ("customer_edit", acme.pk), ("customer_merge", acme.pk)):
        assert viewer_client.post(_url(name, product, pk), CUSTOMER).status_code == 403
    outsider = f.MembershipFactory(workspace=other_workspace).user
    client.force_login(outsider)
    assert client.get(_url("customer", product, acme.pk)).status_code == 404
    elsewhere = _customer(f.ProductFactory(workspace=product.workspace), "Elsewhere")
    client.force_login(f.MembershipFactory(workspace=product.workspace, role="viewer").user)
    assert client.get(_url("customer", product, elsewhere.pk)).status_code == 404


# --- Experiments ----------------------------------------------------------------------------------

EXPERIMENT = {
    "hypothesis": "Field teams will pay for offline mode",
    "method": "fake_door",
    "audience": "Field teams",
    "started_on": "2026-11-02",
    "ended_on": "2026-11-20",
    "result": "**38%** clicked *Try offline*.",
    "decision": "persevere",
}


def test_an_experiment_is_recorded_and_shown_on_the_features_it_tests(editor_client, product):
    tested = f.FeatureFactory(product=product, title="Offline mode")
    other = f.FeatureFactory(product=product, title="Dark mode")

    response = editor_client.post(
        _url("experiments", product), {**EXPERIMENT, "features": [tested.pk]}
    )

    assert response.status_code == 302
    experiment = Experiment.objects.get(product=product)
    assert list(experiment.features.all()) == [tested]
    listed = _html(editor_client.get(_url("experiments", product)))
    assert "Field teams will pay for offline mode" in listed and "Go ahead" in listed
    page = _html(editor_client.get(reverse("roadmap:feature", args=[tested.pk])))
    assert "Field teams will pay for offline mode" in page
    assert "<strong>38%</strong>" in page
    assert "Go ahead" in page
    elsewhere = _html(editor_client.get(reverse("roadmap:feature", args=[other.pk])))
    assert "No experiment tests this feature yet." in elsewhere


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hypothesis", "", "This field is required."),
        ("hypothesis", "x" * 301, "at most 300 characters"),
        ("ended_on", "2026-10-01", ""),
        ("method", "astrology", "Select a valid choice."),
        ("started_on", "1200-01-01", ""),
    ],
)
def test_bad_experiment_input_is_a_form_error(editor_client, product, field, value, message):
    html = _html(
        editor_client.post(_url("experiments", product), {**EXPERIMENT, field: value}), 400
    )

    assert "field__error" in html or "form-errors" in html or "alert" in html
    assert message in html
    assert not Experiment.objects.exists()


def test_a_feature_of_another_product_cannot_be_linked(editor_client, product):
    foreign = f.FeatureFactory(product=f.ProductFactory(workspace=product.workspace))

    _html(
        editor_client.post(_url("experiments", product), {**EXPERIMENT, "features": [foreign.pk]}),
        400,
    )

    assert not Experiment.objects.exists()


def test_editing_and_deleting_an_experiment(editor_client, product):
    experiment = services.experiment_save(product=product, data=EXPERIMENT | {"ended_on": None})
    viewer = Client()
    viewer.force_login(f.MembershipFactory(workspace=product.workspace, role="viewer").user)

    assert (
        viewer.post(_url("experiment_edit", product, experiment.pk), EXPERIMENT).status_code == 403
    )
    editor_client.post(
        _url("experiment_edit", product, experiment.pk), {**EXPERIMENT, "decision": "stop"}
    )
    experiment.refresh_from_db()
    assert experiment.decision == "stop"
    assert "Delete the experiment" in _html(
        editor_client.get(_url("experiment_delete", product, experiment.pk))
    )
    assert editor_client.post(_url("experiment_delete", product, experiment.pk)).status_code == 302
    assert not Experiment.objects.exists()


def test_the_experiments_page_runs_a_constant_number_of_queries(
    viewer_client, product, django_assert_max_num_queries
):
    features = f.FeatureFactory.create_batch(3, product=product)
    services.experiment_save(product=product, data=EXPERIMENT, features=features[:1])
    url = _url("experiments", product)
    viewer_client.get(url)
    with django_assert_max_num_queries(12) as few:
        viewer_client.get(url)
    for n in range(10):
        services.experiment_save(
            product=product, data={**EXPERIMENT, "hypothesis": f"H{n}"}, features=features
        )

    with django_assert_max_num_queries(len(few.captured_queries)):
        html = _html(viewer_client.get(url))
    assert "H9" in html
