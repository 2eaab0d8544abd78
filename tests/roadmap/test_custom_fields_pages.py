"""Custom fields in the browser's pages (issue 19): defined in the product's settings (added,
edited, deleted in place, refused with the reason), set in the feature's edit form, shown on the
feature page, listed among the names a formula can read."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from roadmap.models import CustomField, Feature, FeatureFieldValue
from roadmap.planning.services import fields as field_services
from roadmap.planning.services import formula as formula_services
from roadmap.planning.services.features import feature_update
from roadmap.planning.views.page_forms import custom_field_name
from tests import factories as f
from tests.roadmap.test_feature_edit import edit_url, load_form
from tests.roadmap.test_settings_pages import _html, row_url, settings_url


def _segment(product):
    return field_services.custom_field_save(
        product=product, name="Segment", kind="choice", choices=[("Enterprise", "3"), ("SMB", "1")]
    )


# --- Settings ----------------------------------------------------------------------------------


def test_an_editor_adds_a_choice_field_with_its_choices(editor_client, product):
    response = editor_client.post(
        row_url(product, "fields", "add"),
        {
            "new-custom-field-name": "Deal tier",
            "new-custom-field-kind": "choice",
            "new-custom-field-choices": "Gold = 10\r\nSilver = 2.5\r\n",
        },
    )

    assert response.status_code == 302
    field = CustomField.objects.get(product=product)
    assert (field.name, field.key, field.kind) == ("Deal tier", "deal_tier", "choice")
    assert list(field.choices.values_list("label", "value")) == [
        ("Gold", Decimal("10.00")),
        ("Silver", Decimal("2.50")),
    ]
    html = _html(editor_client.get(settings_url(product)))
    assert "Custom field “Deal tier” added." in html
    assert 'data-row="Deal tier"' in html and "Gold = 10" in html


def test_a_choice_line_without_a_value_is_refused_and_the_form_comes_back_filled(
    editor_client, product
):
    response = editor_client.post(
        row_url(product, "fields", "add"),
        {
            "new-custom-field-name": "Tier",
            "new-custom-field-kind": "choice",
            "new-custom-field-choices": "Gold\r\n",
        },
    )

    html = _html(response, 400)
    assert "Line 1: write “Label = value”" in html
    assert 'value="Tier"' in html
    assert not CustomField.objects.exists()


@pytest.mark.parametrize("value", ["5000000000", "1e20", "0.001"])
def test_a_choice_whose_number_no_field_can_hold_is_refused(editor_client, product, value):
    # The database refuses these (a 500 before): the form says so instead.
    response = editor_client.post(
        row_url(product, "fields", "add"),
        {
            "new-custom-field-name": "Tier",
            "new-custom-field-kind": "choice",
            "new-custom-field-choices": f"Gold = {value}\r\n",
        },
    )

    html = _html(response, 400)
    assert "keep its number between −1,000,000,000 and 1,000,000,000" in html
    assert not CustomField.objects.exists()


def test_a_field_named_like_an_input_is_refused(editor_client, product):
    response = editor_client.post(
        row_url(product, "fields", "add"),
        {"new-custom-field-name": "Effort", "new-custom-field-kind": "number"},
        headers={"HX-Request": "true"},
    )

    html = _html(response)  # htmx: the card with its errors, 200 so that it is swapped in
    assert "A formula reads “effort” as something else already" in html
    assert not CustomField.objects.exists()


def test_an_editor_edits_a_choice_fields_choices_in_place(editor_client, product):
    field = _segment(product)

    response = editor_client.post(
        row_url(product, "fields", "edit", field),
        {
            f"custom-field-{field.pk}-name": "Segment",
            f"custom-field-{field.pk}-choices": "Enterprise = 5\r\nMid = 2",
        },
        headers={"HX-Request": "true"},
    )

    html = _html(response)
    assert "Custom field “Segment” saved." in html
    assert list(field.choices.values_list("label", "value")) == [
        ("Enterprise", Decimal("5.00")),
        ("Mid", Decimal("2.00")),
    ]


def test_deleting_a_field_the_formula_reads_is_refused_with_the_reason(editor_client, product):
    field = _segment(product)
    formula_services.product_formula_save(product=product, source="segment * 2", author=None)

    response = editor_client.post(row_url(product, "fields", "delete", field))

    html = _html(response, 400)
    assert "The product&#x27;s formula reads “segment”: take it out of the formula first" in html
    assert CustomField.objects.filter(pk=field.pk).exists()


def test_a_field_no_formula_reads_is_deleted(editor_client, product):
    field = _segment(product)

    response = editor_client.post(row_url(product, "fields", "delete", field))

    assert response.status_code == 302
    assert not CustomField.objects.exists()


def test_a_viewer_reads_the_fields_without_forms(viewer_client, product):
    _segment(product)

    html = _html(viewer_client.get(settings_url(product)))

    assert "<code>segment</code> · Choice: Enterprise = 3, SMB = 1" in html
    assert "Add a custom field" not in html


def test_settings_queries_do_not_grow_with_custom_fields(
    editor_client, product, django_assert_max_num_queries
):
    _segment(product)
    with django_assert_max_num_queries(25) as small:
        editor_client.get(settings_url(product))
    for n in range(10):
        field_services.custom_field_save(
            product=product, name=f"Tier {n}", kind="choice", choices=[("A", n), ("B", 1)]
        )

    with django_assert_max_num_queries(len(small.captured_queries)):
        html = _html(editor_client.get(settings_url(product)))
    assert html.count('data-row="Tier ') == 10


# --- The feature's form and page ---------------------------------------------------------------


@pytest.fixture
def fields(product):
    segment = _segment(product)
    cost = field_services.custom_field_save(product=product, name="Cost", kind="number")
    strategic = field_services.custom_field_save(product=product, name="Strategic", kind="yes_no")
    return segment, cost, strategic


def test_the_edit_form_sets_each_kind_of_field_and_the_formula_scores_it(
    editor_client, product, fields
):
    formula_services.product_formula_save(
        product=product, source="segment * cost + if(strategic = 1, 100, 0)", author=None
    )
    feature = f.FeatureFactory(product=product)
    data = load_form(editor_client, feature)
    assert data["field_segment"] == [""] and data["field_strategic"] == [""]

    data.update(field_segment=["Enterprise"], field_cost=["2.5"], field_strategic=["yes"])
    response = editor_client.post(edit_url(feature), data)

    assert response.status_code == 302
    feature.refresh_from_db()
    assert feature.score == 107.5
    values = {v.field.key: v.display for v in FeatureFieldValue.objects.filter(feature=feature)}
    assert values == {"segment": "Enterprise", "cost": "2.5", "strategic": "Yes"}
    again = load_form(editor_client, feature)
    assert (again["field_segment"], again["field_cost"], again["field_strategic"]) == (
        ["Enterprise"],
        ["2.50"],
        ["yes"],
    )


def test_a_bad_value_is_shown_next_to_its_input_and_nothing_is_saved(
    editor_client, product, fields
):
    feature = f.FeatureFactory(product=product, title="Before")
    data = load_form(editor_client, feature)
    data.update(title=["After"], field_cost=["2000000000"])

    response = editor_client.post(edit_url(feature), data)

    html = _html(response, 400)
    assert "Keep this between −1,000,000,000 and 1,000,000,000." in html
    assert 'id="id_field_cost"' in html
    assert Feature.objects.get(pk=feature.pk).title == "Before"
    assert not FeatureFieldValue.objects.exists()


def test_a_new_feature_is_created_with_its_field_values(editor_client, product, fields):
    url = reverse("roadmap:feature_create", args=[product.slug])
    response = editor_client.post(
        url, {"title": "Export", "status": "idea", "field_segment": "SMB", "field_cost": ""}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    feature = Feature.objects.get(title="Export")
    assert [v.choice.label for v in FeatureFieldValue.objects.filter(feature=feature)] == ["SMB"]


def test_the_feature_page_shows_the_values(viewer_client, product, fields):
    feature = f.FeatureFactory(product=product)
    feature_update(feature=feature, data={}, custom_fields={"segment": "SMB", "strategic": False})

    html = _html(viewer_client.get(feature.get_absolute_url()))

    assert '<dt>Segment <code class="muted small">segment</code></dt><dd>SMB</dd>' in html
    assert '<dt>Strategic <code class="muted small">strategic</code></dt><dd>No</dd>' in html
    assert '<dt>Cost <code class="muted small">cost</code></dt><dd>—</dd>' in html


def test_the_formula_page_lists_the_fields(editor_client, product, fields):
    html = _html(editor_client.get(reverse("roadmap:product_formula", args=[product.slug])))

    assert "Custom fields</h3>" in html
    assert "<dt><code>segment</code></dt>" in html
    assert "a choice on each feature: enterprise = 3, smb = 1" in html


def test_the_feature_page_explains_a_score_read_from_a_field(viewer_client, product, fields):
    formula_services.product_formula_save(product=product, source="segment * 2", author=None)
    feature = f.FeatureFactory(product=product)
    feature_update(feature=feature, data={}, custom_fields={"segment": "Enterprise"})

    html = _html(viewer_client.get(feature.get_absolute_url()))

    assert "segment = 3 (custom field)" in html


# --- Their order -------------------------------------------------------------------------------


def _move_url(product, field) -> str:
    return reverse("roadmap:settings_field_move", args=[product.slug, field.pk])


def _order(product) -> list[str]:
    return list(CustomField.objects.filter(product=product).values_list("name", flat=True))


@pytest.fixture
def three(product):
    return [
        field_services.custom_field_save(product=product, name=name, kind="number")
        for name in ("Tier", "Deal size", "Renewal")
    ]


def test_without_javascript_a_field_moves_down_and_up_and_the_feature_form_follows(
    editor_client, product, three
):
    tier, deal, renewal = three
    feature = f.FeatureFactory(product=product)

    down = editor_client.post(_move_url(product, tier), {"direction": "down"}, follow=True)
    after_down = _order(product)
    up = editor_client.post(_move_url(product, renewal), {"direction": "up"})

    assert down.redirect_chain == [(settings_url(product) + "#fields", 302)]
    assert "Custom field “Tier” moved down." in down.content.decode()
    assert after_down == ["Deal size", "Tier", "Renewal"]
    assert up.status_code == 302
    assert _order(product) == ["Deal size", "Renewal", "Tier"]
    form = _html(editor_client.get(edit_url(feature)))
    names = [f'name="{custom_field_name(x.key)}"' for x in (deal, renewal, tier)]
    assert form.index(names[0]) < form.index(names[1]) < form.index(names[2])


def test_the_first_field_stays_first_and_a_bad_direction_is_refused(editor_client, product, three):
    tier = three[0]

    first = editor_client.post(
        _move_url(product, tier), {"direction": "up"}, headers={"HX-Request": "true"}
    )
    sideways = editor_client.post(_move_url(product, tier), {"direction": "left"})

    assert "“Tier” is first already." in _html(first)
    assert "Choose to move it up or down." in _html(sideways, 400)
    assert _order(product) == ["Tier", "Deal size", "Renewal"]


def test_a_move_after_a_deletion_numbers_the_fields_afresh(product, three):
    tier, deal, renewal = three
    field_services.custom_field_delete(field=tier)
    added = field_services.custom_field_save(product=product, name="Region", kind="number")
    assert (
        CustomField.objects.get(pk=added.pk).position
        == CustomField.objects.get(pk=renewal.pk).position
    )  # the count the new field took is its neighbour's position

    assert field_services.custom_field_move(field=added, step=-1) is True

    assert list(CustomField.objects.filter(product=product).values_list("name", "position")) == [
        ("Deal size", 0),
        ("Region", 1),
        ("Renewal", 2),
    ]
    assert field_services.custom_field_move(field=deal, step=-1) is False


def test_viewers_and_other_products_cannot_move_fields(
    viewer, editor_client, product, workspace, three
):
    viewer_client = Client()
    viewer_client.force_login(viewer)
    other = f.ProductFactory(workspace=workspace)
    theirs = field_services.custom_field_save(product=other, name="Tier", kind="number")

    by_viewer = viewer_client.post(_move_url(product, three[0]), {"direction": "down"})
    wrong_product = editor_client.post(
        reverse("roadmap:settings_field_move", args=[product.slug, theirs.pk]),
        {"direction": "down"},
    )

    assert by_viewer.status_code == 403
    assert wrong_product.status_code == 404
    assert _order(product) == ["Tier", "Deal size", "Renewal"]
