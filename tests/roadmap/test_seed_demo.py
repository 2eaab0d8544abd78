"""`manage.py seed_demo`: a believable demo workspace, loaded idempotently, plus `--scale N`."""

import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role, User, Workspace
from roadmap.models import (
    Feature,
    FeatureDriverScore,
    FeatureRankSnapshot,
    FeatureStatus,
    Horizon,
    Insight,
    Objective,
    Product,
    Release,
    RoadmapItem,
    ScoringDriver,
)
from tests import factories as f

LOGIN_LINE = "Demo login: demo@waymark.example / waymark-demo"
OPEN_LINE = "Open http://127.0.0.1:8000/"
DEMO_PRODUCTS = {"northwind-insight", "northwind-field", "northwind-connect"}
CLOSED = (FeatureStatus.SHIPPED, FeatureStatus.ARCHIVED)


def _seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def _all_rows() -> dict[str, list[dict]]:
    """Every row of every table (many-to-many tables included), as plain values."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models(include_auto_created=True)
    }


def _demo_content() -> dict[str, list]:
    """The demo rows by natural key, without ids or timestamps: what two loads must agree on."""
    features = Feature.objects.filter(product__slug__in=DEMO_PRODUCTS)
    return {
        "features": sorted(
            features.values_list(
                "product__slug",
                "title",
                "status",
                "owner__email",
                "reach",
                "impact",
                "confidence",
                "effort",
                "business_value",
                "value",
                "moscow",
                "kano",
                "expected_revenue",
                "score",
                "rank",
            )
        ),
        "tags": sorted(features.values_list("title", "tags__name")),
        "personas": sorted(features.values_list("title", "personas__name")),
        "insights": sorted(
            Insight.objects.filter(product__slug__in=DEMO_PRODUCTS).values_list(
                "customer", "text", "source", "persona__name", "observed_on", "features__title"
            )
        ),
        "items": sorted(
            RoadmapItem.objects.filter(product__slug__in=DEMO_PRODUCTS).values_list(
                "product__slug",
                "feature__title",
                "title",
                "horizon",
                "position",
                "lane__name",
                "release__name",
                "start_date",
                "end_date",
                "visibility",
                "external_title",
            ),
            key=str,
        ),
        "snapshots": sorted(
            FeatureRankSnapshot.objects.values_list("feature__title", "taken_on", "rank")
        ),
    }


@pytest.fixture
def seeded(db):
    return _seed()


def test_seed_prints_the_demo_login_and_the_address(seeded):
    lines = seeded.splitlines()

    assert lines[0].startswith("Northwind Labs: created 3 users, 3 memberships, 3 products, ")
    assert LOGIN_LINE in lines
    assert OPEN_LINE == lines[-1]


def test_second_run_changes_no_row_and_no_value(seeded):
    before = _all_rows()

    output = _seed()

    assert _all_rows() == before
    assert output.splitlines()[0].startswith("Northwind Labs is already loaded; nothing changed")
    assert LOGIN_LINE in output.splitlines()


def test_demo_user_logs_in_as_workspace_admin(seeded, client):
    workspace = Workspace.objects.get(slug="northwind-labs")
    roles = dict(Membership.objects.filter(workspace=workspace).values_list("user__email", "role"))

    assert roles == {
        "demo@waymark.example": Role.ADMIN,
        "priya@waymark.example": Role.EDITOR,
        "sam@waymark.example": Role.VIEWER,
    }
    assert client.login(email="demo@waymark.example", password="waymark-demo")
    client.logout()
    response = client.post(
        reverse("accounts:login"),
        {"username": "demo@waymark.example", "password": "waymark-demo"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("roadmap:home")
    assert client.session["_auth_user_id"] == str(User.objects.get(email="demo@waymark.example").pk)


def test_workspace_has_the_promised_shape(seeded):
    today = timezone.localdate()
    workspace = Workspace.objects.get(slug="northwind-labs")
    products = Product.objects.filter(workspace=workspace)
    features = Feature.objects.filter(product__workspace=workspace)
    insights = Insight.objects.filter(product__workspace=workspace)
    items = RoadmapItem.objects.filter(product__workspace=workspace)

    assert set(products.values_list("slug", flat=True)) == DEMO_PRODUCTS
    assert all(p.vision and p.description and p.product_line for p in products)
    for product in products.annotate(
        n_personas=Count("personas", distinct=True), n_objectives=Count("objectives", distinct=True)
    ):
        assert 3 <= product.n_personas <= 5, product
        assert 2 <= product.n_objectives <= 4, product
    assert features.count() >= 55
    assert set(features.values_list("status", flat=True)) == set(FeatureStatus.values)
    assert not features.filter(requirements="").exists()
    assert all(
        "## Acceptance criteria\n\n1. " in r
        for r in features.values_list("requirements", flat=True)
    )
    assert insights.count() >= 90
    links = insights.annotate(n=Count("features")).values_list("n", flat=True)
    assert set(links) <= {1, 2, 3}
    assert set(insights.values_list("source", flat=True)) == {
        "call",
        "interview",
        "ticket",
        "survey",
        "sales",
    }
    oldest = insights.order_by("observed_on").first().observed_on
    assert today - timedelta(days=183) <= oldest
    assert insights.order_by("-observed_on").first().observed_on <= today
    assert not Objective.objects.filter(
        product__workspace=workspace, features__isnull=True
    ).exists()
    releases = Release.objects.filter(product__workspace=workspace)
    assert releases.filter(target_date__lt=today, status="released").exists()
    assert releases.filter(target_date__gt=today).exists()
    assert 25 <= items.count() <= 35
    assert set(items.values_list("horizon", flat=True)) == set(Horizon.values)
    external = items.filter(visibility="external")
    assert external.count() >= 5
    assert not external.filter(external_title="").exists()
    assert items.filter(feature__isnull=True).exclude(title="").count() == 2


def test_weighted_product_scores_come_from_its_drivers(seeded):
    field = Product.objects.get(slug="northwind-field")
    offline = Feature.objects.get(product=field, title="Full offline mode with background sync")
    ar = Feature.objects.get(product=field, title="AR overlay for equipment manuals")

    assert field.scoring_framework == "weighted"
    assert list(ScoringDriver.objects.filter(product=field).values_list("name", "weight")) == [
        ("Customer value", 3),
        ("Strategic fit", 2),
        ("Revenue potential", 1.5),
    ]
    assert FeatureDriverScore.objects.filter(feature__product=field).count() == 20 * 3 - 1
    # (3·10 + 2·9 + 1.5·8) / (3 + 2 + 1.5)
    assert offline.score == pytest.approx(60 / 6.5)
    assert offline.rank == 1
    # One driver score left empty on purpose: the app shows the missing input.
    assert ar.score is None
    assert ar.score_breakdown["inputs"]["weighted_drivers"]["value"] is None
    assert Feature.objects.filter(product=field, score__isnull=False).count() == 19


def test_evidence_product_takes_reach_from_distinct_customers(seeded):
    alerts = Feature.objects.get(title="Threshold alerts on any KPI")

    assert alerts.product.reach_source == "insights"
    assert alerts.reach is None
    assert alerts.insights.values("customer").distinct().count() == 5
    assert alerts.score_breakdown["inputs"]["reach"] == {"value": 5.0, "source": "insights"}
    assert alerts.score == pytest.approx(5 * 2 * 0.9 / 3)


def test_every_scored_open_feature_is_ranked_and_some_inputs_are_missing(seeded):
    for product in Product.objects.filter(slug__in=DEMO_PRODUCTS):
        features = Feature.objects.filter(product=product)
        open_features = features.exclude(status__in=CLOSED)

        assert not open_features.filter(score__isnull=False, rank__isnull=True).exists()
        ranks = sorted(open_features.values_list("rank", flat=True))
        assert ranks == list(range(1, open_features.count() + 1)), product
        assert not features.filter(status__in=CLOSED, rank__isnull=False).exists()
        # Each product shows the "missing input" state on at least one open feature.
        unscored = open_features.filter(score__isnull=True)
        assert unscored.exists(), product
        assert all(f.score_breakdown["inputs"] for f in unscored)
        assert (
            unscored.order_by("rank").first().rank
            > open_features.filter(score__isnull=False).order_by("-rank").first().rank
        )


def test_rank_snapshots_show_movement_since_last_week(seeded):
    today = timezone.localdate()
    ranked = Feature.objects.filter(product__slug__in=DEMO_PRODUCTS, rank__isnull=False)
    now = dict(ranked.values_list("pk", "rank"))
    taken = FeatureRankSnapshot.objects.filter(feature__in=ranked)
    week_ago = dict(taken.filter(taken_on=today - timedelta(days=7)).values_list("feature", "rank"))

    assert dict(taken.filter(taken_on=today).values_list("feature", "rank")) == now
    assert week_ago.keys() == now.keys()
    assert any(week_ago[pk] != rank for pk, rank in now.items())
    for product in Product.objects.filter(slug__in=DEMO_PRODUCTS):
        product_ranks = sorted(
            week_ago[pk] for pk in ranked.filter(product=product).values_list("pk", flat=True)
        )
        assert product_ranks == list(range(1, len(product_ranks) + 1))


def test_every_seeded_feature_and_roadmap_item_has_its_created_record(seeded):
    features = Feature.objects.filter(product__slug__in=DEMO_PRODUCTS)
    items = RoadmapItem.objects.filter(product__slug__in=DEMO_PRODUCTS)

    for model, rows in ((Feature, features), (RoadmapItem, items)):
        created = model.history.filter(history_type="+", id__in=rows.values("pk"))
        assert sorted(created.values_list("id", flat=True)) == sorted(
            rows.values_list("pk", flat=True)
        )
        assert set(created.values_list("history_user__email", flat=True)) == {
            "demo@waymark.example"
        }
    # The history holds what was created: the title as seeded.
    feature = features.order_by("pk").first()
    assert feature.history.get().title == feature.title


def test_rerun_keeps_a_pms_edits_and_deletions(seeded):
    feature = Feature.objects.get(title="Dark mode")
    Feature.objects.filter(pk=feature.pk).update(title="Dark theme", reach=7)
    insight = Insight.objects.filter(customer="Fernwood Health").first()
    insight.delete()
    before = _all_rows()

    _seed()

    assert _all_rows() == before
    assert not Feature.objects.filter(title="Dark mode").exists()
    assert Feature.objects.get(pk=feature.pk).title == "Dark theme"
    assert not Insight.objects.filter(pk=insight.pk).exists()


def test_rerun_restores_a_deleted_product_and_leaves_the_others(seeded):
    Product.objects.filter(slug="northwind-connect").delete()
    others = Feature.objects.filter(product__slug__in=["northwind-insight", "northwind-field"])
    untouched = list(others.order_by("pk").values())

    output = _seed()

    assert output.startswith("Northwind Labs: created 1 product, 4 personas, 20 features, ")
    assert list(others.order_by("pk").values()) == untouched
    assert Feature.objects.filter(product__slug="northwind-connect").count() == 20


def test_two_loads_from_scratch_are_identical(seeded):
    first = _demo_content()
    Workspace.objects.filter(slug="northwind-labs").delete()
    User.objects.filter(email__endswith="@waymark.example").delete()
    FeatureRankSnapshot.objects.all().delete()

    _seed()

    assert _demo_content() == first


def test_scale_adds_exactly_n_features_and_rerun_adds_none(seeded):
    output = _seed("--scale", "500")
    scale = Product.objects.get(slug="scale-test")
    features = Feature.objects.filter(product=scale)

    assert scale.workspace.slug == "northwind-labs"
    assert features.count() == 500
    assert "Scale test: added 500 features, 500 in “scale-test”, in " in output
    assert LOGIN_LINE in output.splitlines()
    # Every tenth synthetic feature lacks its effort; the rest are scored and the open ones ranked.
    assert features.filter(score__isnull=True).count() == 50
    open_features = features.exclude(status__in=CLOSED)
    assert sorted(open_features.values_list("rank", flat=True)) == list(
        range(1, open_features.count() + 1)
    )
    assert set(features.values_list("status", flat=True)) == set(FeatureStatus.values)
    assert features.values("reach", "impact", "confidence", "effort").distinct().count() > 400
    before = _all_rows()

    again = _seed("--scale", "500")

    assert _all_rows() == before
    assert "Scale test: added 0 features, 500 in “scale-test”" in again


def test_scale_tops_up_to_n(seeded):
    _seed("--scale", "300")
    first = list(Feature.objects.filter(product__slug="scale-test").order_by("pk").values("title"))

    output = _seed("--scale", "450")

    titles = list(Feature.objects.filter(product__slug="scale-test").order_by("pk").values("title"))
    assert "Scale test: added 150 features, 450 in “scale-test”" in output
    assert len(titles) == 450
    assert titles[:300] == first
    assert len({t["title"] for t in titles}) == 450


def test_a_demo_slug_used_in_another_workspace_does_not_stop_the_load(db):
    theirs = f.ProductFactory(slug="northwind-field", name="Theirs")

    _seed()

    demo = Workspace.objects.get(slug="northwind-labs")
    assert Product.objects.get(workspace=demo, slug="northwind-field").name != "Theirs"
    assert Product.objects.get(pk=theirs.pk).workspace != demo


def test_negative_scale_is_refused(db):
    with pytest.raises(CommandError, match="--scale must be 0 or more."):
        _seed("--scale", "-1")
    assert not Workspace.objects.exists()


@pytest.mark.slow
def test_make_run_steps_work_on_a_fresh_sqlite_file(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "DEBUG": "1"}
    env.pop("REDIS_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)  # manage.py's own, not the tests' settings
    manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]

    migrate = subprocess.run(
        [*manage, "migrate", "--noinput"], env=env, capture_output=True, text=True, timeout=300
    )
    seed = subprocess.run(
        [*manage, "seed_demo"], env=env, capture_output=True, text=True, timeout=300
    )

    assert migrate.returncode == 0, migrate.stderr
    assert seed.returncode == 0, seed.stderr
    assert LOGIN_LINE in seed.stdout.splitlines()
    assert OPEN_LINE in seed.stdout.splitlines()
    assert (tmp_path / "db.sqlite3").stat().st_size > 0
