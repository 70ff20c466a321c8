"""The dispatcher board: the unassigned queue, each engineer's day as a timeline, a map,
and ranked suggestions for the selected order with one-click dispatch or offer.

Dispatchers (``Cap.DISPATCH_WORK``) use it; other field staff get a 403, anyone else a
404. Dispatching and offering go through ``field.services``; the page only reads, in a
number of queries that does not grow with the queue or the engineers.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import generic

from frontline.accounts.models import Team, User
from frontline.accounts.roles import OrganizationKind
from frontline.core.errors import DomainError
from frontline.core.pages import is_htmx, style_form
from frontline.core.rest import parse_id
from frontline.field import access, rules, services
from frontline.field.engineers import availability, position_of, site_point
from frontline.field.models import EngineerProfile, WorkOrder
from frontline.field.states import QUEUE_STATUSES, DispatchVia, Priority
from frontline.field.suggestions import day_bounds, jobs_on, suggest

QUEUE_LIMIT = 200
SUGGESTION_LIMIT = 8


class BoardFilter(forms.Form):
    day = forms.DateField(
        label=_("Day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("Every team")
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=[("", "—"), *Priority.choices], required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.visible_to(user).filter(
            is_active=True, organization__kind=OrganizationKind.OPERATOR
        )
        style_form(self)


class DispatcherOnlyMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated:
            if not access.is_field_staff(user):
                raise Http404
            if not access.may_dispatch(user):
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def _filters(request) -> tuple[BoardFilter, dt.date, Team | None, str]:
    form = BoardFilter(request.GET or None, user=request.user)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        return form, data["day"] or timezone.localdate(), data["team"], data["priority"]
    return form, timezone.localdate(), None, ""


def queue_for(user, day: dt.date, team=None, priority=""):
    """Orders waiting for a dispatcher: window on ``day`` or no window at all."""
    start, end = day_bounds(day)
    qs = (
        WorkOrder.objects.visible_to(user)
        .filter(status__in=QUEUE_STATUSES)
        .filter(Q(window_start__isnull=True) | Q(window_start__lt=end, window_end__gt=start))
        .select_related("site", "customer", "team", "partner")
    )
    if team is not None:
        qs = qs.filter(team=team)
    if priority:
        qs = qs.filter(priority=priority)
    return qs.order_by("window_start", "-created_at", "pk")[:QUEUE_LIMIT]


def engineer_days(day: dt.date, team=None) -> list[dict]:
    """Each operator engineer's day: working hours and their assigned jobs in time order."""
    profiles = EngineerProfile.objects.filter(
        is_active=True,
        user__is_active=True,
        user__membership__organization__kind=OrganizationKind.OPERATOR,
    ).select_related("user")
    if team is not None:
        profiles = profiles.filter(user__teams=team)
    profiles = list(profiles.order_by("user__display_name", "user__email"))
    hours = availability(profiles, day)
    jobs = jobs_on(day, [p.user_id for p in profiles])
    span_start, span_end = _span(day, hours.values())
    rows = []
    for p in profiles:
        mine = jobs.get(p.user_id, [])
        rows.append(
            {
                "engineer": p.user,
                "profile": p,
                "hours": hours[p.user_id],
                "jobs": [_bar(job, span_start, span_end) for job in mine],
                "shift": _shift_bar(hours[p.user_id], span_start, span_end),
                "booked": sum(j.estimated_minutes for j in mine),
            }
        )
    return rows


def _span(day, hours) -> tuple[dt.datetime, dt.datetime]:
    periods = [h for h in hours if h is not None]
    start, end = day_bounds(day)
    default = (start + dt.timedelta(hours=7), start + dt.timedelta(hours=20))
    if not periods:
        return default
    return min(default[0], *(h.start for h in periods)), max(default[1], *(h.end for h in periods))


def _pct(moment, start, end) -> float:
    total = (end - start).total_seconds() or 1.0
    return max(0.0, min(100.0, 100.0 * (moment - start).total_seconds() / total))


def _bar(wo: WorkOrder, start, end) -> dict:
    begin = wo.planned_start or wo.window_start or start
    finish = begin + dt.timedelta(minutes=wo.estimated_minutes)
    left = _pct(begin, start, end)
    return {
        "order": wo,
        "start": begin,
        "end": finish,
        "left": f"{left:.2f}",
        "width": f"{max(_pct(finish, start, end) - left, 0.8):.2f}",
    }


def _shift_bar(hours, start, end) -> dict | None:
    if hours is None:
        return None
    left = _pct(hours.start, start, end)
    return {"left": f"{left:.2f}", "width": f"{_pct(hours.end, start, end) - left:.2f}"}


def map_data(queue, rows) -> dict:
    orders = []
    for wo in queue:
        point = site_point(wo.site)
        if point is not None:
            orders.append({"id": wo.pk, "number": wo.number, "title": wo.title,
                           "priority": wo.priority, "lat": point[0], "lng": point[1]})  # fmt: skip
    engineers = []
    for row in rows:
        lat, lng = position_of(row["profile"])
        engineers.append({"id": row["engineer"].pk, "lat": lat, "lng": lng,
                          "name": row["engineer"].display_name or row["engineer"].email})  # fmt: skip
    return {"orders": orders, "engineers": engineers}


def _selected(request, pk) -> WorkOrder | None:
    found = parse_id(pk) if pk else None
    if found is None:
        return None
    return (
        WorkOrder.objects.visible_to(request.user)
        .select_related("site", "customer", "partner")
        .filter(pk=found)
        .first()
    )


def suggestions_context(wo: WorkOrder | None) -> dict:
    """Ranked engineers for the order; a dispatch rule's engineer pool narrows them."""
    if wo is None:
        return {"selected": None, "suggestions": []}
    decision = rules.preview(rules.load_order(wo.pk))
    ranked = suggest(wo, pool=decision.pool or None)
    return {
        "selected": wo,
        "decision": decision,
        "suggestions": ranked[:SUGGESTION_LIMIT],
        "blocked_count": sum(1 for s in ranked if not s.eligible),
        "in_queue": wo.status in QUEUE_STATUSES,
    }


class BoardView(DispatcherOnlyMixin, generic.View):
    def get(self, request):
        form, day, team, priority = _filters(request)
        queue = list(queue_for(request.user, day, team, priority))
        rows = engineer_days(day, team)
        selected = _selected(request, request.GET.get("selected"))
        query = {k: v for k, v in request.GET.items() if k in ("day", "team", "priority")}
        context = {
            "form": form,
            "day": day,
            "queue": queue,
            "queue_limit": QUEUE_LIMIT,
            "rows": rows,
            "map_data": map_data(queue, rows),
            "querystring": urlencode(query),
            **suggestions_context(selected),
        }
        return render(request, "field/board/board.html", context)


class SuggestionsView(DispatcherOnlyMixin, generic.View):
    """The ranked suggestions for one order (an htmx partial, or the board with it selected)."""

    def get(self, request, pk):
        wo = _selected(request, pk)
        if wo is None:
            raise Http404
        if not is_htmx(request):
            query = request.GET.copy()
            query["selected"] = wo.pk
            return HttpResponseRedirect(f"{reverse('field:board')}?{query.urlencode()}")
        context = {**suggestions_context(wo), "querystring": request.GET.urlencode()}
        return render(request, "field/board/partials/suggestions.html", context)


def _back(request) -> HttpResponseRedirect:
    """Back to the board with its filters (only the board's own parameters survive)."""
    given = QueryDict(request.POST.get("querystring", "")[:300])
    query = urlencode({k: given[k][:20] for k in ("day", "team", "priority") if given.get(k)})
    return HttpResponseRedirect(
        f"{reverse('field:board')}?{query}" if query else reverse("field:board")
    )


def _slot(wo: WorkOrder, engineer) -> dt.datetime | None:
    """Start after the engineer's last job of that day, not before the window opens."""
    day = timezone.localdate(wo.window_start or timezone.now())
    profile = EngineerProfile.objects.filter(user=engineer).first()
    hours = availability([profile], day).get(engineer.pk) if profile else None
    jobs = jobs_on(day, [engineer.pk]).get(engineer.pk, [])
    candidates = [m for m in (wo.window_start, hours.start if hours else None) if m]
    for job in jobs:
        if job.pk != wo.pk and (job.planned_start or job.window_start):
            begin = job.planned_start or job.window_start
            candidates.append(begin + dt.timedelta(minutes=job.estimated_minutes))
    if wo.window_start is None and hours is None:
        return None
    return max(candidates) if candidates else None


class BoardDispatchView(DispatcherOnlyMixin, generic.View):
    """One click: give the order to this engineer (``services.dispatch``)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        wo = _selected(request, pk)
        engineer = (
            User.objects.visible_to(request.user)
            .filter(pk=parse_id(request.POST.get("engineer", "")) or 0)
            .first()
        )
        if wo is None:
            raise Http404
        try:
            if engineer is None:
                raise DomainError(_("Choose an engineer."))
            services.dispatch(actor=request.user, work_order=wo, engineer=engineer,
                              via=DispatchVia.ASSIGN, planned_start=_slot(wo, engineer))  # fmt: skip
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(
                request,
                _("%(number)s dispatched to %(name)s.")
                % {"number": wo.number, "name": engineer.display_name or engineer.email},
            )
        return _back(request)


class BoardOfferView(DispatcherOnlyMixin, generic.View):
    """Offer the order to every eligible engineer (``services.offer``)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        wo = _selected(request, pk)
        if wo is None:
            raise Http404
        try:
            grab = services.offer(actor=request.user, work_order=wo)
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            count = grab.recipients.count()
            messages.success(
                request,
                _("%(number)s offered to %(n)d engineers.") % {"number": wo.number, "n": count},
            )
        return _back(request)


class BoardRouteView(DispatcherOnlyMixin, generic.View):
    """Let the dispatch rules (or the team's mode) take the order (``rules.route``)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        wo = _selected(request, pk)
        if wo is None:
            raise Http404
        try:
            routed = rules.route(actor=request.user, work_order=wo)
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, routed.decision.summary)
            if routed.note:
                messages.warning(request, routed.note)
        return _back(request)


urlpatterns = [
    path("board/", BoardView.as_view(), name="board"),
    path("board/orders/<str:pk>/suggestions/", SuggestionsView.as_view(), name="board-suggestions"),
    path("board/orders/<str:pk>/dispatch/", BoardDispatchView.as_view(), name="board-dispatch"),
    path("board/orders/<str:pk>/offer/", BoardOfferView.as_view(), name="board-offer"),
    path("board/orders/<str:pk>/route/", BoardRouteView.as_view(), name="board-route"),
]
