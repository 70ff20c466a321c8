"""Pages for SLA policies and business calendars, and the SLA timeline partial of a ticket.

Operator staff see them, admins (``Cap.MANAGE_DESK_CONFIG``) change them through
``desk.sla_config``; anyone else gets a 404. A calendar's periods are edited as one
line per weekday ("09:00–12:00, 13:00–18:00") and its closed days as one line each
("2026-05-01 Company outing").
"""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from frontline.accounts.roles import Cap
from frontline.core.errors import DomainError
from frontline.core.pages import ScopedListView, ScopedModelForm, ServiceFormView, style_form
from frontline.core.rest import parse_id
from frontline.desk import sla, sla_config
from frontline.desk.calendars import Calendar
from frontline.desk.models import BusinessCalendar, SlaPolicy, Ticket
from frontline.desk.models.scoping import is_desk_staff

_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–—~]\s*(\d{1,2}):(\d{2})\s*$")


class StaffOnlyMixin:
    """Only operator staff know these pages exist."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_desk_staff(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


class RedirectToListMixin:
    """Save through the service, then go back to the list (these records have no page)."""

    list_url_name = ""
    list_label = ""
    create_heading = ""
    edit_heading = ""
    template_name = "desk/sla/form.html"

    def form_valid(self, form):
        try:
            self.perform(form)
        except DomainError as exc:
            for name, msgs in exc.fields.items():
                for msg in msgs:
                    form.add_error(name if name in form.fields else None, msg)
            if not exc.fields:
                form.add_error(None, str(exc.message))
            return self.form_invalid(form)
        messages.success(self.request, self.success_message)
        return HttpResponseRedirect(reverse(self.list_url_name))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            heading=self.edit_heading if self.editing else self.create_heading,
            list_url=reverse(self.list_url_name),
            list_label=self.list_label,
        )
        return ctx


# ---------------------------------------------------------------- policies


class PolicyForm(ScopedModelForm):
    class Meta:
        model = SlaPolicy
        fields = list(sla_config.POLICY_FIELDS)

    def _post_clean(self):
        """The model's own checks, (project, severity) included, are the service's: the
        form only reads the fields, so a page shows the same messages as the API."""


class PolicyListView(StaffOnlyMixin, ScopedListView):
    model = SlaPolicy
    select_related = ("project", "calendar")
    prefetch_related = ("calendar__periods", "calendar__closed_days")
    search_fields = ("project__code", "project__name", "calendar__name")
    sort_fields = {"project__code": _("Project"), "severity": _("Severity")}
    default_sort = "project__code"
    write_capability = Cap.MANAGE_DESK_CONFIG
    template_name = "desk/sla/policy_list.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        for policy in ctx["object_list"]:
            policy.rule = Calendar.from_model(policy.calendar).describe()
        return ctx


class PolicyCreateView(StaffOnlyMixin, RedirectToListMixin, ServiceFormView):
    model = SlaPolicy
    form_class = PolicyForm
    write_capability = Cap.MANAGE_DESK_CONFIG
    list_url_name = "desk:sla-policy-list"
    list_label = _("SLA policies")
    create_heading = _("New SLA policy")

    def perform(self, form):
        return sla_config.create_policy(actor=self.request.user, **form.cleaned_data)


class PolicyEditView(PolicyCreateView):
    editing = True
    edit_heading = _("Edit SLA policy")

    def perform(self, form):
        return sla_config.update_policy(
            actor=self.request.user, policy=self.object, **form.cleaned_data
        )


# ---------------------------------------------------------------- calendars


def _parse_spans(text: str, weekday: int) -> list[dict]:
    out = []
    for chunk in filter(None, (c.strip() for c in re.split(r"[,，;；]", text or ""))):
        match = _SPAN.match(chunk)
        if not match:
            raise forms.ValidationError(
                _("Write periods like 09:00–12:00, 13:00–18:00 (not “%(text)s”).")
                % {"text": chunk[:30]}
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            out.append({"weekday": weekday, "start": dt.time(h1, m1), "end": dt.time(h2, m2)})
        except ValueError:
            raise forms.ValidationError(_("%(text)s is not a time of day.") % {"text": chunk[:30]})
    return out


def _parse_closed_days(text: str) -> list[dict]:
    out = []
    for line in filter(None, (raw.strip() for raw in (text or "").splitlines())):
        day, _sep, reason = line.partition(" ")
        try:
            out.append({"date": dt.date.fromisoformat(day), "reason": reason.strip()})
        except ValueError:
            raise forms.ValidationError(
                _("Start each line with a date like 2026-05-01 (not “%(text)s”).")
                % {"text": day[:30]}
            )
    return out


class CalendarForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    time_zone = forms.CharField(label=_("time zone"), max_length=64, initial="Asia/Shanghai")
    is_24x7 = forms.BooleanField(label=_("24×7"), required=False)
    use_china_holidays = forms.BooleanField(
        label=_("mainland China holidays"), required=False, initial=True
    )
    closed_days = forms.CharField(
        label=_("closed days"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: a date, then the reason (2026-05-01 Company outing)."),
    )

    def __init__(self, *args, user, instance=None, **kwargs):
        super().__init__(*args, **kwargs)
        for weekday in range(7):
            self.fields[f"day_{weekday}"] = forms.CharField(
                label=WEEKDAYS[weekday],
                required=False,
                help_text=_("e.g. 09:00–12:00, 13:00–18:00; 23:59 means until midnight")
                if weekday == 0
                else "",
            )
        if instance is not None:
            self.initial.update(
                name=instance.name,
                time_zone=instance.time_zone,
                is_24x7=instance.is_24x7,
                use_china_holidays=instance.use_china_holidays,
                closed_days="\n".join(
                    f"{c.date.isoformat()} {c.reason}".strip() for c in instance.closed_days.all()
                ),
            )
            for weekday in range(7):
                spans = [p for p in instance.periods.all() if p.weekday == weekday]
                self.initial[f"day_{weekday}"] = ", ".join(
                    f"{p.start:%H:%M}–{p.end:%H:%M}" for p in spans
                )
        style_form(self)

    def clean(self):
        data = super().clean()
        periods = []
        for weekday in range(7):
            try:
                periods += _parse_spans(data.get(f"day_{weekday}", ""), weekday)
            except forms.ValidationError as exc:
                self.add_error(f"day_{weekday}", exc)
        try:
            data["closed_days_parsed"] = _parse_closed_days(data.get("closed_days", ""))
        except forms.ValidationError as exc:
            self.add_error("closed_days", exc)
        data["periods"] = periods
        return data

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "time_zone": data["time_zone"],
            "is_24x7": data["is_24x7"],
            "use_china_holidays": data["use_china_holidays"],
            "periods": data["periods"],
            "closed_days": data["closed_days_parsed"],
        }


class CalendarListView(StaffOnlyMixin, ScopedListView):
    model = BusinessCalendar
    prefetch_related = ("periods", "closed_days")
    search_fields = ("name",)
    sort_fields = {"name": _("Name")}
    default_sort = "name"
    write_capability = Cap.MANAGE_DESK_CONFIG
    template_name = "desk/sla/calendar_list.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        for calendar in ctx["object_list"]:
            calendar.rule = Calendar.from_model(calendar).describe()
        return ctx


class CalendarCreateView(StaffOnlyMixin, RedirectToListMixin, ServiceFormView):
    model = BusinessCalendar
    form_class = CalendarForm
    write_capability = Cap.MANAGE_DESK_CONFIG
    list_url_name = "desk:sla-calendar-list"
    list_label = _("Business calendars")
    create_heading = _("New business calendar")

    def perform(self, form):
        return sla_config.create_calendar(actor=self.request.user, **form.values())


class CalendarEditView(CalendarCreateView):
    editing = True
    edit_heading = _("Edit business calendar")
    prefetch_related = ("periods", "closed_days")

    def perform(self, form):
        return sla_config.update_calendar(
            actor=self.request.user, calendar=self.object, **form.values()
        )


# ---------------------------------------------------------------- a ticket's SLA timeline


def ticket_sla_timeline(request, pk):
    """The SLA timeline partial of one ticket (for htmx refreshes); staff only."""
    if not request.user.is_authenticated or not is_desk_staff(request.user):
        raise Http404
    ticket_id = parse_id(pk)
    ticket = Ticket.objects.visible_to(request.user).filter(pk=ticket_id).first()
    if ticket_id is None or ticket is None:
        raise Http404
    return render(request, "desk/partials/sla_timeline.html", {"sla_rows": sla.explain(ticket)})


urlpatterns = [
    path("sla/policies/", PolicyListView.as_view(), name="sla-policy-list"),
    path("sla/policies/new/", PolicyCreateView.as_view(), name="sla-policy-create"),
    path("sla/policies/<str:pk>/edit/", PolicyEditView.as_view(), name="sla-policy-edit"),
    path("sla/calendars/", CalendarListView.as_view(), name="sla-calendar-list"),
    path("sla/calendars/new/", CalendarCreateView.as_view(), name="sla-calendar-create"),
    path("sla/calendars/<str:pk>/edit/", CalendarEditView.as_view(), name="sla-calendar-edit"),
    path("sla/tickets/<str:pk>/", ticket_sla_timeline, name="sla-ticket-timeline"),
]
