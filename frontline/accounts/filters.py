"""FilterSets: the allowlist of filters for people, organisations and teams (pages and API share them).

Choices of related objects are limited to what the requesting user may see, so a
filter can never confirm that another organisation exists.
"""

from __future__ import annotations

import django_filters
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
from frontline.core.filters import BooleanFilter


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
