"""Work order and survey filters shared by the API (and pages): the allowlist of each list.

Filters that name another object accept only objects the user can see, so a filter can
neither reveal nor probe another organisation's records. Customers and partner outlets
get a smaller allowlist: a filter on what their view hides (team, assignee, partner,
ticket, queue) would answer by a count what the payload leaves out; for them it is an
unknown query parameter (400). Booleans are strict (``true``/``false``).
"""

from __future__ import annotations

import django_filters
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import FilterSet
from rest_framework import exceptions

from frontline.accounts.models import Organization, Team, User
from frontline.accounts.roles import OrganizationKind
from frontline.core.filters import BooleanFilter
from frontline.core.rest import AllowlistOrderingFilter
from frontline.desk.models import Ticket
from frontline.field.models import Survey, WorkOrder
from frontline.field.states import (
    PRIORITY_RANK,
    QUEUE_STATUSES,
    Priority,
    WorkOrderStatus,
    WorkOrderType,
)
from frontline.sites.filters import ScopedModelChoiceFilter, customers, sites

MAX_SEARCH = 100


def _user(request):
    return getattr(request, "user", None)


def people(request):
    return User.objects.visible_to(_user(request))


def teams(request):
    return Team.objects.visible_to(_user(request))


def partners(request):
    return Organization.objects.visible_to(_user(request)).filter(kind=OrganizationKind.PARTNER)


def tickets(request):
    return Ticket.objects.visible_to(_user(request))


def work_orders(request):
    return WorkOrder.objects.visible_to(_user(request))


def priority_rank():
    """Priority as a number, so that ``ordering=-priority`` puts urgent first."""
    return Case(
        *(When(priority=p, then=Value(rank)) for p, rank in PRIORITY_RANK.items()),
        default=Value(0),
        output_field=IntegerField(),
    )


class WorkOrderFilter(FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=WorkOrderStatus.choices, label=_("Status"), distinct=False
    )
    priority = django_filters.MultipleChoiceFilter(
        choices=Priority.choices, label=_("Priority"), distinct=False
    )
    type = django_filters.ChoiceFilter(choices=WorkOrderType.choices, label=_("Type"))
    assignee = ScopedModelChoiceFilter(queryset=people, label=_("Engineer"))
    partner = ScopedModelChoiceFilter(queryset=partners, label=_("Partner outlet"))
    customer = ScopedModelChoiceFilter(queryset=customers, label=_("Customer"))
    site = ScopedModelChoiceFilter(queryset=sites, label=_("Site"))
    team = ScopedModelChoiceFilter(queryset=teams, label=_("Team"))
    ticket = ScopedModelChoiceFilter(queryset=tickets, label=_("Ticket"))
    day = django_filters.DateFilter(method="filter_day", label=_("Appointment day"))
    queue = BooleanFilter(method="filter_queue", label=_("Waiting in the queue"))
    mine = BooleanFilter(method="filter_mine", label=_("Mine"))
    q = django_filters.CharFilter(method="filter_q", label=_("Number or title"))

    class Meta:
        model = WorkOrder
        fields = ["status", "priority", "type", "assignee", "partner", "customer", "site",
                  "team", "ticket", "day", "queue", "mine", "q"]  # fmt: skip

    def filter_day(self, queryset, name, value):
        # In the current time zone: a window from 08:00 Shanghai is on that Shanghai day.
        return queryset.filter(window_start__date=value) if value else queryset

    def filter_queue(self, queryset, name, value):
        if value is None:
            return queryset
        waiting = Q(status__in=QUEUE_STATUSES, assignee__isnull=True)
        return queryset.filter(waiting) if value else queryset.exclude(waiting)

    def filter_mine(self, queryset, name, value):
        if value is None:
            return queryset
        me = _user(self.request)
        return queryset.filter(assignee=me) if value else queryset.exclude(assignee=me)

    def filter_q(self, queryset, name, value):
        text = " ".join(str(value or "").split())
        if not text:
            return queryset
        if len(text) > MAX_SEARCH:
            raise exceptions.ValidationError(
                {"q": [_("At most %(n)d characters.") % {"n": MAX_SEARCH}]}
            )
        return queryset.filter(Q(number__icontains=text) | Q(title__icontains=text))


class PartnerWorkOrderFilter(WorkOrderFilter):
    """A partner outlet filters its own work: no team, partner, ticket or customer."""

    partner = team = ticket = customer = None

    class Meta(WorkOrderFilter.Meta):
        fields = ["status", "priority", "type", "assignee", "site", "day", "queue", "mine", "q"]


class CustomerWorkOrderFilter(WorkOrderFilter):
    """A customer filters by what its payload shows."""

    assignee = partner = team = queue = mine = customer = None

    class Meta(WorkOrderFilter.Meta):
        fields = ["status", "priority", "type", "site", "ticket", "day", "q"]


class RankedOrderingFilter(AllowlistOrderingFilter):
    """The allowlist ordering, with ``priority`` meaning the rank, not the word."""

    def get_ordering(self, request, queryset, view):
        terms = super().get_ordering(request, queryset, view) or []
        aliases = getattr(view, "ordering_aliases", {})
        out = []
        for term in terms:
            desc = term.startswith("-")
            name = aliases.get(term.lstrip("-"), term.lstrip("-"))
            out.append(f"-{name}" if desc else name)
        return out


# ---------------------------------------------------------------- surveys


class SurveyFilter(FilterSet):
    engineer = ScopedModelChoiceFilter(queryset=people, label=_("Engineer"))
    work_order = ScopedModelChoiceFilter(queryset=work_orders, label=_("Work order"))
    submitted_from = django_filters.DateFilter(
        field_name="submitted_at", lookup_expr="date__gte", label=_("From")
    )
    submitted_to = django_filters.DateFilter(
        field_name="submitted_at", lookup_expr="date__lte", label=_("Until")
    )

    class Meta:
        model = Survey
        fields = ["engineer", "work_order", "submitted_from", "submitted_to"]


class CustomerSurveyFilter(SurveyFilter):
    engineer = None

    class Meta(SurveyFilter.Meta):
        fields = ["work_order", "submitted_from", "submitted_to"]
