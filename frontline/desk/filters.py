"""Ticket filters shared by the pages and the API: the allowlist of what a list filters by.

Filters that name another object offer (and accept) only objects the user can see, so
a filter can neither reveal nor probe another customer's records. No filter joins a
to-many relation (``awaiting_me`` is an ``EXISTS``), so none needs ``DISTINCT``. Booleans are strict:
``true``/``false`` (or ``1``/``0``) only; anything else is a 400, never silently ignored.
"""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import FilterSet

from frontline.accounts.models import Team, User
from frontline.core.filters import BooleanFilter
from frontline.desk.models import HandOff, Ticket
from frontline.desk.states import Channel, HandOffStatus, Severity, SlaState, TicketStatus, Tier
from frontline.sites.filters import ScopedModelChoiceFilter, customers
from frontline.sites.models import Project


def _user(request):
    return getattr(request, "user", None)


def people(request):
    return User.objects.visible_to(_user(request))


def teams(request):
    return Team.objects.visible_to(_user(request))


def projects(request):
    return Project.objects.visible_to(_user(request))


class TicketFilter(FilterSet):
    # distinct=False: ``status IN (…)`` on the ticket row cannot repeat a row, and a
    # DISTINCT over every selected column costs a sort of every match on a big table.
    status = django_filters.MultipleChoiceFilter(
        choices=TicketStatus.choices, label=_("Status"), distinct=False
    )
    severity = django_filters.MultipleChoiceFilter(
        choices=Severity.choices, label=_("Severity"), distinct=False
    )
    owner = ScopedModelChoiceFilter(queryset=people, label=_("Owner"))
    team = ScopedModelChoiceFilter(queryset=teams, label=_("Team"))
    customer = ScopedModelChoiceFilter(queryset=customers, label=_("Customer"))
    project = ScopedModelChoiceFilter(queryset=projects, label=_("Project"))
    sla_state = django_filters.ChoiceFilter(choices=SlaState.choices, label=_("SLA state"))
    breached = BooleanFilter(method="filter_breached", label=_("SLA breached"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"))
    tier = django_filters.ChoiceFilter(choices=Tier.choices, label=_("Tier"))
    fire_open = BooleanFilter(field_name="fire_open", label=_("Fire called"))
    mine = BooleanFilter(method="filter_mine", label=_("Mine"))
    awaiting_me = BooleanFilter(method="filter_awaiting_me", label=_("Waiting for me to accept"))

    class Meta:
        model = Ticket
        fields = [
            "status",
            "severity",
            "owner",
            "team",
            "customer",
            "project",
            "sla_state",
            "breached",
            "channel",
            "tier",
            "fire_open",
            "mine",
            "awaiting_me",
        ]

    def filter_breached(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(sla_breached_at__isnull=not value)

    def filter_mine(self, queryset, name, value):
        if value is None:
            return queryset
        me = _user(self.request)
        return queryset.filter(owner=me) if value else queryset.exclude(owner=me)

    def filter_awaiting_me(self, queryset, name, value):
        if value is None:
            return queryset
        pending = HandOff.objects.filter(
            ticket=OuterRef("pk"),
            status=HandOffStatus.REQUESTED,
            to_user=_user(self.request),
        )
        return queryset.filter(Exists(pending) if value else ~Exists(pending))


class CustomerTicketFilter(TicketFilter):
    """What a customer filters its tickets by: only what its serializer shows.

    Team, tier, SLA state, breach, fire and owner are internal; a filter on them would
    answer, by a count, what the customer's ticket view hides. For a customer they are
    unknown query parameters (400).
    """

    owner = team = sla_state = breached = tier = fire_open = mine = awaiting_me = None

    class Meta(TicketFilter.Meta):
        fields = ["status", "severity", "customer", "project", "channel"]
