"""The strategy pages: positioning (answers citing insights and personas, history, audiences),
competitors, the comparison grid with market positions, and market size estimates."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from roadmap.models import (
    Comparison,
    Competitor,
    Feature,
    MarketSize,
    Positioning,
    PositioningAnswer,
)
from roadmap.strategy.selectors.strategy import comparison_grid, positioning_history
from roadmap.strategy.services import strategy as services
from tests import factories as f

# --- Positioning: the service --------------------------------------------------------------------


def test_answer_is_created_then_edited_with_citations_of_the_product(product, editor):
    insight = f.InsightFactory(product=product, customer="Meridian")
    persona = f.PersonaFactory(product=product, name="Ops lead")

    first = services.positioning_answer_save(
        product=product, question="problem", text="Paperwork.", insights=[insight], actor=editor
    )
    again = services.positioning_answer_save(
        product=product,
        question="problem",
        text="Paperwork eats a day a week.",
        insights=[insight],
        personas=[persona],
        actor=editor,
    )

    assert again.pk == first.pk
    answer = PositioningAnswer.objects.get(pk=first.pk)
    assert answer.text == "Paperwork eats a day a week."
    assert list(answer.insights.all()) == [insight]
    assert list(answer.personas.all()) == [persona]
    assert answer.updated_by == editor
    assert Positioning.objects.get(product=product).show_to_investors is False


def test_one_history_row_per_save_and_none_for_a_save_that_changes_nothing(product, editor):
    insights = f.InsightFactory.create_batch(2, product=product)

    services.positioning_answer_save(
        product=product, question="standout", text="Fast.", insights=insights, actor=editor
    )
    services.positioning_answer_save(
        product=product, question="standout", text="Fast.", insights=insights, actor=editor
    )
    services.positioning_answer_save(
        product=product, question="standout", text="Faster.", insights=insights[:1], actor=editor
    )

    rows = PositioningAnswer.history.order_by("history_id")
    assert rows.count() == 2
    assert [r.history_user for r in rows] == [editor, editor]


@pytest.mark.parametrize("kind", ["insights", "personas"])
def test_citations_of_another_product_are_refused_and_nothing_changes(product, kind):
    other = f.ProductFactory(workspace=product.workspace)
    stranger = (f.InsightFactory if kind == "insights" else f.PersonaFactory)(product=other)
    services.positioning_answer_save(product=product, question="problem", text="Before.")

    with pytest.raises(ValidationError) as excinfo:
        services.positioning_answer_save(
            product=product, question="problem", text="After.", **{kind: [stranger]}
        )

    assert set(excinfo.value.message_dict) == {kind}
    answer = PositioningAnswer.objects.get()
    assert answer.text == "Before."
    assert not getattr(answer, kind).exists()


def test_unknown_question_is_refused(product):
    with pytest.raises(ValidationError):
        services.positioning_answer_save(product=product, question="vision", text="x")
    assert not PositioningAnswer.objects.exists()


def test_history_tells_who_answered_cited_and_shared(product, editor, admin_user):
    insight = f.InsightFactory(product=product, customer="Bluepeak", source="sales")
    services.positioning_answer_save(
        product=product, question="market_gap", text="Nobody does it.", actor=editor
    )
    services.positioning_answer_save(
        product=product,
        question="market_gap",
        text="Nobody does it well.",
        insights=[insight],
        actor=admin_user,
    )
    services.positioning_set_audiences(
        product=product, show_to_investors=True, show_to_executives=False, actor=admin_user
    )

    lines = positioning_history(product=product)

    assert [(line.actor, line.summary) for line in lines] == [
        (admin_user.name, "shared the positioning with investors"),
        (
            admin_user.name,
            "edited the answer to “What gap in the market does it fill?”; cited Bluepeak "
            "(sales) for “What gap in the market does it fill?”",
        ),
        (editor.name, "answered “What gap in the market does it fill?”"),
    ]


# --- Positioning: the pages ----------------------------------------------------------------------


def test_positioning_page_shows_every_question_answers_and_citations(
    editor_client, product, django_assert_max_num_queries
):
    insight = f.InsightFactory(product=product, customer="Meridian", text="We hate paperwork.")
    persona = f.PersonaFactory(product=product, name="Dispatcher")
    services.positioning_answer_save(
        product=product,
        question="customer_pains",
        text="**Paperwork** all day.",
        insights=[insight],
        personas=[persona],
    )
    url = reverse("roadmap:strategy", args=[product.slug])

    with django_assert_max_num_queries(16):
        response = editor_client.get(url)

    body = response.content.decode()
    assert response.status_code == 200
    assert "<strong>Paperwork</strong> all day." in body
    assert "We hate paperwork." in body and "Dispatcher" in body
    assert body.count('class="card st-answer"') == 7
    assert "1 of 7 questions answered" in body


def test_positioning_page_queries_do_not_grow_with_answers(
    editor_client, product, django_assert_max_num_queries
):
    url = reverse("roadmap:strategy", args=[product.slug])
    services.positioning_answer_save(
        product=product,
        question="problem",
        text="One.",
        insights=[f.InsightFactory(product=product)],
        personas=[f.PersonaFactory(product=product)],
    )
    with django_assert_max_num_queries(30) as few:
        editor_client.get(url)
    for question in ("market_gap", "solution", "standout", "differentiation"):
        services.positioning_answer_save(
            product=product,
            question=question,
            text=question,
            insights=f.InsightFactory.create_batch(3, product=product),
            personas=f.PersonaFactory.create_batch(2, product=product),
        )

    with django_assert_max_num_queries(len(few.captured_queries)):
        editor_client.get(url)


def test_editor_saves_an_answer_with_the_plain_form(editor_client, product, editor):
    insight = f.InsightFactory(product=product)
    url = reverse("roadmap:positioning_answer", args=[product.slug, "problem"])

    form = editor_client.get(url)
    response = editor_client.post(url, {"text": "It solves X.", "insights": [insight.pk]})

    assert form.status_code == 200
    assert response.status_code == 302
    assert response["Location"].endswith("#q-problem")
    answer = PositioningAnswer.objects.get(question="problem")
    assert answer.text == "It solves X." and list(answer.insights.all()) == [insight]
    history = PositioningAnswer.history.get()
    assert history.history_user == editor


def test_htmx_save_returns_the_answer_fragment(editor_client, product):
    url = reverse("roadmap:positioning_answer", args=[product.slug, "problem"])

    response = editor_client.post(url, {"text": "Saved _in place_."}, HTTP_HX_REQUEST="true")

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<article class="card st-answer" id="q-problem"')
    assert "<em>in place</em>" in body and "Saved" in body


def test_a_foreign_insight_in_the_form_is_an_error_next_to_the_field(editor_client, product):
    stranger = f.InsightFactory()
    url = reverse("roadmap:positioning_answer", args=[product.slug, "problem"])

    response = editor_client.post(url, {"text": "x", "insights": [stranger.pk]})

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not PositioningAnswer.objects.exists()


def test_answer_markdown_is_sanitised(editor_client, product):
    services.positioning_answer_save(
        product=product,
        question="problem",
        text="<script>alert(1)</script> [x](javascript:alert(1))",
    )

    body = editor_client.get(reverse("roadmap:strategy", args=[product.slug])).content.decode()

    assert "<script>alert(1)" not in body
    # CommonMark reads the whole line as a block of raw HTML: the script goes, the rest stays as
    # inert text. What matters is that no link anywhere points to javascript:.
    assert not re.search(r"href=[\"']?\s*javascript:", body, re.IGNORECASE)


def test_viewer_reads_but_cannot_edit(viewer_client, product):
    page = viewer_client.get(reverse("roadmap:strategy", args=[product.slug]))
    edit = viewer_client.get(reverse("roadmap:positioning_answer", args=[product.slug, "problem"]))
    shown = viewer_client.get(
        reverse("roadmap:positioning_answer", args=[product.slug, "problem"]) + "?show=1"
    )
    save = viewer_client.post(
        reverse("roadmap:positioning_answer", args=[product.slug, "problem"]), {"text": "x"}
    )
    audiences = viewer_client.post(
        reverse("roadmap:positioning_audiences", args=[product.slug]), {"show_to_investors": "on"}
    )

    assert page.status_code == 200
    assert "Save audiences" not in page.content.decode()
    assert (edit.status_code, shown.status_code, save.status_code) == (403, 200, 403)
    assert audiences.status_code == 403
    assert not PositioningAnswer.objects.exists()
    assert not Positioning.objects.filter(show_to_investors=True).exists()


def test_outsider_gets_404(outsider_client, product):
    for url in (
        reverse("roadmap:strategy", args=[product.slug]),
        reverse("roadmap:strategy_market", args=[product.slug]),
        reverse("roadmap:business_case", args=[product.slug]),
    ):
        assert outsider_client.get(url).status_code == 404


def test_unknown_question_is_404(editor_client, product):
    url = reverse("roadmap:positioning_answer", args=[product.slug, "nope"])
    assert editor_client.get(url).status_code == 404


def test_audiences_are_saved_and_told(editor_client, product):
    url = reverse("roadmap:positioning_audiences", args=[product.slug])

    response = editor_client.post(url, {"show_to_executives": "on"}, follow=True)

    positioning = Positioning.objects.get(product=product)
    assert (positioning.show_to_investors, positioning.show_to_executives) == (False, True)
    assert "The positioning is shown to executives." in response.content.decode()


# --- Competitors ---------------------------------------------------------------------------------


def test_editor_adds_edits_and_deletes_a_competitor(editor_client, product):
    add = editor_client.post(
        reverse("roadmap:competitor_add", args=[product.slug]),
        {"name": "Acme", "website": "https://acme.example", "strengths": "Cheap"},
    )
    competitor = Competitor.objects.get(product=product)
    edit = editor_client.post(
        reverse("roadmap:competitor_edit", args=[product.slug, competitor.pk]),
        {"name": "Acme Corp", "weaknesses": "Slow"},
    )
    competitor.refresh_from_db()
    page = editor_client.get(reverse("roadmap:strategy_market", args=[product.slug]))
    delete = editor_client.post(
        reverse("roadmap:competitor_delete", args=[product.slug, competitor.pk])
    )

    assert (add.status_code, edit.status_code, delete.status_code) == (302, 302, 302)
    assert (competitor.name, competitor.weaknesses, competitor.website) == ("Acme Corp", "Slow", "")
    assert "Acme Corp" in page.content.decode()
    assert not Competitor.objects.exists()


def test_bad_competitor_input_shows_errors_next_to_fields_and_saves_nothing(editor_client, product):
    f.CompetitorFactory(product=product, name="Acme")

    duplicate = editor_client.post(
        reverse("roadmap:competitor_add", args=[product.slug]), {"name": "Acme"}
    )
    bad_url = editor_client.post(
        reverse("roadmap:competitor_add", args=[product.slug]),
        {"name": "Other", "website": "not a url"},
    )

    assert duplicate.status_code == 400 and bad_url.status_code == 400
    assert "already exists" in duplicate.content.decode()
    assert "Enter a valid URL." in bad_url.content.decode()
    assert Competitor.objects.count() == 1


def test_competitor_of_another_product_is_404(editor_client, product):
    stranger = f.CompetitorFactory()
    url = reverse("roadmap:competitor_edit", args=[product.slug, stranger.pk])
    assert editor_client.get(url).status_code == 404
    assert editor_client.post(url, {"name": "x"}).status_code == 404


# --- The comparison grid -------------------------------------------------------------------------


def test_comparison_set_upserts_and_clears_a_cell(product):
    competitor = f.CompetitorFactory(product=product)
    feature = f.FeatureFactory(product=product)

    services.comparison_set(competitor=competitor, feature=feature, status="has", note="Since v2")
    cell = services.comparison_set(competitor=competitor, feature=feature, status="better")
    cleared = services.comparison_set(competitor=competitor, feature=feature, status="")

    assert cell.status == "better" and cell.note == ""
    assert cleared is None
    assert not Comparison.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"status": "awesome"}, "status"),
        ({"status": "has", "foreign": True}, "feature"),
        ({"status": "has", "both": True}, "__all__"),
    ],
)
def test_comparison_set_refuses_bad_cells(product, kwargs, error):
    competitor = f.CompetitorFactory(product=product)
    feature = f.FeatureFactory(product=product)
    extra = {}
    if kwargs.pop("foreign", False):
        feature = f.FeatureFactory()
    if kwargs.pop("both", False):
        extra["lane"] = f.LaneFactory(product=product)

    with pytest.raises(ValidationError) as excinfo:
        services.comparison_set(competitor=competitor, feature=feature, **kwargs, **extra)

    assert set(excinfo.value.message_dict) == {error}
    assert not Comparison.objects.exists()


def test_grid_select_is_saved_at_once_with_htmx(editor_client, product):
    competitor = f.CompetitorFactory(product=product, name="Acme")
    feature = f.FeatureFactory(product=product, title="SSO")
    url = reverse("roadmap:comparison_grid", args=[product.slug])

    response = editor_client.post(
        url, {f"cell-{competitor.pk}-f{feature.pk}": "partial"}, HTTP_HX_REQUEST="true"
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="cell-{competitor.pk}-f{feature.pk}"' in body
    assert 'value="partial" selected' in body and "Saved" in body
    assert Comparison.objects.get().status == "partial"


def test_market_position_is_saved_through_feature_update(editor_client, product, editor):
    product.tie_break = "differentiator"
    product.save()
    feature = f.FeatureFactory(product=product)
    url = reverse("roadmap:comparison_grid", args=[product.slug])

    response = editor_client.post(
        url, {f"position-{feature.pk}": "differentiator"}, HTTP_HX_REQUEST="true"
    )

    feature.refresh_from_db()
    assert response.status_code == 200
    assert feature.market_position == "differentiator"
    assert feature.version == 2
    assert feature.history.first().history_user == editor


def test_plain_grid_form_saves_every_changed_cell_and_themes_too(editor_client, product):
    acme, zen = f.CompetitorFactory(product=product), f.CompetitorFactory(product=product)
    feature = f.FeatureFactory(product=product)
    lane = f.LaneFactory(product=product)
    f.ComparisonFactory(competitor=zen, feature=feature, status="has", note="Keep me")
    url = reverse("roadmap:comparison_grid", args=[product.slug])

    response = editor_client.post(
        url,
        {
            f"cell-{acme.pk}-f{feature.pk}": "missing",
            f"cell-{zen.pk}-f{feature.pk}": "worse",
            f"cell-{acme.pk}-t{lane.pk}": "better",
            f"position-{feature.pk}": "parity",
        },
    )

    assert response.status_code == 302 and response["Location"].endswith("#grid")
    cells = {
        (c.competitor_id, c.feature_id, c.lane_id): (c.status, c.note)
        for c in Comparison.objects.all()
    }
    assert cells == {
        (acme.pk, feature.pk, None): ("missing", ""),
        (zen.pk, feature.pk, None): ("worse", "Keep me"),
        (acme.pk, None, lane.pk): ("better", ""),
    }
    assert Feature.objects.get(pk=feature.pk).market_position == "parity"


def test_a_bad_grid_value_saves_nothing(editor_client, product):
    competitor = f.CompetitorFactory(product=product)
    feature = f.FeatureFactory(product=product)
    stranger = f.FeatureFactory()
    url = reverse("roadmap:comparison_grid", args=[product.slug])

    bad_status = editor_client.post(
        url,
        {
            f"position-{feature.pk}": "parity",
            f"cell-{competitor.pk}-f{feature.pk}": "awesome",
        },
    )
    foreign = editor_client.post(url, {f"cell-{competitor.pk}-f{stranger.pk}": "has"})
    htmx_bad = editor_client.post(
        url, {f"cell-{competitor.pk}-f{feature.pk}": "awesome"}, HTTP_HX_REQUEST="true"
    )

    assert bad_status.status_code == 400 and foreign.status_code == 400
    assert "Nothing was saved." in bad_status.content.decode()
    assert htmx_bad.status_code == 200 and 'role="alert"' in htmx_bad.content.decode()
    assert not Comparison.objects.exists()
    assert Feature.objects.get(pk=feature.pk).market_position == ""


def test_cell_note_page(editor_client, product):
    competitor = f.CompetitorFactory(product=product)
    lane = f.LaneFactory(product=product, name="Mobile")
    url = reverse("roadmap:comparison_cell", args=[product.slug, competitor.pk, "t", lane.pk])

    page = editor_client.get(url)
    response = editor_client.post(url, {"status": "better", "note": "Native apps"})

    assert page.status_code == 200 and "Mobile" in page.content.decode()
    assert response.status_code == 302 and "?by=theme#grid" in response["Location"]
    cell = Comparison.objects.get()
    assert (cell.lane, cell.status, cell.note) == (lane, "better", "Native apps")
    bad_kind = reverse("roadmap:comparison_cell", args=[product.slug, competitor.pk, "x", lane.pk])
    assert editor_client.get(bad_kind).status_code == 404


def test_grid_selector_and_page_queries_are_constant(
    editor_client, product, django_assert_max_num_queries
):
    url = reverse("roadmap:strategy_market", args=[product.slug])
    f.CompetitorFactory(product=product)
    f.FeatureFactory(product=product)
    with django_assert_max_num_queries(30) as few:
        editor_client.get(url)
    competitors = f.CompetitorFactory.create_batch(3, product=product)
    for feature in f.FeatureFactory.create_batch(10, product=product):
        for competitor in competitors:
            f.ComparisonFactory(competitor=competitor, feature=feature, note="n")
    f.MarketSizeFactory.create_batch(3, product=product)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = editor_client.get(url)

    assert response.status_code == 200
    grid = comparison_grid(product=product)
    assert len(grid.rows) == 11 and len(grid.competitors) == 4
    assert sum(1 for row in grid.rows for _, cell in row.cells if cell) == 30


def test_viewer_cannot_change_the_grid(viewer_client, product):
    competitor = f.CompetitorFactory(product=product)
    feature = f.FeatureFactory(product=product)

    response = viewer_client.post(
        reverse("roadmap:comparison_grid", args=[product.slug]),
        {f"cell-{competitor.pk}-f{feature.pk}": "has"},
    )
    page = viewer_client.get(reverse("roadmap:strategy_market", args=[product.slug]))

    assert response.status_code == 403
    assert not Comparison.objects.exists()
    assert "<select" not in page.content.decode()


# --- Market size ---------------------------------------------------------------------------------


def test_market_sizes_keep_older_estimates_and_lead_with_the_newest(editor_client, product):
    url = reverse("roadmap:market_size_add", args=[product.slug])
    for value, as_of in (("1000000", "2025-01-15"), ("1500000", "2026-02-01")):
        response = editor_client.post(
            url,
            {
                "kind": "tam",
                "value": value,
                "source": "Analyst report",
                "source_url": "https://example.com/report",
                "as_of": as_of,
            },
        )
        assert response.status_code == 302

    body = editor_client.get(reverse("roadmap:strategy_market", args=[product.slug])).content
    body = body.decode()
    assert MarketSize.objects.count() == 2
    assert body.index("1,500,000") < body.index("1,000,000")
    assert "Analyst report" in body and "Feb 2026" in body


def test_bad_market_size_input_is_shown_and_nothing_saved(editor_client, product):
    response = editor_client.post(
        reverse("roadmap:market_size_add", args=[product.slug]),
        {"kind": "xyz", "value": "-5", "source": "", "as_of": "not a date"},
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert "Select a valid choice" in body and "Enter a valid date." in body
    assert not MarketSize.objects.exists()


def test_market_size_service_refuses_negative_values(product):
    with pytest.raises(ValidationError) as excinfo:
        services.market_size_save(
            product=product,
            data={
                "kind": "sam",
                "value": Decimal("-1"),
                "source": "Guess",
                "as_of": datetime.date(2026, 1, 1),
            },
        )
    assert "value" in excinfo.value.message_dict
    assert not MarketSize.objects.exists()


def test_market_size_edit_and_delete(editor_client, product):
    estimate = f.MarketSizeFactory(product=product, kind="som", value=Decimal("5000"))
    edit_url = reverse("roadmap:market_size_edit", args=[product.slug, estimate.pk])

    page = editor_client.get(edit_url)
    edit = editor_client.post(
        edit_url,
        {"kind": "som", "value": "6000", "source": "Bottom-up", "as_of": "2026-03-01"},
    )
    estimate.refresh_from_db()
    delete = editor_client.post(
        reverse("roadmap:market_size_delete", args=[product.slug, estimate.pk])
    )

    assert page.status_code == 200 and edit.status_code == 302 and delete.status_code == 302
    assert (estimate.value, estimate.source) == (Decimal("6000"), "Bottom-up")
    assert not MarketSize.objects.exists()
