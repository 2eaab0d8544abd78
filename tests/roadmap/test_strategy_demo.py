"""The demo workspace has what it takes to try strategy and launch: a positioning citing real
insights, two competitors, market size, a revenue model, a template and a release half-ready."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from roadmap.models import (
    Comparison,
    LaunchTemplateTask,
    Positioning,
    Product,
    Release,
)
from roadmap.sharing import external
from roadmap.sharing.services.digests import digest_build, subscription_add
from roadmap.strategy.selectors.launch import release_readiness
from roadmap.strategy.selectors.strategy import business_case
from roadmap.strategy.services import launch
from tests import factories as f


@pytest.fixture
def insight_product(db):
    call_command("seed_demo", stdout=StringIO())
    return Product.objects.get(slug="northwind-insight")


def test_demo_positioning_cites_real_insights_and_is_shown_to_investors(insight_product):
    positioning = Positioning.objects.get(product=insight_product)
    answers = positioning.answers.all()

    assert answers.count() == 7
    assert all(a.text and a.insights.exists() for a in answers)
    cited = {i.customer for a in answers for i in a.insights.all()}
    assert {"Meridian Utilities", "Atlas Cold Chain", "Bluepeak Logistics"} <= cited
    assert positioning.show_to_investors
    roadmap = external.external_roadmap(product=insight_product, audience="investors")
    assert len(roadmap["positioning"]) == 7


def test_demo_market_and_business_case(insight_product):
    assert sorted(insight_product.competitors.values_list("name", flat=True)) == [
        "Fieldlytics",
        "OpsBoard",
    ]
    assert Comparison.objects.filter(competitor__product=insight_product).count() == 18
    assert set(insight_product.market_sizes.values_list("kind", flat=True)) == {"tam", "sam", "som"}
    assert set(
        insight_product.features.exclude(market_position="").values_list(
            "market_position", flat=True
        )
    ) == {"parity", "differentiator"}
    case = business_case(product=insight_product)
    assert case.model_saved and len(case.plans) == 3 and case.plans_revenue > 0
    assert len([b for b in case.by_quarter if b.label != "Unscheduled"]) >= 2


def test_demo_release_walks_to_shipped_and_the_digest_says_so(insight_product):
    assert LaunchTemplateTask.objects.filter(workspace=insight_product.workspace).count() == 11
    release = Release.objects.get(product=insight_product, name="Insight 4.3")
    readiness = release_readiness(release=release)
    assert readiness.status == "in_progress"
    assert (readiness.tasks_done, readiness.tasks_total) == (5, 11)
    link = f.ShareLinkFactory(product=insight_product, audience="customers")
    subscription = subscription_add(
        product=insight_product, share_link=link, email="ops@customer.example"
    )
    since = timezone.now() - datetime.timedelta(seconds=1)
    pm = insight_product.workspace.memberships.get(role="admin").user

    for team in readiness.teams:
        for task in team.tasks:
            launch.launch_task_complete(task=task, actor=pm)
    assert release_readiness(release=release).status == "ready"
    result = launch.release_ship(release=release, actor=pm)

    assert len(result.shipped) == 3 and not result.forced
    digest = digest_build(
        subscription=subscription,
        since=since,
        until=timezone.now() + datetime.timedelta(seconds=1),
    )
    for title in ("Regional access control", "KPI alerts", "Calculated metrics"):
        assert digest.text.count(f"{title} — Shipped") == 1
