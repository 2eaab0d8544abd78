"""The planning pages: home, product and feature, read through the HTTP client."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import Role
from roadmap.counts import COUNT_CAP
from roadmap.demo.load import scale_features_load
from roadmap.models import Feature, Insight, Persona, Product, RoadmapItem
from roadmap.planning.selectors import pages
from roadmap.planning.selectors.pages import home_product_lines
from roadmap.planning.services.scoring import product_recompute_scores
from tests import factories as f

HOME = reverse("roadmap:home")


def _scored(product: Product) -> None:
    product_recompute_scores(product_id=product.pk)


def _html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def _populate(product: Product, n: int) -> list[Feature]:
    """``n`` features with personas, tags, insights and roadmap items, scored and ranked."""
    personas = [f.PersonaFactory(product=product) for _ in range(3)]
    tags = [f.TagFactory(product=product) for _ in range(3)]
    lane = f.LaneFactory(product=product)
    release = f.ReleaseFactory(product=product)
    features = []
    for i in range(n):
        feature = f.FeatureFactory(product=product, reach=10 * (i + 1))
        feature.personas.set(personas[: 1 + i % 3])
        feature.tags.set(tags[: 1 + i % 2])
        insight = f.InsightFactory(product=product, persona=personas[i % 3])
        insight.features.add(feature)
        f.RoadmapItemFactory(
            product=product,
            feature=feature,
            horizon=("now", "next", "later")[i % 3],
            lane=lane,
            release=release,
            position=i,
        )
        features.append(feature)
    _scored(product)
    return features


# --- Home --------------------------------------------------------------------------------------


def test_home_lists_products_by_line_with_counts_framework_and_top_five(viewer_client, workspace):
    api = f.ProductFactory(workspace=workspace, name="API", product_line="Platform")
    web = f.ProductFactory(
        workspace=workspace, name="Web app", product_line="Apps", vision="Plan in minutes."
    )
    features = [f.FeatureFactory(product=web, reach=10 * (i + 1)) for i in range(7)]
    f.FeatureFactory(product=web, status="shipped", title="Old thing")
    f.InsightFactory(product=web)
    f.RoadmapItemFactory(product=web, feature=features[0])
    web.scoring_framework = "rice"
    _scored(web)

    html = _html(viewer_client.get(HOME))

    # Product lines in alphabetical order: Apps before Platform.
    assert html.index(">Apps<") < html.index(">Platform<") < html.index(">API<")
    assert "Plan in minutes." in html
    card = html[html.index(">Web app<") : html.index(">Platform<")]
    assert '<dt>Open features</dt><dd>7<span class="stats__total"> of 8</span></dd>' in card
    assert "<dt>Insights</dt><dd>1</dd>" in card
    assert "<dt>On roadmap</dt><dd>1</dd>" in card
    assert "<dt>Personas</dt><dd>0</dd>" in card
    assert "RICE" in card
    # The top five by rank: the highest reach first.
    top = [features[i].title for i in (6, 5, 4, 3, 2)]
    positions = [card.index(f">{title}<") for title in top]
    assert positions == sorted(positions)
    assert f">{features[1].title}<" not in card
    assert "Old thing" not in card
    assert "#1</span>" in card
    assert "No ranked features yet." in html[html.index(">API<") :]
    assert "Scores may be stale" not in html
    assert api.get_absolute_url() in html


def test_home_shows_the_stale_badge(viewer_client, product):
    Product.objects.filter(pk=product.pk).update(score_recompute_requested_at=timezone.now())

    html = _html(viewer_client.get(HOME))

    assert "Scores may be stale" in html


def test_home_shows_only_the_current_workspace(editor_client, editor, workspace, other_workspace):
    mine = f.ProductFactory(workspace=workspace, name="Mine")
    theirs = f.ProductFactory(workspace=other_workspace, name="Theirs")
    second = f.WorkspaceFactory(name="Second")
    f.MembershipFactory(user=editor, workspace=second)
    elsewhere = f.ProductFactory(workspace=second, name="Elsewhere")
    editor_client.post(reverse("accounts:workspace_switch"), {"workspace_id": workspace.pk})

    html = _html(editor_client.get(HOME))

    assert mine.get_absolute_url() in html
    assert theirs.get_absolute_url() not in html
    assert elsewhere.get_absolute_url() not in html


def test_home_empty_state_without_products(viewer_client, workspace):
    html = _html(viewer_client.get(HOME))

    assert f"No products in {workspace.name} yet" in html


def test_home_empty_state_without_a_workspace(client, db):
    client.force_login(f.UserFactory())

    html = _html(client.get(HOME))

    assert "You are not in a workspace yet" in html


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_home_runs_a_constant_number_of_queries(
    viewer_client, workspace, django_assert_max_num_queries
):
    _populate(f.ProductFactory(workspace=workspace, product_line="A"), 3)
    small = _count_queries(viewer_client, HOME)
    for line in ("A", "B", "C"):
        _populate(f.ProductFactory(workspace=workspace, product_line=line), 10)

    with django_assert_max_num_queries(8):
        viewer_client.get(HOME)
    assert _count_queries(viewer_client, HOME) == small


def test_home_reads_products_their_counts_and_top_features_in_three_queries(
    viewer, workspace, django_assert_num_queries
):
    for line in ("A", "B", "C"):
        _populate(f.ProductFactory(workspace=workspace, product_line=line), 7)

    with django_assert_num_queries(3):
        lines = home_product_lines(user=viewer, workspace=workspace)

    tops = [[feature.rank for feature in p.top_features] for line in lines for p in line.products]
    assert tops == [[1, 2, 3, 4, 5]] * 3


def test_home_counts_beyond_the_cap_read_as_at_least_the_cap(viewer_client, workspace):
    product = scale_features_load(workspace=workspace, count=COUNT_CAP + 1).product

    card = _card(_html(viewer_client.get(HOME)), product)

    assert '<span class="stats__total"> of 10,000+</span>' in card


def test_home_keeps_the_ids_of_products_numbered_beyond_the_count_cap(viewer_client, workspace):
    """A product's id is no count: one numbered past COUNT_CAP once read as "10,000+" (a 500)."""
    product = f.ProductFactory(workspace=workspace, pk=COUNT_CAP + 5)
    f.FeatureFactory(product=product)

    response = viewer_client.get(HOME)

    assert response.status_code == 200
    assert f'id="product-{COUNT_CAP + 5}"' in _card(_html(response), product)


def _card(html: str, product: Product) -> str:
    start = html.index(f'id="product-{product.pk}"')
    return html[start : html.find("</article>", start)]


def _health(card: str, kind: str) -> str:
    """The text of one health warning of a card ("" when absent)."""
    marker = f'data-health="{kind}">'
    if marker not in card:
        return ""
    return card[card.index(marker) + len(marker) :].split("</a>")[0]


def test_home_health_counts_each_warning(viewer_client, workspace):
    today = timezone.localdate()
    yesterday = today - timezone.timedelta(days=1)
    product = f.ProductFactory(workspace=workspace, name="Sick")
    # Open features without a score count; closed ones and scored ones do not.
    f.FeatureFactory(product=product, reach=None)
    f.FeatureFactory(product=product, effort=None, status="planned")
    f.FeatureFactory(product=product, reach=None, status="shipped")
    f.FeatureFactory(product=product)

    def item(status="planned", **fields):
        feature = f.FeatureFactory(product=product, status=status)
        return f.RoadmapItemFactory(product=product, feature=feature, **fields)

    # Past their end date: open feature items and open themes, not shipped or archived ones.
    item(end_date=yesterday, horizon="next")
    item(end_date=yesterday, horizon="later", status="shipped")
    item(end_date=yesterday, horizon="next", status="archived")
    item(end_date=today, horizon="next")
    f.RoadmapItemFactory(
        product=product, feature=None, title="Theme", theme_status="in_progress",
        end_date=yesterday, horizon="later",
    )  # fmt: skip
    # In now without any date: open ones only; a start or an end date is a date.
    item(horizon="now")
    item(horizon="now", start_date=today)
    item(horizon="now", status="shipped")
    item(horizon="later")
    _scored(product)
    Product.objects.filter(pk=product.pk).update(score_recompute_requested_at=timezone.now())
    healthy = f.ProductFactory(workspace=workspace, name="Fine")
    f.FeatureFactory(product=healthy)
    _scored(healthy)

    html = _html(viewer_client.get(HOME))

    sick = _card(html, product)
    assert _health(sick, "unscored") == "2 features without a score"
    assert _health(sick, "overdue") == "2 items past their end date"
    assert _health(sick, "undated") == "1 item in Now without dates"
    assert _health(sick, "stale") == "Scores may be stale"
    assert 'data-health="ok"' not in sick
    fine = _card(html, healthy)
    assert 'data-health="ok"' in fine
    assert all(_health(fine, kind) == "" for kind in ("unscored", "overdue", "undated", "stale"))


def test_home_health_warnings_count_up_to_their_cap_and_say_so(viewer_client, product, monkeypatch):
    # Given a cap of 3 and, open, 4 items in now without dates and 3 past their end date
    monkeypatch.setattr(pages, "HEALTH_CAP", 3)
    yesterday = timezone.localdate() - timezone.timedelta(days=1)
    for _ in range(4):
        f.RoadmapItemFactory(product=product, horizon="now")
    for _ in range(3):
        f.RoadmapItemFactory(product=product, horizon="later", end_date=yesterday)
    # (a shipped one counts in neither)
    shipped = f.FeatureFactory(product=product, status="shipped")
    f.RoadmapItemFactory(product=product, feature=shipped, horizon="now")

    card = _card(_html(viewer_client.get(HOME)), product)

    # Then the first says "at least" the cap, the second its exact count
    assert _health(card, "undated") == "3+ items in Now without dates"
    assert _health(card, "overdue") == "3 items past their end date"
    # and the product's other counts keep their own cap: 8 items on the roadmap
    assert "<dt>On roadmap</dt><dd>8</dd>" in card


def test_home_health_warnings_link_to_the_pages_that_show_them(viewer_client, product):
    f.FeatureFactory(product=product, reach=None)
    _scored(product)
    f.RoadmapItemFactory(product=product, horizon="now")
    f.RoadmapItemFactory(
        product=product, end_date=timezone.localdate() - timezone.timedelta(days=3)
    )

    card = _card(_html(viewer_client.get(HOME)), product)

    def link(kind):
        return card[: card.index(f'data-health="{kind}"')].rsplit("<a ", 1)[1]

    assert f'href="{product.get_absolute_url()}"' in link("unscored")
    for kind, name in (("overdue", "roadmap:timeline"), ("undated", "roadmap:board")):
        try:
            expected = reverse(name, args=[product.slug])
        except NoReverseMatch:
            expected = product.get_absolute_url()
        assert f'href="{expected}"' in link(kind)


def test_home_queries_do_not_grow_with_the_number_of_products(
    viewer_client, workspace, django_assert_max_num_queries
):
    def products(n: int, offset: int) -> None:
        rows = Product.objects.bulk_create(
            Product(workspace=workspace, name=f"P{offset + i}", slug=f"p-{offset + i}",
                    product_line=f"Line {i % 4}")
            for i in range(n)
        )  # fmt: skip
        Feature.objects.bulk_create(
            Feature(product=p, title=f"F{j}", score=j or None, rank=j + 1)
            for p in rows
            for j in range(8)
        )
        features = {p.pk: list(p.features.all()[:3]) for p in rows}
        RoadmapItem.objects.bulk_create(
            RoadmapItem(product_id=pk, feature=feature, horizon="now")
            for pk, chosen in features.items()
            for feature in chosen
        )
        Persona.objects.bulk_create(Persona(product=p, name="Ops") for p in rows)
        Insight.objects.bulk_create(
            Insight(product=p, source="call", customer="Acme", text="Yes") for p in rows
        )

    products(2, 0)
    small = _count_queries(viewer_client, HOME)
    products(150, 2)

    with django_assert_max_num_queries(small):
        html = _html(viewer_client.get(HOME))
    assert html.count('class="card product-card"') == 152
    assert "1 item in Now without dates" not in html  # three per product
    assert html.count("3 items in Now without dates") == 152


# --- Product -----------------------------------------------------------------------------------


def test_product_page_lists_features_ranked_with_their_facts(viewer_client, product):
    persona = f.PersonaFactory(product=product, name="Platform engineer")
    tag = f.TagFactory(product=product, name="billing")
    low = f.FeatureFactory(product=product, title="Low", reach=10, moscow="could")
    high = f.FeatureFactory(product=product, title="High", reach=1000, moscow="must")
    high.personas.add(persona)
    high.tags.add(tag)
    for _ in range(2):
        f.InsightFactory(product=product).features.add(high)
    f.FeatureFactory(product=product, title="Done", status="shipped")
    _scored(product)

    html = _html(viewer_client.get(product.get_absolute_url()))

    assert html.index(">High<") < html.index(">Low<")
    row = html[html.index(">#1<") : html.index(">Low<")]
    assert ">High<" in row
    assert "Idea" in row
    assert ">400<" in row  # 1000 × 1 × 80% / 2
    assert ">Must<" in row
    assert "Platform engineer" in row
    assert ">billing<" in row
    assert '<td class="num">2</td>' in row
    assert ">Done<" not in html  # open features by default
    assert low.get_absolute_url() in html


@pytest.mark.parametrize(
    ("status", "shown", "hidden"),
    [
        ("shipped", ["Done"], ["Open one", "Parked"]),
        ("archived", ["Parked"], ["Open one", "Done"]),
        ("all", ["Open one", "Done", "Parked"], []),
        ("open", ["Open one"], ["Done", "Parked"]),
        ("nonsense", ["Open one"], ["Done", "Parked"]),
    ],
)
def test_product_page_filters_features_by_status(viewer_client, product, status, shown, hidden):
    f.FeatureFactory(product=product, title="Open one")
    f.FeatureFactory(product=product, title="Done", status="shipped")
    f.FeatureFactory(product=product, title="Parked", status="archived")

    html = _html(viewer_client.get(product.get_absolute_url(), {"status": status}))

    table = html[html.index('id="feature-table"') : html.index("</table>")]
    for title in shown:
        assert f">{title}<" in table
    for title in hidden:
        assert f">{title}<" not in table
    selected = status if status != "nonsense" else "open"
    assert f'<option value="{selected}" selected>' in html


def test_htmx_filter_request_gets_the_table_alone(viewer_client, product):
    f.FeatureFactory(product=product, title="Done", status="shipped")
    f.RoadmapItemFactory(product=product)

    response = viewer_client.get(
        product.get_absolute_url(), {"status": "shipped"}, headers={"HX-Request": "true"}
    )

    html = _html(response)
    assert ">Done<" in html
    assert "<html" not in html
    assert "board__column" not in html  # the roadmap board has a tab of its own
    assert "HX-Request" in response["Vary"]


def test_product_page_shows_where_features_are_on_the_roadmap(viewer_client, product):
    release = f.ReleaseFactory(product=product, name="2026.1")
    sso = f.FeatureFactory(product=product, title="SSO")
    f.RoadmapItemFactory(product=product, feature=sso, horizon="next", release=release)
    loose = f.FeatureFactory(product=product, title="Not placed")
    f.RoadmapItemFactory(
        product=product, feature=None, title="Mobile theme", horizon="now", theme_status="discovery"
    )

    html = _html(viewer_client.get(product.get_absolute_url()))

    # Each feature's horizon and release; themes without a feature live on the board tab.
    placed = html[html.index(f'id="feature-{sso.pk}"') :].split("</tr>")[0]
    assert ">Next<" in placed and ">2026.1<" in placed
    unplaced = html[html.index(f'id="feature-{loose.pk}"') :].split("</tr>")[0]
    assert '<td class="prio__roadmap"><span class="muted">—</span></td>' in unplaced
    assert "Mobile theme" not in html


def test_product_page_shows_the_stale_banner(viewer_client, product):
    assert "Scores may be stale." not in _html(viewer_client.get(product.get_absolute_url()))
    Product.objects.filter(pk=product.pk).update(score_recompute_requested_at=timezone.now())

    html = _html(viewer_client.get(product.get_absolute_url()))

    assert "Scores may be stale." in html


def test_product_page_runs_a_constant_number_of_queries(
    viewer_client, product, django_assert_max_num_queries
):
    _populate(product, 3)
    url = product.get_absolute_url() + "?status=all"
    small = _count_queries(viewer_client, url)
    _populate(product, 30)

    with django_assert_max_num_queries(14):  # 12, the reader's column layout, the custom fields
        html = _html(viewer_client.get(url))
    assert html.count('class="table__title"') == 33
    assert _count_queries(viewer_client, url) == small


# --- Feature -----------------------------------------------------------------------------------


def test_feature_page_shows_everything_about_the_feature(viewer_client, product, editor):
    persona = f.PersonaFactory(product=product, name="Team lead")
    feature = f.FeatureFactory(
        product=product,
        title="Audit log",
        description="Who changed what.",
        requirements="## Must\n\n- export to **CSV**\n- keep 90 days",
        business_case_notes="Blocks two enterprise deals.",
        internal_notes="Legal wants this before Q3.",
        expected_revenue=Decimal("120000"),
        cost=Decimal("30000"),
        owner=editor,
        moscow="must",
        reach=500,
    )
    feature.personas.add(persona)
    feature.tags.add(f.TagFactory(product=product, name="compliance"))
    insight = f.InsightFactory(
        product=product, customer="Acme Corp", text="We cannot buy without an audit trail."
    )
    insight.features.add(feature)
    f.ObjectiveFactory(product=product, name="Win enterprise").features.add(feature)
    f.RoadmapItemFactory(
        product=product,
        feature=feature,
        horizon="next",
        lane=f.LaneFactory(product=product, name="Enterprise"),
        release=f.ReleaseFactory(product=product, name="Autumn"),
    )
    _scored(product)

    html = _html(viewer_client.get(feature.get_absolute_url()))

    assert "Who changed what." in html
    assert "<h2>Must</h2>" in html
    assert "<li>export to <strong>CSV</strong></li>" in html
    assert "Blocks two enterprise deals." in html
    assert "Legal wants this before Q3." in html
    assert "120,000" in html and "30,000" in html
    assert "Rank #1" in html
    assert "Team lead" in html and ">compliance<" in html
    assert "We cannot buy without an audit trail." in html and "Acme Corp" in html
    assert "Win enterprise" in html and "20%" in html  # 100 → 120 of 200
    assert "<strong>Next</strong>" in html and "Enterprise" in html and "Autumn" in html
    assert editor.name in html
    # The score explained: inputs with their source, the formula and the result.
    assert "reach × impact × (confidence / 100) / effort" in html
    assert "reach = 500 (entered by hand)" in html
    assert "reach × impact × (confidence / 100) / effort = 200" in html
    assert "missing" not in html.split('id="score-heading"')[1].split("</section>")[0]


def test_feature_page_names_the_missing_inputs(viewer_client, product):
    feature = f.FeatureFactory(product=product, reach=None, effort=None)
    _scored(product)

    html = _html(viewer_client.get(feature.get_absolute_url()))

    assert "No score: missing reach, effort." in html
    assert "No score until reach, effort are filled in." in html
    assert "Not ranked" not in html  # unscored open features still get a rank, last


def test_requirements_markdown_is_sanitised(viewer_client, product):
    feature = f.FeatureFactory(
        product=product,
        requirements=(
            "Hello <script>alert('x')</script>\n\n"
            '<img src=x onerror="alert(1)">\n\n'
            "[click](javascript:alert(2)) [docs](https://example.com/docs)\n\n"
            '<a href="#" onclick="alert(3)">raw</a> <iframe src="https://evil.example"></iframe>'
        ),
    )

    html = _html(viewer_client.get(feature.get_absolute_url()))

    prose = html[html.index('<div class="prose">') :].split("</section>")[0]
    assert "<script" not in prose
    assert "alert('x')" not in prose
    assert "onerror" not in prose and "<img" not in prose
    assert "javascript:" not in prose
    assert "onclick" not in prose
    assert "<iframe" not in prose
    assert '<a href="https://example.com/docs" rel="noopener noreferrer nofollow">docs</a>' in prose
    assert "Hello" in prose


def test_feature_page_runs_a_constant_number_of_queries(
    viewer_client, product, django_assert_max_num_queries
):
    features = _populate(product, 3)
    target = features[0]
    small = _count_queries(viewer_client, target.get_absolute_url())
    more = [f.InsightFactory(product=product) for _ in range(20)]
    target.insights.add(*more)
    target.objectives.add(*[f.ObjectiveFactory(product=product) for _ in range(5)])
    target.personas.add(*[f.PersonaFactory(product=product) for _ in range(5)])

    # The feature with its relations (6), its product and the reader's role (1), its history
    # and the names it mentions (up to 5), the session, user and navigation (4), and the
    # product's custom fields (1; their values one more when it has any).
    with django_assert_max_num_queries(17):
        html = _html(viewer_client.get(target.get_absolute_url()))
    assert html.count('<figure class="quote">') == 21
    assert _count_queries(viewer_client, target.get_absolute_url()) == small


def test_weighted_scoring_shows_driver_scores(viewer_client, workspace):
    product = f.ProductFactory(workspace=workspace, scoring_framework="weighted")
    feature = f.FeatureFactory(product=product)
    f.FeatureDriverScoreFactory(
        feature=feature,
        driver=f.ScoringDriverFactory(product=product, name="Strategic fit"),
        score=7,
    )
    _scored(product)

    html = _html(viewer_client.get(feature.get_absolute_url()))

    assert "Weighted scoring" in html
    assert "Strategic fit" in html and "7 / 10" in html
    assert "weighted_drivers = 7 (weighted average of the driver scores)" in html


def test_viewer_role_reads_every_page(client, workspace):
    viewer = f.MembershipFactory(workspace=workspace, role=Role.VIEWER).user
    product = f.ProductFactory(workspace=workspace)
    feature = f.FeatureFactory(product=product)
    client.force_login(viewer)

    for url in (HOME, product.get_absolute_url(), feature.get_absolute_url()):
        assert client.get(url).status_code == 200
