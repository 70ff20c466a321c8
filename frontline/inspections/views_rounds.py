"""Staff and customer pages for rounds and anomalies: lists with filters, one round with
its visits, readings and quality score, one anomaly with its follow-up, and the actions.

Every page reads through ``visible_to(user)``: operator staff see every project's, a
customer its own projects' (read-only), anyone else gets a 404. Each action is a POST
that calls exactly one service; a refusal shows the service's message on the page and
changes nothing; success redirects back (post/redirect/get).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import django_filters
from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import generic
from django_filters.rest_framework import FilterSet

from frontline.accounts.models import User
from frontline.accounts.roles import Cap, Role
from frontline.core.errors import DomainError, NotFound
from frontline.core.errors import PermissionDenied as DomainPermissionDenied
from frontline.core.models import AuditEntry
from frontline.core.pages import ScopedListView, style_form
from frontline.core.rest import parse_id
from frontline.desk.views_actions import apply_error
from frontline.inspections import access, anomalies, quality, rounds
from frontline.inspections.models import Anomaly, PointVisit, Reading, Round, Route
from frontline.inspections.models.scoping import is_inspection_staff
from frontline.inspections.states import (
    OPEN_ROUND_STATUSES,
    UNHANDLED_ANOMALY_STATUSES,
    AnomalyAction,
    AnomalySource,
    AnomalyStatus,
    RoundStatus,
    VisitStatus,
)
from frontline.sites.filters import ScopedModelChoiceFilter
from frontline.sites.models import Project

AUDIT_LIMIT = 50
_DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
QUALITY_PARTS = {
    "coverage": _("Checkpoint coverage"),
    "timeliness": _("Started and finished in the window"),
    "anomalies": _("Anomalies reported and handled"),
    "pace": _("Plausible time per checkpoint"),
    "photos": _("Photo evidence"),
}


def _user(request):
    return getattr(request, "user", None)


def projects(request):
    return Project.objects.visible_to(_user(request))


def routes(request):
    return Route.objects.visible_to(_user(request))


def engineers(request):
    """People who walk rounds: engineers by role or with an engineer profile."""
    return User.objects.visible_to(_user(request)).filter(
        Q(engineer_profile__isnull=False)
        | Q(membership__role__in=[Role.ENGINEER, Role.PARTNER_ENGINEER])
    )


def local_day(value: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(value, dt.time.min, tzinfo=timezone.get_current_timezone())
    return start, start + dt.timedelta(days=1)


class InspectionReaderMixin(LoginRequiredMixin):
    """Whoever may see inspections (in their scope); anyone else signed in gets a 404."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not access.may_view(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


# ---------------------------------------------------------------- filters


class RoundFilter(FilterSet):
    """What the round list filters by (an allowlist; scoped choices)."""

    project = ScopedModelChoiceFilter(queryset=projects, label=_("Project"))
    route = ScopedModelChoiceFilter(queryset=routes, label=_("Route"))
    status = django_filters.ChoiceFilter(choices=RoundStatus.choices, label=_("Status"))
    day = django_filters.DateFilter(method="filter_day", label=_("Day"), widget=_DATE)
    assignee = ScopedModelChoiceFilter(queryset=engineers, label=_("Engineer"))

    class Meta:
        model = Round
        fields = ["project", "route", "status", "day", "assignee"]

    def filter_day(self, queryset, name, value):
        """Rounds whose window opens on that (local) day."""
        if value is None:
            return queryset
        start, end = local_day(value)
        return queryset.filter(window_start__gte=start, window_start__lt=end)


class CustomerRoundFilter(RoundFilter):
    """A customer does not filter by the operator's engineers."""

    assignee = None


HANDLED_CHOICES = [
    ("unhandled", _("Not handled")),
    ("handled", _("Handled")),
    (AnomalyStatus.OPEN.value, AnomalyStatus.OPEN.label),
    (AnomalyStatus.CONFIRMED.value, AnomalyStatus.CONFIRMED.label),
    (AnomalyStatus.DISMISSED.value, AnomalyStatus.DISMISSED.label),
]


class AnomalyFilter(FilterSet):
    status = django_filters.ChoiceFilter(
        choices=HANDLED_CHOICES, method="filter_status", label=_("Status")
    )
    project = ScopedModelChoiceFilter(queryset=projects, label=_("Project"))
    route = ScopedModelChoiceFilter(queryset=routes, label=_("Route"))
    source = django_filters.ChoiceFilter(choices=AnomalySource.choices, label=_("Source"))

    class Meta:
        model = Anomaly
        fields = ["status", "project", "route", "source"]

    def filter_status(self, queryset, name, value):
        if value == "unhandled":
            return queryset.filter(status__in=UNHANDLED_ANOMALY_STATUSES)
        if value == "handled":
            return queryset.filter(status=AnomalyStatus.HANDLED)
        return queryset.filter(status=value) if value else queryset


# ---------------------------------------------------------------- forms


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)


class AdjustScoreForm(ReasonForm):
    score = forms.DecimalField(
        label=_("Adjusted score"), min_value=Decimal(0), max_value=Decimal(100), decimal_places=2
    )
    field_order = ["score", "reason"]


class ResolutionForm(forms.Form):
    resolution = forms.CharField(
        label=_("Resolution"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)


class FollowUpForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Follow up with"),
        required=False,
        choices=[("", _("As the route says")),
                 (AnomalyAction.WORK_ORDER.value, AnomalyAction.WORK_ORDER.label),
                 (AnomalyAction.TICKET.value, AnomalyAction.TICKET.label)],
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)


# ---------------------------------------------------------------- lists


class FilteredListMixin:
    filter_fields: tuple[str, ...] = ()

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        fields = []
        if self.filterset is not None:
            style_form(self.filterset.form)
            form = self.filterset.form
            fields = [form[name] for name in self.filter_fields if name in form.fields]
        query = self.request.GET.copy()
        query.pop("page", None)
        query.pop("sort", None)
        ctx.update(
            filter_fields=fields,
            partial_template=self.partial_template_name,
            sort_querystring=query.urlencode(),
            internal=is_inspection_staff(self.request.user),
        )
        return ctx


class RoundListView(InspectionReaderMixin, FilteredListMixin, ScopedListView):
    model = Round
    select_related = ("route", "project", "assignee")
    filter_fields = ("project", "route", "status", "day", "assignee")
    search_fields = ("route__code", "route__name")
    sort_fields = {
        "window_start": _("Window"),
        "route__code": _("Route"),
        "status": _("Status"),
        "quality_score": _("Quality"),
    }
    default_sort = "-window_start"
    template_name = "inspections/rounds_list.html"
    partial_template_name = "inspections/partials/rounds_table.html"

    @property
    def filterset_class(self):
        return RoundFilter if is_inspection_staff(self.request.user) else CustomerRoundFilter


class AnomalyListView(InspectionReaderMixin, FilteredListMixin, ScopedListView):
    model = Anomaly
    select_related = (
        "route", "project", "checkpoint", "item", "round",
        "work_order", "ticket",
    )  # fmt: skip
    filterset_class = AnomalyFilter
    filter_fields = ("status", "project", "route", "source")
    search_fields = ("checkpoint__code", "checkpoint__name", "description")
    sort_fields = {"raised_at": _("Raised"), "last_seen_at": _("Last seen"), "status": _("Status")}
    default_sort = "-raised_at"
    template_name = "inspections/anomalies_list.html"
    partial_template_name = "inspections/partials/anomalies_table.html"


# ---------------------------------------------------------------- one round


def round_visits(rnd: Round) -> list[PointVisit]:
    readings = Reading.objects.select_related("item").order_by("item__position", "item_id")
    return list(
        PointVisit.objects.filter(round=rnd)
        .select_related("checkpoint", "by")
        .prefetch_related(Prefetch("readings", queryset=readings))
        .order_by("recorded_at", "id")
    )


DETAIL_TEXT = {
    "coverage": _("%(visited)s of %(planned)s visited, %(skipped)s skipped"),
    "anomalies": _("%(reported)s of %(abnormal)s abnormal readings reported and followed up"),
    "pace": _("%(plausible)s of %(gaps)s gaps at least %(min_seconds)s s"),
    "photos": _("%(with_photo)s of %(required)s with a photo"),
}


def detail_text(key: str, detail) -> str:
    """A part's detail (the scorer's numbers) as a sentence; unknown shapes as key=value."""
    if not detail:
        return ""
    if not isinstance(detail, dict):
        return str(detail)
    if key == "timeliness":
        yes, no = _("yes"), _("no")
        return _("started in the window: %(s)s; finished in the window: %(f)s") % {
            "s": yes if detail.get("started_on_time") else no,
            "f": yes if detail.get("finished_on_time") else no,
        }
    if key == "pace" and not detail.get("gaps"):
        return _("fewer than two checkpoints visited: nothing to compare")
    template = DETAIL_TEXT.get(key)
    if template is not None:
        try:
            return template % detail
        except (KeyError, TypeError, ValueError):
            pass
    return ", ".join(f"{k}={v}" for k, v in detail.items())


def quality_rows(rnd: Round) -> list[dict]:
    """The score's parts in a fixed order, each with its label, score (0-100), weight and detail."""
    rows = []
    parts = rnd.quality_parts if isinstance(rnd.quality_parts, dict) else {}
    for key, label in QUALITY_PARTS.items():
        part = parts.get(key)
        if not isinstance(part, dict):
            continue
        score = part.get("score")
        rows.append({
            "key": key,
            "label": label,
            "score": round(float(score) * 100, 1) if score is not None else None,
            "weight": part.get("weight"),
            "detail": detail_text(key, part.get("detail")),
        })  # fmt: skip
    return rows


def audit_entries(user, obj) -> list | None:
    """The object's change history for those who may read the audit log (else None: hidden)."""
    if not user.has_capability(Cap.VIEW_AUDIT):
        return None
    return list(AuditEntry.objects.visible_to(user).for_object(obj)[:AUDIT_LIMIT])


def round_context(request, rnd: Round, bound: dict | None = None) -> dict:
    user = request.user
    visits = round_visits(rnd)
    seen = {v.checkpoint_id for v in visits}
    missing = [cp for cp in rnd.route.checkpoints.filter(is_active=True) if cp.pk not in seen]
    forms_ = {"adjust": AdjustScoreForm(prefix="adjust"), "cancel": ReasonForm(prefix="cancel")}
    forms_.update(bound or {})
    staff = is_inspection_staff(user)
    return {
        "round": rnd,
        "object": rnd,
        "visits": [v for v in visits if v.status == VisitStatus.VISITED],
        "skipped": [v for v in visits if v.status == VisitStatus.SKIPPED],
        "missing": missing,
        "anomalies": list(
            rnd.anomalies.select_related("checkpoint", "item", "work_order", "ticket")
        ),
        "quality_parts": quality_rows(rnd),
        "adjusted": rnd.quality_adjusted_at is not None,
        "forms": forms_,
        "can_adjust": access.may_review_quality(user) and rnd.status == RoundStatus.COMPLETED,
        "can_cancel": staff and rnd.status in OPEN_ROUND_STATUSES and may_cancel(user),
        "internal": staff,
        "audit_entries": audit_entries(user, rnd),
    }


def may_cancel(user) -> bool:
    return access.may_manage_routes(user) or user.has_capability(Cap.DISPATCH_WORK)


def render_round(request, rnd, *, bound=None, status=200):
    context = round_context(request, rnd, bound)
    return render(request, "inspections/rounds_detail.html", context, status=status)


def visible_round(request, pk) -> Round:
    round_id = parse_id(pk)
    qs = Round.objects.visible_to(request.user).select_related(
        "route", "project", "customer", "assignee", "team", "quality_adjusted_by"
    )
    rnd = qs.filter(pk=round_id).first() if round_id else None
    if rnd is None:
        raise Http404
    return rnd


class RoundDetailView(InspectionReaderMixin, generic.View):
    http_method_names = ["get", "head", "options"]

    def get(self, request, pk):
        return render_round(request, visible_round(request, pk))


# ---------------------------------------------------------------- one anomaly


def anomaly_context(request, anomaly: Anomaly, bound: dict | None = None) -> dict:
    forms_ = {
        "dismiss": ReasonForm(prefix="dismiss"),
        "handle": ResolutionForm(prefix="handle"),
        "follow_up": FollowUpForm(prefix="follow_up"),
    }
    forms_.update(bound or {})
    unhandled = anomaly.status in UNHANDLED_ANOMALY_STATUSES
    return {
        "anomaly": anomaly,
        "object": anomaly,
        "forms": forms_,
        "can_handle": access.may_handle_anomalies(request.user) and unhandled,
        "can_follow_up": unhandled and anomaly.work_order_id is None and anomaly.ticket_id is None,
        "internal": is_inspection_staff(request.user),
        "audit_entries": audit_entries(request.user, anomaly),
    }


def render_anomaly(request, anomaly, *, bound=None, status=200):
    context = anomaly_context(request, anomaly, bound)
    return render(request, "inspections/anomalies_detail.html", context, status=status)


def visible_anomaly(request, pk) -> Anomaly:
    anomaly_id = parse_id(pk)
    qs = Anomaly.objects.visible_to(request.user).select_related(
        "route", "project", "checkpoint", "item", "round", "visit", "raised_by",
        "confirmed_by", "handled_by", "work_order", "ticket",
    )  # fmt: skip
    anomaly = qs.filter(pk=anomaly_id).first() if anomaly_id else None
    if anomaly is None:
        raise Http404
    return anomaly


class AnomalyDetailView(InspectionReaderMixin, generic.View):
    http_method_names = ["get", "head", "options"]

    def get(self, request, pk):
        return render_anomaly(request, visible_anomaly(request, pk))


# ---------------------------------------------------------------- actions


class ActionView(InspectionReaderMixin, generic.View):
    """POST one action on one round or anomaly through one service, then back to its page.

    Subclasses set ``load`` / ``render_page`` (the object and its page), ``allowed``
    (who may try; others get a 403 before the service runs), ``form_class`` (or None),
    ``form_name``, ``success_message`` and implement ``perform``.
    """

    http_method_names = ["post"]
    form_class: type | None = None
    form_name = ""
    success_message = _("Saved.")

    def post(self, request, pk):
        obj = self.load(request, pk)
        if not self.allowed(request.user):
            raise PermissionDenied
        form = None
        if self.form_class is not None:
            form = self.form_class(data=request.POST, prefix=self.form_name)
            if not form.is_valid():
                return self.render_page(request, obj, bound={self.form_name: form}, status=400)
        try:
            self.perform(obj, form.cleaned_data if form is not None else {})
        except DomainPermissionDenied:
            raise PermissionDenied
        except NotFound:
            raise Http404
        except DomainError as exc:
            obj = self.load(request, pk)
            if form is None:
                messages.error(request, str(exc.message))
                return self.render_page(request, obj, status=exc.status)
            apply_error(form, exc)
            return self.render_page(request, obj, bound={self.form_name: form}, status=exc.status)
        messages.success(request, self.success_message)
        return HttpResponseRedirect(obj.get_absolute_url())

    def perform(self, obj, data):  # pragma: no cover - abstract
        raise NotImplementedError


class RoundAction(ActionView):
    load = staticmethod(visible_round)
    render_page = staticmethod(render_round)


class AnomalyActionView(ActionView):
    load = staticmethod(visible_anomaly)
    render_page = staticmethod(render_anomaly)

    def allowed(self, user) -> bool:
        return access.may_handle_anomalies(user)


class AdjustScoreView(RoundAction):
    form_class = AdjustScoreForm
    form_name = "adjust"
    success_message = _("Quality score adjusted.")

    def allowed(self, user) -> bool:
        return access.may_review_quality(user)

    def perform(self, rnd, data):
        quality.adjust_score(actor=self.request.user, round=rnd, score=data["score"],
                             reason=data["reason"])  # fmt: skip


class CancelRoundView(RoundAction):
    form_class = ReasonForm
    form_name = "cancel"
    success_message = _("Round cancelled.")

    def allowed(self, user) -> bool:
        return is_inspection_staff(user) and may_cancel(user)

    def perform(self, rnd, data):
        rounds.cancel_round(actor=self.request.user, round=rnd, reason=data["reason"])


class ConfirmAnomalyView(AnomalyActionView):
    success_message = _("Anomaly confirmed.")

    def perform(self, anomaly, data):
        anomalies.confirm_anomaly(actor=self.request.user, anomaly=anomaly)


class DismissAnomalyView(AnomalyActionView):
    form_class = ReasonForm
    form_name = "dismiss"
    success_message = _("Anomaly dismissed.")

    def perform(self, anomaly, data):
        anomalies.dismiss_anomaly(actor=self.request.user, anomaly=anomaly, reason=data["reason"])


class HandleAnomalyView(AnomalyActionView):
    form_class = ResolutionForm
    form_name = "handle"
    success_message = _("Anomaly marked handled.")

    def perform(self, anomaly, data):
        anomalies.handle_anomaly(actor=self.request.user, anomaly=anomaly,
                                 resolution=data["resolution"])  # fmt: skip


class FollowUpView(AnomalyActionView):
    form_class = FollowUpForm
    form_name = "follow_up"
    success_message = _("Follow-up opened.")

    def perform(self, anomaly, data):
        anomalies.open_follow_up(actor=self.request.user, anomaly=anomaly,
                                 action=data["action"] or None)  # fmt: skip


urlpatterns = [
    path("rounds/", RoundListView.as_view(), name="round-list"),
    path("rounds/<str:pk>/", RoundDetailView.as_view(), name="round-detail"),
    path("rounds/<str:pk>/adjust-score/", AdjustScoreView.as_view(), name="round-adjust-score"),
    path("rounds/<str:pk>/cancel/", CancelRoundView.as_view(), name="round-cancel"),
    path("anomalies/", AnomalyListView.as_view(), name="anomaly-list"),
    path("anomalies/<str:pk>/", AnomalyDetailView.as_view(), name="anomaly-detail"),
    path("anomalies/<str:pk>/confirm/", ConfirmAnomalyView.as_view(), name="anomaly-confirm"),
    path("anomalies/<str:pk>/dismiss/", DismissAnomalyView.as_view(), name="anomaly-dismiss"),
    path("anomalies/<str:pk>/handle/", HandleAnomalyView.as_view(), name="anomaly-handle"),
    path("anomalies/<str:pk>/follow-up/", FollowUpView.as_view(), name="anomaly-follow-up"),
]
