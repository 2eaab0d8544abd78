"""The forms of a share link's visitors: "I want this" and "Request something".

Each bounds what it reads, asks for an address unless the browser is a remembered confirmed
contact, and carries a honeypot ("website"): a field people never see, which bots fill in.
"""

from __future__ import annotations

from django import forms

from roadmap.forms import ServiceErrors, TextAreaField
from roadmap.models import Importance
from roadmap.portal.models import DESCRIPTION_MAX_LENGTH, NOTE_MAX_LENGTH

HONEYPOT = "website"


class _Visitor(ServiceErrors, forms.Form):
    email = forms.EmailField(
        required=False, max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    notify = forms.BooleanField(label="Tell me when it ships", required=False, initial=True)
    website = forms.CharField(required=False, max_length=200)

    def __init__(self, *args, remembered: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.remembered = remembered
        if remembered:
            del self.fields["email"]
        else:
            self.fields["email"].required = True

    @property
    def is_bot(self) -> bool:
        """The honeypot is filled in: answer as if it worked, and do nothing."""
        return bool(self.data.get(HONEYPOT, "").strip())


class VoteForm(_Visitor):
    """ "I want this" on one external item, named by its public anchor."""

    item = forms.CharField(max_length=40, widget=forms.HiddenInput)
    note = TextAreaField(
        label="Why it matters to you (optional)",
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RequestForm(_Visitor):
    """Ask for something that is not on the roadmap."""

    title = forms.CharField(label="What do you need?", max_length=160)
    description = TextAreaField(
        label="Tell us more (optional)",
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    importance = forms.TypedChoiceField(
        label="How important is it to you?",
        choices=Importance.choices,
        coerce=int,
        initial=Importance.MEDIUM,
    )
