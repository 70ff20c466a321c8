"""Plan pages: the list of runs, "plan a day", and a run's page with live progress (htmx
polls every 2 s while it runs), KPIs, each engineer's route as a timeline and on a map,
what was left out and why, and apply all or selected visits.

Field staff see plans; dispatchers (``Cap.DISPATCH_WORK``) start and apply them
(others get a 403, nothing changes); anyone else gets a 404.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import generic

from frontline.accounts.models import Team
from frontline.accounts.roles import Cap, OrganizationKind
from frontline.core.errors import DomainError
from frontline.core.pages import ScopedListView, is_htmx, style_form
from frontline.core.rest import parse_id
from frontline.dispatch import planning
from frontline.dispatch.models import PlanRun, PlanStatus
from frontline.field import access

RUNNING = (PlanStatus.QUEUED, PlanStatus.RUNNING)


class FieldStaffOnlyMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not access.is_field_staff(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


def _plan(request, pk) -> PlanRun:
    plan = (
        PlanRun.objects.visible_to(request.user)
        .select_related("team", "created_by", "applied_by")
        .filter(pk=parse_id(pk) or 0)
        .first()
    )
    if plan is None:
        raise Http404
    return plan


class PlanForm(forms.Form):
    day = forms.DateField(
        label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=_("Every team"),
    )
    time_limit_s = forms.IntegerField(
        label=_("Time limit (seconds)"),
        min_value=planning.MIN_TIME_LIMIT,
        max_value=planning.MAX_TIME_LIMIT,
        initial=30,
    )
    auto_apply = forms.BooleanField(
        label=_("Apply the plan as soon as it is ready"), required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.visible_to(user).filter(
            is_active=True, organization__kind=OrganizationKind.OPERATOR
        )
        style_form(self)


class PlanListView(FieldStaffOnlyMixin, ScopedListView):
    model = PlanRun
    select_related = ("team", "created_by")
    sort_fields = {"created_at": _("Created"), "day": _("Day")}
    default_sort = "-created_at"
    write_capability = Cap.DISPATCH_WORK
    template_name = "dispatch/plan_list.html"


class PlanCreateView(FieldStaffOnlyMixin, generic.View):
    template_name = "dispatch/plan_form.html"

    def _check(self, request):
        if not access.may_dispatch(request.user):
            raise PermissionDenied

    def get(self, request):
        self._check(request)
        initial = {"day": timezone.localdate(), "time_limit_s": 30}
        if request.GET.get("day"):
            initial["day"] = request.GET["day"][:10]
        if parse_id(request.GET.get("team", "")):
            initial["team"] = parse_id(request.GET["team"])
        form = PlanForm(initial=initial, user=request.user)
        return render(request, self.template_name, {"form": form})

    def post(self, request):
        self._check(request)
        form = PlanForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                plan = planning.start_plan(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                for name, msgs in exc.fields.items():
                    for msg in msgs:
                        form.add_error(name if name in form.fields else None, msg)
                if not exc.fields:
                    form.add_error(None, str(exc.message))
            else:
                return HttpResponseRedirect(plan.get_absolute_url())
        return render(request, self.template_name, {"form": form})


def _span(rows) -> tuple[dt.datetime, dt.datetime] | None:
    times = [(a.arrival, a.end) for row in rows for a in row["stops"]]
    if not times:
        return None
    start = min(t[0] for t in times) - dt.timedelta(minutes=30)
    end = max(t[1] for t in times) + dt.timedelta(minutes=30)
    return start, end


def _pct(moment, start, end) -> float:
    total = (end - start).total_seconds() or 1.0
    return max(0.0, min(100.0, 100.0 * (moment - start).total_seconds() / total))


def routes_of(plan: PlanRun) -> list[dict]:
    """The plan's visits per engineer in route order, with timeline positions."""
    fixed = planning.fixed_order_ids(plan)
    rows: dict[int, dict] = {}
    visits = plan.assignments.select_related("work_order__site", "engineer").order_by(
        "engineer__display_name", "engineer_id", "sequence"
    )
    for a in visits:
        a.fixed = a.work_order_id in fixed
        row = rows.setdefault(a.engineer_id, {"engineer": a.engineer, "stops": [], "km": 0.0})
        row["stops"].append(a)
        row["km"] += a.travel_km
    out = list(rows.values())
    span = _span(out)
    for row in out:
        row["km"] = round(row["km"], 1)
        for a in row["stops"]:
            left = _pct(a.start, *span)
            a.left = f"{left:.2f}"
            a.width = f"{max(_pct(a.end, *span) - left, 0.8):.2f}"
    return out


def map_data(plan: PlanRun, rows) -> dict:
    problem = plan.problem or {}
    starts = {e["id"]: e.get("start") for e in problem.get("engineers", [])}
    points = {o.get("work_order"): o.get("location") for o in problem.get("orders", [])}
    routes = []
    for row in rows:
        start = starts.get(str(row["engineer"].pk))
        line = [[start["lat"], start["lon"]]] if start else []
        stops = []
        for a in row["stops"]:
            point = points.get(a.work_order_id)
            if point:
                line.append([point["lat"], point["lon"]])
                stops.append({"lat": point["lat"], "lng": point["lon"], "sequence": a.sequence,
                              "label": f"{a.sequence}. {a.work_order.number}"})  # fmt: skip
        name = row["engineer"].display_name or row["engineer"].email
        routes.append({"engineer": name, "line": line, "stops": stops})
    left = []
    for item in plan.left_out or []:
        point = points.get(item.get("work_order"))
        if point:
            left.append({"lat": point["lat"], "lng": point["lon"], "label": item.get("order_id")})
    return {"routes": routes, "left_out": left}


class PlanDetailView(FieldStaffOnlyMixin, generic.View):
    def get(self, request, pk):
        plan = _plan(request, pk)
        rows = routes_of(plan) if plan.status not in RUNNING else []
        context = {
            "plan": plan,
            "running": plan.status in RUNNING,
            "rows": rows,
            "map_data": map_data(plan, rows),
            "can_apply": access.may_dispatch(request.user) and plan.status in planning.APPLICABLE,
        }
        return render(request, "dispatch/plan_detail.html", context)


class PlanProgressView(FieldStaffOnlyMixin, generic.View):
    """The progress box (htmx polls it); once the run is over the whole page reloads."""

    def get(self, request, pk):
        plan = _plan(request, pk)
        running = plan.status in RUNNING
        response = render(
            request, "dispatch/partials/progress.html", {"plan": plan, "running": running}
        )
        if not running and is_htmx(request):
            response["HX-Refresh"] = "true"  # the result fills the whole page
        return response


class PlanApplyView(FieldStaffOnlyMixin, generic.View):
    """POST: apply every visit (``all``) or the ticked ones (``assignment``)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        plan = _plan(request, pk)
        if not access.may_dispatch(request.user):
            raise PermissionDenied
        ids = None
        if "all" not in request.POST:
            ids = [i for i in (parse_id(v) for v in request.POST.getlist("assignment")) if i]
            if not ids:
                messages.error(request, _("Tick the visits to apply, or apply the whole plan."))
                return HttpResponseRedirect(plan.get_absolute_url())
        try:
            result = planning.apply_plan(actor=request.user, plan=plan, assignment_ids=ids)
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return HttpResponseRedirect(plan.get_absolute_url())
        messages.success(request, _("%(n)d visits dispatched.") % {"n": len(result.applied)})
        for row, reason in result.skipped:
            messages.warning(
                request,
                _("%(number)s skipped: %(reason)s")
                % {"number": row.work_order.number, "reason": reason},
            )
        return HttpResponseRedirect(plan.get_absolute_url())


urlpatterns = [
    path("plans/", PlanListView.as_view(), name="plan-list"),
    path("plans/new/", PlanCreateView.as_view(), name="plan-create"),
    path("plans/<str:pk>/", PlanDetailView.as_view(), name="plan-detail"),
    path("plans/<str:pk>/progress/", PlanProgressView.as_view(), name="plan-progress"),
    path("plans/<str:pk>/apply/", PlanApplyView.as_view(), name="plan-apply"),
]
