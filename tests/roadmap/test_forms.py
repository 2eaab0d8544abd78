"""roadmap.forms: where a service's errors are shown on a form, and submit calling a service."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from roadmap.forms import UNIQUE_CHECK, ServiceErrors, add_service_errors, submit


class NameForm(forms.Form):
    name = forms.CharField()
    expires_on = forms.DateField(required=False)


def clash(*checked: str) -> ValidationError:
    """A uniqueness error as a model's full_clean raises it for a UniqueConstraint."""
    return ValidationError(
        {
            NON_FIELD_ERRORS: [
                ValidationError(
                    "Record with this Product and Name already exists.",
                    code="unique_together",
                    params={"unique_check": checked},
                )
            ]
        }
    )


def bound(**data) -> NameForm:
    form = NameForm({"name": "Ada", **data})
    assert form.is_valid()
    return form


def test_errors_go_next_to_their_fields_and_the_others_above_the_form():
    form = bound()
    error = ValidationError({"name": "Too long.", "product": "Not yours.", "__all__": "No."})

    add_service_errors(form, error)

    assert form.errors == {"name": ["Too long."], "__all__": ["Not yours.", "No."]}


def test_an_error_without_fields_goes_above_the_form():
    form = bound()

    add_service_errors(form, ValidationError(["One.", "Two."]))

    assert form.errors == {"__all__": ["One.", "Two."]}


def test_the_services_names_are_renamed_to_the_forms():
    form = bound()

    add_service_errors(
        form, ValidationError({"expires_at": "In the past."}), field_of={"expires_at": "expires_on"}
    )

    assert form.errors == {"expires_on": ["In the past."]}


def test_a_clash_goes_on_the_unique_field_worded_as_asked():
    form = bound()

    add_service_errors(form, clash("product", "name"), unique_field="name", unique_message="Taken.")

    assert form.errors == {"name": ["Taken."]}


def test_a_clash_on_the_checked_field_is_worded_by_the_callable():
    form = bound()

    add_service_errors(
        form,
        clash("product", "name"),
        unique_field=UNIQUE_CHECK,
        unique_message=lambda field: f"{form.cleaned_data[field]} is taken.",
    )

    assert form.errors == {"name": ["Ada is taken."]}


def test_a_clash_on_fields_the_form_lacks_stays_above_it():
    form = bound()

    add_service_errors(form, clash("product", "code"), unique_field=UNIQUE_CHECK)

    assert form.errors == {"__all__": ["Record with this Product and Name already exists."]}


def test_without_a_unique_field_a_clash_stays_above_the_form():
    form = bound()

    add_service_errors(form, clash("product", "name"))

    assert form.errors == {"__all__": ["Record with this Product and Name already exists."]}


def test_submit_does_not_call_the_service_with_an_invalid_form():
    form = NameForm({"name": ""})
    calls = []

    assert submit(form, lambda: calls.append(1)) is None

    assert calls == []
    assert form.errors == {"name": ["This field is required."]}


def test_submit_answers_what_the_service_returns():
    form = NameForm({"name": "Ada"})

    assert submit(form, lambda: form.cleaned_data["name"].upper()) == "ADA"
    assert form.errors == {}


def test_submit_puts_the_services_errors_on_the_form_as_placed():
    form = NameForm({"name": "Ada"})

    def save():
        raise clash("product", "name")

    assert submit(form, save, unique_field="name", unique_message="Taken.") is None
    assert form.errors == {"name": ["Taken."]}


class RenamingForm(ServiceErrors, NameForm):
    service_field_names = {"expires_at": "expires_on"}


def test_submit_uses_the_forms_own_renaming():
    form = RenamingForm({"name": "Ada"})

    def save():
        raise ValidationError({"expires_at": "In the past."})

    assert submit(form, save) is None
    assert form.errors == {"expires_on": ["In the past."]}
