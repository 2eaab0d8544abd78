"""Roadmap models: validation says what is wrong and where, the database holds the same rules
where a constraint can, every model reads well as text, and rows are scoped to workspaces."""

import datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from simple_history.models import HistoricalChanges

from accounts.models import Role, User
from roadmap.models import (
    ChangeEvent,
    Comparison,
    Competitor,
    Contact,
    CsvUpload,
    Customer,
    CustomerDomain,
    CustomField,
    CustomFieldChoice,
    DigestDelivery,
    Experiment,
    Feature,
    FeatureDriverScore,
    FeatureFieldValue,
    FeatureRankSnapshot,
    FeatureRequest,
    Insight,
    Lane,
    LaunchTask,
    LaunchTemplateTask,
    MarketSize,
    Objective,
    Persona,
    Positioning,
    PositioningAnswer,
    PricePlan,
    Product,
    Rating,
    RatingRound,
    RatingRoundRater,
    Release,
    Requester,
    RevenueModel,
    RoadmapItem,
    ScoringDriver,
    ScoringFormulaVersion,
    ShareLink,
    ShipNotice,
    Subscription,
    TableLayout,
    Tag,
    Vote,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests import factories as f

NOON = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.UTC)
# The roadmap's own models, without the past versions django-simple-history keeps.
MODELS = [
    model
    for model in apps.get_app_config("roadmap").get_models()
    if not issubclass(model, HistoricalChanges)
]


def _errors(instance) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as exc:
        instance.full_clean()
    return exc.value.message_dict


def _rejected_by_database(model, pk, **values) -> str:
    """Write ``values`` behind validation's back; the database must refuse. Returns the error."""
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        model.objects.filter(pk=pk).update(**values)
    return str(exc.value)


# --- Feature scoring inputs ----------------------------------------------------------------

IMPACT_MESSAGE = "Impact must be one of 0.25, 0.5, 1, 2 or 3."
CONFIDENCE_MESSAGE = "Confidence is a percentage between 0 and 100."
EFFORT_MESSAGE = "Effort must be greater than 0."

# (field, bad value, message of full_clean, constraint the database checks)
FEATURE_RULES = [
    ("impact", Decimal("1.5"), IMPACT_MESSAGE, "feature_impact_scale"),
    ("impact", Decimal("4"), IMPACT_MESSAGE, "feature_impact_scale"),
    ("confidence", 101, CONFIDENCE_MESSAGE, "feature_confidence_percent"),
    ("effort", Decimal("0"), EFFORT_MESSAGE, "feature_effort_positive"),
    ("effort", Decimal("-1.5"), EFFORT_MESSAGE, "feature_effort_positive"),
    ("impact_ice", 0, "Impact (ICE) must be between 1 and 10.", "feature_impact_ice_1_10"),
    ("impact_ice", 11, "Impact (ICE) must be between 1 and 10.", "feature_impact_ice_1_10"),
    (
        "confidence_ice",
        0,
        "Confidence (ICE) must be between 1 and 10.",
        "feature_confidence_ice_1_10",
    ),
    (
        "confidence_ice",
        11,
        "Confidence (ICE) must be between 1 and 10.",
        "feature_confidence_ice_1_10",
    ),
    ("ease", 0, "Ease must be between 1 and 10.", "feature_ease_1_10"),
    ("ease", 11, "Ease must be between 1 and 10.", "feature_ease_1_10"),
    ("business_value", 0, "Business value must be at least 1.", "feature_business_value_min_1"),
    (
        "time_criticality",
        0,
        "Time criticality must be at least 1.",
        "feature_time_criticality_min_1",
    ),
    ("risk_reduction", 0, "Risk reduction must be at least 1.", "feature_risk_reduction_min_1"),
    ("job_size", 0, "Job size must be at least 1.", "feature_job_size_min_1"),
    ("value", 0, "Value must be between 1 and 10.", "feature_value_1_10"),
    ("value", 11, "Value must be between 1 and 10.", "feature_value_1_10"),
]
RULE_IDS = [f"{field}={value}" for field, value, _, _ in FEATURE_RULES]


def test_feature_inputs_at_the_edges_of_their_ranges_are_valid(product):
    feature = Feature(
        product=product,
        title="Edges",
        reach=0,
        impact=Decimal("0.25"),
        confidence=100,
        effort=Decimal("0.01"),
        impact_ice=1,
        confidence_ice=10,
        ease=10,
        business_value=1,
        time_criticality=1,
        risk_reduction=1,
        job_size=1,
        value=10,
    )

    feature.full_clean()


@pytest.mark.parametrize(("field", "value", "message", "constraint"), FEATURE_RULES, ids=RULE_IDS)
def test_feature_validation_names_field_and_reason(product, field, value, message, constraint):
    feature = Feature(product=product, title="Bad input", **{field: value})

    assert _errors(feature) == {field: [message]}
    assert Feature.objects.count() == 0


@pytest.mark.parametrize(("field", "value", "message", "constraint"), FEATURE_RULES, ids=RULE_IDS)
def test_database_rejects_feature_inputs_out_of_range(product, field, value, message, constraint):
    feature = f.FeatureFactory(
        product=product,
        impact_ice=5,
        confidence_ice=5,
        ease=5,
        business_value=3,
        time_criticality=3,
        risk_reduction=3,
        job_size=3,
        value=5,
    )
    before = getattr(feature, field)

    error = _rejected_by_database(Feature, feature.pk, **{field: value})

    assert constraint in error
    feature.refresh_from_db()
    assert getattr(feature, field) == before


def test_feature_owner_must_be_a_member_of_the_workspace(product, editor, outsider):
    assert _errors(Feature(product=product, title="Owned", owner=outsider)) == {
        "owner": ["The owner must be a member of this workspace."]
    }
    Feature(product=product, title="Owned", owner=editor).full_clean()


# --- Weighted scoring ----------------------------------------------------------------------


@pytest.mark.parametrize("weight", [Decimal("0"), Decimal("-1")])
def test_driver_weight_must_be_positive(product, weight):
    driver = f.ScoringDriverFactory(product=product, weight=Decimal("2"))
    driver.weight = weight

    assert _errors(driver) == {"weight": ["A weight must be greater than 0."]}
    assert "driver_weight_positive" in _rejected_by_database(
        ScoringDriver, driver.pk, weight=weight
    )
    driver.refresh_from_db()
    assert driver.weight == Decimal("2.00")


def test_driver_score_is_between_0_and_10(product):
    score = f.FeatureDriverScoreFactory(feature=f.FeatureFactory(product=product), score=4)
    score.score = 11

    assert _errors(score) == {"score": ["A driver score must be between 0 and 10."]}
    assert "driver_score_0_10" in _rejected_by_database(FeatureDriverScore, score.pk, score=11)
    score.refresh_from_db()
    assert score.score == 4


def test_driver_score_edges_are_valid(product):
    score = f.FeatureDriverScoreFactory(feature=f.FeatureFactory(product=product))
    for value in (0, 10):
        score.score = value
        score.full_clean()


def test_driver_score_driver_must_be_of_the_features_product(product):
    feature = f.FeatureFactory(product=product)
    foreign_driver = f.ScoringDriverFactory()

    score = FeatureDriverScore(feature=feature, driver=foreign_driver, score=5)

    assert _errors(score) == {"driver": ["This driver belongs to another product."]}


# --- Roadmap items -------------------------------------------------------------------------


def test_roadmap_item_end_date_cannot_be_before_start_date(product):
    item = f.RoadmapItemFactory(
        product=product, start_date=datetime.date(2026, 3, 1), end_date=datetime.date(2026, 3, 31)
    )
    item.end_date = datetime.date(2026, 2, 28)

    assert _errors(item) == {"end_date": ["The end date cannot be before the start date."]}
    error = _rejected_by_database(RoadmapItem, item.pk, end_date=datetime.date(2026, 2, 28))
    assert "item_dates_in_order" in error
    item.refresh_from_db()
    assert item.end_date == datetime.date(2026, 3, 31)


def test_roadmap_item_may_start_and_end_on_the_same_day(product):
    day = datetime.date(2026, 3, 1)

    item = RoadmapItem(product=product, title="Launch", start_date=day, end_date=day)

    item.full_clean()


@pytest.mark.parametrize("title", ["", "   "])
def test_roadmap_item_needs_a_feature_or_a_title(product, title):
    item = RoadmapItem(product=product, feature=None, title=title, horizon="now")

    assert _errors(item) == {"title": ["A theme needs a title (or pick a feature)."]}
    assert RoadmapItem.objects.count() == 0


def test_database_rejects_a_roadmap_item_without_feature_or_title(product):
    item = f.RoadmapItemFactory(product=product)

    error = _rejected_by_database(RoadmapItem, item.pk, feature=None, title="")

    assert "item_feature_or_title" in error
    item.refresh_from_db()
    assert item.feature_id is not None


@pytest.mark.parametrize(
    ("field", "factory", "message"),
    [
        ("feature", f.FeatureFactory, "This feature belongs to another product."),
        ("lane", f.LaneFactory, "This lane belongs to another product."),
        ("release", f.ReleaseFactory, "This release belongs to another product."),
    ],
)
def test_roadmap_item_parts_must_be_of_its_product(product, field, factory, message):
    other_product = f.ProductFactory(workspace=product.workspace)
    item = RoadmapItem(product=product, title="Theme", horizon="next")
    setattr(item, field, factory(product=other_product))

    assert _errors(item) == {field: [message]}

    setattr(item, field, factory(product=product))
    item.full_clean()


# --- Evidence ------------------------------------------------------------------------------


def test_insight_persona_must_be_of_the_insights_product(product):
    other_product = f.ProductFactory(workspace=product.workspace)
    insight = f.InsightFactory.build(
        product=product, persona=f.PersonaFactory(product=other_product)
    )

    assert _errors(insight) == {"persona": ["This persona belongs to another product."]}

    insight.persona = f.PersonaFactory(product=product)
    insight.full_clean()


def test_insight_customer_is_required_by_the_database_too(product):
    insight = f.InsightFactory(product=product, customer="Acme")

    assert "insight_customer_required" in _rejected_by_database(Insight, insight.pk, customer="")
    insight.refresh_from_db()
    assert insight.customer == "Acme"


def test_objective_target_must_differ_from_baseline(product):
    objective = Objective(
        product=product,
        name="Adoption",
        metric="teams",
        baseline=Decimal("10"),
        target=Decimal("10"),
    )

    assert _errors(objective) == {"target": ["The target must differ from the baseline."]}

    objective.target = Decimal("9")
    objective.full_clean()
    objective.baseline = None
    objective.target = Decimal("10")
    objective.full_clean()


# --- Text ----------------------------------------------------------------------------------


def test_every_roadmap_model_reads_well_as_text(product):
    feature = f.FeatureFactory(product=product, title="Dark mode")
    driver = f.ScoringDriverFactory(product=product, name="Strategic fit", weight=Decimal("2.00"))
    link = f.ShareLinkFactory(product=product, label="Acme QBR", audience="customers")
    subscription = Subscription.objects.create(product=product, email="fan@example.com")
    link_subscription = Subscription.objects.create(
        product=product, share_link=link, email="out@example.com"
    )
    endpoint = WebhookEndpoint(workspace=product.workspace, url="https://hooks.example.com/w")
    product.name = "Planner"

    segment = CustomField(product=product, name="Segment", kind="choice")
    enterprise = CustomFieldChoice(field=segment, label="Enterprise", value=Decimal("3.50"))
    texts = {
        Product: str(product),
        Persona: str(Persona(product=product, name="Ops lead")),
        ScoringDriver: str(driver),
        Tag: str(Tag(product=product, name="ux")),
        Feature: str(feature),
        FeatureDriverScore: str(FeatureDriverScore(feature=feature, driver=driver, score=7)),
        FeatureRankSnapshot: str(
            FeatureRankSnapshot(feature=feature, rank=3, taken_on=datetime.date(2026, 11, 23))
        ),
        Insight: str(Insight(product=product, customer="Acme", text="x" * 70)),
        Customer: str(Customer(product=product, name="Acme")),
        CustomerDomain: str(CustomerDomain(product=product, domain="acme.com")),
        Experiment: str(Experiment(product=product, hypothesis="Teams want dark mode")),
        Contact: str(Contact(product=product, email="ana@acme.com")),
        Vote: str(Vote(contact=Contact(email="ana@acme.com"), item=RoadmapItem(title="Dark"))),
        FeatureRequest: str(FeatureRequest(product=product, title="Dark mode")),
        Requester: str(
            Requester(contact=Contact(email="ana@acme.com"), request=FeatureRequest(title="Dark"))
        ),
        ShipNotice: str(
            ShipNotice(contact=Contact(email="ana@acme.com"), feature=feature, status="sent")
        ),
        Objective: str(Objective(product=product, name="Weekly actives up")),
        Release: str(Release(product=product, name="2026.1")),
        Lane: str(Lane(product=product, name="Onboarding")),
        ScoringFormulaVersion: str(ScoringFormulaVersion(product=product, number=3)),
        RoadmapItem: str(RoadmapItem(product=product, feature=feature)),
        ShareLink: str(link),
        ChangeEvent: str(ChangeEvent(product=product, kind="moved", occurred_at=NOON)),
        Subscription: str(subscription),
        DigestDelivery: str(
            DigestDelivery(subscription=subscription, period="2026-W48", status="sent")
        ),
        Positioning: str(Positioning(product=product)),
        PositioningAnswer: str(
            PositioningAnswer(positioning=Positioning(product=product), question="problem")
        ),
        Competitor: str(Competitor(product=product, name="Fieldly")),
        Comparison: str(
            Comparison(
                competitor=Competitor(product=product, name="Fieldly"),
                feature=feature,
                status="better",
            )
        ),
        MarketSize: str(
            MarketSize(product=product, kind="tam", value=Decimal("5000000.00"), as_of=NOON.date())
        ),
        RevenueModel: str(RevenueModel(product=product)),
        PricePlan: str(PricePlan(product=product, name="Team", yearly_price=Decimal("1200.00"))),
        LaunchTemplateTask: str(LaunchTemplateTask(team="marketing", title="Write the blog post")),
        LaunchTask: str(LaunchTask(release=Release(product=product, name="2026.1"), title="Demo")),
        TableLayout: str(
            TableLayout(
                user=User(email="pat@example.com"),
                product=product,
                hidden_columns=["kano", "personas"],
            )
        ),
        CsvUpload: str(
            CsvUpload(user=User(email="pat@example.com"), product=product, filename="plan.csv")
        ),
        WebhookEndpoint: str(endpoint),
        RatingRound: str(RatingRound(product=product, name="Q3 planning")),
        RatingRoundRater: str(
            RatingRoundRater(
                round=RatingRound(name="Q3 planning"), user=User(email="pat@example.com")
            )
        ),
        Rating: str(
            Rating(
                rater=User(email="pat@example.com"),
                feature=feature,
                input_key="reach",
                value=Decimal("120.00"),
            )
        ),
        WebhookDelivery: str(
            WebhookDelivery(endpoint=endpoint, event="feature.created", status="failed")
        ),
        CustomField: str(segment),
        CustomFieldChoice: str(enterprise),
        FeatureFieldValue: str(
            FeatureFieldValue(feature=feature, field=segment, choice=enterprise)
        ),
    }

    assert texts == {
        Product: "Planner",
        CustomField: "Segment (Choice)",
        CustomFieldChoice: "Enterprise = 3.50",
        FeatureFieldValue: "Dark mode · Segment: Enterprise",
        Persona: "Ops lead",
        ScoringDriver: "Strategic fit (×2.00)",
        ScoringFormulaVersion: "Planner formula v3",
        Tag: "ux",
        Feature: "Dark mode",
        FeatureDriverScore: "Dark mode · Strategic fit: 7",
        FeatureRankSnapshot: "Dark mode #3 on 2026-11-23",
        Insight: "Acme: " + "x" * 60,
        Objective: "Weekly actives up",
        Release: "2026.1",
        Lane: "Onboarding",
        RoadmapItem: "Dark mode",
        ShareLink: "Acme QBR (Customers)",
        ChangeEvent: "Moved at 2026-11-23 12:00",
        Subscription: "fan@example.com → Planner",
        DigestDelivery: "Digest 2026-W48 for fan@example.com (sent)",
        Positioning: "Positioning of Planner",
        PositioningAnswer: "Planner: What is the main problem it solves?",
        Competitor: "Fieldly",
        Comparison: "Fieldly · Dark mode: Better than ours",
        MarketSize: "Planner TAM 5000000.00 (2026-11-23)",
        RevenueModel: "Revenue model of Planner",
        PricePlan: "Team (1200.00/year)",
        LaunchTemplateTask: "Marketing: Write the blog post",
        LaunchTask: "2026.1: Demo",
        TableLayout: "pat on Planner: hides kano, personas",
        CsvUpload: "plan.csv, pat on Planner",
        WebhookEndpoint: "https://hooks.example.com/w",
        WebhookDelivery: "feature.created → https://hooks.example.com/w (failed)",
        Customer: "Acme",
        CustomerDomain: "acme.com",
        Experiment: "Teams want dark mode",
        Contact: "ana@acme.com",
        Vote: "ana@acme.com → Dark",
        FeatureRequest: "Dark mode",
        Requester: "ana@acme.com asked for Dark",
        ShipNotice: f"Ship notice of {feature} to ana@acme.com (sent)",
        RatingRound: "Q3 planning",
        RatingRoundRater: "pat in Q3 planning",
        Rating: "pat on Dark mode: reach = 120.00",
    }
    assert set(texts) == set(MODELS)
    assert str(link_subscription) == "out@example.com → Acme QBR (Customers)"
    assert str(RoadmapItem(product=product, title="Platform health")) == "Platform health"


# --- Workspace scoping ---------------------------------------------------------------------


def _subscription(product):
    return Subscription.objects.create(product=product, email=f"s{product.pk}@example.com")


def _rating_round(product):
    """A round of one feature with one rater (rows, not the service: the scoping is tested)."""
    made = RatingRound.objects.create(product=product, name=f"Round {product.pk}")
    made.features.add(f.FeatureFactory(product=product))
    RatingRoundRater.objects.create(round=made, user=f.UserFactory())
    return made


def _endpoint(product):
    return WebhookEndpoint.objects.create(
        workspace=product.workspace, url="https://hooks.example.com/", events=["feature.created"]
    )


# One row of each scoped model in a product; the Product builder returns the product itself.
BUILDERS = {
    Product: lambda p: p,
    Persona: lambda p: f.PersonaFactory(product=p),
    ScoringDriver: lambda p: f.ScoringDriverFactory(product=p),
    ScoringFormulaVersion: lambda p: ScoringFormulaVersion.objects.create(
        product=p, number=1, source="value / effort"
    ),
    Tag: lambda p: f.TagFactory(product=p),
    CustomField: lambda p: f.CustomFieldFactory(product=p),
    CustomFieldChoice: lambda p: f.CustomFieldChoiceFactory(field__product=p),
    FeatureFieldValue: lambda p: f.FeatureFieldValueFactory(feature=f.FeatureFactory(product=p)),
    Feature: lambda p: f.FeatureFactory(product=p),
    FeatureDriverScore: lambda p: f.FeatureDriverScoreFactory(feature=f.FeatureFactory(product=p)),
    Insight: lambda p: f.InsightFactory(product=p),
    Customer: lambda p: Customer.objects.create(product=p, name="Acme"),
    Experiment: lambda p: Experiment.objects.create(product=p, hypothesis="H"),
    Contact: lambda p: Contact.objects.create(product=p, email="a@acme.com"),
    Vote: lambda p: Vote.objects.create(
        item=f.RoadmapItemFactory(product=p),
        contact=Contact.objects.create(product=p, email="v@acme.com"),
    ),
    FeatureRequest: lambda p: FeatureRequest.objects.create(product=p, title="T"),
    Objective: lambda p: f.ObjectiveFactory(product=p),
    Release: lambda p: f.ReleaseFactory(product=p),
    Lane: lambda p: f.LaneFactory(product=p),
    RoadmapItem: lambda p: f.RoadmapItemFactory(product=p),
    ShareLink: lambda p: f.ShareLinkFactory(product=p),
    ChangeEvent: lambda p: ChangeEvent.objects.create(product=p, kind="moved", occurred_at=NOON),
    Subscription: _subscription,
    DigestDelivery: lambda p: DigestDelivery.objects.create(
        subscription=_subscription(p), period="2026-W48", events_through=NOON
    ),
    Positioning: lambda p: f.PositioningFactory(product=p),
    PositioningAnswer: lambda p: f.PositioningAnswerFactory(
        positioning=f.PositioningFactory(product=p)
    ),
    Competitor: lambda p: f.CompetitorFactory(product=p),
    Comparison: lambda p: f.ComparisonFactory(competitor=f.CompetitorFactory(product=p)),
    MarketSize: lambda p: f.MarketSizeFactory(product=p),
    RevenueModel: lambda p: f.RevenueModelFactory(product=p),
    PricePlan: lambda p: f.PricePlanFactory(product=p),
    LaunchTemplateTask: lambda p: f.LaunchTemplateTaskFactory(workspace=p.workspace),
    LaunchTask: lambda p: f.LaunchTaskFactory(release=f.ReleaseFactory(product=p)),
    WebhookEndpoint: _endpoint,
    RatingRound: _rating_round,
    RatingRoundRater: lambda p: _rating_round(p).seats.get(),
    Rating: lambda p: Rating.objects.create(
        round=_rating_round(p), rater=f.UserFactory(), feature=f.FeatureFactory(product=p), value=1
    ),
    WebhookDelivery: lambda p: WebhookDelivery.objects.create(
        endpoint=_endpoint(p), event="feature.created", payload={}
    ),
}
SCOPED = [model for model in MODELS if hasattr(model.objects, "for_user")]


def test_every_scoped_model_is_covered():
    assert set(SCOPED) == set(BUILDERS)


@pytest.mark.parametrize("model", SCOPED, ids=lambda m: m.__name__)
def test_for_user_returns_only_rows_of_the_users_workspaces(
    model, product, editor, viewer, outsider, other_workspace
):
    mine = BUILDERS[model](product)
    theirs = BUILDERS[model](f.ProductFactory(workspace=other_workspace))
    both = f.MembershipFactory(workspace=other_workspace, role=Role.VIEWER).user
    f.MembershipFactory(workspace=product.workspace, user=both, role=Role.VIEWER)

    assert list(model.objects.for_user(editor)) == [mine]
    assert list(model.objects.for_user(viewer)) == [mine]
    assert list(model.objects.for_user(outsider)) == [theirs]
    assert set(model.objects.for_user(both)) == {mine, theirs}
    assert model.objects.for_user(both).count() == 2
    assert list(model.objects.for_user(AnonymousUser())) == []
    assert list(model.objects.for_workspace(other_workspace)) == [theirs]


@pytest.mark.parametrize("model", SCOPED, ids=lambda m: m.__name__)
def test_user_without_workspace_sees_nothing(model, product):
    BUILDERS[model](product)
    loner = f.UserFactory()

    assert list(model.objects.for_user(loner)) == []
