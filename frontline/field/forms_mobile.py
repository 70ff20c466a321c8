"""Forms of the engineer's phone view and of the public survey.

They only shape and bound the input; every rule (who, which status, what a position or a
signature must be) is the services'. Hidden latitude/longitude fields are filled by
``field/mobile.js`` from the browser's geolocation.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from frontline.field.states import ChecklistResult

RESOLUTION_CODES = [
    ("fixed", _("Fixed")),
    ("part_replaced", _("Part replaced")),
    ("adjusted", _("Adjusted / reset")),
    ("installed", _("Installed")),
    ("maintained", _("Maintenance done")),
    ("no_fault_found", _("No fault found")),
    ("temporary_fix", _("Temporary fix, revisit needed")),
    ("not_fixed", _("Not fixed")),
]


class PositionForm(forms.Form):
    """A position from the phone (optional for travel, required by the service for check-in)."""

    latitude = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class ChecklistForm(forms.Form):
    item = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    result = forms.ChoiceField(
        choices=[
            (ChecklistResult.OK, ChecklistResult.OK.label),
            (ChecklistResult.FAILED, ChecklistResult.FAILED.label),
            (ChecklistResult.NOT_APPLICABLE, ChecklistResult.NOT_APPLICABLE.label),
        ]
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class PhotoForm(forms.Form):
    file = forms.FileField(label=_("Photo"))
    caption = forms.CharField(label=_("Caption"), required=False, max_length=200)
    client_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)


class SignForm(forms.Form):
    # A PNG data URL (≤ 512 KiB decoded, checked by the service): base64 is 4/3 of that.
    signature = forms.CharField(
        max_length=720_000, widget=forms.HiddenInput, strip=False, required=False
    )
    signed_by = forms.CharField(label=_("Customer's name"), max_length=120)


class CompleteForm(PositionForm):
    resolution_code = forms.CharField(label=_("Resolution"), max_length=40)
    resolution_notes = forms.CharField(
        label=_("What was done"), required=False, max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip
    parts_used = forms.CharField(
        label=_("Parts used"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip
    first_time_fix = forms.TypedChoiceField(
        label=_("Fixed on the first visit"),
        required=False,
        choices=[("", _("Decide from the order")), ("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda value: {"yes": True, "no": False}.get(value),
        empty_value=None,
    )


class SurveyForm(forms.Form):
    csat = forms.TypedChoiceField(
        label=_("How satisfied are you with the visit?"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    nps = forms.TypedChoiceField(
        label=_("How likely are you to recommend us to a colleague?"),
        choices=[(n, str(n)) for n in range(0, 11)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us?"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip
