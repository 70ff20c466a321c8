"""Forms for signing in and for people pages. Forms validate input; services decide and save."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import (
    TIME_ZONES,
    LanguageChoice,
    Organization,
    Team,
    TokenScope,
    User,
)
from frontline.core.pages import ScopedModelForm, style_form


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)


class TeamForm(ScopedModelForm):
    """Create or edit a team. The organisation is chosen once, at creation."""

    class Meta:
        model = Team
        fields = [
            "organization",
            "name",
            "description",
            "lead",
            "members",
            "dispatch_mode",
            "is_active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        people = User.objects.filter(is_active=True).visible_to(user).order_by("display_name", "pk")
        if self.instance.pk:
            del self.fields["organization"]
            people = people.filter(membership__organization_id=self.instance.organization_id)
        elif not user.is_operator_staff:
            self.fields["organization"].queryset = Organization.objects.filter(
                pk=user.organization_id
            )
            self.fields["organization"].initial = user.organization_id
        self.fields["lead"].queryset = people
        self.fields["members"].queryset = people

    def _post_clean(self):
        # Uniqueness and membership rules are checked by the service, with the rows locked.
        pass


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What uses this token, e.g. “BMS sync”.")
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=TokenScope.choices,
        initial=[TokenScope.READ, TokenScope.WRITE],
        widget=forms.CheckboxSelectMultiple,
    )
    expires_in_days = forms.TypedChoiceField(
        label=_("Expires after"),
        coerce=int,
        initial=90,
        choices=[(7, _("7 days")), (30, _("30 days")), (90, _("90 days")), (365, _("1 year"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)
        self.fields["scopes"].widget.attrs["class"] = "form-check-input"


class ProfileForm(forms.Form):
    """One's own name, phone, language and time zone (never role or organisation)."""

    display_name = forms.CharField(label=_("Display name"), max_length=100)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    preferred_language = forms.ChoiceField(
        label=_("Preferred language"), choices=LanguageChoice.choices, required=False
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=[(tz, tz) for tz in TIME_ZONES])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)
