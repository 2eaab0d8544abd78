"""Scores fed by the evidence (issue 18): distinct customers asking (a company counts once), how
many asked through the roadmap page, and the revenue at stake, as RICE reach and as weighted-
scoring drivers. Python and SQL agree on the same rows (run on PostgreSQL and on SQLite); the
explanation says who asks; the triggers move scores; outsiders never see any of it."""

import random
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from roadmap.evidence.services import customer_save, insight_save
from roadmap.models import Contact, Customer, Feature, FeatureDriverScore, Product
from roadmap.planning import scoring as s
from roadmap.planning.selectors.pages import feature_score_explanation
from roadmap.planning.services import products as product_services
from roadmap.planning.services.scoring import (
    feature_score,
    feature_scoring_inputs,
    product_recompute_scores,
    product_scoring_config,
)
from roadmap.portal import services as portal
from roadmap.sharing.external import item_anchor
from tests import factories as f

# --- Pure: the formulas and the sentence --------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "$0"),
        (950, "$950"),
        (999.4, "$999"),
        (999.6, "$1k"),
        (1500, "$1.5k"),
        (480_000, "$480k"),
        (999_999, "$1M"),
        (1_200_000, "$1.2M"),
        (25_000_000, "$25M"),
        (3_400_000_000, "$3.4B"),
    ],
)
def test_money_reads_compactly(amount, text):
    assert s.money(amount) == text


def test_the_explanation_says_who_asks_and_what_is_at_stake():
    config = s.ScoringConfig(framework=s.RICE, reach_source=s.INSIGHTS)
    inputs = s.FeatureInputs(
        impact=1.0,
        confidence=100,
        effort=1.0,
        insight_customers=12,
        portal_customers=7,
        revenue_at_stake=480_000.0,
    )

    result = s.evaluate(config, inputs)

    assert result.score == 12.0
    assert result.breakdown["evidence"] == {"customers": 12, "portal": 7, "revenue": 480_000.0}
    lines = s.explain(result.breakdown)
    assert lines[0] == "reach = 12 (distinct customers in linked insights)"
    assert "12 customers asked (7 through the roadmap page), $480k at stake" in lines
    assert lines[-1].endswith("= 12")


def test_a_score_that_reads_no_evidence_says_nothing_of_it():
    result = s.evaluate(
        s.ScoringConfig(framework=s.RICE),
        s.FeatureInputs(reach=5, impact=1.0, confidence=100, effort=1.0, insight_customers=3),
    )
    assert "evidence" not in result.breakdown
    assert not any("asked" in line for line in s.explain(result.breakdown))


def test_one_customer_without_portal_reads_in_the_singular():
    assert (
        s.evidence_sentence({"customers": 1, "portal": 0, "revenue": 950})
        == "1 customer asked, $950 at stake"
    )


def test_evidence_drivers_score_in_proportion_to_full_scale_capped_at_ten():
    config = s.ScoringConfig(
        framework=s.WEIGHTED,
        drivers=(
            s.Driver(id=1, name="Fit", weight=2.0),
            s.Driver(id=2, name="Demand", weight=1.0, source="customers", full_scale=20.0),
            s.Driver(id=3, name="Money", weight=1.0, source="revenue", full_scale=1_000_000.0),
        ),
    )
    inputs = s.FeatureInputs(
        driver_scores={1: 6, 2: 1, 3: 9},  # rows of evidence drivers are ignored
        insight_customers=5,
        revenue_at_stake=4_000_000.0,
    )

    result = s.evaluate(config, inputs)

    # (2·6 + 1·min(10, 10·5/20) + 1·min(10, 10·4M/1M)) / 4 = (12 + 2.5 + 10) / 4
    assert result.score == pytest.approx(6.125)
    assert result.breakdown["evidence"]["revenue"] == 4_000_000.0
    # An unscored manual driver still leaves no score
    assert s.evaluate(config, s.FeatureInputs(insight_customers=5)).score is None


def test_only_evidence_drivers_need_no_hand_scores():
    config = s.ScoringConfig(
        framework=s.WEIGHTED,
        drivers=(s.Driver(id=2, name="Demand", weight=1.0, source="customers", full_scale=4.0),),
    )
    assert s.evaluate(config, s.FeatureInputs()).score == 0.0
    assert s.evaluate(config, s.FeatureInputs(insight_customers=1)).score == 2.5


# --- Stored: SQL agrees with Python -------------------------------------------------------------


def _driver(product, name, weight, source="manual", full_scale=None):
    return f.ScoringDriverFactory(
        product=product,
        name=name,
        weight=Decimal(weight),
        source=source,
        full_scale=None if full_scale is None else Decimal(full_scale),
    )


def _evidence_world(product, rng, features):
    companies = [
        Customer.objects.get_or_create(
            product=product, name=name, defaults={"annual_revenue": revenue}
        )[0]
        for name, revenue in (
            ("Acme Inc", Decimal("480000.50")),
            ("Globex", Decimal("1200000")),
            ("Initech", None),
            ("Umbrella", Decimal("950")),
        )
    ]
    for _ in range(40):
        company = rng.choice([None, None, *companies])
        insight = f.InsightFactory(
            product=product,
            customer=rng.choice(["Acme", " acme", "ACME ", "Hooli", "hooli", "Acme Inc"]),
            company=company,
            source=rng.choice(["call", "portal", "portal", "ticket"]),
        )
        insight.features.set(rng.sample(features, rng.randint(0, 3)))


@pytest.mark.parametrize(
    ("framework", "reach_source", "divide", "drivers"),
    [
        ("rice", "insights", False, ()),
        ("weighted", "manual", False, (("Fit", "3", "manual", None),)),
        (
            "weighted",
            "manual",
            False,
            (
                ("Fit", "3", "manual", None),
                ("Demand", "1.5", "customers", "4"),
                ("Money", "1", "revenue", "1500000"),
            ),
        ),
        (
            "weighted",
            "manual",
            True,
            (("Demand", "2", "customers", "3"), ("Money", "1", "revenue", "500000")),
        ),
    ],
)
def test_sql_recompute_agrees_with_python_on_evidence(
    product, framework, reach_source, divide, drivers
):
    # Given features with insights of companies and of named customers, some via the portal
    rng = random.Random(f"{framework}{divide}{len(drivers)}")
    made = [_driver(product, *d) for d in drivers]
    features = [
        f.FeatureFactory(
            product=product,
            impact=Decimal("1"),
            confidence=rng.randint(10, 100),
            effort=Decimal(rng.randint(1, 8)),
        )
        for _ in range(25)
    ]
    _evidence_world(product, rng, features)
    for feature in features:
        for driver in made:
            if rng.random() < 0.85:  # evidence drivers' rows too: they must be ignored
                FeatureDriverScore.objects.create(
                    feature=feature, driver=driver, score=rng.randint(0, 10)
                )
    Product.objects.filter(pk=product.pk).update(
        scoring_framework=framework, reach_source=reach_source, weighted_divide_by_effort=divide
    )
    product.refresh_from_db()

    # When the database computes every score at once
    assert product_recompute_scores(product_id=product.pk) == 25

    # Then each stored score, input and evidence is what Python computes for the feature alone
    config = product_scoring_config(product=product)
    assert config.uses_evidence == (framework == "rice" or len(drivers) > 1)
    scored = asked = 0
    for feature in Feature.objects.filter(product=product):
        expected = s.evaluate(config, feature_scoring_inputs(feature=feature, config=config))
        stored = feature.score_breakdown
        assert feature.score == pytest.approx(expected.score), feature.pk
        for name, term in expected.breakdown["inputs"].items():
            assert stored["inputs"][name]["source"] == term["source"]
            assert stored["inputs"][name]["value"] == pytest.approx(term["value"]), name
        assert ("evidence" in stored) == ("evidence" in expected.breakdown)
        if "evidence" in stored:
            for key, value in expected.breakdown["evidence"].items():
                assert stored["evidence"][key] == pytest.approx(value), (feature.pk, key)
            assert s.explain(stored) == s.explain(expected.breakdown)
            asked += expected.breakdown["evidence"]["customers"] > 0
        scored += expected.score is not None
    assert scored > 5
    if config.uses_evidence:
        assert asked > 5


def test_a_company_counts_once_and_its_revenue_once(product):
    # Given a product whose reach comes from evidence
    product_services.product_update(product=product, data={"reach_source": "insights"})
    feature = f.FeatureFactory(
        product=product, impact=Decimal("1"), confidence=100, effort=Decimal("1")
    )
    acme = Customer.objects.create(product=product, name="Acme", annual_revenue=Decimal("400000"))
    globex = Customer.objects.create(product=product, name="Globex", annual_revenue=80_000)
    # Three insights of Acme under three spellings, two of them through the portal
    for text, source in (("Acme", "call"), ("ana@acme.com", "portal"), ("bo@acme.com", "portal")):
        f.InsightFactory(product=product, customer=text, company=acme, source=source).features.add(
            feature
        )
    f.InsightFactory(product=product, customer="Globex", company=globex).features.add(feature)
    # Two named customers without a company, spelled apart only by case and spaces
    for text in ("Hooli", " hooli "):
        f.InsightFactory(product=product, customer=text).features.add(feature)

    product_recompute_scores(product_id=product.pk)

    # Then 3 customers ask (1 through the portal), and Acme's revenue counts once
    feature.refresh_from_db()
    assert feature.score == 3.0
    assert feature.score_breakdown["evidence"] == {
        "customers": 3,
        "portal": 1,
        "revenue": 480_000.0,
    }
    assert "3 customers asked (1 through the roadmap page), $480k at stake" in s.explain(
        feature.score_breakdown
    )
    # And the per-feature path says the same
    assert (
        feature_score(feature=feature, rerank=False).breakdown["evidence"]
        == feature.score_breakdown["evidence"]
    )


def test_recompute_with_evidence_runs_a_constant_number_of_queries(
    product, django_assert_max_num_queries
):
    Product.objects.filter(pk=product.pk).update(scoring_framework="weighted")
    _driver(product, "Fit", "1")
    _driver(product, "Demand", "1", "customers", "5")
    _driver(product, "Money", "1", "revenue", "100000")
    rng = random.Random(1)
    features = f.FeatureFactory.create_batch(5, product=product)
    _evidence_world(product, rng, features)
    with django_assert_max_num_queries(13) as small:  # weighted: one more, for the drivers
        product_recompute_scores(product_id=product.pk)
    more = f.FeatureFactory.create_batch(60, product=product)
    _evidence_world(product, rng, more)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert product_recompute_scores(product_id=product.pk) == 65


# --- Triggers ------------------------------------------------------------------------------------


@pytest.fixture
def evidence_weighted(product):
    """A weighted-scoring product whose only drivers are fed by the evidence."""
    Product.objects.filter(pk=product.pk).update(scoring_framework="weighted")
    product.refresh_from_db()
    _driver(product, "Demand", "1", "customers", "10")
    _driver(product, "Money", "1", "revenue", "1000000")
    return product


def test_a_customers_revenue_change_moves_the_score(
    evidence_weighted, django_capture_on_commit_callbacks
):
    product = evidence_weighted
    feature = f.FeatureFactory(product=product)
    acme = Customer.objects.create(product=product, name="Acme", annual_revenue=100_000)
    f.InsightFactory(product=product, customer="Acme", company=acme).features.add(feature)
    product_recompute_scores(product_id=product.pk)
    feature.refresh_from_db()
    assert feature.score == pytest.approx((1 + 1) / 2)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        customer_save(product=product, customer=acme, data={"annual_revenue": Decimal("600000")})

    assert len(callbacks) == 1
    feature.refresh_from_db()
    assert feature.score == pytest.approx((1 + 6) / 2)
    assert "1 customer asked, $600k at stake" in s.explain(feature.score_breakdown)


def test_an_insights_company_change_moves_the_score(
    evidence_weighted, django_capture_on_commit_callbacks
):
    product = evidence_weighted
    feature = f.FeatureFactory(product=product)
    acme = Customer.objects.create(product=product, name="Acme", annual_revenue=500_000)
    insight = f.InsightFactory(product=product, customer="someone")
    insight.features.add(feature)
    product_recompute_scores(product_id=product.pk)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        insight_save(product=product, insight=insight, data={"company": acme})

    assert len(callbacks) == 1
    feature.refresh_from_db()
    assert feature.score_breakdown["evidence"]["revenue"] == 500_000.0
    assert feature.score == pytest.approx((1 + 5) / 2)


def test_a_confirmed_portal_vote_moves_the_features_reach(
    product, client, django_capture_on_commit_callbacks
):
    # Given a RICE product whose reach comes from evidence, and a feature on the external roadmap
    product_services.product_update(product=product, data={"reach_source": "insights"})
    feature = f.FeatureFactory(
        product=product, impact=Decimal("2"), confidence=100, effort=Decimal("1")
    )
    item = f.RoadmapItemFactory(
        product=product, feature=feature, visibility="external", external_title="Offline mode"
    )
    link = f.ShareLinkFactory(product=product, allow_feedback=True)
    acme = Customer.objects.create(product=product, name="Acme", annual_revenue=250_000)
    f.InsightFactory(product=product, customer="Acme", company=acme).features.add(feature)
    product_recompute_scores(product_id=product.pk)
    feature.refresh_from_db()
    assert feature.score == 2.0

    # When a stakeholder of another company votes and confirms the emailed link
    with django_capture_on_commit_callbacks(execute=True):
        cast = portal.vote_cast(
            share_link=link, anchor=item_anchor(item.pk), email="ana@globex-corp.io"
        )
    assert not cast.confirmed
    feature.refresh_from_db()
    assert feature.score == 2.0  # nothing counts before confirmation
    token = Contact.objects.get(email="ana@globex-corp.io").confirmation_token
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("portal:confirm", kwargs={"token": token}))
    assert response.status_code == 200

    # Then the product is recomputed and the feature's reach counts the new customer
    assert callbacks
    feature.refresh_from_db()
    assert feature.score == 4.0
    assert feature.score_breakdown["evidence"] == {"customers": 2, "portal": 1, "revenue": 250000}
    # And a second vote of the same company (another address) counts no new customer
    item_vote = portal.vote_cast
    with django_capture_on_commit_callbacks(execute=True):
        colleague = Contact.objects.create(
            product=product,
            email="bo@globex-corp.io",
            confirmed_at=timezone.now(),
            customer=Contact.objects.get(email="ana@globex-corp.io").customer,
        )
        item_vote(share_link=link, anchor=item_anchor(item.pk), contact=colleague)
    feature.refresh_from_db()
    assert feature.score == 4.0


# --- Outsiders ------------------------------------------------------------------------------------


def test_who_asks_and_the_revenue_at_stake_never_reach_outsiders(client, product):
    # Given a scored feature on the external roadmap with evidence from a company worth a lot
    Product.objects.filter(pk=product.pk).update(scoring_framework="weighted")
    _driver(product, "LEAKDRIVERDEMAND", "1", "customers", "7")
    _driver(product, "LEAKDRIVERMONEY", "1", "revenue", "9000000")
    feature = f.FeatureFactory(product=product, title="LEAKFEATURE")
    f.RoadmapItemFactory(
        product=product, feature=feature, visibility="external", external_title="Offline mode"
    )
    company = Customer.objects.create(
        product=product, name="LEAKCOMPANY", annual_revenue=Decimal("4815162.42")
    )
    for text in ("LEAKCUSTOMERA", "LEAKCUSTOMERB"):
        f.InsightFactory(
            product=product, customer=text, company=company, source="portal"
        ).features.add(feature)
    product_recompute_scores(product_id=product.pk)
    feature.refresh_from_db()
    explained = feature_score_explanation(feature=feature).lines
    assert "1 customer asked (1 through the roadmap page), $4.8M at stake" in explained
    link = f.ShareLinkFactory(product=product, allow_feedback=True)

    # When an outsider reads the page, its JSON and its feed
    kwargs = {"token": link.token}
    bodies = {
        name: client.get(reverse(f"external:{name}", kwargs=kwargs))
        for name in ("roadmap", "json", "feed")
    }

    # Then none of it is there
    secret = [
        "LEAKCOMPANY",
        "LEAKCUSTOMER",
        "LEAKDRIVER",
        "LEAKFEATURE",
        "4815162",
        "4,815,162",
        "$4.8M",
        "at stake",
        "customers asked",
        "customer asked",
        "through the roadmap page",
        "revenue",
        "evidence",
    ]
    for name, response in bodies.items():
        assert response.status_code == 200, name
        body = response.content.decode()
        if name != "feed":  # the feed tells changes; a factory-made item has none
            assert "Offline mode" in body, name
        assert [m for m in secret if m in body] == [], name


def test_driver_save_sets_an_evidence_source_and_refuses_one_without_scale(
    product, django_capture_on_commit_callbacks
):
    from django.core.exceptions import ValidationError

    Product.objects.filter(pk=product.pk).update(scoring_framework="weighted")
    feature = f.FeatureFactory(product=product)
    f.InsightFactory(product=product, customer="Acme").features.add(feature)

    with django_capture_on_commit_callbacks(execute=True):
        driver = product_services.driver_save(
            product=product,
            name="Demand",
            weight=Decimal("1"),
            source="customers",
            full_scale=Decimal("4"),
        )

    assert (driver.source, driver.full_scale) == ("customers", Decimal("4"))
    feature.refresh_from_db()
    assert feature.score == 2.5
    with pytest.raises(ValidationError) as excinfo:
        product_services.driver_save(
            product=product, name="Money", weight=Decimal("1"), source="revenue"
        )
    assert "full_scale" in excinfo.value.message_dict
    # Back to manual: the scale goes
    manual = product_services.driver_save(
        product=product, name="Demand", weight=Decimal("1"), driver=driver, source="manual"
    )
    assert manual.full_scale is None


def test_the_feature_page_says_who_asks_and_what_is_at_stake(viewer_client, evidence_weighted):
    product = evidence_weighted
    feature = f.FeatureFactory(product=product, title="Offline mode")
    acme = Customer.objects.create(product=product, name="Acme", annual_revenue=1_200_000)
    for text, source in (("Acme", "call"), ("Hooli", "portal")):
        f.InsightFactory(product=product, customer=text, source=source, company=None).features.add(
            feature
        )
    f.InsightFactory(product=product, customer="ana@acme.com", company=acme).features.add(feature)
    product_recompute_scores(product_id=product.pk)

    body = viewer_client.get(reverse("roadmap:feature", kwargs={"pk": feature.pk})).content.decode()

    # "Acme" typed and Acme the company are told apart: 3 customers
    assert "<li>3 customers asked (1 through the roadmap page), $1.2M at stake</li>" in body
