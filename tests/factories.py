"""factory_boy factories for every model; exposed as fixtures in conftest.py."""

from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import Membership, Role, User, Workspace
from roadmap.models import (
    Comparison,
    Competitor,
    CustomField,
    CustomFieldChoice,
    CustomFieldKind,
    Feature,
    FeatureDriverScore,
    FeatureFieldValue,
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
    Release,
    RevenueModel,
    RoadmapItem,
    ScoringDriver,
    ShareLink,
    Tag,
)
from roadmap.planning.scoring import driver_key


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Company {n}")
    slug = factory.Sequence(lambda n: f"company-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    workspace = factory.SubFactory(WorkspaceFactory)
    role = Role.EDITOR


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    vision = "Make planning effortless."


class PersonaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Persona

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Persona {n}")
    segment = "Mid-market"
    segment_size = 100


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"tag{n}")


class FeatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Feature

    product = factory.SubFactory(ProductFactory)
    title = factory.Sequence(lambda n: f"Feature {n}")
    status = "idea"
    reach = 100
    impact = Decimal("1.00")
    confidence = 80
    effort = Decimal("2.00")


class ScoringDriverFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScoringDriver

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Driver {n}")
    weight = Decimal("1.00")


class FeatureDriverScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeatureDriverScore

    feature = factory.SubFactory(FeatureFactory)
    driver = factory.SubFactory(
        ScoringDriverFactory, product=factory.SelfAttribute("..feature.product")
    )
    score = 5


class CustomFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomField

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Field {n}")
    key = factory.LazyAttribute(lambda o: driver_key(o.name))
    kind = CustomFieldKind.NUMBER


class CustomFieldChoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomFieldChoice

    field = factory.SubFactory(CustomFieldFactory, kind=CustomFieldKind.CHOICE)
    label = factory.Sequence(lambda n: f"Choice {n}")
    value = Decimal("1.00")


class FeatureFieldValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeatureFieldValue

    feature = factory.SubFactory(FeatureFactory)
    field = factory.SubFactory(
        CustomFieldFactory, product=factory.SelfAttribute("..feature.product")
    )
    value = Decimal("5.00")


class InsightFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Insight

    product = factory.SubFactory(ProductFactory)
    source = "call"
    customer = factory.Sequence(lambda n: f"Customer {n}")
    text = "We need this badly."
    observed_on = factory.LazyFunction(timezone.localdate)


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Objective

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Objective {n}")
    metric = "weekly active teams"
    baseline = Decimal("100")
    target = Decimal("200")
    current = Decimal("120")


class ReleaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Release

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Release {n}")


class LaneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lane

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Lane {n}")


class RoadmapItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoadmapItem

    product = factory.SubFactory(ProductFactory)
    feature = factory.SubFactory(FeatureFactory, product=factory.SelfAttribute("..product"))
    horizon = "now"


class ShareLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShareLink

    product = factory.SubFactory(ProductFactory)
    label = factory.Sequence(lambda n: f"Link {n}")
    audience = "customers"


class PositioningFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Positioning

    product = factory.SubFactory(ProductFactory)


class PositioningAnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PositioningAnswer

    positioning = factory.SubFactory(PositioningFactory)
    question = "problem"
    text = "Field teams lose a day a week to paperwork."


class CompetitorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Competitor

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Competitor {n}")


class ComparisonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comparison

    competitor = factory.SubFactory(CompetitorFactory)
    feature = factory.SubFactory(
        FeatureFactory, product=factory.SelfAttribute("..competitor.product")
    )
    status = "has"


class MarketSizeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MarketSize

    product = factory.SubFactory(ProductFactory)
    kind = "tam"
    value = Decimal("1000000")
    source = "Analyst report"
    as_of = factory.LazyFunction(timezone.localdate)


class RevenueModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RevenueModel

    product = factory.SubFactory(ProductFactory)


class PricePlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PricePlan

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Plan {n}")
    yearly_price = Decimal("1200")


class LaunchTemplateTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LaunchTemplateTask

    workspace = factory.SubFactory(WorkspaceFactory)
    team = "marketing"
    title = factory.Sequence(lambda n: f"Launch task {n}")


class LaunchTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LaunchTask

    release = factory.SubFactory(ReleaseFactory)
    team = "engineering"
    title = factory.Sequence(lambda n: f"Task {n}")


def custom_fields(product):
    """Three custom fields of a product: Segment (choice: SMB 1, Enterprise 3), Urgent (yes/no),
    Deal size (number)."""
    from roadmap.planning.services import fields as field_services

    segment = field_services.custom_field_save(
        product=product, name="Segment", kind="choice", choices=[("SMB", "1"), ("Enterprise", "3")]
    )
    urgent = field_services.custom_field_save(product=product, name="Urgent", kind="yes_no")
    deal = field_services.custom_field_save(product=product, name="Deal size", kind="number")
    return segment, urgent, deal


def features_with_field_values(product):
    """Three ranked features in the fields of ``custom_fields`` (made before): high is
    Enterprise, urgent, 12,500.5; middle SMB, not urgent, 800; low has no value in any field.
    Returns (high, middle, low)."""
    from roadmap.planning.services.features import feature_update
    from roadmap.planning.services.scoring import product_recompute_scores

    low = FeatureFactory(product=product, title="Low", reach=10)
    middle = FeatureFactory(product=product, title="Middle", reach=100)
    high = FeatureFactory(product=product, title="High", reach=1000)
    feature_update(
        feature=high,
        data={},
        custom_fields={"segment": "Enterprise", "urgent": True, "deal_size": "12500.5"},
    )
    feature_update(
        feature=middle,
        data={},
        custom_fields={"segment": "SMB", "urgent": False, "deal_size": "800"},
    )
    product_recompute_scores(product_id=product.pk)
    return high, middle, low
