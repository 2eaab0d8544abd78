"""A product's records pages (personas, the insights inbox, objectives) through the HTTP client:
editors write, viewers read without edit controls (403 on writes), outsiders get 404, and a
rejected input shows its error and changes nothing."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from roadmap.evidence.selectors import INSIGHTS_PER_PAGE
from roadmap.models import Feature, Insight, Objective, Persona, Product
from tests import factories as f


def _url(name: str, product: Product, pk: int | None = None) -> str:
    kwargs = {"slug": product.slug} if pk is None else {"slug": product.slug, "pk": pk}
    return reverse(f"roadmap:{name}", kwargs=kwargs)


def _html(response, status: int = 200) -> str:
    assert response.status_code == status
    return response.content.decode()


def _main(html: str) -> str:
    """The page's own content, without the sidebar (whose menus have forms of their own)."""
    return html[html.index('<main id="main"') :]


def _htmx(client, method: str, url: str, data=None):
    return getattr(client, method)(url, data or {}, HTTP_HX_REQUEST="true")


# --- Personas -------------------------------------------------------------------------------------

PERSONA = {
    "name": "Ops Olga",
    "segment": "Operations lead",
    "segment_size": "250",
    "goals": "See every late job.",
    "pains": "Spreadsheets.",
    "description": "",
}


def test_personas_list_what_cites_them(viewer_client, product):
    olga = f.PersonaFactory(
        product=product, name="Ops Olga", segment="Ops lead", segment_size=1200, goals="Calm days"
    )
    f.PersonaFactory(product=product, name="Finance Fred", pains="Month-end")
    for feature in f.FeatureFactory.create_batch(2, product=product):
        feature.personas.add(olga)
    f.InsightFactory(product=product, persona=olga)

    html = _html(viewer_client.get(_url("personas", product)))

    card = html[html.index("Ops Olga") :]
    assert "Ops lead" in card
    assert "<dt>Segment size</dt><dd>1,200</dd>" in card
    assert "<dt>Features</dt><dd>2</dd>" in card
    assert f'href="{_url("insights", product)}?persona={olga.pk}"' in card
    assert "Calm days" in card
    assert html.index("Finance Fred") < html.index("Ops Olga")
    assert "Month-end" in html


def test_editor_adds_a_persona(editor_client, product):
    response = editor_client.post(_url("personas", product), PERSONA)

    assert response.status_code == 302
    assert response["Location"] == _url("personas", product)
    persona = Persona.objects.get(product=product)
    assert (persona.name, persona.segment, persona.segment_size) == (
        "Ops Olga",
        "Operations lead",
        250,
    )
    assert (persona.goals, persona.pains) == ("See every late job.", "Spreadsheets.")


def test_a_duplicate_persona_name_is_shown_next_to_the_name(editor_client, product):
    f.PersonaFactory(product=product, name="Ops Olga", segment_size=5)

    html = _html(editor_client.post(_url("personas", product), PERSONA), 400)

    assert f"There is already a persona with the name “Ops Olga” in {product.name}." in html
    name_field = html[html.index('for="id_name"') : html.index('for="id_segment"')]
    assert "already a persona" in name_field
    assert list(Persona.objects.filter(product=product).values_list("segment_size")) == [(5,)]
    # The form comes back filled in.
    assert 'value="Operations lead"' in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("segment_size", "-4", "Ensure this value is greater than or equal to 0."),
        ("segment_size", "lots", "Enter a whole number."),
    ],
)
def test_invalid_persona_input_creates_nothing(editor_client, product, field, value, message):
    html = _html(editor_client.post(_url("personas", product), {**PERSONA, field: value}), 400)

    assert message in html
    assert not Persona.objects.filter(product=product).exists()


def test_editor_edits_a_persona(editor_client, product):
    persona = f.PersonaFactory(product=product, name="Olga", segment_size=10)

    form = _html(editor_client.get(_url("persona_edit", product, persona.pk)))
    response = editor_client.post(_url("persona_edit", product, persona.pk), PERSONA)

    assert 'value="Olga"' in form
    assert response.status_code == 302
    persona.refresh_from_db()
    assert (persona.name, persona.segment_size) == ("Ops Olga", 250)


def test_renaming_to_a_taken_name_changes_nothing(editor_client, product):
    f.PersonaFactory(product=product, name="Ops Olga")
    persona = f.PersonaFactory(product=product, name="Finance Fred", segment_size=7)

    html = _html(editor_client.post(_url("persona_edit", product, persona.pk), PERSONA), 400)

    assert "There is already a persona with the name “Ops Olga”" in html
    # The page still names the persona as stored.
    assert "Edit persona “Finance Fred”" in html
    persona.refresh_from_db()
    assert (persona.name, persona.segment_size, persona.goals) == ("Finance Fred", 7, "")


def test_a_persona_change_of_segment_size_rescores_when_reach_comes_from_personas(
    editor_client, product
):
    product.reach_source = "personas"
    product.save()
    persona = f.PersonaFactory(product=product, name="Ops Olga", segment_size=10)

    editor_client.post(_url("persona_edit", product, persona.pk), PERSONA)

    product.refresh_from_db()
    assert product.score_recompute_requested_at is not None


def test_deleting_a_persona_asks_first_and_keeps_what_cited_it(editor_client, product):
    persona = f.PersonaFactory(product=product, name="Ops Olga")
    feature = f.FeatureFactory(product=product)
    feature.personas.add(persona)
    insight = f.InsightFactory(product=product, persona=persona)

    confirm = _html(editor_client.get(_url("persona_delete", product, persona.pk)))
    response = editor_client.post(_url("persona_delete", product, persona.pk))

    assert "Delete the persona “Ops Olga”?" in confirm
    assert "1 feature and 1 insight cite this persona" in confirm
    assert Persona.objects.filter(pk=persona.pk).exists() is False
    assert response["Location"] == _url("personas", product)
    assert list(feature.personas.all()) == []
    insight.refresh_from_db()
    assert insight.persona is None


def test_viewer_reads_personas_without_edit_controls(viewer_client, product):
    persona = f.PersonaFactory(product=product, name="Ops Olga")

    html = _html(viewer_client.get(_url("personas", product)))

    assert "Ops Olga" in html
    assert "<form" not in _main(html)
    assert "New persona" not in html
    assert _url("persona_edit", product, persona.pk) not in html
    assert _url("persona_delete", product, persona.pk) not in html


def test_viewer_cannot_write_personas(viewer_client, product):
    persona = f.PersonaFactory(product=product, name="Olga")

    assert viewer_client.post(_url("personas", product), PERSONA).status_code == 403
    assert viewer_client.get(_url("persona_edit", product, persona.pk)).status_code == 403
    assert viewer_client.post(_url("persona_edit", product, persona.pk), PERSONA).status_code == 403
    assert viewer_client.post(_url("persona_delete", product, persona.pk)).status_code == 403
    assert list(Persona.objects.values_list("name", flat=True)) == ["Olga"]


def test_outsiders_get_404_on_personas(outsider_client, product):
    persona = f.PersonaFactory(product=product)

    assert outsider_client.get(_url("personas", product)).status_code == 404
    assert outsider_client.post(_url("personas", product), PERSONA).status_code == 404
    assert outsider_client.get(_url("persona_edit", product, persona.pk)).status_code == 404
    assert outsider_client.post(_url("persona_delete", product, persona.pk)).status_code == 404
    assert Persona.objects.count() == 1


def test_a_persona_of_another_product_is_not_found_here(editor_client, product, workspace):
    elsewhere = f.PersonaFactory(product=f.ProductFactory(workspace=workspace))

    assert editor_client.get(_url("persona_edit", product, elsewhere.pk)).status_code == 404
    assert editor_client.post(_url("persona_delete", product, elsewhere.pk)).status_code == 404
    assert Persona.objects.filter(pk=elsewhere.pk).exists()


def test_personas_page_runs_a_constant_number_of_queries(
    editor_client, product, django_assert_max_num_queries
):
    personas = Persona.objects.bulk_create(
        Persona(product=product, name=f"Persona {i}", segment_size=i) for i in range(200)
    )
    feature = f.FeatureFactory(product=product)
    feature.personas.set(personas)
    Insight.objects.bulk_create(
        Insight(product=product, source="call", customer=f"C{i}", text="x", persona=personas[i])
        for i in range(200)
    )

    with django_assert_max_num_queries(6):
        html = _html(editor_client.get(_url("personas", product)))

    assert html.count('class="card persona"') == 200


# --- Insights -------------------------------------------------------------------------------------


def _insight_data(**changes) -> dict:
    return {
        "text": "We lose a day a week to exports.",
        "customer": "Acme Corp",
        "source": "call",
        "persona": "",
        "importance": "3",
        "observed_on": "2026-03-02",
        **changes,
    }


def test_the_inbox_shows_each_insight_newest_first(viewer_client, product):
    persona = f.PersonaFactory(product=product, name="Ops Olga")
    feature = f.FeatureFactory(product=product, title="CSV export")
    old = f.InsightFactory(
        product=product, text="Old news", observed_on=datetime.date(2025, 1, 5), customer="Initech"
    )
    new = f.InsightFactory(
        product=product,
        text="Exports take forever",
        customer="Acme Corp",
        source="ticket",
        persona=persona,
        importance=4,
        observed_on=datetime.date(2026, 3, 2),
    )
    new.features.add(feature)

    html = _html(viewer_client.get(_url("insights", product)))

    assert html.index("Exports take forever") < html.index("Old news")
    row = html[html.index(f'id="insight-{new.pk}"') : html.index(f'id="insight-{old.pk}"')]
    assert "Acme Corp" in row
    assert "Support ticket" in row
    assert '<span class="chip" title="Persona">Ops Olga</span>' in row
    assert "Critical" in row
    assert '<time datetime="2026-03-02">2 Mar 2026</time>' in row
    assert f'href="{feature.get_absolute_url()}"' in row
    assert "CSV export" in row
    assert "Not linked to a feature yet." in html[html.index(f'id="insight-{old.pk}"') :]


def test_editor_adds_an_insight_without_javascript(editor_client, editor, product):
    features = f.FeatureFactory.create_batch(3, product=product)
    persona = f.PersonaFactory(product=product)

    response = editor_client.post(
        _url("insights", product),
        _insight_data(persona=persona.pk, features=[features[0].pk, features[2].pk]),
    )

    assert response.status_code == 302
    assert response["Location"] == _url("insights", product)
    insight = Insight.objects.get(product=product)
    assert insight.text == "We lose a day a week to exports."
    assert (insight.customer, insight.source, insight.importance) == ("Acme Corp", "call", 3)
    assert insight.persona == persona
    assert insight.observed_on == datetime.date(2026, 3, 2)
    assert insight.created_by == editor
    assert set(insight.features.all()) == {features[0], features[2]}


def test_htmx_add_returns_a_fresh_form_and_the_new_insight_for_the_top(editor_client, product):
    feature = f.FeatureFactory(product=product, title="CSV export")

    response = _htmx(
        editor_client, "post", _url("insights", product), _insight_data(features=[feature.pk])
    )

    html = _html(response)
    insight = Insight.objects.get(product=product)
    assert '<ul data-hx-swap-oob="afterbegin:#insight-items">' in html
    new_row = html[html.index(f'id="insight-{insight.pk}"') :]
    assert "We lose a day a week to exports." in new_row
    assert "CSV export" in new_row
    form = html[: html.index("data-hx-swap-oob")]
    assert 'id="insight-add"' in form
    assert "Added the insight from Acme Corp." in form
    # The next insight is often from the same conversation: where it came from stays filled in.
    assert 'name="customer" value="Acme Corp"' in form
    assert "We lose a day a week" not in form
    assert "<html" not in html


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"text": ""}, "text", "This field is required."),
        ({"customer": "   "}, "customer", "This field is required."),
        ({"source": "pigeon"}, "source", "Select a valid choice. pigeon is not one of"),
        ({"observed_on": "yesterday"}, "observed_on", "Enter a valid date."),
    ],
)
def test_an_invalid_insight_shows_the_error_and_saves_nothing(
    editor_client, product, changes, field, message
):
    html = _html(editor_client.post(_url("insights", product), _insight_data(**changes)), 400)
    htmx = _html(_htmx(editor_client, "post", _url("insights", product), _insight_data(**changes)))

    for page in (html, htmx):
        assert message in page[page.index(f'for="id_{field}"') :]
    assert "data-hx-swap-oob" not in htmx
    assert not Insight.objects.exists()


def test_linking_a_feature_of_another_product_is_refused(editor_client, product, workspace):
    elsewhere = f.FeatureFactory(product=f.ProductFactory(workspace=workspace))

    html = _html(
        editor_client.post(_url("insights", product), _insight_data(features=[elsewhere.pk])), 400
    )

    assert f"Select a valid choice. {elsewhere.pk} is not one of the available choices." in html
    assert not Insight.objects.exists()


def test_linked_evidence_marks_scores_stale_when_reach_comes_from_insights(editor_client, product):
    product.reach_source = "insights"
    product.save()
    feature = f.FeatureFactory(product=product)

    editor_client.post(_url("insights", product), _insight_data(features=[feature.pk]))

    product.refresh_from_db()
    assert product.score_recompute_requested_at is not None


def test_editor_edits_an_insight_in_place_and_relinks_features(editor_client, product):
    kept, dropped, added = (
        f.FeatureFactory(product=product, title=title) for title in ("Zeta", "Zulu", "Alpha")
    )
    insight = f.InsightFactory(product=product, text="Before", customer="Acme")
    insight.features.set([kept, dropped])

    form = _html(_htmx(editor_client, "get", _url("insight_edit", product, insight.pk)))
    saved = _html(
        _htmx(
            editor_client,
            "post",
            _url("insight_edit", product, insight.pk),
            _insight_data(text="After", features=[kept.pk, added.pk]),
        )
    )

    assert form.lstrip().startswith('<li class="insight insight--editing"')
    assert f'id="insight-{insight.pk}-text"' in form
    assert f'value="{kept.pk}" checked' in form
    assert f'value="{added.pk}" checked' not in form
    # Linked features come first in the checklist, whatever their order by title.
    assert form.index(f'value="{dropped.pk}"') < form.index(f'value="{added.pk}"')
    assert saved.lstrip().startswith(f'<li class="insight" id="insight-{insight.pk}"')
    assert "After" in saved
    insight.refresh_from_db()
    assert insight.text == "After"
    assert set(insight.features.all()) == {kept, added}


def test_editing_without_javascript_is_a_page_that_redirects_back(editor_client, product):
    insight = f.InsightFactory(product=product, text="Before")

    page = _html(editor_client.get(_url("insight_edit", product, insight.pk)))
    response = editor_client.post(
        _url("insight_edit", product, insight.pk), _insight_data(text="After")
    )

    assert "<html" in page
    assert "Edit the insight from" in page
    assert response.status_code == 302
    insight.refresh_from_db()
    assert insight.text == "After"


def test_an_invalid_edit_changes_nothing(editor_client, product):
    feature = f.FeatureFactory(product=product)
    insight = f.InsightFactory(product=product, text="Before", customer="Acme")
    insight.features.set([feature])

    htmx = _html(
        _htmx(
            editor_client,
            "post",
            _url("insight_edit", product, insight.pk),
            _insight_data(text="After", customer="", features=[]),
        )
    )
    page = _html(
        editor_client.post(
            _url("insight_edit", product, insight.pk), _insight_data(importance="9")
        ),
        400,
    )

    assert "This field is required." in htmx[htmx.index(f'for="insight-{insight.pk}-customer"') :]
    assert "Select a valid choice. 9 is not one of the available choices." in page
    insight.refresh_from_db()
    assert (insight.text, insight.customer) == ("Before", "Acme")
    assert list(insight.features.all()) == [feature]


def test_cancel_brings_the_row_back(editor_client, viewer_client, product):
    insight = f.InsightFactory(product=product, text="Unchanged")

    row = _html(_htmx(editor_client, "get", _url("insight", product, insight.pk)))
    plain = editor_client.get(_url("insight", product, insight.pk))

    assert row.lstrip().startswith(f'<li class="insight" id="insight-{insight.pk}"')
    assert "Unchanged" in row
    assert plain.status_code == 302


def test_editor_deletes_an_insight(editor_client, product):
    first, second = f.InsightFactory.create_batch(2, product=product)

    htmx = _htmx(editor_client, "post", _url("insight_delete", product, first.pk))
    plain = editor_client.post(_url("insight_delete", product, second.pk))

    assert (htmx.status_code, htmx.content) == (200, b"")
    assert plain.status_code == 302
    assert not Insight.objects.exists()


def test_viewer_reads_the_inbox_without_edit_controls(viewer_client, product):
    insight = f.InsightFactory(product=product, text="Readable")

    html = _html(viewer_client.get(_url("insights", product)))

    assert "Readable" in html
    assert 'id="insight-add"' not in html
    assert "Add an insight" not in html
    assert _url("insight_edit", product, insight.pk) not in html
    assert _url("insight_delete", product, insight.pk) not in html
    assert 'method="post"' not in _main(html)


def test_viewer_cannot_write_insights(viewer_client, product):
    insight = f.InsightFactory(product=product, text="Keep me")

    assert viewer_client.post(_url("insights", product), _insight_data()).status_code == 403
    assert viewer_client.get(_url("insight_edit", product, insight.pk)).status_code == 403
    edit = viewer_client.post(_url("insight_edit", product, insight.pk), _insight_data())
    assert edit.status_code == 403
    assert viewer_client.post(_url("insight_delete", product, insight.pk)).status_code == 403
    assert list(Insight.objects.values_list("text", flat=True)) == ["Keep me"]


def test_outsiders_get_404_on_insights(outsider_client, product):
    insight = f.InsightFactory(product=product)

    assert outsider_client.get(_url("insights", product)).status_code == 404
    assert outsider_client.post(_url("insights", product), _insight_data()).status_code == 404
    assert outsider_client.get(_url("insight", product, insight.pk)).status_code == 404
    assert outsider_client.post(_url("insight_delete", product, insight.pk)).status_code == 404
    assert Insight.objects.count() == 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("source=ticket", {"ticket"}),
        ("customer=acme+corp", {"acme"}),
        ("q=export", {"acme", "ticket"}),
        ("q=GLOBEX", {"globex"}),
        ("persona={persona}", {"persona"}),
        ("source=ticket&q=nothing-matches", set()),
        ("source=nonsense", {"acme", "ticket", "globex", "persona"}),
    ],
)
def test_inbox_filters(viewer_client, product, query, expected):
    persona = f.PersonaFactory(product=product)
    insights = {
        "acme": f.InsightFactory(product=product, customer="Acme Corp", text="Export please"),
        "ticket": f.InsightFactory(product=product, source="ticket", text="Export is slow"),
        "globex": f.InsightFactory(product=product, customer="Globex", text="Dark mode"),
        "persona": f.InsightFactory(product=product, persona=persona, text="Alerts"),
    }

    url = _url("insights", product) + "?" + query.format(persona=persona.pk)
    html = _html(viewer_client.get(url))

    shown = {key for key, insight in insights.items() if f'id="insight-{insight.pk}"' in html}
    assert shown == expected
    if not expected:
        assert "No insight matches these filters." in html


def test_htmx_filter_gets_the_list_alone(viewer_client, product):
    f.InsightFactory(product=product, source="ticket", text="Slow")

    response = _htmx(viewer_client, "get", _url("insights", product) + "?source=ticket")

    html = _html(response)
    assert html.lstrip().startswith('<ul class="insight-list" id="insight-items">')
    assert "Slow" in html
    assert "HX-Request" in response["Vary"]


def test_the_inbox_pages_newest_first_keeping_the_filters(viewer_client, product):
    today = timezone.localdate()
    Insight.objects.bulk_create(
        Insight(
            product=product,
            source="call",
            customer="Acme",
            text=f"Quote {i:03}",
            observed_on=today - datetime.timedelta(days=i),
        )
        for i in range(120)
    )

    first = _html(viewer_client.get(_url("insights", product) + "?source=call"))
    last = _html(viewer_client.get(_url("insights", product) + "?source=call&page=3"))

    assert first.count('class="insight"') == INSIGHTS_PER_PAGE
    assert "Quote 000" in first and "Quote 049" in first and "Quote 050" not in first
    assert "1–50 of 120 matching" in first
    assert 'href="?source=call&amp;page=2"' in first
    assert last.count('class="insight"') == 20
    assert "Quote 119" in last
    assert "Page 3 of 3" in last


def test_the_inbox_runs_a_constant_number_of_queries(
    editor_client, product, django_assert_max_num_queries
):
    personas = Persona.objects.bulk_create(
        Persona(product=product, name=f"Persona {i}") for i in range(20)
    )
    features = Feature.objects.bulk_create(
        Feature(product=product, title=f"Feature {i}") for i in range(300)
    )
    insights = Insight.objects.bulk_create(
        Insight(
            product=product,
            source="call",
            customer=f"Customer {i % 400}",
            text=f"Quote {i}",
            persona=personas[i % 20],
        )
        for i in range(2000)
    )
    Insight.features.through.objects.bulk_create(
        Insight.features.through(insight_id=insight.pk, feature_id=features[i % 300].pk)
        for i, insight in enumerate(insights)
    )

    with django_assert_max_num_queries(12):
        html = _html(editor_client.get(_url("insights", product)))

    assert html.count('class="insight"') == INSIGHTS_PER_PAGE
    assert html.count('name="features"') == 300


# --- Objectives -----------------------------------------------------------------------------------


def _objective_data(**changes) -> dict:
    return {
        "name": "Analysts stay in the product",
        "description": "",
        "metric": "exports per analyst per week",
        "unit": "exports",
        "baseline": "14",
        "target": "5",
        "current": "11",
        "due": "2027-02-21",
        **changes,
    }


def test_objectives_show_progress_and_the_features_serving_them(viewer_client, product):
    feature = f.FeatureFactory(product=product, title="Drill-down", status="planned")
    objective = f.ObjectiveFactory(
        product=product,
        name="More teams",
        metric="weekly active teams",
        unit="teams",
        baseline=Decimal("100"),
        target=Decimal("200"),
        current=Decimal("150"),
        due=datetime.date(2027, 1, 31),
    )
    objective.features.add(feature)
    f.ObjectiveFactory(product=product, name="No baseline", baseline=None)

    html = _html(viewer_client.get(_url("objectives", product)))

    card = html[html.index("More teams") : html.index("No baseline")]
    assert "Weekly active teams" in card
    assert "31 Jan 2027" in card
    assert "<dt>Baseline</dt><dd>100" in card
    assert "<dt>Current</dt><dd>150" in card
    assert "<dt>Target</dt><dd>200" in card
    assert "<dt>Progress</dt><dd>50%</dd>" in card
    assert '<progress class="progress objective-card__progress" max="100" value="50"' in card
    assert f'<a href="{feature.get_absolute_url()}">Drill-down</a>' in card
    assert '<span class="badge status--planned">Planned</span>' in card
    assert "No progress to show until it has a baseline" in html[html.index("No baseline") :]


def test_editor_adds_an_objective_with_its_features(editor_client, product):
    feature = f.FeatureFactory(product=product)

    response = editor_client.post(
        _url("objectives", product), _objective_data(features=[feature.pk])
    )

    assert response.status_code == 302
    objective = Objective.objects.get(product=product)
    assert (objective.baseline, objective.target, objective.current) == (
        Decimal("14"),
        Decimal("5"),
        Decimal("11"),
    )
    assert objective.due == datetime.date(2027, 2, 21)
    assert list(objective.features.all()) == [feature]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"target": "14"}, "target", "The target must differ from the baseline."),
        ({"target": ""}, "target", "This field is required."),
        ({"metric": ""}, "metric", "This field is required."),
        ({"current": "a lot"}, "current", "Enter a number."),
    ],
)
def test_an_invalid_objective_shows_the_error_and_saves_nothing(
    editor_client, product, changes, field, message
):
    html = _html(editor_client.post(_url("objectives", product), _objective_data(**changes)), 400)

    assert message in html[html.index(f'for="id_{field}"') :]
    assert not Objective.objects.exists()


def test_editor_edits_an_objective(editor_client, product):
    old_feature, new_feature = f.FeatureFactory.create_batch(2, product=product)
    objective = f.ObjectiveFactory(product=product, name="Before")
    objective.features.add(old_feature)

    form = _html(editor_client.get(_url("objective_edit", product, objective.pk)))
    response = editor_client.post(
        _url("objective_edit", product, objective.pk),
        _objective_data(current="9", features=[new_feature.pk]),
    )

    assert 'value="Before"' in form
    assert f'value="{old_feature.pk}" checked' in form
    assert response.status_code == 302
    objective.refresh_from_db()
    assert (objective.name, objective.current) == ("Analysts stay in the product", Decimal("9"))
    assert list(objective.features.all()) == [new_feature]


def test_an_invalid_objective_edit_changes_nothing(editor_client, product):
    feature = f.FeatureFactory(product=product)
    objective = f.ObjectiveFactory(product=product, name="Before")
    objective.features.add(feature)

    html = _html(
        editor_client.post(
            _url("objective_edit", product, objective.pk),
            _objective_data(baseline="5", target="5", features=[]),
        ),
        400,
    )

    assert "The target must differ from the baseline." in html
    assert 'value="Analysts stay in the product"' in html
    objective.refresh_from_db()
    assert (objective.name, objective.target) == ("Before", Decimal("200"))
    assert list(objective.features.all()) == [feature]


def test_editor_deletes_an_objective_and_its_features_stay(editor_client, product):
    feature = f.FeatureFactory(product=product)
    objective = f.ObjectiveFactory(product=product)
    objective.features.add(feature)

    response = editor_client.post(_url("objective_delete", product, objective.pk))

    assert response.status_code == 302
    assert not Objective.objects.exists()
    assert Feature.objects.filter(pk=feature.pk).exists()


def test_viewer_reads_objectives_without_edit_controls(viewer_client, product):
    objective = f.ObjectiveFactory(product=product, name="Readable")

    html = _html(viewer_client.get(_url("objectives", product)))

    assert "Readable" in html
    assert "<form" not in _main(html)
    assert "New objective" not in html
    assert _url("objective_edit", product, objective.pk) not in html
    assert _url("objective_delete", product, objective.pk) not in html


def test_viewer_cannot_write_objectives(viewer_client, product):
    objective = f.ObjectiveFactory(product=product, name="Keep")

    assert viewer_client.post(_url("objectives", product), _objective_data()).status_code == 403
    assert viewer_client.get(_url("objective_edit", product, objective.pk)).status_code == 403
    edit = viewer_client.post(_url("objective_edit", product, objective.pk), _objective_data())
    assert edit.status_code == 403
    assert viewer_client.post(_url("objective_delete", product, objective.pk)).status_code == 403
    assert list(Objective.objects.values_list("name", flat=True)) == ["Keep"]


def test_outsiders_get_404_on_objectives(outsider_client, product):
    objective = f.ObjectiveFactory(product=product)

    assert outsider_client.get(_url("objectives", product)).status_code == 404
    assert outsider_client.post(_url("objectives", product), _objective_data()).status_code == 404
    assert outsider_client.get(_url("objective_edit", product, objective.pk)).status_code == 404
    assert outsider_client.post(_url("objective_delete", product, objective.pk)).status_code == 404
    assert Objective.objects.count() == 1


def test_objectives_page_runs_a_constant_number_of_queries(
    editor_client, product, django_assert_max_num_queries
):
    features = Feature.objects.bulk_create(
        Feature(product=product, title=f"Feature {i}") for i in range(300)
    )
    objectives = Objective.objects.bulk_create(
        Objective(product=product, name=f"Objective {i}", metric="m", target=Decimal(10 + i))
        for i in range(100)
    )
    Objective.features.through.objects.bulk_create(
        Objective.features.through(objective_id=o.pk, feature_id=features[(i * 3 + k) % 300].pk)
        for i, o in enumerate(objectives)
        for k in range(3)
    )

    with django_assert_max_num_queries(8):
        html = _html(editor_client.get(_url("objectives", product)))

    assert html.count('class="card objective-card"') == 100
