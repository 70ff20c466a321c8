"""Page forms for work orders and engineers (staff and partner outlet pages).

The forms only parse input and offer scoped choices; the services in
``frontline.field.services`` and ``frontline.field.engineer_services`` validate and
decide, so a page shows exactly the messages the API returns. Every choice of a
related object is limited to what the user can see (``visible_to``).
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import FilterSet

from frontline.accounts.models import Organization, Skill, Team, User
from frontline.accounts.roles import Cap, OrganizationKind
from frontline.core.filters import BooleanFilter
from frontline.desk.forms import CustomerTaggedSelect, LabelledChoiceField, StyledForm
from frontline.field.models import WorkOrder
from frontline.field.states import Priority, WorkOrderStatus, WorkOrderType
from frontline.sites.filters import ScopedModelChoiceFilter, customers
from frontline.sites.models import Asset, Project, Site

_DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
_TIME = forms.TimeInput(format="%H:%M", attrs={"type": "time"})
_DATETIME = forms.DateTimeInput(format="%Y-%m-%dT%H:%M", attrs={"type": "datetime-local"})
_DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


def _datetime_field(label, required=False):
    return forms.DateTimeField(
        label=label, required=required, widget=_DATETIME, input_formats=_DATETIME_FORMATS
    )


def _user(request):
    return getattr(request, "user", None)


def field_people(request):
    """Engineers the user can see (for the assignee filter)."""
    return User.objects.visible_to(_user(request)).filter(engineer_profile__isnull=False)


def teams(request):
    return Team.objects.visible_to(_user(request))


# ---------------------------------------------------------------- list filter


class WorkOrderFilter(FilterSet):
    """What the work-order list filters by (an allowlist; scoped choices; no to-many joins)."""

    status = django_filters.MultipleChoiceFilter(
        choices=WorkOrderStatus.choices, label=_("Status"), distinct=False
    )
    priority = django_filters.ChoiceFilter(choices=Priority.choices, label=_("Priority"))
    type = django_filters.ChoiceFilter(choices=WorkOrderType.choices, label=_("Type"))
    team = ScopedModelChoiceFilter(queryset=teams, label=_("Team"))
    assignee = ScopedModelChoiceFilter(queryset=field_people, label=_("Engineer"))
    customer = ScopedModelChoiceFilter(queryset=customers, label=_("Customer"))
    day = django_filters.DateFilter(method="filter_day", label=_("Day"), widget=_DATE)
    mine = BooleanFilter(method="filter_mine", label=_("Mine"))

    class Meta:
        model = WorkOrder
        fields = ["status", "priority", "type", "team", "assignee", "customer", "day", "mine"]

    def filter_day(self, queryset, name, value):
        """Work planned, or with an appointment, on that (local) day."""
        if value is None:
            return queryset
        start = dt.datetime.combine(value, dt.time.min, tzinfo=timezone.get_current_timezone())
        end = start + dt.timedelta(days=1)
        return queryset.filter(
            Q(planned_start__gte=start, planned_start__lt=end)
            | Q(window_start__lt=end, window_end__gt=start)
        )

    def filter_mine(self, queryset, name, value):
        if value is None:
            return queryset
        me = _user(self.request)
        mine = Q(assignee=me) | Q(created_by=me)
        return queryset.filter(mine) if value else queryset.exclude(mine)


class CustomerWorkOrderFilter(WorkOrderFilter):
    """A customer filters only by what its page shows: team, engineer and "mine" are internal."""

    team = assignee = mine = None

    class Meta(WorkOrderFilter.Meta):
        fields = ["status", "priority", "type", "customer", "day"]


# ---------------------------------------------------------------- create


class WorkOrderCreateForm(StyledForm):
    """A dispatcher opens a work order, on its own or from a ticket."""

    ticket_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(max_length=200, label=_("Title"))
    type = forms.ChoiceField(choices=WorkOrderType.choices, initial=WorkOrderType.REPAIR,
                             label=_("Type"))  # fmt: skip
    customer = forms.ModelChoiceField(queryset=Organization.objects.none(), label=_("Customer"))
    site = LabelledChoiceField(
        queryset=Site.objects.none(),
        label=_("Site"),
        widget=CustomerTaggedSelect(attrs={"data-by-customer": ""}),
    )
    asset = LabelledChoiceField(
        queryset=Asset.objects.none(),
        required=False,
        label=_("Asset"),
        widget=CustomerTaggedSelect(attrs={"data-by-customer": ""}),
    )
    project = LabelledChoiceField(
        queryset=Project.objects.none(),
        required=False,
        label=_("Project"),
        widget=CustomerTaggedSelect(attrs={"data-by-customer": ""}),
    )
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL,
                                 label=_("Priority"))  # fmt: skip
    skills = forms.ModelMultipleChoiceField(
        queryset=Skill.objects.none(), required=False, label=_("Required skills")
    )
    min_level = forms.IntegerField(min_value=1, max_value=5, initial=1,
                                   label=_("Minimum skill level"))  # fmt: skip
    estimated_minutes = forms.IntegerField(initial=60, label=_("Estimated duration (minutes)"))
    window_start = _datetime_field(_("Appointment from"))
    window_end = _datetime_field(_("Appointment until"))
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, label=_("Team"))
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=50_000,
        required=False,
        label=_("Description"),
        help_text=_("Basic formatting is kept; scripts and styles are removed."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Organization.objects.visible_to(user).filter(
            kind=OrganizationKind.CUSTOMER, is_active=True
        )
        self.fields["site"].queryset = Site.objects.visible_to(user).select_related("customer")
        self.fields["asset"].queryset = Asset.objects.visible_to(user).select_related(
            "site__customer"
        )
        self.fields["project"].queryset = Project.objects.visible_to(user).select_related(
            "customer"
        )
        self.fields["skills"].queryset = Skill.objects.visible_to(user)
        self.fields["team"].queryset = Team.objects.visible_to(user).filter(
            organization__kind=OrganizationKind.OPERATOR
        )


# ---------------------------------------------------------------- work-order actions


class DispatchForm(StyledForm):
    prefix = "dispatch"
    engineer = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Engineer"))
    planned_start = _datetime_field(_("Planned start"))

    def __init__(self, *args, engineers=(), **kwargs):
        super().__init__(*args, **kwargs)
        ids = [u.pk for u in engineers]
        self.fields["engineer"].queryset = User.objects.filter(pk__in=ids).order_by(
            "display_name", "pk"
        )


class PartnerForm(StyledForm):
    prefix = "partner"
    partner = forms.ModelChoiceField(queryset=Organization.objects.none(),
                                     label=_("Partner outlet"))  # fmt: skip

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Organization.objects.visible_to(user).filter(
            kind=OrganizationKind.PARTNER, is_active=True
        )


class OfferForm(StyledForm):
    prefix = "offer"
    expires_in_minutes = forms.IntegerField(initial=30, label=_("Offer expires in (minutes)"))
    radius_km = forms.IntegerField(required=False, label=_("Radius (km)"),
                                   help_text=_("Empty: each engineer's own radius."))  # fmt: skip


class AppointmentForm(StyledForm):
    prefix = "appointment"
    window_start = _datetime_field(_("Appointment from"), required=True)
    window_end = _datetime_field(_("Appointment until"), required=True)
    reason = forms.CharField(max_length=500, required=False, label=_("Reason"))


class ReasonForm(StyledForm):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=500, label=_("Reason")
    )


class HoldForm(ReasonForm):
    prefix = "hold"


class CancelForm(ReasonForm):
    prefix = "cancel"


class RejectForm(ReasonForm):
    prefix = "reject"


class NoteForm(StyledForm):
    prefix = "note"
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, label=_("Internal note")
    )


class PositionForm(StyledForm):
    """A position typed in (the phone view fills it from GPS)."""

    latitude = forms.CharField(max_length=20, required=False, label=_("Latitude"))
    longitude = forms.CharField(max_length=20, required=False, label=_("Longitude"))


class TravelForm(PositionForm):
    prefix = "travel"


class CheckInForm(PositionForm):
    prefix = "check_in"


class CompleteForm(StyledForm):
    prefix = "complete"
    resolution_code = forms.CharField(max_length=40, label=_("Resolution code"))
    resolution_notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, required=False,
        label=_("Resolution notes"),
    )  # fmt: skip
    parts_used = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False,
        label=_("Parts used"),
    )  # fmt: skip
    first_time_fix = forms.NullBooleanField(
        required=False,
        label=_("Fixed on the first visit"),
        widget=forms.Select(
            choices=[("unknown", _("Work it out")), ("true", _("Yes")), ("false", _("No"))]
        ),  # fmt: skip
    )


# ---------------------------------------------------------------- engineers


class EngineerProfileForm(StyledForm):
    """A new or changed engineer profile (the person must exist already)."""

    user = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Engineer"))
    phone = forms.CharField(max_length=40, required=False, label=_("Phone"))
    region = forms.CharField(max_length=100, required=False, label=_("Region"))
    home_latitude = forms.DecimalField(max_digits=9, decimal_places=6,
                                       label=_("Home base latitude"))  # fmt: skip
    home_longitude = forms.DecimalField(max_digits=9, decimal_places=6,
                                        label=_("Home base longitude"))  # fmt: skip
    workday_start = forms.TimeField(widget=_TIME, initial="08:30", label=_("Working day starts"))
    workday_end = forms.TimeField(widget=_TIME, initial="17:30", label=_("Working day ends"))
    works_weekends = forms.BooleanField(required=False, label=_("Works weekends"))
    daily_capacity_minutes = forms.IntegerField(initial=420,
                                                label=_("Daily capacity (minutes of work)"))  # fmt: skip
    offer_radius_km = forms.IntegerField(initial=50, label=_("Takes offers within (km)"))
    is_active = forms.BooleanField(required=False, initial=True,
                                   label=_("Available for dispatch"))  # fmt: skip

    def __init__(self, *args, user, profile=None, **kwargs):
        super().__init__(*args, **kwargs)
        if profile is not None:
            del self.fields["user"]
            return
        field_roles = [r for r, caps in _capabilities().items() if Cap.DO_FIELD_WORK in caps]
        self.fields["user"].queryset = (
            User.objects.visible_to(user)
            .filter(
                is_active=True, membership__role__in=field_roles, engineer_profile__isnull=True
            )  # fmt: skip
            .select_related("membership__organization")
            .order_by("display_name", "pk")
        )


def _capabilities():
    from frontline.accounts.roles import CAPABILITIES

    return CAPABILITIES


class CertificationForm(StyledForm):
    prefix = "cert"
    skill = forms.ModelChoiceField(queryset=Skill.objects.none(), label=_("Skill"))
    name = forms.CharField(max_length=120, label=_("Certificate"))
    number = forms.CharField(max_length=60, required=False, label=_("Certificate number"))
    issued_on = forms.DateField(required=False, widget=_DATE, label=_("Issued"))
    expires_on = forms.DateField(required=False, widget=_DATE, label=_("Expires"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["skill"].queryset = Skill.objects.visible_to(user)


class ShiftForm(StyledForm):
    prefix = "shift"
    date = forms.DateField(widget=_DATE, label=_("Date"))
    start = forms.TimeField(widget=_TIME, label=_("From"))
    end = forms.TimeField(widget=_TIME, label=_("Until"))


class LeaveForm(StyledForm):
    prefix = "leave"
    first_day = forms.DateField(widget=_DATE, label=_("First day"))
    last_day = forms.DateField(widget=_DATE, label=_("Last day"))
    reason = forms.CharField(max_length=200, required=False, label=_("Reason"))
