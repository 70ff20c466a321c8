"""FilterSets: the allowlist of filters for people, organisations and teams (pages and API share them).

Choices of related objects are limited to what the requesting user may see, so a
filter can never confirm that another organisation exists.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import (
    ApiToken,
    DispatchMode,
    Membership,
    Organization,
    Team,
    User,
)
from frontline.accounts.roles import OrganizationKind, Role


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
    field_class = StrictBooleanField


def visible_organizations(request):
    if request is None:
        return Organization.objects.none()
    return Organization.objects.visible_to(request.user)


class OrganizationFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=OrganizationKind.choices)
    is_active = BooleanFilter(label=_("Active"))

    class Meta:
        model = Organization
        fields = ["kind", "is_active"]


class UserFilter(django_filters.FilterSet):
    organization = django_filters.ModelChoiceFilter(
        label=_("Organization"),
        field_name="membership__organization",
        queryset=visible_organizations,
    )
    role = django_filters.ChoiceFilter(
        label=_("Role"), field_name="membership__role", choices=Role.choices
    )
    is_active = BooleanFilter(label=_("Active"))

    class Meta:
        model = User
        fields = ["organization", "role", "is_active"]


class MembershipFilter(django_filters.FilterSet):
    organization = django_filters.ModelChoiceFilter(
        label=_("Organization"), queryset=visible_organizations
    )
    role = django_filters.ChoiceFilter(label=_("Role"), choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["organization", "role"]


class TeamFilter(django_filters.FilterSet):
    organization = django_filters.ModelChoiceFilter(
        label=_("Organization"), queryset=visible_organizations
    )
    dispatch_mode = django_filters.ChoiceFilter(
        label=_("Dispatch mode"), choices=DispatchMode.choices
    )
    is_active = BooleanFilter(label=_("Active"))

    class Meta:
        model = Team
        fields = ["organization", "dispatch_mode", "is_active"]


class ApiTokenFilter(django_filters.FilterSet):
    usable = BooleanFilter(label=_("Usable"), method="filter_usable")

    class Meta:
        model = ApiToken
        fields = ["usable"]

    def filter_usable(self, queryset, name, value):
        usable = ApiToken.objects.usable().values("pk")
        return queryset.filter(pk__in=usable) if value else queryset.exclude(pk__in=usable)
