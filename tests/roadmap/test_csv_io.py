"""CSV export and import of a product's features, through the HTTP client."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from roadmap.integrations.services import csv_io
from roadmap.models import (
    ChangeEvent,
    ChangeKind,
    CsvUpload,
    Feature,
    FeatureDriverScore,
    Persona,
    RoadmapItem,
    Tag,
    WebhookDelivery,
    WebhookEndpoint,
)
from roadmap.planning.services import features as feature_services
from roadmap.planning.services import scoring as scoring_services
from roadmap.planning.services.features import (
    ConflictError,
    FeatureWrite,
    feature_update,
    features_write_many,
)
from roadmap.planning.services.scoring import product_recompute_scores
from roadmap.tasks import sweep_csv_uploads
from tests import factories as f

HistoricalFeature = Feature.history.model

HEADER = [
    "id",
    "title",
    "description",
    "status",
    "moscow",
    "kano",
    "market_position",
    "tags",
    "personas",
    "reach",
    "impact",
    "confidence",
    "effort",
    "impact_ice",
    "confidence_ice",
    "ease",
    "business_value",
    "time_criticality",
    "risk_reduction",
    "job_size",
    "value",
    "expected_revenue",
    "cost",
    "score",
    "rank",
    "horizon",
    "lane",
    "release",
    "updated_at",
]


# --- Helpers -------------------------------------------------------------------------------------


def _export_url(product) -> str:
    return reverse("roadmap:features_export", args=[product.slug])


def _import_url(product) -> str:
    return reverse("roadmap:features_import", args=[product.slug])


def _confirm_url(product) -> str:
    return reverse("roadmap:features_import_confirm", args=[product.slug])


def _body(response) -> str:
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return body[1:]


def _export(client, product, **params) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(_body(client.get(_export_url(product), params)))))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _csv(rows: list[list[object]], delimiter: str = ",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode("utf-8")


def _upload(client, product, content: bytes, name: str = "features.csv", **extra):
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    return client.post(_import_url(product), {"file": upload}, **extra)


def _confirm(client, product, preview, *, only_valid: bool = False, **extra):
    data = {"upload": preview.context["confirm"]["upload"].value()}
    if only_valid:
        data["only_valid"] = "on"
    return client.post(_confirm_url(product), data, **extra)


def _messages(response) -> list[str]:
    """The flash messages a response left for the next page."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def _plan(response) -> csv_io.ImportPlan:
    assert response.status_code == 200, response.content.decode()[:2000]
    return response.context["plan"]


def _errors(plan: csv_io.ImportPlan) -> list[tuple[int, str, str]]:
    return [(row.number, e.column, e.message) for row in plan.invalid for e in row.errors]


def _file_error(response) -> list[str]:
    assert response.status_code == 400
    return response.context["form"].errors["file"]


def _state(product) -> dict:
    """Everything an import could change about a product's features."""
    features = Feature.objects.filter(product=product).order_by("pk")
    return {
        "features": list(features.values()),
        "tags": sorted(
            Feature.tags.through.objects.filter(feature__product=product).values_list(
                "feature_id", "tag__name"
            )
        ),
        "tag_rows": sorted(Tag.objects.filter(product=product).values_list("name", flat=True)),
        "personas": sorted(
            Feature.personas.through.objects.filter(feature__product=product).values_list(
                "feature_id", "persona_id"
            )
        ),
        "drivers": sorted(
            FeatureDriverScore.objects.filter(feature__product=product).values_list(
                "feature_id", "driver_id", "score"
            )
        ),
        "history": HistoricalFeature.objects.filter(product_id=product.pk).count(),
    }


@pytest.fixture
def planned(product):
    """Two scored features, one of them on the roadmap with tags, personas, lane and release."""
    ada = f.PersonaFactory(product=product, name="Ada")
    bob = f.PersonaFactory(product=product, name="Bob")
    alerts = f.FeatureFactory(
        product=product,
        title="Threshold alerts",
        description="Email me when a KPI crosses a line.\nTwice a day at most.",
        status="planned",
        moscow="must",
        kano="basic",
        reach=500,
        impact=Decimal("2.00"),
        confidence=80,
        effort=Decimal("2.50"),
        expected_revenue=Decimal("120000.00"),
    )
    alerts.personas.set([ada, bob])
    alerts.tags.set([f.TagFactory(product=product, name=n) for n in ("mobile", "alerts")])
    f.RoadmapItemFactory(
        product=product,
        feature=alerts,
        horizon="next",
        lane=f.LaneFactory(product=product, name="Reporting"),
        release=f.ReleaseFactory(product=product, name="4.3"),
    )
    plain = f.FeatureFactory(product=product, title="Dark mode", reach=None, impact=None)
    product_recompute_scores(product_id=product.pk)
    alerts.refresh_from_db()
    plain.refresh_from_db()
    return alerts, plain


# --- Export --------------------------------------------------------------------------------------


def test_export_has_every_column_and_one_row_per_feature_in_rank_order(editor_client, planned):
    # given two scored features, one fully described
    alerts, plain = planned
    product = alerts.product

    # when a member downloads the CSV
    response = editor_client.get(_export_url(product))

    # then it is a streamed UTF-8 CSV with a BOM, named after the product and the day
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="{product.slug}-features-{today}.csv"'
    )
    rows = list(csv.reader(io.StringIO(_body(response))))
    assert rows[0] == HEADER
    assert [row[1] for row in rows[1:]] == ["Threshold alerts", "Dark mode"]
    assert dict(zip(HEADER, rows[1], strict=True)) == {
        "id": str(alerts.pk),
        "title": "Threshold alerts",
        "description": "Email me when a KPI crosses a line.\nTwice a day at most.",
        "status": "planned",
        "moscow": "must",
        "kano": "basic",
        "market_position": "",
        "tags": "alerts; mobile",
        "personas": "Ada; Bob",
        "reach": "500",
        "impact": "2.00",
        "confidence": "80",
        "effort": "2.50",
        "impact_ice": "",
        "confidence_ice": "",
        "ease": "",
        "business_value": "",
        "time_criticality": "",
        "risk_reduction": "",
        "job_size": "",
        "value": "",
        "expected_revenue": "120000.00",
        "cost": "",
        "score": "320.00",
        "rank": "1",
        "horizon": "next",
        "lane": "Reporting",
        "release": "4.3",
        "updated_at": timezone.localtime(alerts.updated_at).isoformat(timespec="seconds"),
    }
    plain_row = dict(zip(HEADER, rows[2], strict=True))
    assert (plain_row["id"], plain_row["reach"], plain_row["score"], plain_row["rank"]) == (
        str(plain.pk),
        "",
        "",
        "2",
    )
    assert (plain_row["horizon"], plain_row["lane"], plain_row["tags"]) == ("", "", "")


def test_export_of_a_weighted_product_has_a_column_per_driver(editor_client, workspace):
    # given a weighted-scoring product with two drivers and a feature scored on one
    product = f.ProductFactory(workspace=workspace, scoring_framework="weighted")
    fit = f.ScoringDriverFactory(product=product, name="Strategic fit", position=0)
    f.ScoringDriverFactory(product=product, name="Revenue", position=1)
    feature = f.FeatureFactory(product=product)
    f.FeatureDriverScoreFactory(feature=feature, driver=fit, score=7)

    # when it is exported
    rows = _export(editor_client, product)

    # then each driver has its column, after the plain inputs
    assert list(rows[0])[20:24] == [
        "value",
        "driver: Strategic fit",
        "driver: Revenue",
        "expected_revenue",
    ]
    assert (rows[0]["driver: Strategic fit"], rows[0]["driver: Revenue"]) == ("7", "")


@pytest.mark.parametrize(
    ("title", "cell"),
    [
        ('=HYPERLINK("http://evil.example")', '\'=HYPERLINK("http://evil.example")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("'=already quoted", "''=already quoted"),
        ("Plain title", "Plain title"),
    ],
)
def test_export_neutralises_formulas_in_text_cells(editor_client, product, title, cell):
    # given a feature whose texts start like spreadsheet formulas
    persona = f.PersonaFactory(product=product, name="@ops")
    feature = f.FeatureFactory(product=product, title=title, description="=1+2", reach=40)
    feature.personas.set([persona])
    feature.tags.set([f.TagFactory(product=product, name="-urgent")])
    f.RoadmapItemFactory(
        product=product, feature=feature, lane=f.LaneFactory(product=product, name="+lane")
    )

    # when it is exported
    (row,) = _export(editor_client, product)

    # then every text cell is quoted so a spreadsheet shows it, and numbers stay numbers
    assert row["title"] == cell
    assert (row["description"], row["personas"], row["tags"], row["lane"]) == (
        "'=1+2",
        "'@ops",
        "'-urgent",
        "'+lane",
    )
    assert (row["reach"], row["confidence"], row["id"]) == ("40", "80", str(feature.pk))


def test_export_follows_the_tables_status_and_search_filters(editor_client, product):
    # given open and shipped features
    f.FeatureFactory(product=product, title="Alerts by email", status="planned")
    f.FeatureFactory(product=product, title="Alerts in Slack", status="shipped")
    f.FeatureFactory(product=product, title="Dark mode", status="idea")

    def titles(**params):
        return sorted(row["title"] for row in _export(editor_client, product, **params))

    # then no filter exports everything, and status / q narrow it as the table does
    assert titles() == ["Alerts by email", "Alerts in Slack", "Dark mode"]
    assert titles(status="open") == ["Alerts by email", "Dark mode"]
    assert titles(status="shipped") == ["Alerts in Slack"]
    assert titles(status="all", q="alerts") == ["Alerts by email", "Alerts in Slack"]
    assert titles(status="open", q="ALERTS") == ["Alerts by email"]


def test_export_is_for_members_only(client, viewer, outsider, product):
    f.FeatureFactory(product=product, title="Alerts")

    assert client.get(_export_url(product)).status_code == 302  # to the login page

    client.force_login(viewer)
    assert [row["title"] for row in _export(client, product)] == ["Alerts"]

    client.force_login(outsider)
    assert client.get(_export_url(product)).status_code == 404


def test_export_of_1000_features_runs_a_constant_number_of_queries(
    editor_client, workspace, django_assert_max_num_queries
):
    # given a weighted product with 1,000 features, each with tags, personas and a driver score
    product = f.ProductFactory(workspace=workspace, scoring_framework="weighted")
    driver = f.ScoringDriverFactory(product=product, name="Fit")
    persona = f.PersonaFactory(product=product, name="Ada")
    tag = f.TagFactory(product=product, name="bulk")
    features = Feature.objects.bulk_create(
        Feature(product=product, title=f"Feature {i}", reach=i) for i in range(1000)
    )
    Feature.tags.through.objects.bulk_create(
        Feature.tags.through(feature=feature, tag=tag) for feature in features
    )
    Feature.personas.through.objects.bulk_create(
        Feature.personas.through(feature=feature, persona=persona) for feature in features
    )
    FeatureDriverScore.objects.bulk_create(
        FeatureDriverScore(feature=feature, driver=driver, score=5) for feature in features
    )

    # when it is exported, then the query count does not depend on the number of features
    with django_assert_max_num_queries(9):
        rows = _export(editor_client, product)
    assert len(rows) == 1000
    assert {(r["tags"], r["personas"], r["driver: Fit"]) for r in rows} == {("bulk", "Ada", "5")}


# --- Import: the happy paths ---------------------------------------------------------------------


def test_import_page_explains_the_columns_and_links_to_the_template(editor_client, product):
    response = editor_client.get(_import_url(product))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="file"' in html
    assert f'href="{_export_url(product)}"' in html
    assert f'href="{product.get_absolute_url()}"' in html
    assert "<code>confidence</code>" in html
    assert "Confidence is a percentage between 0 and 100." in html


def test_round_trip_of_the_export_changes_nothing(editor_client, planned):
    # given an exported product (with a formula-like title and a multi-line description)
    alerts, _ = planned
    product = alerts.product
    feature_update(feature=alerts, data={"title": "=2+2 alerts"})
    before = _state(product)
    exported = editor_client.get(_export_url(product))
    content = b"".join(exported.streaming_content)

    # when the very same file is imported
    preview = _upload(editor_client, product, content)

    # then every row is unchanged, nothing is importable, and nothing was written
    plan = _plan(preview)
    assert [row.action for row in plan.rows] == ["unchanged", "unchanged"]
    assert plan.unknown_columns == []
    assert plan.ignored_columns == ["score", "rank", "horizon", "lane", "release", "updated_at"]
    response = _confirm(editor_client, product, preview)
    assert response.status_code == 400
    assert "Nothing to import" in response.content.decode()
    assert _state(product) == before


def test_round_trip_of_a_weighted_product_changes_nothing(editor_client, workspace):
    product = f.ProductFactory(workspace=workspace, scoring_framework="weighted")
    fit = f.ScoringDriverFactory(product=product, name="Strategic fit")
    feature = f.FeatureFactory(product=product, title="-negative looking")
    f.FeatureDriverScoreFactory(feature=feature, driver=fit, score=0)
    f.FeatureFactory(product=product, title="@mention")
    before = _state(product)

    content = b"".join(editor_client.get(_export_url(product)).streaming_content)
    plan = _plan(_upload(editor_client, product, content))

    assert [row.action for row in plan.rows] == ["unchanged", "unchanged"]
    assert _state(product) == before


@pytest.fixture
def evidence_reach(workspace):
    """A product whose reach is counted from evidence: a typed reach of 999 left from before, two
    distinct customers (Acme twice) in the feature's insights."""
    product = f.ProductFactory(workspace=workspace, reach_source="insights")
    feature = f.FeatureFactory(product=product, title="Slack alerts", reach=999)
    for customer in ("Acme", "Globex", "acme"):
        f.InsightFactory(product=product, customer=customer).features.add(feature)
    product_recompute_scores(product_id=product.pk)
    feature.refresh_from_db()
    return feature


def test_export_writes_the_reach_the_score_used_when_it_comes_from_evidence(
    editor_client, evidence_reach
):
    product = evidence_reach.product

    (row,) = _export(editor_client, product)

    assert evidence_reach.score_breakdown["inputs"]["reach"] == {"value": 2.0, "source": "insights"}
    assert (row["reach"], row["score"]) == ("2", f"{evidence_reach.score:.2f}")


def test_export_writes_the_summed_segment_size_when_reach_comes_from_personas(
    editor_client, workspace
):
    product = f.ProductFactory(workspace=workspace, reach_source="personas")
    feature = f.FeatureFactory(product=product, title="Offline mode", reach=7)
    feature.personas.set([f.PersonaFactory(product=product, segment_size=n) for n in (1200, 300)])
    product_recompute_scores(product_id=product.pk)
    unscored = f.FeatureFactory(product=product, title="Never scored", reach=5)

    rows = {row["title"]: row for row in _export(editor_client, product)}

    assert rows["Offline mode"]["reach"] == "1500"
    # No scoring yet, so no reach was used: the typed 5 is not what the score would take.
    assert rows[unscored.title]["reach"] == ""


def test_importing_reach_into_an_evidence_reach_product_is_ignored_and_said_so(
    editor_client, evidence_reach
):
    # given the export, with reach typed over (2 → 50) and the title edited
    product = evidence_reach.product
    rows = list(csv.reader(io.StringIO(_body(editor_client.get(_export_url(product))))))
    reach, title = rows[0].index("reach"), rows[0].index("title")
    untouched = _plan(_upload(editor_client, product, _csv(rows)))
    rows[1][reach], rows[1][title] = "50", "Slack alerts v2"

    # when it is imported
    preview = _upload(editor_client, product, _csv(rows))
    plan = _plan(preview)
    response = _confirm(editor_client, product, preview)

    # then the unedited file changes nothing; reach is listed as not imported, the title is
    assert [row.action for row in untouched.rows] == ["unchanged"]
    assert "reach" in plan.ignored_columns
    assert [(c.column, c.before, c.after) for c in plan.rows[0].changes] == [
        ("title", "Slack alerts", "Slack alerts v2")
    ]
    assert "Computed columns (reach, score, rank" in preview.content.decode()
    assert response.status_code == 302
    feature = Feature.objects.get(pk=evidence_reach.pk)
    assert (feature.title, feature.reach, feature.score) == (
        "Slack alerts v2",
        999,
        evidence_reach.score,
    )


def test_the_import_page_says_reach_is_not_imported_when_it_comes_from_evidence(
    editor_client, evidence_reach
):
    html = editor_client.get(_import_url(evidence_reach.product)).content.decode()

    assert (
        "The reach the score used: the distinct customers in linked insights. "
        "Exported for reading; ignored on import."
    ) in html


def test_import_creates_and_updates_features_and_rescores_the_product_once(
    editor_client, editor, planned, monkeypatch
):
    # given a product with two features and a persona
    alerts, plain = planned
    product = alerts.product
    versions = {alerts.pk: alerts.version, plain.pk: plain.version}
    hook = WebhookEndpoint.objects.create(
        workspace=product.workspace,
        url="https://hooks.example.com/waymark",
        events=["feature.created", "feature.updated"],
    )
    history = HistoricalFeature.objects.filter(id=alerts.pk).count()
    content = _csv(
        [
            [
                "ID",
                " Title ",
                "Status",
                "Reach",
                "Impact",
                "Confidence",
                "Effort",
                "Tags",
                "Personas",
            ],
            [
                alerts.pk,
                "Threshold alerts",
                "In progress",
                "900",
                "2",
                "80",
                "2.5",
                "alerts",
                "ada",
            ],
            [plain.pk, "Dark mode", "idea", "", "", "80", "2.00", "", ""],
            ["", "Slack alerts", "", "200", "1", "50", "1", "Chat; alerts", "Bob"],
            ["", "CSV importer", "discovery", "", "", "", "", "", ""],
        ]
    )

    # when the file is previewed
    preview = _upload(editor_client, product, content)

    # then the preview lists what each row creates or changes
    plan = _plan(preview)
    assert [(row.number, row.action) for row in plan.rows] == [
        (2, "update"),
        (3, "unchanged"),
        (4, "create"),
        (5, "create"),
    ]
    assert [(c.column, c.before, c.after) for c in plan.rows[0].changes] == [
        ("status", "Planned", "In progress"),
        ("reach", "500", "900"),
        ("tags", "alerts; mobile", "alerts"),
        ("personas", "Ada; Bob", "Ada"),
    ]
    html = preview.content.decode()
    assert "Slack alerts" in html and "CSV importer" in html
    assert Feature.objects.filter(product=product).count() == 2

    # when it is confirmed (counting the scoring calls)
    calls = []
    for name in ("feature_score", "product_rerank", "product_recompute_scores"):
        real = getattr(scoring_services, name)
        monkeypatch.setattr(
            scoring_services,
            name,
            lambda real=real, name=name, **kw: calls.append(name) or real(**kw),
        )
    monkeypatch.setattr(feature_services, "feature_score", lambda **kw: calls.append(kw))
    response = _confirm(editor_client, product, preview)

    # then it lands on the table with a summary, the product rescored once, not per row
    assert response.status_code == 302
    assert response["Location"] == product.get_absolute_url()
    assert calls == ["product_recompute_scores", "product_rerank"]
    assert _messages(response) == [
        "Imported features.csv: 2 features created, 1 updated, 1 unchanged."
    ]
    alerts.refresh_from_db()
    assert (alerts.status, alerts.reach, alerts.version) == (
        "in_progress",
        900,
        versions[alerts.pk] + 1,
    )
    assert sorted(alerts.tags.values_list("name", flat=True)) == ["alerts"]
    assert list(alerts.personas.values_list("name", flat=True)) == ["Ada"]
    assert alerts.score == pytest.approx(900 * 2 * 0.8 / 2.5)
    assert HistoricalFeature.objects.filter(id=alerts.pk).count() == history + 1
    plain.refresh_from_db()
    assert plain.version == versions[plain.pk]
    slack = Feature.objects.get(product=product, title="Slack alerts")
    assert (slack.status, slack.reach, slack.impact, slack.confidence, slack.effort) == (
        "idea",
        200,
        Decimal("1.00"),
        50,
        Decimal("1.00"),
    )
    assert sorted(slack.tags.values_list("name", flat=True)) == ["alerts", "chat"]
    assert list(slack.personas.values_list("name", flat=True)) == ["Bob"]
    assert slack.score == pytest.approx(100.0)
    importer = Feature.objects.get(product=product, title="CSV importer")
    assert (importer.status, importer.score) == ("discovery", None)
    # the roadmap item of the feature that changed status records it, as an edit would
    event = ChangeEvent.objects.get(feature_id=alerts.pk)
    assert (event.kind, event.before["status"], event.after["status"]) == (
        ChangeKind.STATUS_CHANGED,
        "planned",
        "in_progress",
    )
    assert event.actor == editor
    # and webhooks hear of each new and changed feature
    sent = sorted(
        (d.event, d.payload["data"]["title"], tuple(d.payload["data"]["changed"]))
        for d in WebhookDelivery.objects.filter(endpoint=hook)
    )
    assert sent == [
        ("feature.created", "CSV importer", ()),
        ("feature.created", "Slack alerts", ()),
        ("feature.updated", "Threshold alerts", ("personas", "reach", "status")),
    ]
    assert HistoricalFeature.objects.filter(id=slack.pk).get().history_user == editor
    ranks = dict(Feature.objects.filter(product=product).values_list("title", "rank"))
    assert ranks == {"Threshold alerts": 1, "Slack alerts": 2, "Dark mode": 3, "CSV importer": 4}


def test_import_sets_driver_scores_of_a_weighted_product(editor_client, workspace):
    product = f.ProductFactory(workspace=workspace, scoring_framework="weighted")
    fit = f.ScoringDriverFactory(product=product, name="Strategic fit")
    feature = f.FeatureFactory(product=product, title="Alerts")
    content = _csv(
        [
            ["id", "title", "driver: strategic FIT"],
            [feature.pk, "Alerts", "8"],
            ["", "Reports", "11"],
            ["", "Exports", "3"],
        ]
    )

    preview = _upload(editor_client, product, content)
    assert _errors(_plan(preview)) == [
        (3, "driver: Strategic fit", "A driver score must be between 0 and 10.")
    ]
    assert _confirm(editor_client, product, preview, only_valid=True).status_code == 302

    scores = dict(
        FeatureDriverScore.objects.filter(driver=fit).values_list("feature__title", "score")
    )
    assert scores == {"Alerts": 8, "Exports": 3}
    assert Feature.objects.get(pk=feature.pk).score == pytest.approx(8.0)


def test_headers_are_matched_case_insensitively_and_trimmed_in_any_order(editor_client, product):
    content = _csv(
        [
            [
                "  REACH ",
                "Impact (ICE)",
                "Expected revenue",
                "TITLE",
                "moSCoW",
                "Kano",
                "Market position",
            ],
            ["120", "7", "5000", "Alerts", "Should have", "Delighter", "differentiator"],
        ]
    )

    assert (
        _confirm(editor_client, product, _upload(editor_client, product, content)).status_code
        == 302
    )

    feature = Feature.objects.get(product=product)
    assert (
        feature.title,
        feature.reach,
        feature.impact_ice,
        feature.expected_revenue,
        feature.moscow,
        feature.kano,
        feature.market_position,
    ) == ("Alerts", 120, 7, Decimal("5000.00"), "should", "delighter", "differentiator")


def test_semicolon_separated_files_from_european_spreadsheets_are_read(editor_client, product):
    content = "\ufefftitle;reach;tags\nAlerts;120;a, b\n".encode()

    _confirm(editor_client, product, _upload(editor_client, product, content))

    feature = Feature.objects.get(product=product)
    assert (feature.title, feature.reach) == ("Alerts", 120)
    assert list(feature.tags.values_list("name", flat=True)) == ["a, b"]


def test_the_quote_the_export_puts_before_formulas_is_removed_on_import(editor_client, product):
    content = _csv([["title", "description"], ["'=SUM(A1)", "'-note"], ["'quoted", "'@x"]])

    _confirm(editor_client, product, _upload(editor_client, product, content))

    assert sorted(Feature.objects.values_list("title", "description")) == [
        ("'quoted", "@x"),
        ("=SUM(A1)", "-note"),
    ]


# --- Import: rows with errors --------------------------------------------------------------------


@pytest.fixture
def faulty_file(planned, workspace):
    """A file with one good update, one good new feature and six rows with an error each."""
    alerts, _ = planned
    elsewhere = f.FeatureFactory(product=f.ProductFactory(workspace=workspace))
    return _csv(
        [
            ["id", "title", "status", "impact", "confidence"],
            [alerts.pk, "Threshold alerts", "planned", "1", "80"],
            ["", "Bad status", "someday", "", ""],
            ["", "Bad impact", "idea", "1.5", ""],
            ["", "Too confident", "idea", "", "150"],
            ["999999", "Unknown id", "idea", "", ""],
            [elsewhere.pk, "Other product's feature", "idea", "", ""],
            ["", "", "idea", "", ""],
            ["", "Good new one", "idea", "", "60"],
        ]
    )


def test_row_errors_are_listed_and_a_file_with_errors_imports_nothing(
    editor_client, planned, faulty_file
):
    # given a product and a file where six rows have errors
    alerts, _ = planned
    product = alerts.product
    before = _state(product)

    # when it is previewed
    preview = _upload(editor_client, product, faulty_file)

    # then each error is listed with its row, column and message
    plan = _plan(preview)
    elsewhere_id = faulty_file.decode().splitlines()[6].split(",")[0]
    assert _errors(plan) == [
        (
            3,
            "status",
            "Value 'someday' is not a valid choice. Use one of: idea, discovery, planned, "
            "in_progress, shipped, archived.",
        ),
        (4, "impact", "Impact must be one of 0.25, 0.5, 1, 2 or 3."),
        (5, "confidence", "Confidence is a percentage between 0 and 100."),
        (
            6,
            "id",
            f"“999999” is not the id of a feature of {product.name}. Leave the id empty to "
            "create a new feature.",
        ),
        (
            7,
            "id",
            f"“{elsewhere_id}” is not the id of a feature of {product.name}. Leave the id empty "
            "to create a new feature.",
        ),
        (8, "title", "This field cannot be blank."),
    ]
    assert [row.number for row in plan.updates] == [2]
    assert [row.number for row in plan.creates] == [9]
    html = preview.content.decode()
    assert "Confidence is a percentage between 0 and 100." in html
    assert "Import only the valid rows" in html

    # when it is confirmed without choosing to import only the valid rows
    response = _confirm(editor_client, product, preview)

    # then nothing at all was imported
    assert response.status_code == 400
    assert "Nothing was imported: 6 rows have errors." in response.content.decode()
    assert _state(product) == before


def test_only_the_valid_rows_are_imported_when_the_pm_says_so(editor_client, planned, faulty_file):
    alerts, plain = planned
    product = alerts.product
    titles_before = set(Feature.objects.values_list("title", flat=True))

    preview = _upload(editor_client, product, faulty_file)
    response = _confirm(editor_client, product, preview, only_valid=True)

    assert response.status_code == 302
    assert _messages(response) == [
        "Imported features.csv: 1 feature created, 1 updated, 0 unchanged. "
        "Skipped 6 rows with errors: 3, 4, 5, 6, 7, 8."
    ]
    assert set(Feature.objects.values_list("title", flat=True)) - titles_before == {"Good new one"}
    alerts.refresh_from_db()
    assert alerts.impact == Decimal("1.00")
    assert Feature.objects.get(title="Good new one").confidence == 60


def test_unknown_personas_too_long_tags_and_ragged_rows_are_row_errors(editor_client, product):
    f.PersonaFactory(product=product, name="Ada")
    content = _csv(
        [
            ["title", "personas", "tags"],
            ["Alerts", "Ada; Zed", ""],
            ["Reports", "", "x" * 51],
            ["Exports", "", "", "one cell too many"],
        ]
    )

    plan = _plan(_upload(editor_client, product, content))

    assert _errors(plan) == [
        (
            2,
            "personas",
            f"{product.name} has no persona named “Zed”. Add it on the Personas page first, "
            "or correct the name.",
        ),
        (
            3,
            "tags",
            "“xxxxxxxxxxxxxxxxxxxx”: Ensure this value has at most 50 characters (it has 51).",
        ),
        (
            4,
            "",
            "This row has 4 cells but the header has 3. Check for a stray separator or an "
            "unclosed quote.",
        ),
    ]


def test_a_huge_cell_is_a_row_error_not_a_crash(editor_client, product):
    content = _csv([["title", "description"], ["T" * 300_000, "D" * 100], ["Fine", "y" * 500_000]])

    plan = _plan(_upload(editor_client, product, content))

    assert _errors(plan) == [
        (2, "title", "Ensure this value has at most 200 characters (it has 300000).")
    ]
    assert [row.action for row in plan.rows] == ["error", "create"]


def test_unknown_columns_are_reported_and_ignored(editor_client, product):
    content = _csv([["title", "colour", "", "staus"], ["Alerts", "red", "x", "idea"]])

    preview = _upload(editor_client, product, content)

    plan = _plan(preview)
    assert plan.unknown_columns == ["colour", "(column C has no name)", "staus"]
    assert "Waymark does not know the columns" in preview.content.decode()
    assert [row.action for row in plan.rows] == ["create"]


# --- Import: files that cannot be read -----------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\xef\xbb\xbf\r\n\r\n", "The file is empty."),
        (b"title,reach\r\n", "The file has a header row but no features below it."),
        (
            b"title\nCaf\xe9 au lait\n",
            "Row 2 is not UTF-8 text (byte 0xE9). Save the file as “CSV UTF-8” and upload it "
            "again.",
        ),
        (
            b'title\nok\n"multi\nline"\nbad \xff\n',
            "Row 4 is not UTF-8 text (byte 0xFF). Save the file as “CSV UTF-8” and upload it "
            "again.",
        ),
        (
            bytes(range(256)) * 8,
            "This is not a CSV file: row 1 holds binary data. Upload a CSV saved from a "
            "spreadsheet, or the export of this page.",
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "This is not a CSV file: row 3 holds binary data. Upload a CSV saved from a "
            "spreadsheet, or the export of this page.",
        ),
        (
            b"name,reach\nAlerts,3\n",
            "The file has no “title” column. Its first row must name the columns, e.g. "
            "“id,title,status,reach”: download the current features for a template.",
        ),
        (
            b"title,reach,Title\nA,1,B\n",
            "The column “title” appears twice (columns A and C). Keep one of them.",
        ),
        (
            b'title\n"Alerts"extra\n',
            "Row 2 could not be read as CSV (',' expected after '\"'). Check its quotes.",
        ),
        (
            b'title\n"never closed\n',
            "Row 2 could not be read as CSV (unexpected end of data). Check its quotes.",
        ),
    ],
)
def test_unreadable_files_get_a_clear_message_and_change_nothing(
    editor_client, planned, content, message
):
    product = planned[0].product
    before = _state(product)

    response = _upload(editor_client, product, content)

    assert _file_error(response) == [message]
    assert message in response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')
    assert _state(product) == before


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(editor_client, product):
    content = b"title\n" + b"x" * (2 * 1024 * 1024)

    response = _upload(editor_client, product, content)

    assert _file_error(response) == [
        "The file is 2.0\xa0MB; the limit is 2.0\xa0MB. Split it into smaller files."
    ]
    assert not Feature.objects.filter(product=product).exists()


def test_a_request_over_the_body_cap_is_refused_unread_with_413(editor_client, product, settings):
    settings.MAX_REQUEST_BYTES = 3 * 1024 * 1024
    content = b"title\n" + b"Feature\n" * (400 * 1024)  # 3.1 MiB

    response = _upload(editor_client, product, content)

    assert response.status_code == 413
    html = response.content.decode()
    assert "The request is 3.1\xa0MB; Waymark takes at most 3.0\xa0MB." in html
    assert "Nothing was saved." in html
    assert not Feature.objects.filter(product=product).exists()


def test_a_file_over_the_row_limit_is_refused(editor_client, product):
    content = b"title\n" + b"Feature\n" * 5001

    response = _upload(editor_client, product, content)

    assert _file_error(response) == [
        "The file has more than 5,000 rows. Split it into smaller files."
    ]
    assert not Feature.objects.filter(product=product).exists()


def test_a_missing_file_is_a_field_error(editor_client, product):
    response = editor_client.post(_import_url(product), {})

    assert _file_error(response) == ["This field is required."]


# --- Import: who may, and the preview's life -----------------------------------------------------


def test_viewers_cannot_import(viewer_client, product):
    f.FeatureFactory(product=product)
    before = _state(product)
    content = _csv([["title"], ["Sneaky"]])

    assert viewer_client.get(_import_url(product)).status_code == 403
    assert _upload(viewer_client, product, content).status_code == 403
    assert viewer_client.post(_confirm_url(product), {"upload": "x" * 32}).status_code == 403
    assert _state(product) == before


def test_outsiders_get_404_everywhere(outsider_client, product):
    f.FeatureFactory(product=product)
    before = _state(product)

    assert outsider_client.get(_export_url(product)).status_code == 404
    assert outsider_client.get(_import_url(product)).status_code == 404
    assert _upload(outsider_client, product, _csv([["title"], ["Sneaky"]])).status_code == 404
    assert outsider_client.post(_confirm_url(product), {"upload": "x" * 32}).status_code == 404
    assert _state(product) == before


def test_a_preview_can_only_be_confirmed_once_and_by_its_uploader(
    client, editor, workspace, product
):
    other_editor = f.MembershipFactory(workspace=workspace, role=Role.EDITOR).user
    client.force_login(editor)
    preview = _upload(client, product, _csv([["title"], ["Alerts"]]))

    client.force_login(other_editor)
    stolen = _confirm(client, product, preview)
    assert stolen.status_code == 400
    assert "This preview has expired or was already imported." in stolen.content.decode()
    assert not Feature.objects.filter(product=product).exists()

    client.force_login(editor)
    assert _confirm(client, product, preview).status_code == 302
    again = _confirm(client, product, preview)
    assert again.status_code == 400
    assert list(Feature.objects.filter(product=product).values_list("title", flat=True)) == [
        "Alerts"
    ]


def test_a_preview_made_stale_by_an_edit_is_shown_again_before_importing(editor_client, planned):
    # given a preview that changes a feature's reach
    alerts, _ = planned
    product = alerts.product
    preview = _upload(
        editor_client, product, _csv([["id", "title", "reach"], [alerts.pk, "Alerts", "9"]])
    )

    # when someone edits that feature before the confirmation
    feature_update(feature=alerts, data={"reach": 7})
    response = _confirm(editor_client, product, preview)

    # then nothing is imported and the new preview shows what would change now
    assert response.status_code == 409
    assert "changed since the preview" in response.content.decode()
    alerts.refresh_from_db()
    assert (alerts.reach, alerts.title) == (7, "Threshold alerts")
    plan = response.context["plan"]
    assert [(c.column, c.before, c.after) for c in plan.rows[0].changes] == [
        ("title", "Threshold alerts", "Alerts"),
        ("reach", "7", "9"),
    ]

    # and confirming that new preview imports it
    assert _confirm(editor_client, product, response).status_code == 302
    alerts.refresh_from_db()
    assert (alerts.reach, alerts.title) == (9, "Alerts")


def test_htmx_gets_the_step_alone_and_a_client_redirect(editor_client, product):
    htmx = {"HTTP_HX_REQUEST": "true"}

    bad = _upload(editor_client, product, b"", **htmx)
    assert bad.status_code == 200
    assert "<html" not in bad.content.decode()
    assert "The file is empty." in bad.content.decode()

    preview = _upload(editor_client, product, _csv([["title"], ["Alerts"]]), **htmx)
    assert preview.status_code == 200
    assert 'id="csv-import"' in preview.content.decode()
    assert "<html" not in preview.content.decode()

    done = _confirm(editor_client, product, preview, **htmx)
    assert done.status_code == 200
    assert done["HX-Redirect"] == product.get_absolute_url()
    assert Feature.objects.filter(product=product, title="Alerts").exists()


# --- Import: cost --------------------------------------------------------------------------------


def test_importing_200_rows_costs_one_query_per_changed_feature_beyond_a_constant(
    editor_client, product, django_assert_max_num_queries
):
    # given 100 features to update and 100 new ones, with tags and personas
    f.PersonaFactory(product=product, name="Ada")
    features = Feature.objects.bulk_create(
        Feature(product=product, title=f"Old {i}", reach=i + 1) for i in range(100)
    )
    rows = [["id", "title", "reach", "confidence", "tags", "personas"]]
    rows += [[x.pk, x.title, x.reach + 1, 50, "old", "Ada"] for x in features]
    rows += [["", f"New {i}", i + 1, 50, "new", "Ada"] for i in range(100)]
    content = _csv(rows)

    # then the preview runs a constant number of queries
    with django_assert_max_num_queries(15):
        preview = _upload(editor_client, product, content)
    assert len(_plan(preview).updates) == len(_plan(preview).creates) == 100

    # and the import one UPDATE per changed feature, the rest in bulk
    with django_assert_max_num_queries(100 + 60):
        response = _confirm(editor_client, product, preview)
    assert response.status_code == 302
    assert Feature.objects.filter(product=product, reach__isnull=False).count() == 200
    assert Feature.objects.filter(product=product, rank__isnull=False).count() == 200
    assert Feature.objects.filter(product=product, version=2).count() == 100
    assert HistoricalFeature.objects.filter(product_id=product.pk).count() == 200
    assert Feature.tags.through.objects.filter(feature__product=product).count() == 200
    assert Feature.personas.through.objects.filter(feature__product=product).count() == 200


def test_a_theme_on_the_roadmap_is_not_exported(editor_client, product):
    f.FeatureFactory(product=product, title="Alerts")
    RoadmapItem.objects.create(product=product, title="Platform theme", horizon="now")

    assert [row["title"] for row in _export(editor_client, product)] == ["Alerts"]


def test_persona_names_are_matched_case_insensitively(editor_client, product):
    ada = f.PersonaFactory(product=product, name="Ada Lovelace")

    _confirm(
        editor_client,
        product,
        _upload(
            editor_client, product, _csv([["title", "personas"], ["Alerts", " ada lovelace "]])
        ),
    )

    assert list(Persona.objects.filter(features__title="Alerts")) == [ada]


# Bulk writes (the import's) leave the check constraints to the database and rely on the field
# validators for messages. One violating value per constraint: each must be refused by a field
# validator, so no rule goes unexplained. A new constraint must be added here.
VIOLATIONS = {
    "feature_status_valid": ("status", "someday"),
    "feature_impact_scale": ("impact", Decimal("1.5")),
    "feature_confidence_percent": ("confidence", 101),
    "feature_effort_positive": ("effort", Decimal("0")),
    "feature_impact_ice_1_10": ("impact_ice", 11),
    "feature_confidence_ice_1_10": ("confidence_ice", 0),
    "feature_ease_1_10": ("ease", 11),
    "feature_value_1_10": ("value", 0),
    "feature_business_value_min_1": ("business_value", 0),
    "feature_time_criticality_min_1": ("time_criticality", 0),
    "feature_risk_reduction_min_1": ("risk_reduction", 0),
    "feature_job_size_min_1": ("job_size", 0),
    "feature_moscow_valid": ("moscow", "maybe"),
    "feature_kano_valid": ("kano", "meh"),
    "feature_market_position_valid": ("market_position", "leader"),
}


def test_every_feature_constraint_is_explained_by_a_field_validator(product):
    assert {c.name for c in Feature._meta.constraints} == set(VIOLATIONS)
    for name, (field, value) in VIOLATIONS.items():
        feature = Feature(product=product, title="Checked", **{field: value})
        with pytest.raises(ValidationError) as refused:
            feature.full_clean(validate_constraints=False)
        assert list(refused.value.message_dict) == [field], name


def test_a_bulk_write_racing_an_edit_raises_a_conflict_and_writes_nothing(planned, editor):
    # given a feature read at one version, then edited by someone else
    alerts, _ = planned
    product = alerts.product
    read = Feature.objects.get(pk=alerts.pk)
    feature_update(feature=alerts, data={"reach": 7})
    before = _state(product)

    # when a bulk write based on the old read is applied, then it is refused as a whole
    with pytest.raises(ConflictError):
        features_write_many(
            product=product,
            writes=[
                FeatureWrite(fields={"title": "New one"}),
                FeatureWrite(fields={"reach": 9}, feature=read),
            ],
            actor=editor,
        )
    assert _state(product) == before


# --- Keeping uploads between preview and confirmation ---------------------------------------------


def _key(preview) -> str:
    return preview.context["confirm"]["upload"].value()


def test_a_members_fourth_pending_upload_drops_their_oldest(client, editor, workspace, product):
    # given another editor's pending upload, and three of the editor's own
    other_editor = f.MembershipFactory(workspace=workspace, role=Role.EDITOR).user
    client.force_login(other_editor)
    others = _upload(client, product, _csv([["title"], ["Theirs"]]))
    client.force_login(editor)
    previews = [_upload(client, product, _csv([["title"], [f"Mine {n}"]])) for n in range(4)]

    # then the editor keeps the three newest, and the other editor's is untouched
    kept = CsvUpload.objects.filter(user=editor).values_list("key", flat=True)
    assert sorted(kept) == sorted(_key(p) for p in previews[1:])
    assert CsvUpload.objects.filter(user=other_editor).get().key == _key(others)

    # and the dropped one can no longer be confirmed, while the newest can
    dropped = _confirm(client, product, previews[0])
    assert dropped.status_code == 400
    assert "This preview has expired or was already imported." in dropped.content.decode()
    assert _confirm(client, product, previews[3]).status_code == 302
    assert list(Feature.objects.filter(product=product).values_list("title", flat=True)) == [
        "Mine 3"
    ]


def test_a_preview_older_than_its_lifetime_cannot_be_confirmed(editor_client, product):
    # given a preview kept one second longer than its lifetime
    preview = _upload(editor_client, product, _csv([["title"], ["Late"]]))
    CsvUpload.objects.update(
        created_at=timezone.now() - timedelta(seconds=csv_io.PENDING_SECONDS + 1)
    )

    # when it is confirmed, then nothing is imported
    response = _confirm(editor_client, product, preview)
    assert response.status_code == 400
    assert "This preview has expired or was already imported." in response.content.decode()
    assert not Feature.objects.filter(product=product).exists()


def test_the_sweep_deletes_only_expired_uploads(editor_client, product):
    # given an expired upload and a fresh one
    _upload(editor_client, product, _csv([["title"], ["Old"]]))
    CsvUpload.objects.update(
        created_at=timezone.now() - timedelta(seconds=csv_io.PENDING_SECONDS + 1)
    )
    fresh = _upload(editor_client, product, _csv([["title"], ["New"]]))

    # when beat's sweep runs, then only the fresh one is left
    assert sweep_csv_uploads.delay().get() == 1
    assert list(CsvUpload.objects.values_list("key", flat=True)) == [_key(fresh)]
    assert "roadmap.tasks.sweep_csv_uploads" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }


def test_custom_fields_are_exported_and_imported_as_their_own_columns(
    editor_client, product, django_capture_on_commit_callbacks
):
    from roadmap.models import FeatureFieldValue
    from roadmap.planning.services import fields as field_services
    from roadmap.planning.services.formula import product_formula_save

    tier = field_services.custom_field_save(
        product=product, name="Tier", kind="choice", choices=[("Gold", 3), ("Silver", 2)]
    )
    deal = field_services.custom_field_save(product=product, name="Deal size", kind="number")
    field_services.custom_field_save(product=product, name="Renewal", kind="yes_no")
    product_formula_save(product=product, source="tier * 10", author=None)
    alerts = f.FeatureFactory(product=product, title="Alerts")
    FeatureFieldValue.objects.create(feature=alerts, field=deal, value=Decimal("12.50"))
    FeatureFieldValue.objects.create(
        feature=alerts, field=tier, choice=tier.choices.get(label="Silver")
    )

    [row] = _export(editor_client, product)
    assert (row["field: Tier"], row["field: Deal size"], row["field: Renewal"]) == (
        "Silver",
        "12.50",
        "",
    )

    content = _csv(
        [
            ["id", "title", "Field: TIER", "field: deal size", "field: renewal"],
            [alerts.pk, "Alerts", "gold", "12.5", "yes"],
            ["", "Reports", "Bronze", "", ""],
            ["", "Exports", "", "abc", "maybe"],
            ["", "Audit", "Silver", "3", "no"],
        ]
    )
    preview = _upload(editor_client, product, content)
    plan = _plan(preview)
    assert _errors(plan) == [
        (3, "field: Tier", "Write one of the choices: Gold, Silver."),
        (4, "field: Deal size", "Write a number."),
        (4, "field: Renewal", "Write yes or no, or leave it empty."),
    ]
    # 12.5 is the 12.50 stored: only the tier and renewal change on Alerts
    [update] = plan.updates
    assert [(c.column, c.before, c.after) for c in update.changes] == [
        ("field: Tier", "Silver", "Gold"),
        ("field: Renewal", "", "yes"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert _confirm(editor_client, product, preview, only_valid=True).status_code == 302

    [again] = [r for r in _export(editor_client, product) if r["title"] == "Alerts"]
    audit = Feature.objects.get(product=product, title="Audit")
    assert (again["field: Tier"], again["field: Renewal"]) == ("Gold", "yes")
    assert Feature.objects.get(pk=alerts.pk).score == 30
    assert audit.score == 20


def test_the_import_page_explains_each_custom_fields_column(editor_client, product):
    from roadmap.planning.services import fields as field_services

    field_services.custom_field_save(
        product=product, name="Tier", kind="choice", choices=[("Gold", 3), ("Silver", 2)]
    )
    field_services.custom_field_save(product=product, name="Renewal", kind="yes_no")

    html = editor_client.get(_import_url(product)).content.decode()

    assert "<code>field: Tier</code>" in html
    assert "One of: Gold, Silver. Empty clears it." in html
    assert "yes or no. Empty clears it." in html
