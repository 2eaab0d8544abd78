"""Custom fields in the prioritization table (issue 19): a column per field (shown, hidden,
sorted, edited in its cell through ``features_write``, with or without JavaScript) and filters by
a field's value, read in a fixed number of queries."""

from decimal import Decimal

import pytest
from django.urls import reverse

from roadmap.models import CustomFieldKind, Feature, FeatureFieldValue, TableLayout
from roadmap.planning.selectors import table as selectors
from roadmap.planning.selectors.priorities import (
    FieldCondition,
    feature_filter,
    field_filters_clean,
    product_field_definitions,
)
from roadmap.planning.services import fields as field_services
from roadmap.planning.services.features import feature_update
from roadmap.planning.services.scoring import product_recompute_scores
from tests import factories as f
from tests.roadmap.test_table import HTMX, _attrs, _cell_post, _edit, _html, _table, _text


@pytest.fixture
def fields(product):
    return f.custom_fields(product)


@pytest.fixture
def valued(product, fields):
    """Three ranked features: high is Enterprise, urgent, 12,500.5; middle SMB, not urgent, 800;
    low has no value in any field."""
    return f.features_with_field_values(product)


def _titles(html: str) -> list[str]:
    import re

    return re.findall(r'class="table__title" id="f\d+-t" href="[^"]*">([^<]*)</a>', html)


# --- Columns -------------------------------------------------------------------------------------


def test_each_field_is_a_column_showing_its_value(viewer_client, product, valued):
    high, middle, low = valued

    html = _html(viewer_client.get(_table(product)))

    assert _text(html, "col-field-segment") == "Segment"
    assert _text(html, "col-field-urgent") == "Urgent"
    assert _text(html, "col-field-deal_size") == "Deal size"
    assert _text(html, f"f{high.pk}-field-segment-cell") == "Enterprise"
    assert _text(html, f"f{high.pk}-field-urgent-cell") == "Yes"
    assert _text(html, f"f{high.pk}-field-deal_size-cell") == "12,500.5"
    assert _text(html, f"f{middle.pk}-field-urgent-cell") == "No"
    assert _text(html, f"f{low.pk}-field-segment-cell") == "—"
    assert _text(html, f"f{low.pk}-field-deal_size-cell") == "—"


def test_an_editor_gets_a_control_per_field(editor_client, product, valued):
    high, _, low = valued

    html = _html(editor_client.get(_table(product)))

    segment = _attrs(html, f"f{high.pk}-field-segment")
    assert (segment["name"], segment["data-saved"]) == ("field_segment", "Enterprise")
    assert 'value="Enterprise" selected' in html
    assert _attrs(html, f"f{high.pk}-field-deal_size")["value"] == "12500.5"
    assert _attrs(html, f"f{low.pk}-field-urgent")["data-saved"] == ""


@pytest.mark.parametrize(
    "sort, expected",
    [
        ("field-deal_size", ["Middle", "High", "Low"]),
        ("-field-deal_size", ["High", "Middle", "Low"]),
        # A choice sorts by its value (SMB 1, Enterprise 3); no value last either way.
        ("field-segment", ["Middle", "High", "Low"]),
        ("-field-segment", ["High", "Middle", "Low"]),
        ("field-urgent", ["Middle", "High", "Low"]),
    ],
)
def test_sorting_by_a_field(viewer_client, product, valued, sort, expected):
    html = _html(viewer_client.get(_table(product), {"sort": sort}))

    assert _titles(html) == expected
    assert _attrs(html, f"col-{sort.removeprefix('-')}")["aria-sort"] in (
        "ascending",
        "descending",
    )


def test_a_member_hides_a_field_column_and_shows_it_again(editor_client, editor, product, valued):
    url = reverse("roadmap:table_columns", args=[product.slug])
    shown = ["status", "moscow", "kano", "personas", "evidence", "demand", "roadmap"]

    editor_client.post(url, {"shown": [*shown, "field-urgent", "field-deal_size"]})
    html = _html(editor_client.get(_table(product)))

    assert TableLayout.objects.get(user=editor, product=product).hidden_columns == ["field-segment"]
    assert 'id="col-field-segment"' not in html and "-field-segment-cell" not in html
    assert 'id="col-field-urgent"' in html
    assert 'name="shown" value="field-segment">' in html  # offered, unticked

    editor_client.post(url, {"shown": [*shown, "field-segment", "field-urgent", "field-deal_size"]})
    assert 'id="col-field-segment"' in _html(editor_client.get(_table(product)))


def test_a_column_of_another_products_field_is_refused(editor_client, workspace, product, fields):
    other = f.ProductFactory(workspace=workspace)
    field_services.custom_field_save(product=other, name="Tier", kind="yes_no")

    response = editor_client.post(
        reverse("roadmap:table_columns", args=[product.slug]), {"shown": ["field-tier"]}
    )

    assert response.status_code == 400
    assert not TableLayout.objects.filter(product=product).exists()


# --- Editing in the cell -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, typed, stored",
    [
        ("field_segment", "SMB", (None, "SMB")),
        ("field_urgent", "no", (Decimal("0.00"), None)),
        ("field_deal_size", "42.5", (Decimal("42.50"), None)),
    ],
)
def test_an_htmx_edit_saves_a_field_through_the_one_write_path(
    editor_client, product, valued, name, typed, stored
):
    high = valued[0]
    version = Feature.objects.get(pk=high.pk).version

    response = _cell_post(editor_client, product, high, name, typed)

    html = _html(response)
    key = name.removeprefix("field_")
    value = FeatureFieldValue.objects.select_related("choice").get(feature=high, field__key=key)
    assert (value.value, value.choice.label if value.choice else None) == stored
    # Versioned like any edit, and in the feature's history.
    assert Feature.objects.get(pk=high.pk).version == version + 1
    assert f'id="f{high.pk}-field-{key}-cell"' in html
    assert "Saved " in html


def test_clearing_a_field_in_its_cell_removes_the_value(editor_client, product, valued):
    high = valued[0]

    _html(_cell_post(editor_client, product, high, "field_segment", ""))

    assert not FeatureFieldValue.objects.filter(feature=high, field__key="segment").exists()


@pytest.mark.parametrize(
    "name, typed, message",
    [
        ("field_deal_size", "lots", "Give a number."),
        ("field_deal_size", "1.234", "Use at most 2 decimals."),
        ("field_segment", "Galactic", "Give one of the choices: SMB, Enterprise."),
        ("field_urgent", "maybe", "Give true or false."),
    ],
)
def test_a_bad_value_is_refused_in_its_cell_and_nothing_is_saved(
    editor_client, product, valued, name, typed, message
):
    high = valued[0]
    before = list(FeatureFieldValue.objects.filter(feature=high).values_list("value", "choice"))
    version = Feature.objects.get(pk=high.pk).version

    html = _html(_cell_post(editor_client, product, high, name, typed))

    key = name.removeprefix("field_")
    assert message in _text(html, f"f{high.pk}-field-{key}-error")
    assert _attrs(html, f"f{high.pk}-field-{key}")["aria-invalid"] == "true"
    assert (
        list(FeatureFieldValue.objects.filter(feature=high).values_list("value", "choice"))
        == before
    )
    assert Feature.objects.get(pk=high.pk).version == version


def test_without_javascript_the_rows_form_saves_its_fields(editor_client, product, valued):
    low = valued[2]
    low.refresh_from_db()

    response = editor_client.post(
        _edit(product, low),
        {
            "version": low.version,
            "field_segment": "Enterprise",
            "field_urgent": "yes",
            "field_deal_size": "99",
            "next": _table(product),
        },
    )

    assert response.status_code == 302
    values = {
        v.field.key: v.display
        for v in FeatureFieldValue.objects.filter(feature=low).select_related("field", "choice")
    }
    assert values == {"segment": "Enterprise", "urgent": "Yes", "deal_size": "99"}


def test_without_javascript_a_bad_field_comes_back_marked_with_what_was_typed(
    editor_client, product, valued
):
    low = valued[2]
    low.refresh_from_db()

    response = editor_client.post(
        _edit(product, low),
        {"version": low.version, "field_deal_size": "a lot", "next": _table(product)},
    )

    html = _html(response, 400)
    assert _attrs(html, f"f{low.pk}-field-deal_size")["value"] == "a lot"
    assert "Give a number." in _text(html, f"f{low.pk}-field-deal_size-error")
    assert not FeatureFieldValue.objects.filter(feature=low).exists()


def test_a_stale_field_cell_is_refused_with_what_someone_else_saved(editor_client, product, valued):
    high = valued[0]
    stale = Feature.objects.get(pk=high.pk).version
    feature_update(feature=high, data={}, custom_fields={"segment": "SMB"})

    htmx = _text(
        _html(
            _cell_post(editor_client, product, high, "field_segment", "Enterprise", version=stale)
        ),
        f"f{high.pk}-alert",
    )
    plain = _html(
        editor_client.post(
            _edit(product, high), {"field_urgent": "no", "version": stale, "next": _table(product)}
        ),
        409,
    )

    assert "Segment is now SMB (you typed Enterprise)" in htmx
    assert "Urgent is now Yes (you typed no)" in _text(plain, f"f{high.pk}-alert")
    assert FeatureFieldValue.objects.get(feature=high, field__key="segment").choice.label == "SMB"


def test_a_viewer_cannot_edit_a_field(viewer_client, product, valued):
    high = valued[0]

    response = _cell_post(viewer_client, product, high, "field_segment", "SMB")

    assert response.status_code == 403
    assert FeatureFieldValue.objects.get(feature=high, field__key="segment").choice.label == (
        "Enterprise"
    )


# --- Filters -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, shown",
    [
        ({"cf-segment": "Enterprise"}, ["High"]),
        ({"cf-segment": ["SMB", "Enterprise"]}, ["High", "Middle"]),
        ({"cf-urgent": "no"}, ["Middle"]),
        ({"cf-urgent": ["yes", "no"]}, ["High", "Middle"]),
        ({"cf-deal_size-min": "1000"}, ["High"]),
        ({"cf-deal_size-max": "1000"}, ["Middle"]),
        ({"cf-deal_size-min": "800", "cf-deal_size-max": "12500.5"}, ["High", "Middle"]),
        ({"cf-segment": "SMB", "cf-urgent": "yes"}, []),
        # Empty values (an untouched bound of the form) filter nothing.
        ({"cf-deal_size-min": "", "cf-segment": ""}, ["High", "Middle", "Low"]),
    ],
)
def test_filters_by_a_fields_value(viewer_client, product, valued, query, shown):
    html = _html(viewer_client.get(_table(product), query))

    assert _titles(html) == shown
    assert "table-filter-errors" not in html


def test_the_filter_form_offers_each_field_and_keeps_what_was_chosen(
    viewer_client, product, valued
):
    html = _html(viewer_client.get(_table(product), {"cf-segment": "SMB", "cf-deal_size-min": "5"}))
    assert _text(html, "filter-cf-segment-summary") == "Segment filtered"
    assert _text(html, "filter-cf-deal_size-summary") == "Deal size filtered"
    assert _text(html, "filter-cf-urgent-summary") == "Urgent"

    assert 'name="cf-segment" value="SMB" data-field-filter checked' in html
    assert 'name="cf-segment" value="Enterprise" data-field-filter>' in html
    assert 'name="cf-urgent" value="yes" data-field-filter>' in html
    assert _attrs(html, "filter-cf-deal_size-min")["value"] == "5"
    # Sorting keeps the field filters, in the header links.
    assert "cf-segment=SMB" in _attrs(html, "sort-score")["href"]
    assert "Clear filters" in html


@pytest.mark.parametrize(
    "query, param, message",
    [
        ({"cf-tier": "Gold"}, "cf-tier", "This product has no custom field “tier”."),
        (
            {"cf-segment": "Galactic"},
            "cf-segment",
            "“Galactic” is not a choice of Segment: SMB, Enterprise.",
        ),
        ({"cf-urgent": "maybe"}, "cf-urgent", "Urgent is “yes” or “no”."),
        ({"cf-deal_size-min": "lots"}, "cf-deal_size-min", "Give a number"),
        ({"cf-deal_size-max": "1e99"}, "cf-deal_size-max", "Give a number"),
        (
            {"cf-deal_size-min": "10", "cf-deal_size-max": "5"},
            "cf-deal_size-max",
            "The maximum of Deal size is below its minimum.",
        ),
        ({"cf-segment-min": "3"}, "cf-segment-min", "Segment is not a number field."),
        ({"cf-deal_size": "3"}, "cf-deal_size", "Deal size is a number"),
    ],
)
def test_a_bad_field_filter_is_a_form_error_and_is_not_applied(
    viewer_client, product, valued, query, param, message
):
    html = _html(viewer_client.get(_table(product), query))

    errors = _text(html, "table-filter-errors")
    assert param in errors and message in errors
    assert set(_titles(html)) == {"High", "Middle", "Low"}
    # The refused filter is not marked as filtering.
    assert (
        "filtered" not in html.split('id="filter-cf-deal_size-summary">')[1].split("</summary>")[0]
    )


def test_a_filter_on_an_htmx_request_answers_with_the_table_and_its_errors(
    viewer_client, product, valued
):
    response = viewer_client.get(
        _table(product), {"cf-segment": "SMB", "cf-deal_size-min": "x"}, headers=HTMX
    )

    html = _html(response)
    assert _titles(html) == ["Middle"]
    assert "cf-deal_size-min" in _text(html, "table-filter-errors")
    assert "cf-segment=SMB" in response["HX-Push-Url"]


def test_a_field_filter_counts_the_features_it_shows(editor_client, product, valued):
    counts = selectors.table_counts(product=product, query={"cf-segment": "Enterprise"})

    assert (counts.shown, counts.total, counts.filtered) == (1, 3, True)


# --- Selectors -----------------------------------------------------------------------------------


def test_field_filters_check_every_kind(product, fields):
    definitions = product_field_definitions(product=product)
    segment, urgent, deal = definitions

    checked = field_filters_clean(
        definitions=definitions,
        values={"segment": ["Enterprise"], "urgent": ["yes", "no"]},
        minimum={"deal_size": "10"},
        maximum={"deal_size": "20.5"},
    )

    assert checked.errors == {}
    assert checked.conditions == [
        FieldCondition(segment.id, choice_ids=(segment.choices[1][0],)),
        FieldCondition(urgent.id, values=(Decimal(1), Decimal(0))),
        FieldCondition(deal.id, minimum=Decimal(10), maximum=Decimal("20.5")),
    ]
    assert [d.kind for d in definitions] == [
        CustomFieldKind.CHOICE,
        CustomFieldKind.YES_NO,
        CustomFieldKind.NUMBER,
    ]


def test_feature_filter_applies_field_conditions(product, valued):
    high, middle, _ = valued
    definitions = product_field_definitions(product=product)
    checked = field_filters_clean(definitions=definitions, values={}, minimum={"deal_size": "500"})

    found = feature_filter(Feature.objects.filter(product=product), {"fields": checked.conditions})

    assert set(found) == {high, middle}


def test_definitions_are_one_query_with_their_choices(product, fields, django_assert_num_queries):
    with django_assert_num_queries(1):
        segment, urgent, deal = product_field_definitions(product=product)

    assert (segment.key, segment.name, segment.kind) == ("segment", "Segment", "choice")
    assert [label for _, label in segment.choices] == ["SMB", "Enterprise"]
    assert (urgent.choices, deal.choices) == ((), ())


# --- Query counts --------------------------------------------------------------------------------


def _valued_features(product, n: int) -> None:
    """``n`` more features, each with a value in every field of ``fields``."""
    start = Feature.objects.filter(product=product).count()
    made = Feature.objects.bulk_create(
        [Feature(product=product, title=f"Bulk {start + i}", reach=i + 1) for i in range(n)]
    )
    definitions = product_field_definitions(product=product)
    segment, urgent, deal = definitions
    FeatureFieldValue.objects.bulk_create(
        [
            value
            for i, x in enumerate(made)
            for value in (
                FeatureFieldValue(
                    feature=x, field_id=segment.id, choice_id=segment.choices[i % 2][0]
                ),
                FeatureFieldValue(feature=x, field_id=urgent.id, value=i % 2),
                FeatureFieldValue(feature=x, field_id=deal.id, value=Decimal(i)),
            )
        ]
    )
    product_recompute_scores(product_id=product.pk)


@pytest.mark.parametrize(
    "query",
    [{}, {"sort": "-field-deal_size"}, {"cf-segment": "SMB", "cf-deal_size-min": "0"}],
)
def test_the_page_reads_field_values_in_one_query_at_any_page_size(
    editor_client, product, fields, query, django_assert_max_num_queries
):
    _valued_features(product, 3)
    with django_assert_max_num_queries(100) as small:
        _html(editor_client.get(_table(product), {**query, "rows": "10"}))
    _valued_features(product, 200)

    # A full page adds one capped count of the view (a short page counts its own rows).
    with django_assert_max_num_queries(len(small.captured_queries) + 1):
        ten = _html(editor_client.get(_table(product), {**query, "rows": "10"}))
    with django_assert_max_num_queries(len(small.captured_queries) + 1):
        fifty = _html(editor_client.get(_table(product), {**query, "rows": "50"}))

    assert ten.count('class="table__title"') == 10
    assert fifty.count('class="table__title"') == 50
    assert fifty.count("-field-deal_size-cell") == 50
    values = [
        q["sql"]
        for q in small.captured_queries
        if '"roadmap_featurefieldvalue"."feature_id" IN' in q["sql"]
    ]
    assert len(values) == 1  # the page's values, prefetched


def test_the_field_filters_read_are_bounded(viewer_client, product, valued):
    query = {f"cf-ghost{i}": "x" for i in range(150)}

    html = _html(viewer_client.get(_table(product), {**query, "cf-segment": "SMB"}))

    assert html.count("This product has no custom field") == 100
    assert set(_titles(html)) == {"High", "Middle", "Low"}
