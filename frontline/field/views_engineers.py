"""Engineer pages: the list (skills, availability, load, CSAT/NPS) and one engineer's profile.

Operator field staff see every engineer, a partner outlet's admin the outlet's own, an
engineer their own profile; anyone else gets a 404. Changes go through
``frontline.field.engineer_services`` (``Cap.MANAGE_ENGINEERS``).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Avg, Count, Q
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import generic

from frontline.accounts.models import EngineerSkill, Skill
from frontline.accounts.roles import Cap
from frontline.core.pages import ScopedListView
from frontline.core.rest import parse_id
from frontline.field import access, views_engineer_actions
from frontline.field.engineers import availability, effective_skills
from frontline.field.models import Certification, EngineerProfile, Leave, Shift, Survey, WorkOrder
from frontline.field.models.scoping import is_field_staff
from frontline.field.states import DONE_STATUSES, WorkOrderStatus

EXPIRY_WARNING_DAYS = 30
CALENDAR_DAYS = 14


def may_view_engineers(user) -> bool:
    """Operator field staff, or a partner outlet's admin (for the outlet's engineers)."""
    return is_field_staff(user) or (
        access.is_user(user) and user.has_capability(Cap.ASSIGN_PARTNER_WORK)
    )


def _day_bounds(day: dt.date):
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return start, start + dt.timedelta(days=1)


def jobs_on(user_ids, day: dt.date) -> dict[int, int]:
    """{user id: work orders planned (or with an appointment) that day}. One query."""
    start, end = _day_bounds(day)
    rows = (
        WorkOrder.objects.filter(assignee_id__in=user_ids)
        .exclude(status=WorkOrderStatus.CANCELLED)
        .filter(
            Q(planned_start__gte=start, planned_start__lt=end)
            | Q(planned_start__isnull=True, window_start__lt=end, window_end__gt=start)
        )
        .values("assignee_id")
        .annotate(n=Count("pk"))
    )
    return {r["assignee_id"]: r["n"] for r in rows}


def survey_scores(user_ids) -> dict[int, dict]:
    """{user id: {"csat", "nps", "n"}} averaged over their surveys. One query."""
    rows = (
        Survey.objects.filter(engineer_id__in=user_ids)
        .values("engineer_id")
        .annotate(csat=Avg("csat"), nps=Avg("nps"), n=Count("pk"))
    )
    return {r["engineer_id"]: r for r in rows}


def skill_rows(user_ids, day: dt.date) -> dict[int, list[dict]]:
    """{user id: [{"skill", "level", "suspended"}]}: a skill whose certification has
    expired is shown suspended (dispatch no longer counts it). Three queries."""
    effective = effective_skills(user_ids, day)
    out: dict[int, list[dict]] = {uid: [] for uid in user_ids}
    held = EngineerSkill.objects.filter(user_id__in=user_ids).select_related("skill")
    for row in held.order_by("skill__name"):
        suspended = row.skill_id not in effective.get(row.user_id, {})
        out[row.user_id].append({"skill": row.skill, "level": row.level, "suspended": suspended})
    return out


class EngineerListView(ScopedListView):
    model = EngineerProfile
    select_related = ("user",)
    search_fields = ("user__display_name", "user__email", "region")
    sort_fields = {
        "user__display_name": _("Name"),
        "region": _("Region"),
        "last_position_at": _("Last position"),
    }
    default_sort = "user__display_name"
    template_name = "field/engineers/list.html"
    partial_template_name = "field/engineers/partials/table.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not may_view_engineers(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def can_write(self, obj=None) -> bool:
        return access.may_manage_engineers(self.request.user)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        profiles = list(ctx["object_list"])
        ids = [p.user_id for p in profiles]
        today = timezone.localdate()
        skills = skill_rows(ids, today)
        hours = availability(profiles, today)
        jobs = jobs_on(ids, today)
        scores = survey_scores(ids)
        soon = today + dt.timedelta(days=EXPIRY_WARNING_DAYS)
        expiring: dict[int, list] = {uid: [] for uid in ids}
        for cert in Certification.objects.filter(
            user_id__in=ids, expires_on__isnull=False, expires_on__lte=soon
        ).order_by("expires_on"):
            expiring[cert.user_id].append(cert)
        rows = [
            {"profile": p, "skills": skills[p.user_id], "hours": hours[p.user_id],
             "jobs": jobs.get(p.user_id, 0), "scores": scores.get(p.user_id),
             "expiring": expiring[p.user_id]}
            for p in profiles
        ]  # fmt: skip
        query = self.request.GET.copy()
        query.pop("page", None)
        query.pop("sort", None)
        ctx.update(rows=rows, today=today, sort_querystring=query.urlencode(),
                   partial_template=self.partial_template_name)  # fmt: skip
        return ctx


def visible_profile(request, pk) -> EngineerProfile:
    """The profile of user ``pk`` if this user may see it (staff, outlet admin, oneself)."""
    user = request.user
    user_id = parse_id(pk)
    if user_id is None or not (may_view_engineers(user) or user_id == user.pk):
        raise Http404
    profile = (
        EngineerProfile.objects.visible_to(user)
        .select_related("user", "user__membership__organization")
        .filter(user_id=user_id)
        .first()
    )
    if profile is None:
        raise Http404
    return profile


def calendar(profile, first: dt.date, days: int) -> list[dict]:
    """Each day from ``first``: leave, an entered shift, the regular day, or off. Two queries."""
    last = first + dt.timedelta(days=days - 1)
    shifts = {
        s.date: s for s in Shift.objects.filter(user_id=profile.user_id, date__range=(first, last))
    }
    leaves = list(
        Leave.objects.filter(user_id=profile.user_id, first_day__lte=last, last_day__gte=first)
    )
    out = []
    for i in range(days):
        day = first + dt.timedelta(days=i)
        leave = next((lv for lv in leaves if lv.first_day <= day <= lv.last_day), None)
        shift = shifts.get(day)
        entry = {"day": day, "leave": leave, "shift": shift, "start": None, "end": None}
        if leave is None and shift is not None:
            entry.update(start=shift.start, end=shift.end, kind="shift")
        elif leave is not None:
            entry["kind"] = "leave"
        elif day.weekday() >= 5 and not profile.works_weekends:
            entry["kind"] = "off"
        else:
            entry.update(start=profile.workday_start, end=profile.workday_end, kind="regular")
        out.append(entry)
    return out


def profile_context(request, profile, bound: dict | None = None) -> dict:
    user = request.user
    today = timezone.localdate()
    uid = profile.user_id
    soon = today + dt.timedelta(days=EXPIRY_WARNING_DAYS)
    certs = list(Certification.objects.filter(user_id=uid).select_related("skill"))
    for cert in certs:
        cert.expired = cert.expires_on is not None and cert.expires_on < today
        cert.expiring = not cert.expired and cert.expires_on is not None and cert.expires_on <= soon
    surveys = Survey.objects.visible_to(user).filter(engineer_id=uid)
    map_data = {
        "home": [float(profile.home_latitude), float(profile.home_longitude)],
        "last": [float(profile.last_latitude), float(profile.last_longitude)]
        if profile.last_latitude is not None and profile.last_longitude is not None
        else None,
    }
    can_manage = access.may_manage_engineers(user)
    ctx = {
        "profile": profile,
        "engineer": profile.user,
        "object": profile,
        "skills": skill_rows([uid], today)[uid],
        "certifications": certs,
        "calendar": calendar(profile, today, CALENDAR_DAYS),
        "upcoming_leave": list(Leave.objects.filter(user_id=uid, last_day__gte=today)[:20]),
        "recent": list(
            WorkOrder.objects.visible_to(user)
            .filter(assignee_id=uid)
            .select_related("customer", "site")
            .order_by("-created_at")[:20]
        ),  # fmt: skip
        "open_jobs": WorkOrder.objects.visible_to(user)
        .filter(assignee_id=uid)
        .exclude(status__in=DONE_STATUSES)
        .count(),
        "surveys": list(surveys.select_related("work_order")[:20]),
        "scores": surveys.aggregate(csat=Avg("csat"), nps=Avg("nps"), n=Count("pk")),
        "map_data": map_data,
        "can_manage": can_manage,
        "all_skills": list(Skill.objects.all()) if can_manage else [],
    }
    if can_manage:
        ctx["forms"] = views_engineer_actions.profile_forms(request, profile, bound)
    return ctx


class EngineerDetailView(LoginRequiredMixin, generic.View):
    http_method_names = ["get", "head", "options"]

    def get(self, request, pk):
        profile = visible_profile(request, pk)
        return render(request, "field/engineers/detail.html", profile_context(request, profile))


urlpatterns = [
    path("engineers/", EngineerListView.as_view(), name="engineer-list"),
    *views_engineer_actions.create_patterns,
    path("engineers/<str:pk>/", EngineerDetailView.as_view(), name="engineer-detail"),
    *views_engineer_actions.urlpatterns,
]
