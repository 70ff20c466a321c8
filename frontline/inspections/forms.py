"""Route configuration forms and the filter sets shared by the route pages and API.

Forms only shape input: every save goes through :mod:`frontline.inspections.config`,
whose field errors come back into the form. Related choices are limited to what the
user can see (``ScopedModelForm``).
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import FilterSet

from frontline.core.filters import BooleanFilter
from frontline.inspections.models import (
    Route,
    Schedule,
    Sop,
)
from frontline.sites.filters import ScopedModelChoiceFilter
from frontline.sites.models import Project, Site


def _user(request):
    return getattr(request, "user", None)


def projects(request):
    return Project.objects.visible_to(_user(request))


def sites(request):
    return Site.objects.visible_to(_user(request))


def routes(request):
    return Route.objects.visible_to(_user(request))


# ---------------------------------------------------------------- filters


class RouteFilter(FilterSet):
    project = ScopedModelChoiceFilter(queryset=projects, label=_("Project"))
    site = ScopedModelChoiceFilter(queryset=sites, label=_("Site"))
    active = BooleanFilter(field_name="is_active", label=_("Active"))

    class Meta:
        model = Route
        fields: list[str] = []


class ScheduleFilter(FilterSet):
    route = ScopedModelChoiceFilter(queryset=routes, label=_("Route"))
    active = BooleanFilter(field_name="is_active", label=_("Active"))

    class Meta:
        model = Schedule
        fields: list[str] = []


class SopFilter(FilterSet):
    active = BooleanFilter(field_name="is_active", label=_("Active"))
    work_order_type = django_filters.CharFilter(max_length=24, label=_("Work-order type"))

    class Meta:
        model = Sop
        fields: list[str] = []
