"""Filter pieces shared by every app's FilterSets (the allowlists of pages and API)."""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class StrictBooleanField(forms.ChoiceField):
    """``true``/``false`` (or ``1``/``0``); anything else is an error, not "no filter"."""

    TRUE = frozenset({"true", "1", "yes"})
    FALSE = frozenset({"false", "0", "no"})

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [("", _("Any")), ("true", _("Yes")), ("false", _("No"))])
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        return "" if value in (None, "") else str(value).strip().lower()

    def validate(self, value):
        if value and value not in self.TRUE | self.FALSE:
            raise ValidationError(_("Use true or false."), code="invalid_choice")

    def clean(self, value):
        value = super().clean(value)
        return None if value == "" else value in self.TRUE


class BooleanFilter(django_filters.BooleanFilter):
    """A yes/no filter that answers 400 to ``?active=perhaps`` instead of ignoring it."""

    field_class = StrictBooleanField
