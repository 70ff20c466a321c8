"""Filter sets shared by the pages and the API: the allowlist of what a list can be filtered by.

Every filter that names another object offers (and accepts) only objects the user
can see, so a filter can neither reveal nor probe another customer's records.
"""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters import fields as filter_fields
from django_filters.rest_framework import FilterSet

from frontline.accounts.models import Organization
from frontline.accounts.roles import OrganizationKind
from frontline.core.rest import parse_id
from frontline.sites.models import Asset, AssetCategory, AssetModel, AssetStatus, Project, Site


class _IdChoiceField(filter_fields.ModelChoiceField):
    """A choice by id; anything that cannot be an id is an invalid choice, never a database error."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if parse_id(value) is None:
            raise self._invalid(value)
        return super().to_python(value)

    def _invalid(self, value):
        return ValidationError(
            self.error_messages["invalid_choice"],
            code="invalid_choice",
            params={"value": str(value)[:30]},
        )


class ScopedModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = _IdChoiceField


def _user(request):
    return getattr(request, "user", None)


def customers(request):
    return Organization.objects.visible_to(_user(request)).filter(kind=OrganizationKind.CUSTOMER)


def sites(request):
    return Site.objects.visible_to(_user(request))


def asset_models(request):
    return AssetModel.objects.visible_to(_user(request))


def assets(request):
    return Asset.objects.visible_to(_user(request))


class SiteFilter(FilterSet):
    customer = ScopedModelChoiceFilter(queryset=customers, label=_("Customer"))
    city = django_filters.CharFilter(lookup_expr="iexact", max_length=100, label=_("City"))
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Site
        fields = ["customer", "city", "is_active"]


class ProjectFilter(FilterSet):
    customer = ScopedModelChoiceFilter(queryset=customers, label=_("Customer"))
    is_active = django_filters.BooleanFilter(label=_("Active"))
    site = ScopedModelChoiceFilter(field_name="sites", queryset=sites, label=_("Site"))

    class Meta:
        model = Project
        fields = ["customer", "is_active", "site"]


class AssetModelFilter(FilterSet):
    category = django_filters.ChoiceFilter(choices=AssetCategory.choices, label=_("Category"))
    manufacturer = django_filters.CharFilter(
        lookup_expr="iexact", max_length=100, label=_("Manufacturer")
    )

    class Meta:
        model = AssetModel
        fields = ["category", "manufacturer"]


class AssetFilter(FilterSet):
    site = ScopedModelChoiceFilter(queryset=sites, label=_("Site"))
    model = ScopedModelChoiceFilter(queryset=asset_models, label=_("Model"))
    category = django_filters.ChoiceFilter(
        field_name="model__category", choices=AssetCategory.choices, label=_("Category")
    )
    status = django_filters.ChoiceFilter(choices=AssetStatus.choices, label=_("Status"))
    customer = ScopedModelChoiceFilter(
        field_name="site__customer", queryset=customers, label=_("Customer")
    )
    parent = ScopedModelChoiceFilter(queryset=assets, label=_("Part of"))

    class Meta:
        model = Asset
        fields = ["site", "model", "category", "status", "customer", "parent"]
