"""Forms of the products, feature and settings pages.

They parse and present input only. The rules live in the models' ``clean()`` and the services:
a view calls the service through ``roadmap.forms.submit``, which puts its errors on the fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.text import slugify

from roadmap.forms import ServiceErrors, TextAreaField
from roadmap.models import (
    CustomField,
    CustomFieldKind,
    DriverSource,
    Feature,
    Lane,
    Product,
    Release,
    ScoringDriver,
    ScoringFramework,
)
from roadmap.planning import scoring
from roadmap.planning.services.features import EDITABLE_FIELDS, tag_names_clean
from roadmap.planning.services.products import SCORING_SETTINGS
from roadmap.planning.services.scoring import SCORING_INPUT_FIELDS

MARKDOWN_HELP = (
    "Markdown: <code>## Heading</code>, <code>- list item</code>, <code>**bold**</code>, "
    "<code>[link](https://…)</code>. Scripts and images are removed when shown."
)


def tag_names(text: str) -> list[str]:
    """Comma separated tags as the service stores them (see ``tag_names_clean``)."""
    return tag_names_clean(text.split(","))


class TagsField(forms.CharField):
    """Comma separated tags, normalised so that "b, A" and "a, b" are the same input."""

    def to_python(self, value):
        return ", ".join(tag_names(super().to_python(value)))


# --- Products ------------------------------------------------------------------------------------


class ProductForm(forms.ModelForm):
    """A product's details. Validation is the service's: ``_post_clean`` is switched off."""

    class Meta:
        model = Product
        fields = ["name", "slug", "product_line", "vision", "description"]
        widgets = {
            "vision": forms.Textarea(attrs={"rows": 2}),
            "description": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "vision": "One or two sentences: who it is for and why it matters.",
            "slug": "Used in URLs and the API; unique in this workspace. Lower-case letters, "
            "digits and hyphens.",
        }

    def _post_clean(self):
        pass  # the service runs the model's full_clean and reports its errors


class ProductCreateForm(ProductForm):
    """A new product: the slug may be left empty and is then made from the name."""

    class Meta(ProductForm.Meta):
        fields = [*ProductForm.Meta.fields, "scoring_framework"]
        help_texts = {
            **ProductForm.Meta.help_texts,
            "slug": "Suggested from the name; used in URLs and the API and unique in this "
            "workspace.",
            "scoring_framework": "How features are scored and ranked. You can change it later "
            "in the product's settings.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["slug"].widget.attrs.update({"data-slug-from": "id_name"})
        # A product's own formula is written once the product exists.
        framework = self.fields["scoring_framework"]
        framework.choices = [c for c in framework.choices if c[0] != ScoringFramework.CUSTOM]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("slug") and cleaned.get("name"):
            cleaned["slug"] = slugify(cleaned["name"])[:80]
            if not cleaned["slug"]:
                self.add_error("slug", "Choose a slug: the name has no letters or digits to use.")
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class ScoringSettingsForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.scoring_formula:  # nothing to use yet: the formula page comes first
            framework = self.fields["scoring_framework"]
            framework.choices = [c for c in framework.choices if c[0] != ScoringFramework.CUSTOM]

    class Meta:
        model = Product
        fields = list(SCORING_SETTINGS)
        labels = {
            "scoring_framework": "Framework",
            "weighted_divide_by_effort": "Divide by effort",
            "reach_source": "Reach (RICE)",
            "tie_break": "Tie-break",
        }
        help_texts = {
            "weighted_divide_by_effort": "Weighted scoring only: divide the weighted average of "
            "the driver scores by the feature's effort.",
            "tie_break": "Orders features with the same score.",
        }

    def _post_clean(self):
        pass


class DriverForm(forms.ModelForm):
    class Meta:
        model = ScoringDriver
        fields = ["name", "weight", "source", "full_scale"]
        labels = {"source": "Scored", "full_scale": "Full scale"}
        widgets = {
            "weight": forms.NumberInput(attrs={"step": "0.5", "min": "0"}),
            "full_scale": forms.NumberInput(attrs={"step": "any", "min": "0"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left out of a post (an older form, a script), the driver's source stays as it is.
        self.fields["source"].required = False

    def clean_source(self) -> str | None:
        return self.cleaned_data.get("source") or None

    def _post_clean(self):
        pass


class CustomFieldForm(forms.ModelForm):
    """A custom field: its name and kind (fixed once added) and, for a choice field, its
    choices, one a line as “Label = value”."""

    choices = forms.CharField(
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A choice field's choices, one a line: “Enterprise = 3”.",
    )

    class Meta:
        model = CustomField
        fields = ["name", "kind"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["kind"].disabled = True
            if self.instance.kind != CustomFieldKind.CHOICE:
                del self.fields["choices"]
            else:
                self.initial["choices"] = "\n".join(
                    f"{c.label} = {c.value.normalize():f}" for c in self.instance.choices.all()
                )

    def clean_choices(self) -> list[tuple[str, str]] | None:
        text = self.cleaned_data.get("choices") or ""
        pairs = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            label, sep, value = line.rpartition("=")
            if not sep or not label.strip():
                raise ValidationError(f"Line {number}: write “Label = value”, e.g. “SMB = 1”.")
            pairs.append((label.strip(), value.strip()))
        return pairs

    def _post_clean(self):
        pass


class LaneForm(forms.ModelForm):
    class Meta:
        model = Lane
        fields = ["name", "position"]

    def _post_clean(self):
        pass


class ReleaseForm(forms.ModelForm):
    class Meta:
        model = Release
        fields = ["name", "target_date", "status"]
        widgets = {"target_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def _post_clean(self):
        pass


# --- Features ------------------------------------------------------------------------------------

# How a feature is classified, in the order the form shows them (those the service edits).
CLASSIFICATION_FIELDS = tuple(
    name
    for name in ("status", "owner", "moscow", "kano", "market_position")
    if name in EDITABLE_FIELDS
)
# What every feature form shows; the scoring inputs follow the product's framework.
BASE_FIELDS = (
    "title",
    *CLASSIFICATION_FIELDS,
    "description",
    "requirements",
    "expected_revenue",
    "cost",
    "business_case_notes",
    "internal_notes",
)
LONG_TEXTS = ("description", "requirements", "business_case_notes", "internal_notes")


def scoring_input_names(product: Product) -> list[str]:
    """The inputs a PM types for the product's framework. Reach is left out when it comes from
    evidence (insights or personas); weighted drivers are scored one by one."""
    definition = scoring.framework_for(
        product.scoring_framework,
        divide_by_effort=product.weighted_divide_by_effort,
        formula=product.scoring_formula,
    )
    return [
        name
        for name in definition.inputs
        if name != "weighted_drivers"
        and not (name == "reach" and product.reach_source != scoring.MANUAL)
    ]


@dataclass(frozen=True)
class FieldConflict:
    """A field both people changed, differently."""

    name: str
    label: str
    yours: str
    theirs: str
    long: bool
    # Their value as the form sends it (JSON list), for the page's "Use theirs" button.
    theirs_data: str = "[]"


class HiddenInitialBoundField(forms.BoundField):
    """Django gives a field's hidden initial input the field's ``aria-describedby`` too, which
    HTML forbids on a hidden input: describe the visible input only."""

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        if (widget or self.field.widget).is_hidden:
            attrs.pop("aria-describedby", None)
        return attrs


def custom_field_name(key: str) -> str:
    """A custom field's input in the feature form (a key may be a feature field's name)."""
    return f"field_{key}"


YES_NO = [("", "Not set"), ("yes", "Yes"), ("no", "No")]


def custom_form_field(custom: CustomField) -> forms.Field:
    """The input of one custom field: a number, a select of its choices, or yes/no (a select:
    not set is a value of its own, which a formula reads as missing)."""
    if custom.kind == CustomFieldKind.NUMBER:
        return forms.DecimalField(
            label=custom.name,
            required=False,
            max_digits=12,
            decimal_places=2,
            widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        )
    if custom.kind == CustomFieldKind.CHOICE:
        labels = [c.label for c in custom.choices.all()]
        return forms.ChoiceField(
            label=custom.name,
            required=False,
            choices=[("", "Not set"), *((label, label) for label in labels)],
        )
    return forms.ChoiceField(label=custom.name, required=False, choices=YES_NO)


def custom_initial(custom: CustomField, value) -> Any:
    """A stored value (a FeatureFieldValue, or None) as the custom field's input shows it."""
    if value is None:
        return None
    if custom.kind == CustomFieldKind.CHOICE:
        return value.choice.label if value.choice is not None else None
    if custom.kind == CustomFieldKind.YES_NO:
        return "yes" if value.value else "no"
    return value.value


class FeatureForm(ServiceErrors, forms.Form):
    """A feature's fields, its personas and tags, its framework's inputs and (for weighted
    scoring) its driver scores.

    With ``version`` (editing), every field also carries the value it had when the form was
    loaded (Django's hidden initial), so a conflict can tell what the editor changed.
    """

    bound_field_class = HiddenInitialBoundField

    personas = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    tags = TagsField(
        required=False, max_length=1000, help_text="Comma separated, e.g. billing, mobile."
    )

    def __init__(
        self,
        *args,
        product: Product,
        members,
        personas,
        drivers: Iterable[ScoringDriver],
        custom_fields: Iterable[CustomField] = (),
        version: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.product = product
        self.custom_fields = list(custom_fields)
        # The services name a custom field's errors by its key; the form's input is field_<key>.
        self.service_field_names = {c.key: custom_field_name(c.key) for c in self.custom_fields}
        self.input_names = scoring_input_names(product)
        # The drivers scored by hand: one fed by the evidence has no score to type.
        self.drivers = [
            d
            for d in drivers
            if d.source == DriverSource.MANUAL
            and scoring.reads_driver(product.scoring_framework, product.scoring_formula, d.name)
        ]
        model_fields = forms.fields_for_model(
            Feature,
            fields=[*BASE_FIELDS, *self.input_names],
            field_classes=dict.fromkeys(LONG_TEXTS, TextAreaField),
            widgets={
                "description": forms.Textarea(attrs={"rows": 4}),
                "requirements": forms.Textarea(attrs={"rows": 10, "class": "mono"}),
                "business_case_notes": forms.Textarea(attrs={"rows": 3}),
                "internal_notes": forms.Textarea(attrs={"rows": 3}),
            },
            labels={"expected_revenue": "Expected revenue / year", "moscow": "MoSCoW"},
            help_texts={
                "requirements": MARKDOWN_HELP,
                "internal_notes": "Only members see these, never a share link.",
                "expected_revenue": "",
            },
        )
        own = dict(self.fields)
        self.fields = {**model_fields, **own}
        self.fields["owner"].queryset = members
        self.fields["owner"].empty_label = "Nobody yet"
        self.fields["owner"].label_from_instance = lambda user: user.name
        for name in ("moscow", "kano", "market_position", "impact"):
            if name in self.fields:
                field = self.fields[name]
                field.choices = [("", "Not set"), *[c for c in field.choices if c[0] != ""]]
        self.fields["personas"].queryset = personas
        for driver in self.drivers:
            self.fields[f"driver_{driver.pk}"] = forms.IntegerField(
                label=driver.name,
                required=False,
                widget=forms.NumberInput(attrs={"min": "0", "max": "10"}),
                help_text=f"0–10 · weight ×{driver.weight.normalize():f}",
            )
        for custom in self.custom_fields:
            self.fields[custom_field_name(custom.key)] = custom_form_field(custom)
        for name in self.input_names:
            self.fields[name].widget.attrs.setdefault("inputmode", "decimal")
        if version:
            for field in self.fields.values():
                field.show_hidden_initial = True
            self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput)

    # -- reading the input

    @property
    def classification_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in CLASSIFICATION_FIELDS]

    @property
    def scoring_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.input_names]

    @property
    def driver_fields(self) -> list[forms.BoundField]:
        return [self[f"driver_{driver.pk}"] for driver in self.drivers]

    @property
    def custom_field_fields(self) -> list[forms.BoundField]:
        return [self[custom_field_name(c.key)] for c in self.custom_fields]

    def custom_field_values(self) -> dict[str, Any]:
        """The custom fields' values by key, as ``field_values_clean`` takes them."""
        values = {}
        for custom in self.custom_fields:
            value = self.cleaned_data[custom_field_name(custom.key)]
            if custom.kind == CustomFieldKind.YES_NO:
                value = {"yes": True, "no": False}.get(value)
            values[custom.key] = value if value != "" else None
        return values

    def feature_data(self) -> dict[str, Any]:
        """The feature's own fields, as the services take them."""
        return {name: self.cleaned_data[name] for name in (*BASE_FIELDS, *self.input_names)}

    def tag_names(self) -> list[str]:
        return tag_names(self.cleaned_data["tags"])

    def driver_scores(self) -> dict[int, int | None]:
        return {driver.pk: self.cleaned_data[f"driver_{driver.pk}"] for driver in self.drivers}

    # -- editing an existing feature

    @classmethod
    def initial_for(
        cls,
        feature: Feature,
        drivers: Iterable[ScoringDriver],
        custom_fields: Iterable[CustomField] = (),
    ) -> dict[str, Any]:
        """The form's values for a saved feature. Needs its personas, tags, driver scores and
        custom field values prefetched (see ``feature_for_edit``)."""
        initial = {
            name: getattr(feature, name)
            for name in (*BASE_FIELDS, *SCORING_INPUT_FIELDS)
            if name != "owner"
        }
        initial["owner"] = feature.owner_id
        initial["personas"] = [persona.pk for persona in feature.personas.all()]
        initial["tags"] = ", ".join(sorted(tag.name for tag in feature.tags.all()))
        scores = {score.driver_id: score.score for score in feature.driver_scores.all()}
        for driver in drivers:
            initial[f"driver_{driver.pk}"] = scores.get(driver.pk)
        values = {v.field_id: v for v in feature.field_values.all()}
        for custom in custom_fields:
            initial[custom_field_name(custom.key)] = custom_initial(custom, values.get(custom.pk))
        initial["version"] = feature.version
        return initial

    def _raw(self, name: str, *, loaded: bool = False):
        """What the browser sent for a field, or for the value it had when loaded."""
        bound = self[name]
        if loaded:
            widget, key = bound.field.hidden_widget(), bound.html_initial_name
        else:
            widget, key = bound.field.widget, bound.html_name
        return widget.value_from_datadict(self.data, self.files, key)

    def _loaded(self, name: str):
        """The value a field had when the form was loaded, as ``has_changed`` compares it.

        Choices of rows stay raw ids: their ``has_changed`` compares ids, without a query.
        """
        field, raw = self.fields[name], self._raw(name, loaded=True)
        if isinstance(field, forms.ModelChoiceField):
            return raw
        try:
            return field.to_python(raw)
        except ValidationError:
            return raw

    def merge_theirs(
        self, theirs: Mapping[str, Any]
    ) -> tuple[QueryDict, list[FieldConflict], list[str]]:
        """After someone else saved: the data of a form on top of their version.

        Fields this editor changed keep the editor's input; the others take the saved values,
        so saving again does not undo the other person's work. Returns that data, the fields
        both changed differently, and the labels of fields only they changed (now shown).
        """
        data = self.data.copy()
        conflicts, adopted = [], []
        for name, field in self.fields.items():
            if name == "version":
                continue
            bound = self[name]
            theirs_value, theirs_data = theirs.get(name), self._as_data(field, theirs.get(name))
            data.setlist(bound.html_initial_name, theirs_data)
            mine = self._raw(name)
            mine_changed = field.has_changed(self._loaded(name), mine)
            theirs_changed = field.has_changed(theirs_value, self._raw(name, loaded=True))
            if not mine_changed:
                data.setlist(bound.html_name, theirs_data)
                if theirs_changed:
                    adopted.append(str(bound.label))
            elif theirs_changed and field.has_changed(theirs_value, mine):
                conflicts.append(
                    FieldConflict(
                        name=name,
                        label=str(bound.label),
                        yours=self._shown(field, self.cleaned_data.get(name)),
                        theirs=self._shown(field, theirs_value),
                        long=name in LONG_TEXTS,
                        theirs_data=json.dumps(theirs_data),
                    )
                )
        data["version"] = str(theirs["version"])
        return data, conflicts, adopted

    @staticmethod
    def _as_data(field: forms.Field, value) -> list[str]:
        prepared = field.prepare_value(value)
        if isinstance(field, forms.ModelMultipleChoiceField):
            return [str(v) for v in prepared or []]
        return ["" if prepared is None else str(prepared)]

    @staticmethod
    def _shown(field: forms.Field, value) -> str:
        """A value as a person reads it: labels for choices, names for people."""
        if isinstance(field, forms.ModelMultipleChoiceField):
            pks = {getattr(v, "pk", v) for v in value or []}
            names = [obj.name for obj in field.queryset if obj.pk in pks]
            return ", ".join(names) or "—"
        if isinstance(field, forms.ModelChoiceField):
            pk = getattr(value, "pk", value)
            return next((field.label_from_instance(u) for u in field.queryset if u.pk == pk), "—")
        if value is None or value == "":
            return "—"
        if isinstance(field, forms.ChoiceField):
            labels = {str(key): label for key, label in field.choices}
            return str(labels.get(str(value), value))
        if isinstance(value, int | Decimal):
            return f"{float(value):,.2f}".rstrip("0").rstrip(".")
        return str(value)
