"""The API as an engineer's tool meets it: a Python client generated from ``/api/v1/schema/`` by
openapi-python-client, used as generated (no hand patches) against a live server and a real token.

The client is generated once for the module, with ``--fail-on-warning``: a schema the generator
cannot read whole (it used to drop the Feature models and the feature writes over a number enum)
fails here. Without the generator the tests skip, except with REQUIRE_SERVICES=1 or in CI, where
that is a failure.
"""

import importlib
import importlib.util
import json
import os
import subprocess
import sys
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from accounts.tokens import api_token_issue
from roadmap.models import Customer
from roadmap.planning.services.scoring import product_recompute_scores
from roadmap.portal.services import vote_import
from tests import factories as f

PACKAGE = "waymark_client"
REQUIRED = ("openapi_python_client", "httpx", "attrs", "dateutil")


def _generator_missing_reason() -> str | None:
    for module in REQUIRED:
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -r requirements-dev.txt)"
    return None


@pytest.fixture(scope="module")
def waymark_client(live_server, tmp_path_factory, django_db_setup, django_db_blocker):
    """The generated package, imported; its modules are forgotten again after the module."""
    reason = _generator_missing_reason()
    if reason:
        if os.environ.get("REQUIRE_SERVICES") == "1" or os.environ.get("CI"):
            pytest.fail(f"REQUIRE_SERVICES=1 or CI but {reason}")
        pytest.skip(reason)
    import httpx

    root = tmp_path_factory.mktemp("generated")
    # The live server's request checks its connection: allowed whatever ran before in this worker.
    with django_db_blocker.unblock():
        schema = httpx.get(f"{live_server.url}/api/v1/schema/", params={"format": "json"})
    assert schema.status_code == 200
    (root / "schema.json").write_bytes(schema.content)
    # No post hooks: the generated code is used as written, not reformatted.
    (root / "config.json").write_text(json.dumps({"post_hooks": []}))
    generated = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(root / "schema.json"),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(root / "config.json"),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@pytest.fixture
def client(waymark_client, live_server, editor, workspace):
    _, raw = api_token_issue(user=editor, workspace=workspace, name="generated", scope="write")
    return waymark_client.AuthenticatedClient(base_url=live_server.url, token=raw)


def _api(waymark_client, name):
    return importlib.import_module(f"{PACKAGE}.api.v1.{name}")


def test_the_generated_client_reads_priorities_and_writes_a_feature(
    waymark_client, client, product, editor
):
    # given: three scored features, one of them with a score that has binary noise
    for title, reach in (("Low", 1), ("Noisy", 3), ("High", 10)):
        f.FeatureFactory(
            product=product, title=title, reach=reach, impact=Decimal("1"), effort=Decimal("1")
        )
    product_recompute_scores(product_id=product.pk)
    models = importlib.import_module(f"{PACKAGE}.models")
    priorities_retrieve = _api(waymark_client, "v1_products_priorities_retrieve")
    create = _api(waymark_client, "v1_features_create")
    retrieve = _api(waymark_client, "v1_features_retrieve")
    update = _api(waymark_client, "v1_features_partial_update")
    destroy = _api(waymark_client, "v1_features_destroy")

    # when/then: the priorities, in rank order, with rounded scores
    priorities = priorities_retrieve.sync(slug=product.slug, client=client)
    assert isinstance(priorities, models.Priorities)
    assert [(p.title, p.rank, p.score) for p in priorities.results] == [
        ("High", 1, 8.0),
        ("Noisy", 2, 2.4),  # 3 × 1 × 0.8 / 1 = 2.4000000000000004 in the database
        ("Low", 3, 0.8),
    ]
    assert priorities.next_ is None
    # a page at a time: the cursor of `next` leads on from where the last page ended
    first_two = priorities_retrieve.sync(slug=product.slug, client=client, limit=2)
    cursor = parse_qs(urlsplit(first_two.next_).query)["cursor"][0]
    rest = priorities_retrieve.sync(slug=product.slug, client=client, limit=2, cursor=cursor)
    assert [p.title for p in first_two.results + rest.results] == ["High", "Noisy", "Low"]
    assert (first_two.count, rest.count, rest.next_) == (2, 1, None)

    # create: impact is written as the number it is read as
    created = create.sync(
        client=client,
        body=models.FeatureRequest(
            product=product.slug,
            title="SSO",
            reach=500,
            impact=2.0,
            confidence=50,
            effort="5",
            tags=["security"],
            owner=editor.email,
        ),
    )
    assert isinstance(created, models.Feature), created
    assert (created.impact, created.score, created.rank, created.version) == (2.0, 100.0, 1, 1)

    # update with the version read
    updated = update.sync(
        id=created.id,
        client=client,
        body=models.PatchedFeatureRequest(title="SSO for everyone", impact=3.0, version=1),
    )
    assert isinstance(updated, models.Feature), updated
    assert (updated.title, updated.impact, updated.score, updated.version) == (
        "SSO for everyone",
        3.0,
        150.0,
        2,
    )

    # what a GET gives goes back as it is (the read-only fields too) and changes nothing
    read = retrieve.sync_detailed(id=created.id, client=client)
    echoed = update.sync(
        id=created.id,
        client=client,
        body=models.PatchedFeatureRequest.from_dict(read.parsed.to_dict()),
    )
    assert isinstance(echoed, models.Feature), echoed
    assert echoed.to_dict() == read.parsed.to_dict()
    again = retrieve.sync_detailed(id=created.id, client=client, if_none_match=read.headers["ETag"])
    assert again.status_code == 304 and again.parsed is None

    # a stale version is a conflict, and the later save stays
    stale = update.sync(
        id=created.id,
        client=client,
        body=models.PatchedFeatureRequest(title="Overwrite", version=1),
    )
    assert isinstance(stale, models.Conflict), stale
    assert (stale.code, stale.current_version) == ("conflict", 2)
    assert retrieve.sync(id=created.id, client=client).title == "SSO for everyone"

    # delete
    deleted = destroy.sync_detailed(id=created.id, client=client)
    assert deleted.status_code == 204
    gone = retrieve.sync(id=created.id, client=client)
    assert isinstance(gone, models.Error) and gone.code == "not_found"


def test_the_generated_client_pushes_a_request_and_lists_votes(waymark_client, client, product):
    # given an item with a vote a support tool cast earlier
    item = f.RoadmapItemFactory(product=product, feature=f.FeatureFactory(product=product))
    vote, _ = vote_import(item=item, email="ana@acme.example.org", note="Blocks our rollout")
    models = importlib.import_module(f"{PACKAGE}.models")
    create = _api(waymark_client, "v1_products_requests_create")
    votes_list = _api(waymark_client, "v1_products_votes_list")

    # when a request is pushed in for a customer's address, and the votes are read
    created = create.sync(
        product_slug=product.slug,
        client=client,
        body=models.StakeholderRequestCreateRequest(
            title="SSO", email="bo@acme.example.org", importance=models.ImportanceEnum(3)
        ),
    )
    refused = create.sync_detailed(
        product_slug=product.slug,
        client=client,
        body=models.StakeholderRequestCreateRequest(title="SSO", email="not an address"),
    )
    votes = votes_list.sync(product_slug=product.slug, client=client)

    # then the request counts at once, a bad address is a 400 naming it, the vote reads back
    assert isinstance(created, models.StakeholderRequest), created
    assert (created.title, created.source, created.status, created.requesters) == (
        "SSO",
        models.StakeholderSourceEnum.API,
        models.StakeholderStatusEnum.NEW,
        1,
    )
    assert refused.status_code == 400
    assert json.loads(refused.content) == {"email": ["Enter a valid email address."]}
    assert [(v.id, v.item, v.feature, v.customer, v.note) for v in votes.results] == [
        (vote.pk, item.pk, item.feature_id, "acme.example.org", "Blocks our rollout")
    ]


def test_the_generated_client_keeps_customers_and_experiments(waymark_client, client, product):
    models = importlib.import_module(f"{PACKAGE}.models")
    create_customer = _api(waymark_client, "v1_customers_create")
    merge = _api(waymark_client, "v1_customers_merge_create")
    create_experiment = _api(waymark_client, "v1_experiments_create")
    feature = f.FeatureFactory(product=product, title="Offline mode")

    acme = create_customer.sync(
        client=client,
        body=models.CustomerRequest(
            product=product.slug, name="Acme", annual_revenue="120000.00", domains=["acme.com"]
        ),
    )
    clash = create_customer.sync_detailed(
        client=client,
        body=models.CustomerRequest(product=product.slug, name="Acme 2", domains=["acme.com"]),
    )
    dupe = create_customer.sync(
        client=client,
        body=models.CustomerRequest(product=product.slug, name="ACME Inc", domains=["acme.io"]),
    )
    merged = merge.sync_detailed(
        id=dupe.id, client=client, body=models.CustomerMergeRequest(into=acme.id)
    )
    experiment = create_experiment.sync(
        client=client,
        body=models.ExperimentRequest(
            product=product.slug,
            hypothesis="Field teams will pay for offline mode",
            features=[feature.pk],
        ),
    )

    assert isinstance(acme, models.Customer), acme
    assert (acme.name, acme.annual_revenue, acme.domains) == ("Acme", "120000.00", ["acme.com"])
    assert clash.status_code == 400
    assert json.loads(clash.content) == {"domains": ["acme.com belongs to Acme."]}
    assert merged.status_code == 200
    assert sorted(Customer.objects.get(pk=acme.id).domains.values_list("domain", flat=True)) == [
        "acme.com",
        "acme.io",
    ]
    assert isinstance(experiment, models.Experiment), experiment
    assert experiment.features == [feature.pk]


def test_the_generated_client_writes_the_products_formula_and_reads_its_scores(
    waymark_client, client, product
):
    f.FeatureFactory(product=product, title="Big", reach=1000, impact=Decimal("2"))
    f.FeatureFactory(product=product, title="Small", reach=10)
    models = importlib.import_module(f"{PACKAGE}.models")
    update = _api(waymark_client, "v1_products_partial_update")
    priorities_retrieve = _api(waymark_client, "v1_products_priorities_retrieve")

    refused = update.sync_detailed(
        slug=product.slug,
        client=client,
        body=models.PatchedProductRequest(scoring_formula="reach * (impact"),
    )
    saved = update.sync(
        slug=product.slug,
        client=client,
        body=models.PatchedProductRequest(
            scoring_formula="reach * impact * confidence / 100 / effort * (1 + at_stake / 100000)"
        ),
    )
    priorities = priorities_retrieve.sync(slug=product.slug, client=client)

    assert refused.status_code == 400
    assert "line 1, column 16" in json.loads(refused.content)["scoring_formula"][0]
    assert isinstance(saved, models.Product), saved
    assert (saved.scoring_framework, saved.scoring_formula_version) == ("custom", 1)
    assert [(p.title, p.score) for p in priorities.results] == [("Big", 800.0), ("Small", 4.0)]


def test_the_generated_client_runs_a_rating_round(
    waymark_client, client, live_server, product, workspace
):
    # given a feature and a rater with a token of their own
    feature = f.FeatureFactory(product=product, title="Offline mode", reach=10)
    rater = f.MembershipFactory(workspace=workspace, role="viewer", user__email="ada@example.com")
    _, raw = api_token_issue(user=rater.user, workspace=workspace, name="ada", scope="write")
    ada = waymark_client.AuthenticatedClient(base_url=live_server.url, token=raw)
    models = importlib.import_module(f"{PACKAGE}.models")
    create = _api(waymark_client, "v1_products_rating_rounds_create")
    retrieve = _api(waymark_client, "v1_products_rating_rounds_retrieve")
    rate = _api(waymark_client, "v1_products_rating_rounds_ratings_create")
    accept = _api(waymark_client, "v1_products_rating_rounds_accept_create")

    # when the PM starts a round, the rater reads it, rates out of range, then submits
    made = create.sync(
        product_slug=product.slug,
        client=client,
        body=models.RatingRoundCreateRequest(
            name="Q3 planning", features=[feature.pk], raters=["ada@example.com"]
        ),
    )
    blind = retrieve.sync(product_slug=product.slug, id=made.id, client=ada)
    refused = rate.sync_detailed(
        product_slug=product.slug,
        id=made.id,
        client=ada,
        body=models.RatingsRequest(
            values=[models.RatingValueRequest(feature=feature.pk, input_="confidence", value="140")]
        ),
    )
    submitted = rate.sync(
        product_slug=product.slug,
        id=made.id,
        client=ada,
        body=models.RatingsRequest(
            values=[models.RatingValueRequest(feature=feature.pk, input_="reach", value="800")],
            submit=True,
        ),
    )
    accepted = accept.sync(
        product_slug=product.slug, id=made.id, client=client, body=models.RatingAcceptRequest()
    )

    # then the rater saw only their sheet, then the results; the median went into the feature
    assert isinstance(made, models.RatingRoundDetail), made
    assert (made.name, made.rater_count, made.is_rater) == ("Q3 planning", 1, False)
    assert [i.key for i in made.inputs] == ["reach", "impact", "confidence", "effort"]
    assert isinstance(blind, models.RatingRoundDetail), blind
    assert (blind.is_rater, blind.results, blind.sheet.values) == (True, None, [])
    assert refused.status_code == 400
    assert json.loads(refused.content) == {"values": [{"value": ["Enter a value from 0 to 100."]}]}
    assert isinstance(submitted, models.RatingRoundDetail), submitted
    cell = submitted.results.rows[0].cells[0]
    assert (cell.input_, cell.current, cell.values, cell.median) == ("reach", "10", ["800"], "800")
    assert isinstance(accepted, models.RatingAccepted), accepted
    assert accepted.accepted == 1
    assert [(c.feature, c.fields) for c in accepted.changed] == [(feature.pk, ["reach"])]


def _fields_on_big_and_small(product) -> None:
    """Segment (choice) and Deal size (number): Big is Enterprise, 900; Small SMB, 50; Unset has
    neither."""
    from roadmap.planning.services import fields as field_services
    from roadmap.planning.services.features import feature_update

    field_services.custom_field_save(
        product=product, name="Segment", kind="choice", choices=[("SMB", "1"), ("Enterprise", "3")]
    )
    field_services.custom_field_save(product=product, name="Deal size", kind="number")
    big = f.FeatureFactory(product=product, title="Big", reach=1000)
    small = f.FeatureFactory(product=product, title="Small", reach=10)
    f.FeatureFactory(product=product, title="Unset", reach=100)
    feature_update(feature=big, data={}, custom_fields={"segment": "Enterprise", "deal_size": 900})
    feature_update(feature=small, data={}, custom_fields={"segment": "SMB", "deal_size": 50})
    product_recompute_scores(product_id=product.pk)


def test_the_generated_client_filters_priorities_by_custom_fields(waymark_client, client, product):
    # given: a choice field and a number field, set on two of three features
    _fields_on_big_and_small(product)
    priorities_retrieve = _api(waymark_client, "v1_products_priorities_retrieve")

    # when: filtered through the generated parameters (lists of key:value)
    either = priorities_retrieve.sync(
        slug=product.slug, client=client, field=["segment:SMB", "segment:Enterprise"]
    )
    bounded = priorities_retrieve.sync(
        slug=product.slug, client=client, field_min=["deal_size:100"], field_max=["deal_size:1000"]
    )
    refused = priorities_retrieve.sync_detailed(
        slug=product.slug, client=client, field=["segment:Galactic"]
    )

    # then
    assert [p.title for p in either.results] == ["Big", "Small"]
    assert [p.title for p in bounded.results] == ["Big"]
    assert refused.status_code == 400
    assert "Galactic" in json.loads(refused.content)["field"][0]


def test_the_generated_client_filters_the_features_list_by_custom_fields(
    waymark_client, client, product
):
    # given: a choice field and a number field, set on two of three features
    _fields_on_big_and_small(product)
    features_list = _api(waymark_client, "v1_features_list")

    # when: filtered through the generated parameters (lists of key:value, with the product)
    either = features_list.sync(
        client=client, product=product.slug, field=["segment:SMB", "segment:Enterprise"]
    )
    bounded = features_list.sync(
        client=client,
        product=product.slug,
        field_min=["deal_size:100"],
        field_max=["deal_size:1000"],
    )
    unknown = features_list.sync_detailed(
        client=client, product=product.slug, field=["segment:Galactic"]
    )
    productless = features_list.sync_detailed(client=client, field_min=["deal_size:100"])

    # then
    assert [(p.title, p.custom_fields["segment"]) for p in either.results] == [
        ("Big", "Enterprise"),
        ("Small", "SMB"),
    ]
    assert (either.count, [p.title for p in bounded.results]) == (2, ["Big"])
    assert unknown.status_code == 400
    assert json.loads(unknown.content) == {
        "field": ["segment: “Galactic” is not a choice of Segment: SMB, Enterprise."]
    }
    assert productless.status_code == 400
    assert json.loads(productless.content) == {
        "field_min": ["Give `product` too: custom fields are a product's own."]
    }
