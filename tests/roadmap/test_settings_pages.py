"""The product settings page (details, scoring, drivers, lanes, releases) and new products."""

from decimal import Decimal

import pytest
from django.urls import reverse

from roadmap.models import ChangeEvent, Feature, Lane, Product, Release, RoadmapItem, ScoringDriver
from tests import factories as f

HTMX = {"HX-Request": "true"}


def settings_url(product) -> str:
    return reverse("roadmap:product_settings", args=[product.slug])


def row_url(product, section: str, action: str, obj=None) -> str:
    if action == "add":
        return reverse("roadmap:settings_row_add", args=[product.slug, section])
    name = "roadmap:settings_row_edit" if action == "edit" else "roadmap:settings_row_delete"
    return reverse(name, args=[product.slug, section, obj.pk])


def details(product, **changes) -> dict:
    data = {
        "name": product.name,
        "slug": product.slug,
        "product_line": product.product_line,
        "vision": product.vision,
        "description": product.description,
    }
    return {**data, **changes}


def scoring(product, **changes) -> dict:
    data = {
        "scoring_framework": product.scoring_framework,
        "reach_source": product.reach_source,
        "tie_break": product.tie_break,
    }
    if product.weighted_divide_by_effort:
        data["weighted_divide_by_effort"] = "on"
    return {**data, **changes}


def _html(response, status=200) -> str:
    assert response.status_code == status, response.content.decode()[:500]
    return response.content.decode()


# --- Reading -------------------------------------------------------------------------------------


def test_settings_page_shows_every_section_and_the_formulas(editor_client, product):
    f.ScoringDriverFactory(product=product, name="Strategic fit", weight=Decimal("2"))
    f.LaneFactory(product=product, name="Growth")
    f.ReleaseFactory(product=product, name="Autumn")

    html = _html(editor_client.get(settings_url(product)))

    for anchor in ("details", "scoring", "drivers", "lanes", "releases"):
        assert f'id="{anchor}"' in html
    assert 'aria-current="page">Settings<' in html
    assert "reach × impact × (confidence / 100) / effort" in html
    assert "impact_ice × confidence_ice × ease" in html
    assert "(business_value + time_criticality + risk_reduction) / job_size" in html
    assert "Σ weightᵢ·scoreᵢ / Σ weightᵢ" in html
    current = html[html.index("framework--current") :].split("</li>")[0]
    assert "RICE" in current and "In use" in current
    assert 'value="Strategic fit"' in html and 'value="Growth"' in html
    assert 'value="Autumn"' in html
    assert reverse("accounts:members") in html
    assert reverse("accounts:api_tokens") in html
    assert reverse("sharing:list", args=[product.slug]) in html


def test_viewer_reads_settings_without_any_form(viewer_client, product):
    f.LaneFactory(product=product, name="Growth")

    html = _html(viewer_client.get(settings_url(product)))

    assert "Growth" in html and product.slug in html
    assert "<form" not in html.split('<main id="main"')[1]
    assert "Save details" not in html and "Add lane" not in html


def test_outsider_gets_404_for_every_settings_route(outsider_client, product):
    lane = f.LaneFactory(product=product)
    urls = [
        settings_url(product),
        reverse("roadmap:product_scoring", args=[product.slug]),
        row_url(product, "lanes", "add"),
        row_url(product, "lanes", "edit", lane),
        row_url(product, "lanes", "delete", lane),
    ]
    for url in urls:
        assert outsider_client.post(url, {"name": "Mine"}).status_code == 404
    assert outsider_client.get(settings_url(product)).status_code == 404
    assert Lane.objects.get(pk=lane.pk).name == lane.name


def test_viewer_gets_403_on_every_change(viewer_client, product):
    lane = f.LaneFactory(product=product, name="Growth")
    driver = f.ScoringDriverFactory(product=product, name="Fit")
    release = f.ReleaseFactory(product=product, name="Autumn")
    attempts = [
        (settings_url(product), details(product, name="Renamed")),
        (
            reverse("roadmap:product_scoring", args=[product.slug]),
            scoring(product, scoring_framework="ice"),
        ),
        (row_url(product, "drivers", "add"), {"new-driver-name": "X", "new-driver-weight": "1"}),
        (row_url(product, "drivers", "edit", driver), {f"driver-{driver.pk}-name": "Y"}),
        (row_url(product, "drivers", "delete", driver), {}),
        (row_url(product, "lanes", "add"), {"new-lane-name": "X", "new-lane-position": "0"}),
        (row_url(product, "lanes", "edit", lane), {f"lane-{lane.pk}-name": "Y"}),
        (row_url(product, "lanes", "delete", lane), {}),
        (row_url(product, "releases", "add"), {"new-release-name": "X"}),
        (row_url(product, "releases", "delete", release), {}),
    ]
    for url, data in attempts:
        assert viewer_client.post(url, data).status_code == 403, url
    product.refresh_from_db()
    assert (product.name, product.scoring_framework) == (product.name, "rice")
    assert list(Lane.objects.filter(product=product).values_list("name", flat=True)) == ["Growth"]
    assert list(ScoringDriver.objects.filter(product=product).values_list("name", flat=True)) == [
        "Fit"
    ]
    assert Release.objects.filter(product=product).count() == 1


# --- Details -------------------------------------------------------------------------------------


def test_editor_saves_the_details_and_a_new_slug_moves_the_page(editor_client, product):
    response = editor_client.post(
        settings_url(product),
        details(product, name="Planner", slug="planner", product_line="Apps", vision="Plan."),
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("roadmap:product_settings", args=["planner"])
    product.refresh_from_db()
    assert (product.name, product.slug, product.product_line, product.vision) == (
        "Planner",
        "planner",
        "Apps",
        "Plan.",
    )


def test_admin_may_change_settings_too(client, admin_user, product):
    client.force_login(admin_user)

    response = client.post(settings_url(product), details(product, name="By the admin"))

    assert response.status_code == 302
    assert Product.objects.get(pk=product.pk).name == "By the admin"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"slug": "taken"}, "slug", "This slug is already used in this workspace; choose another."),
        ({"slug": "new"}, "slug", "“new” is reserved by Waymark; choose another slug."),
        ({"slug": "Not a slug!"}, "slug", "Enter a valid “slug”"),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_invalid_details_are_shown_next_to_the_field_and_change_nothing(
    editor_client, workspace, product, changes, field, message
):
    f.ProductFactory(workspace=workspace, slug="taken")
    before = Product.objects.values().get(pk=product.pk)

    response = editor_client.post(settings_url(product), details(product, vision="New", **changes))

    html = _html(response, 400)
    label = html.index(f'<label for="id_{field}">')
    assert message in html[label : html.index("</ul>", label)]  # up to the field's errors
    assert Product.objects.values().get(pk=product.pk) == before
    assert 'value="New"' in html or ">\nNew</textarea>" in html  # the input is kept
    # The page's header still shows the stored product, not the rejected input.
    assert f"<h1>{product.name}</h1>" in html


# --- Scoring -------------------------------------------------------------------------------------


def test_changing_the_framework_rescores_and_reranks(
    editor_client, product, django_capture_on_commit_callbacks
):
    # RICE favours "Wide" (reach); ICE favours "Easy" (ease).
    wide = f.FeatureFactory(product=product, title="Wide", reach=1000, impact_ice=2, ease=2)
    easy = f.FeatureFactory(product=product, title="Easy", reach=10, impact_ice=5, ease=10)
    for feature in (wide, easy):
        feature.confidence_ice = 5
        feature.save()
    from roadmap.planning.services.scoring import product_recompute_scores

    product_recompute_scores(product_id=product.pk)
    assert list(Feature.objects.filter(product=product).values_list("title", flat=True)) == [
        "Wide",
        "Easy",
    ]

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            reverse("roadmap:product_scoring", args=[product.slug]),
            scoring(product, scoring_framework="ice", tie_break="none"),
        )

    assert response.status_code == 302
    page = _html(editor_client.get(response["Location"]))
    assert "Every feature of this product is being rescored" in page
    product.refresh_from_db()
    assert (product.scoring_framework, product.tie_break) == ("ice", "none")
    assert not product.scores_stale
    ranked = Feature.objects.filter(product=product).values_list("title", "rank", "score")
    assert list(ranked) == [("Easy", 1, 250.0), ("Wide", 2, 20.0)]
    current = page[page.index("framework--current") :].split("</li>")[0]
    assert "ICE" in current


def test_saving_unchanged_scoring_says_nothing_is_recomputed(editor_client, product):
    response = editor_client.post(
        reverse("roadmap:product_scoring", args=[product.slug]), scoring(product), follow=True
    )

    assert "Scoring unchanged: nothing to recompute." in _html(response)
    product.refresh_from_db()
    assert product.score_recompute_requested_at is None


def test_an_unknown_framework_is_refused(editor_client, product):
    response = editor_client.post(
        reverse("roadmap:product_scoring", args=[product.slug]),
        scoring(product, scoring_framework="magic"),
    )

    html = _html(response, 400)
    assert "Select a valid choice. magic is not one of the available choices." in html
    assert Product.objects.get(pk=product.pk).scoring_framework == "rice"


# --- Drivers -------------------------------------------------------------------------------------


@pytest.fixture
def weighted(workspace):
    product = f.ProductFactory(workspace=workspace, scoring_framework="weighted")
    feature = f.FeatureFactory(product=product)
    fit = f.ScoringDriverFactory(product=product, name="Strategic fit", weight=Decimal("1"))
    f.FeatureDriverScoreFactory(feature=feature, driver=fit, score=8)
    return product, feature, fit


def test_driver_add_edit_delete_rescore(
    editor_client, weighted, django_capture_on_commit_callbacks
):
    product, feature, fit = weighted

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            row_url(product, "drivers", "add"),
            {"new-driver-name": "Revenue", "new-driver-weight": "3"},
        )
    assert response.status_code == 302
    assert response["Location"] == settings_url(product) + "#drivers"
    revenue = ScoringDriver.objects.get(product=product, name="Revenue")
    assert revenue.weight == Decimal("3")
    f.FeatureDriverScoreFactory(feature=feature, driver=revenue, score=4)

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            row_url(product, "drivers", "edit", fit),
            {f"driver-{fit.pk}-name": "Fit", f"driver-{fit.pk}-weight": "2"},
        )
    assert response.status_code == 302
    fit.refresh_from_db()
    assert (fit.name, fit.weight) == ("Fit", Decimal("2"))
    feature.refresh_from_db()
    assert feature.score == pytest.approx((2 * 8 + 3 * 4) / 5)

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(row_url(product, "drivers", "delete", revenue))
    assert response.status_code == 302
    assert list(ScoringDriver.objects.filter(product=product)) == [fit]
    feature.refresh_from_db()
    assert feature.score == 8


@pytest.mark.parametrize(
    ("weight", "message"),
    [("0", "A weight must be greater than 0."), ("-2", "A weight must be greater than 0."),
     ("heavy", "Enter a number.")],
)  # fmt: skip
def test_an_invalid_driver_weight_is_refused(editor_client, weighted, weight, message):
    product, feature, fit = weighted

    response = editor_client.post(
        row_url(product, "drivers", "edit", fit),
        {f"driver-{fit.pk}-name": "Renamed", f"driver-{fit.pk}-weight": weight},
    )

    html = _html(response, 400)
    field = html[html.index(f'id="id_driver-{fit.pk}-weight"') :].split("</div>")[0]
    assert message in field
    assert 'value="Renamed"' in html  # the input is kept
    fit.refresh_from_db()
    assert (fit.name, fit.weight) == ("Strategic fit", Decimal("1"))


def test_htmx_driver_add_with_a_taken_name_returns_the_card_with_the_error(editor_client, weighted):
    product, feature, fit = weighted

    response = editor_client.post(
        row_url(product, "drivers", "add"),
        {"new-driver-name": "Strategic fit", "new-driver-weight": "1"},
        headers=HTMX,
    )

    html = _html(response)  # 200, so htmx swaps it in
    assert html.lstrip().startswith('<section class="card settings-section" id="drivers"')
    assert "A driver named “Strategic fit” already exists." in html
    assert ScoringDriver.objects.filter(product=product).count() == 1


def test_htmx_driver_add_returns_the_card_with_the_new_row(editor_client, weighted):
    product, feature, fit = weighted

    response = editor_client.post(
        row_url(product, "drivers", "add"),
        {"new-driver-name": "Reach", "new-driver-weight": "1.5"},
        headers=HTMX,
    )

    html = _html(response)
    assert "<html" not in html
    assert 'value="Reach"' in html and "Driver “Reach” added." in html
    assert 'id="id_new-driver-name"' in html and 'name="new-driver-name"' in html


# --- Lanes and releases --------------------------------------------------------------------------


def test_lanes_are_added_renamed_reordered_and_deleted(editor_client, product):
    response = editor_client.post(
        row_url(product, "lanes", "add"), {"new-lane-name": "Growth", "new-lane-position": "1"}
    )
    assert response.status_code == 302
    editor_client.post(
        row_url(product, "lanes", "add"), {"new-lane-name": "Core", "new-lane-position": "2"}
    )
    growth = Lane.objects.get(product=product, name="Growth")
    core = Lane.objects.get(product=product, name="Core")

    editor_client.post(
        row_url(product, "lanes", "edit", core),
        {f"lane-{core.pk}-name": "Platform", f"lane-{core.pk}-position": "0"},
    )

    html = _html(editor_client.get(settings_url(product)))
    lanes = html[html.index('id="lanes"') : html.index('id="releases"')]
    assert lanes.index('value="Platform"') < lanes.index('value="Growth"')

    item = f.RoadmapItemFactory(product=product, lane=growth)
    response = editor_client.post(row_url(product, "lanes", "delete", growth), headers=HTMX)

    html = _html(response)
    assert "Lane “Growth” deleted." in html and 'value="Growth"' not in html
    assert list(Lane.objects.filter(product=product).values_list("name", flat=True)) == ["Platform"]
    item.refresh_from_db()
    assert item.lane is None  # still on the roadmap
    event = ChangeEvent.objects.get(item=item)
    assert (event.kind, event.before["lane"], event.after["lane"]) == ("moved", "Growth", "")


def test_a_duplicate_lane_name_is_refused(editor_client, product):
    f.LaneFactory(product=product, name="Growth")

    response = editor_client.post(
        row_url(product, "lanes", "add"), {"new-lane-name": "Growth", "new-lane-position": "3"}
    )

    html = _html(response, 400)
    assert "A lane named “Growth” already exists." in html
    assert Lane.objects.filter(product=product).count() == 1


def test_releases_are_added_edited_and_deleted(editor_client, product):
    response = editor_client.post(
        row_url(product, "releases", "add"),
        {
            "new-release-name": "2026.2",
            "new-release-target_date": "2026-09-30",
            "new-release-status": "planned",
        },
    )
    assert response.status_code == 302
    release = Release.objects.get(product=product)
    assert (str(release.target_date), release.status) == ("2026-09-30", "planned")

    editor_client.post(
        row_url(product, "releases", "edit", release),
        {
            f"release-{release.pk}-name": "2026.2",
            f"release-{release.pk}-target_date": "2026-10-15",
            f"release-{release.pk}-status": "in_progress",
        },
    )
    release.refresh_from_db()
    assert (str(release.target_date), release.status) == ("2026-10-15", "in_progress")
    html = _html(editor_client.get(settings_url(product)))
    assert 'value="2026-10-15"' in html

    item = f.RoadmapItemFactory(product=product, release=release)
    editor_client.post(row_url(product, "releases", "delete", release))

    assert not Release.objects.filter(product=product).exists()
    item.refresh_from_db()
    assert item.release is None
    assert ChangeEvent.objects.get(item=item).kind == "release_changed"


def test_an_invalid_release_date_keeps_the_release(editor_client, product):
    release = f.ReleaseFactory(product=product, name="Autumn")

    response = editor_client.post(
        row_url(product, "releases", "edit", release),
        {
            f"release-{release.pk}-name": "Winter",
            f"release-{release.pk}-target_date": "soon",
            f"release-{release.pk}-status": "planned",
        },
    )

    html = _html(response, 400)
    assert "Enter a valid date." in html
    assert 'value="Winter"' in html
    assert Release.objects.get(pk=release.pk).name == "Autumn"


def test_rows_of_another_product_are_not_found(editor_client, product, workspace):
    other = f.ProductFactory(workspace=workspace)
    lane = f.LaneFactory(product=other, name="Theirs")

    response = editor_client.post(
        row_url(product, "lanes", "edit", lane), {f"lane-{lane.pk}-name": "Mine"}
    )

    assert response.status_code == 404
    assert Lane.objects.get(pk=lane.pk).name == "Theirs"
    assert RoadmapItem.objects.count() == 0


# --- New product ---------------------------------------------------------------------------------


NEW = reverse("roadmap:product_create")


def test_editor_creates_a_product(editor_client, workspace):
    assert "Create product" in _html(editor_client.get(NEW))

    response = editor_client.post(
        NEW,
        {
            "name": "Field App",
            "slug": "field-app",
            "product_line": "Mobile",
            "vision": "Work anywhere.",
            "description": "",
            "scoring_framework": "wsjf",
        },
    )

    product = Product.objects.get(slug="field-app")
    assert response.status_code == 302
    assert response["Location"] == settings_url(product)
    assert (product.workspace, product.name, product.product_line, product.scoring_framework) == (
        workspace,
        "Field App",
        "Mobile",
        "wsjf",
    )


def test_an_empty_slug_is_made_from_the_name(editor_client):
    editor_client.post(NEW, {"name": "Café Ops Hub", "slug": "", "scoring_framework": "rice"})

    assert Product.objects.filter(slug="cafe-ops-hub", name="Café Ops Hub").exists()


def test_a_duplicate_slug_is_shown_next_to_the_slug(editor_client, workspace):
    f.ProductFactory(workspace=workspace, slug="field-app", name="Old field app")

    response = editor_client.post(
        NEW, {"name": "Field App", "slug": "field-app", "scoring_framework": "rice"}
    )

    html = _html(response, 400)
    slug = html[html.index('<label for="id_slug">') :].split("</ul>")[0]  # up to its errors
    assert "This slug is already used in this workspace; choose another." in slug
    assert 'value="Field App"' in html
    assert list(Product.objects.filter(workspace=workspace).values_list("name", flat=True)) == [
        "Old field app"
    ]


def test_a_slug_used_in_another_workspace_is_free_here(editor_client, workspace, other_workspace):
    theirs = f.ProductFactory(workspace=other_workspace, slug="field-app", name="Theirs")

    response = editor_client.post(
        NEW, {"name": "Field App", "slug": "field-app", "scoring_framework": "rice"}
    )

    assert response.status_code == 302
    assert Product.objects.get(workspace=workspace).slug == "field-app"
    assert Product.objects.get(pk=theirs.pk).name == "Theirs"


def test_viewers_cannot_create_products(viewer_client, workspace):
    assert "New product" not in _html(viewer_client.get(reverse("roadmap:home")))
    assert viewer_client.get(NEW).status_code == 403
    response = viewer_client.post(NEW, {"name": "X", "slug": "x", "scoring_framework": "rice"})

    assert response.status_code == 403
    assert not Product.objects.exists()


def test_editors_see_the_new_product_button(editor_client):
    assert f'href="{NEW}"' in _html(editor_client.get(reverse("roadmap:home")))


# --- Queries -------------------------------------------------------------------------------------


def test_settings_queries_do_not_grow_with_drivers_lanes_and_releases(
    editor_client, product, django_assert_max_num_queries
):
    def add(n: int, offset: int) -> None:
        ScoringDriver.objects.bulk_create(
            ScoringDriver(product=product, name=f"D{offset + i}", position=offset + i)
            for i in range(n)
        )
        lanes = Lane.objects.bulk_create(
            Lane(product=product, name=f"L{offset + i}", position=offset + i) for i in range(n)
        )
        releases = Release.objects.bulk_create(
            Release(product=product, name=f"R{offset + i}") for i in range(n)
        )
        features = Feature.objects.bulk_create(
            Feature(product=product, title=f"F{offset + i}") for i in range(n)
        )
        RoadmapItem.objects.bulk_create(
            RoadmapItem(product=product, feature=feat, lane=lane, release=release)
            for feat, lane, release in zip(features, lanes, releases, strict=True)
        )

    add(2, 0)
    with django_assert_max_num_queries(20) as small:
        editor_client.get(settings_url(product))
    add(100, 2)

    with django_assert_max_num_queries(len(small.captured_queries)):
        html = _html(editor_client.get(settings_url(product)))
    assert html.count('class="settings-row" data-row="L') == 102
    assert html.count("1 item</span>") == 204  # every lane and release holds one item


def test_a_driver_fed_by_the_evidence_scores_features_from_their_customers(
    editor_client, weighted, django_capture_on_commit_callbacks
):
    """Added on the settings page: 2 distinct customers of a full scale of 4 score 5 on it, no
    hand score is asked for it (table, feature form) and none is taken."""
    product, feature, fit = weighted
    for company in ("Acme", "Globex", "acme "):
        f.InsightFactory(product=product, customer=company).features.add(feature)

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            row_url(product, "drivers", "add"),
            {
                "new-driver-name": "Demand",
                "new-driver-weight": "1",
                "new-driver-source": "customers",
                "new-driver-full_scale": "4",
            },
        )

    assert response.status_code == 302
    demand = ScoringDriver.objects.get(product=product, name="Demand")
    assert (demand.source, demand.full_scale) == ("customers", Decimal("4"))
    feature.refresh_from_db()
    assert feature.score == pytest.approx((8 + 5) / 2)
    page = editor_client.get(settings_url(product)).content.decode()
    assert "Distinct customers asking (from evidence)" in page
    table = editor_client.get(reverse("roadmap:product", args=[product.slug])).content.decode()
    assert f'id="col-driver-{demand.pk}"' not in table and f'id="col-driver-{fit.pk}"' in table
    form = editor_client.get(reverse("roadmap:feature_edit", args=[feature.pk])).content.decode()
    assert f'name="driver_{demand.pk}"' not in form and f'name="driver_{fit.pk}"' in form


def test_a_driver_fed_by_the_evidence_needs_a_full_scale(editor_client, weighted):
    product, _, _ = weighted

    response = editor_client.post(
        row_url(product, "drivers", "add"),
        {
            "new-driver-name": "Revenue",
            "new-driver-weight": "1",
            "new-driver-source": "revenue",
            "new-driver-full_scale": "",
        },
    )

    assert response.status_code == 400
    assert "A driver fed by evidence needs a full scale." in response.content.decode()
    assert not ScoringDriver.objects.filter(name="Revenue").exists()


def test_no_hand_score_is_taken_for_a_driver_fed_by_the_evidence(weighted):
    from django.core.exceptions import ValidationError

    from roadmap.planning.services.features import feature_update_inputs
    from roadmap.planning.services.products import driver_save

    product, feature, _ = weighted
    demand = driver_save(
        product=product, name="Demand", weight=Decimal("1"), source="revenue", full_scale=1000
    )

    with pytest.raises(ValidationError) as refused:
        feature_update_inputs(feature=feature, data={}, driver_scores={demand.pk: 7})

    assert refused.value.message_dict == {
        f"driver_{demand.pk}": ["This driver is scored from the evidence, not by hand."]
    }


def test_the_feature_page_shows_each_drivers_score_and_where_it_came_from(
    editor_client, weighted, django_capture_on_commit_callbacks
):
    from roadmap.planning.services.products import driver_save

    product, feature, fit = weighted
    for company in ("Acme", "Globex"):
        f.InsightFactory(product=product, customer=company).features.add(feature)
    with django_capture_on_commit_callbacks(execute=True):
        demand = driver_save(
            product=product, name="Demand", weight=Decimal("1"), source="customers", full_scale=4
        )
    # A hand score left from before the driver was fed by the evidence is not its score.
    f.FeatureDriverScoreFactory(feature=feature, driver=demand, score=9)

    html = editor_client.get(reverse("roadmap:feature", args=[feature.pk])).content.decode()

    block = html[html.index("Driver scores") :]
    block = block[: block.index("</dl>")]
    assert "Strategic fit" in block and "8 / 10" in block and "by hand" in block
    assert "Demand" in block and "5 / 10" in block
    assert "from the evidence: 2 customers asking, of 4 for 10" in block
    assert "9 / 10" not in block
