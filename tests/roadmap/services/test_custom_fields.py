"""A product's custom fields (issue 19): defined with a key a formula reads, bounded, kept while
the formula reads them; features' values checked and written like any input (versioned,
rescored), and read by the formula, a missing value giving no score with the reason."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from roadmap.models import CustomField, CustomFieldChoice, FeatureFieldValue, Product
from roadmap.planning import scoring as s
from roadmap.planning.services import features as feature_services
from roadmap.planning.services import fields as field_services
from roadmap.planning.services import formula as formula_services
from roadmap.planning.services import products as product_services
from tests import factories as f


def _use(product, source):
    formula_services.product_formula_save(product=product, source=source, author=None)
    product.refresh_from_db()


def _choice_field(product, name="Segment"):
    return field_services.custom_field_save(
        product=product,
        name=name,
        kind="choice",
        choices=[("Enterprise", "3"), ("SMB", "1.5")],
    )


# --- Fields ------------------------------------------------------------------------------------


def test_a_field_gets_the_key_a_formula_reads_it_by(product):
    field = field_services.custom_field_save(product=product, name="Deal size (€k)", kind="number")

    assert (field.key, field.kind, field.position) == ("deal_size_k", "number", 0)
    names = {n.name: n for n in formula_services.formula_names(product=product)}
    assert names["deal_size_k"].kind == s.FIELD
    assert names["deal_size_k"].span.largest == 1e9


@pytest.mark.parametrize("name", ["Reach", "at stake", "max", "Fit"])
def test_a_name_a_formula_reads_as_something_else_is_refused(product, name):
    f.ScoringDriverFactory(product=product, name="Fit")

    with pytest.raises(ValidationError) as error:
        field_services.custom_field_save(product=product, name=name, kind="number")

    assert "name" in error.value.message_dict
    assert not CustomField.objects.filter(product=product).exists()


def test_a_driver_cannot_take_a_fields_key(product):
    field_services.custom_field_save(product=product, name="Fit", kind="yes_no")

    with pytest.raises(ValidationError) as error:
        product_services.driver_save(product=product, name="fit", weight=Decimal("1"))

    assert "name" in error.value.message_dict


def test_a_product_has_thirty_fields_and_a_field_thirty_choices_at_most(product):
    for n in range(30):
        f.CustomFieldFactory(product=product, name=f"F{n}")
    with pytest.raises(ValidationError, match="30 custom fields at most"):
        field_services.custom_field_save(product=product, name="One more", kind="number")
    with pytest.raises(ValidationError, match="30 choices at most"):
        field_services.custom_field_save(
            product=f.ProductFactory(),
            name="Many",
            kind="choice",
            choices=[(f"C{n}", n) for n in range(31)],
        )


def test_choices_are_replaced_keeping_the_features_that_have_a_kept_label(product):
    field = _choice_field(product)
    enterprise = field.choices.get(label="Enterprise")
    feature = f.FeatureFactory(product=product)
    f.FeatureFieldValueFactory(feature=feature, field=field, value=None, choice=enterprise)

    field_services.custom_field_save(
        product=product, name="Segment", field=field, choices=[("Mid", "2"), ("Enterprise", "5")]
    )

    assert list(field.choices.values_list("label", "value", "position")) == [
        ("Mid", Decimal("2.00"), 0),
        ("Enterprise", Decimal("5.00"), 1),
    ]
    assert FeatureFieldValue.objects.get(feature=feature).choice_id == enterprise.pk


def test_a_field_the_formula_reads_cannot_be_deleted_or_renamed(product):
    field = _choice_field(product)
    _use(product, "segment * 2")

    with pytest.raises(ValidationError, match="take it out of the formula first"):
        field_services.custom_field_delete(field=field)
    with pytest.raises(ValidationError, match="change the formula first"):
        field_services.custom_field_save(product=product, name="Tier", field=field)

    field.refresh_from_db()
    assert field.name == "Segment"


def test_a_field_no_formula_reads_is_deleted_with_its_values(product):
    field = _choice_field(product)
    f.FeatureFieldValueFactory(
        feature=f.FeatureFactory(product=product),
        field=field,
        value=None,
        choice=field.choices.first(),
    )

    field_services.custom_field_delete(field=field)

    assert not CustomField.objects.exists() and not FeatureFieldValue.objects.exists()
    assert not CustomFieldChoice.objects.exists()


def test_a_new_choice_value_the_formula_reads_rescores_every_feature(
    product, django_capture_on_commit_callbacks
):
    field = _choice_field(product)
    feature = f.FeatureFactory(product=product)
    feature_services.feature_update(feature=feature, data={}, custom_fields={"segment": "SMB"})
    with django_capture_on_commit_callbacks(execute=True):
        _use(product, "segment * 2")
    feature.refresh_from_db()
    assert feature.score == 3.0

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        field_services.custom_field_save(
            product=product, name="Segment", field=field, choices=[("SMB", "4")]
        )

    assert len(callbacks) == 1
    feature.refresh_from_db()
    assert feature.score == 8.0
    assert Product.objects.get(pk=product.pk).score_recompute_queued is False


# --- Values ------------------------------------------------------------------------------------


def test_a_features_values_are_set_checked_and_read_by_the_formula(product):
    _choice_field(product)
    field_services.custom_field_save(product=product, name="Cost", kind="number")
    field_services.custom_field_save(product=product, name="Strategic", kind="yes_no")
    _use(product, "segment * cost + if(strategic = 1, 100, 0)")
    feature = f.FeatureFactory(product=product)
    version = feature.version

    feature_services.feature_update(
        feature=feature,
        data={},
        custom_fields={"segment": "Enterprise", "cost": "2.5", "strategic": True},
    )

    feature.refresh_from_db()
    assert feature.score == 107.5 and feature.version == version + 1
    inputs = feature.score_breakdown["inputs"]
    assert inputs["segment"] == {"value": 3.0, "source": s.FIELD}
    assert "segment = 3 (custom field)" in s.explain(feature.score_breakdown)


@pytest.mark.parametrize(
    ("values", "key", "message"),
    [
        ({"segment": "Startup"}, "segment", "Give one of the choices: Enterprise, SMB."),
        ({"cost": "cheap"}, "cost", "Give a number."),
        ({"cost": "1000000000.01"}, "cost", "Keep this between"),
        ({"cost": "1.005"}, "cost", "Use at most 2 decimals."),
        ({"strategic": "maybe"}, "strategic", "Give true or false."),
        ({"nope": 1}, "nope", "This product has no custom field with this key."),
    ],
)
def test_a_bad_value_is_refused_by_key_and_nothing_changes(product, values, key, message):
    _choice_field(product)
    field_services.custom_field_save(product=product, name="Cost", kind="number")
    field_services.custom_field_save(product=product, name="Strategic", kind="yes_no")
    feature = f.FeatureFactory(product=product, title="Before")

    with pytest.raises(ValidationError) as error:
        feature_services.feature_update(
            feature=feature, data={"title": "After"}, custom_fields={"cost": "1", **values}
        )

    assert error.value.message_dict[key][0].startswith(message)
    feature.refresh_from_db()
    assert feature.title == "Before" and not FeatureFieldValue.objects.exists()


def test_a_missing_value_gives_no_score_and_says_so(product):
    field_services.custom_field_save(product=product, name="Cost", kind="number")
    feature = f.FeatureFactory(product=product)
    feature_services.feature_update(feature=feature, data={}, custom_fields={"cost": 4})
    _use(product, "cost * 2")
    assert Product.objects.get(pk=product.pk).scoring_framework == s.CUSTOM

    feature_services.feature_update(feature=feature, data={}, custom_fields={"cost": None})

    feature.refresh_from_db()
    assert feature.score is None
    assert s.explain(feature.score_breakdown)[-1] == "No score: missing cost."
    assert not FeatureFieldValue.objects.exists()


def test_the_preview_reads_fields_while_a_built_in_framework_is_in_use(product):
    field_services.custom_field_save(product=product, name="Cost", kind="number")
    low, high = f.FeatureFactory(product=product), f.FeatureFactory(product=product)
    feature_services.feature_update(feature=low, data={}, custom_fields={"cost": 1})
    feature_services.feature_update(feature=high, data={}, custom_fields={"cost": 9})

    preview = formula_services.formula_preview(product=product, source="cost")

    assert [row.id for row in preview.top] == [high.pk, low.pk]
    assert preview.unscored == 0


def test_values_of_many_features_cost_the_same_statements_as_of_few(product):
    """A CSV import or bulk edit setting custom fields reads the fields once and updates the
    changed values by what they become, not feature by feature."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    f.custom_fields(product)
    counts = []
    for size in (2, 20):
        features = [f.FeatureFactory(product=product) for _ in range(size)]
        for value in ("SMB", "Enterprise"):  # first new values, then changed ones
            writes = [
                feature_services.FeatureWrite(
                    fields={}, feature=feature, custom_fields={"segment": value, "deal_size": 5}
                )
                for feature in features
            ]
            for feature in features:
                feature.refresh_from_db()
            with CaptureQueriesContext(connection) as captured:
                feature_services.features_write(product=product, writes=writes)
            counts.append(len(captured))
    assert counts[0:2] == counts[2:4], counts
    assert FeatureFieldValue.objects.filter(choice__label="Enterprise").count() == 22
