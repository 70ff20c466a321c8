"""Pages for problems (归因归母), retrospectives (回溯报告) and the daily issue report (问题日报).

All of them are for operator staff: a customer or partner gets a 404 on every URL.
Changes go through ``desk.problems`` and ``desk.retrospectives``; a refused change shows
the service's message (the same one the API returns) and changes nothing.
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Count
from django.forms import formset_factory
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import generic

from frontline.accounts.models import User
from frontline.accounts.roles import Cap, OrganizationKind
from frontline.core.errors import DomainError, NotFound, ValidationFailed
from frontline.core.errors import PermissionDenied as DomainPermissionDenied
from frontline.core.pages import (
    BootstrapFormMixin,
    ScopedDetailView,
    ScopedListView,
    ScopedQuerysetMixin,
    ServiceFormView,
    style_form,
)
from frontline.core.rest import parse_id
from frontline.desk import problems as problem_services
from frontline.desk import reports, retrospectives
from frontline.desk.access import is_desk_staff, may_work
from frontline.desk.api_problems import ProblemFilter
from frontline.desk.exports import XLSX_CONTENT_TYPE
from frontline.desk.models import Problem, Retrospective, RetrospectiveAction, Ticket
from frontline.desk.models.fire import Attribution
from frontline.desk.models.problems import ProblemStatus
from frontline.sites.views import ListPageMixin

_DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
_DATETIME = forms.DateTimeInput(format="%Y-%m-%dT%H:%M", attrs={"type": "datetime-local"})
MAX_REFS = 500


def ticket_url(ticket_id: int) -> str:
    """The ticket page's address ("" while the ticket pages are not installed)."""
    try:
        return reverse("desk:ticket-detail", args=[ticket_id])
    except NoReverseMatch:
        return ""


def operator_people():
    return User.objects.filter(
        is_active=True, membership__organization__kind=OrganizationKind.OPERATOR
    ).order_by("display_name", "pk")


class StaffOnlyMixin(LoginRequiredMixin):
    """Operator staff only; anyone else signed in gets a 404 (SECURITY.md #1)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_desk_staff(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


def parse_ticket_refs(user, text: str, *, strict: bool = True) -> list[int]:
    """Ticket ids from "12, T-000123 …" (ids or numbers), each one the user can see.

    ``strict``: one that does not exist (or is hidden from the user) is an error; otherwise
    it is left out.
    """
    tokens = [t for t in re.split(r"[\s,;]+", text or "") if t][:MAX_REFS]
    ids = [parse_id(t) for t in tokens if parse_id(t) is not None]
    numbers = [t for t in tokens if parse_id(t) is None]
    visible = Ticket.objects.visible_to(user)
    found = dict(visible.filter(number__in=numbers).values_list("number", "pk")) if numbers else {}
    known = set(visible.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    missing = [n for n in numbers if n not in found] + [str(i) for i in ids if i not in known]
    if missing and strict:
        message = _("No such ticket: %(id)s.") % {"id": ", ".join(m[:30] for m in missing[:10])}
        raise ValidationFailed(message, fields={"tickets": [message]})
    return list(dict.fromkeys([*ids, *found.values()]))


# ---------------------------------------------------------------- forms


class ProblemForm(BootstrapFormMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    attribution = forms.ChoiceField(
        label=_("Attribution"), required=False, choices=[("", "—"), *Attribution.choices]
    )
    fix_plan = forms.CharField(
        label=_("Systemic fix plan"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    fix_owner = forms.ModelChoiceField(
        label=_("Fix owner"), required=False, queryset=User.objects.none()
    )
    fix_due_on = forms.DateField(label=_("Fix due"), required=False, widget=_DATE)

    def __init__(self, *args, user, instance=None, **kwargs):
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "title": instance.title,
                    "description": instance.description,
                    "attribution": instance.attribution,
                    "fix_plan": instance.fix_plan,
                    "fix_owner": instance.fix_owner_id,
                    "fix_due_on": instance.fix_due_on,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["fix_owner"].queryset = operator_people().visible_to(user)


class ProblemCreateForm(ProblemForm):
    tickets = forms.CharField(
        label=_("Tickets"),
        required=False,
        help_text=_("Ticket numbers or ids, separated by commas."),
    )


class TicketRefsForm(BootstrapFormMixin, forms.Form):
    tickets = forms.CharField(label=_("Tickets"), help_text=_("Ticket numbers or ids."))


class RetrospectiveForm(BootstrapFormMixin, forms.Form):
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea(attrs={"rows": 5}))
    attribution = forms.ChoiceField(label=_("Attribution"), choices=Attribution.choices)


class TimelineRowForm(forms.Form):
    at = forms.DateTimeField(
        label=_("When"), required=False, widget=_DATETIME, input_formats=["%Y-%m-%dT%H:%M"]
    )
    kind = forms.CharField(label=_("Kind"), required=False, max_length=40)
    text = forms.CharField(
        label=_("What happened"),
        required=False,
        max_length=retrospectives.MAX_TIMELINE_TEXT,
        widget=forms.Textarea(attrs={"rows": 1}),
    )


class ActionForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    description = forms.CharField(label=_("Action"), required=False, max_length=300)
    owner = forms.ModelChoiceField(label=_("Owner"), required=False, queryset=User.objects.none())
    due_on = forms.DateField(label=_("Due"), required=False, widget=_DATE)

    def __init__(self, *args, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners if owners is not None else User.objects.none()


TimelineFormSet = formset_factory(TimelineRowForm, extra=2, can_delete=True, max_num=500)
ActionFormSet = formset_factory(ActionForm, extra=2, can_delete=True, max_num=50)


# ---------------------------------------------------------------- problems


class _CountedProblems(ScopedQuerysetMixin):
    """Problems with their number of linked tickets, annotated before the list sorts by it."""

    def get_queryset(self):
        return super().get_queryset().annotate(ticket_count=Count("tickets"))


class ProblemListView(StaffOnlyMixin, ListPageMixin, ScopedListView, _CountedProblems):
    model = Problem
    select_related = ("fix_owner",)
    filterset_class = ProblemFilter
    filter_fields = ("status", "attribution")
    search_fields = ("number", "title")
    search_hint = _("Number or title")
    sort_fields = {
        "number": _("Number"),
        "title": _("Title"),
        "status": _("Status"),
        "fix_due_on": _("Fix due"),
        "ticket_count": _("Tickets"),
        "created_at": _("Created"),
    }
    default_sort = "-created_at"
    write_capability = Cap.MANAGE_PROBLEMS
    template_name = "desk/problems/problem_list.html"
    partial_template_name = "desk/problems/partials/problem_table.html"


class ProblemDetailView(StaffOnlyMixin, ScopedDetailView):
    model = Problem
    select_related = ("fix_owner", "created_by")
    write_capability = Cap.MANAGE_PROBLEMS
    template_name = "desk/problems/problem_detail.html"
    tickets_limit = 200

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        linked = list(
            Ticket.objects.visible_to(self.request.user)
            .filter(problem=self.object)
            .select_related("customer", "owner")
            .order_by("-created_at", "-pk")[: self.tickets_limit]
        )
        allowed = problem_services.allowed_problem_statuses(self.object.status)
        ctx.update(
            linked=[{"ticket": t, "url": ticket_url(t.pk)} for t in linked],
            tickets_limit=self.tickets_limit,
            transitions=[
                (s, ProblemStatus(s).label) for s in allowed if s != ProblemStatus.RESOLVED
            ],
            can_resolve=ProblemStatus.RESOLVED in allowed,
            link_form=TicketRefsForm(),
        )
        return ctx


class ProblemCreateView(StaffOnlyMixin, ServiceFormView):
    """New problem; ``?tickets=1,2,3`` (a selection on the ticket list) pre-fills the tickets."""

    model = Problem
    form_class = ProblemCreateForm
    write_capability = Cap.MANAGE_PROBLEMS
    template_name = "desk/problems/problem_form.html"
    success_message = _("Problem opened.")

    def get_initial(self):
        initial = super().get_initial()
        raw = self.request.GET.get("tickets", "")
        if raw:
            # What does not exist, or the user may not see, is left out of a selection.
            ids = parse_ticket_refs(self.request.user, raw, strict=False)
            initial["tickets"] = ", ".join(
                Ticket.objects.filter(pk__in=ids).order_by("pk").values_list("number", flat=True)
            )
        return initial

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        form = ctx["form"]
        raw = form["tickets"].value() if "tickets" in form.fields else ""
        ids = parse_ticket_refs(self.request.user, raw or "", strict=False)
        ctx["selected"] = list(
            Ticket.objects.visible_to(self.request.user)
            .filter(pk__in=ids)
            .select_related("customer")
            .order_by("pk")
        )
        ctx["heading"] = _("New problem")
        return ctx

    def perform(self, form):
        values = dict(form.cleaned_data)
        refs = values.pop("tickets", "")
        ids = parse_ticket_refs(self.request.user, refs)
        return problem_services.create_problem(actor=self.request.user, tickets=ids, **values)


class ProblemEditView(StaffOnlyMixin, ServiceFormView):
    model = Problem
    editing = True
    form_class = ProblemForm
    write_capability = Cap.MANAGE_PROBLEMS
    template_name = "desk/problems/problem_form.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["heading"] = _("Edit problem")
        return ctx

    def perform(self, form):
        return problem_services.update_problem(
            actor=self.request.user, problem=self.object, **form.cleaned_data
        )


class ProblemActionView(StaffOnlyMixin, generic.View):
    """A POST-only verb on a problem; the result (or the refusal) shows on the problem page."""

    http_method_names = ["post"]
    success_message = _("Saved.")

    def post(self, request, pk):
        problem_id = parse_id(pk)
        problem = Problem.objects.visible_to(request.user).filter(pk=problem_id).first()
        if problem_id is None or problem is None:
            raise Http404
        if not request.user.has_capability(Cap.MANAGE_PROBLEMS):
            raise DjangoPermissionDenied
        try:
            message = self.perform(request, problem)
        except DomainPermissionDenied:
            raise DjangoPermissionDenied
        except NotFound:
            raise Http404
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, message)
        return HttpResponseRedirect(problem.get_absolute_url())

    def perform(self, request, problem) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


class ProblemLinkView(ProblemActionView):
    def perform(self, request, problem):
        ids = parse_ticket_refs(request.user, request.POST.get("tickets", ""))
        linked = problem_services.link_tickets(actor=request.user, problem=problem, tickets=ids)
        return _("Linked %(n)d tickets.") % {"n": len(linked)}


class ProblemUnlinkView(ProblemActionView):
    def perform(self, request, problem):
        ticket = parse_id(request.POST.get("ticket", ""))
        if ticket is None:
            raise ValidationFailed(problem_services.NOT_LINKED)
        found = problem_services.unlink_ticket(actor=request.user, problem=problem, ticket=ticket)
        return _("Unlinked %(ticket)s.") % {"ticket": found.number}


class ProblemTransitionView(ProblemActionView):
    def perform(self, request, problem):
        status = request.POST.get("status", "")
        done = problem_services.transition_problem(
            actor=request.user, problem=problem, to_status=status
        )
        return _("The problem is now %(status)s.") % {"status": done.get_status_display()}


class ProblemResolveView(ProblemActionView):
    def perform(self, request, problem):
        reply = request.POST.get("public_reply", "")
        problem_services.resolve_problem(actor=request.user, problem=problem, public_reply=reply)
        if reply.strip():
            return _("Problem resolved; the reply was posted to its tickets.")
        return _("Problem resolved.")


# ---------------------------------------------------------------- retrospectives


class RetrospectiveEditView(StaffOnlyMixin, generic.View):
    """Write a ticket's retrospective: summary, attribution, editable timeline, actions."""

    template_name = "desk/retrospectives/retrospective_form.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not is_desk_staff(request.user):
            raise Http404
        ticket_id = parse_id(kwargs.get("pk", ""))
        self.ticket = (
            Ticket.objects.visible_to(request.user).filter(pk=ticket_id).first()
            if ticket_id
            else None
        )
        if self.ticket is None:
            raise Http404
        if not may_work(request.user):
            raise DjangoPermissionDenied
        self.retro = (
            Retrospective.objects.filter(ticket=self.ticket).select_related("author").first()
        )
        self.owners = operator_people().visible_to(request.user)
        return super().dispatch(request, *args, **kwargs)

    def _forms(self, data=None):
        retro = self.retro
        if retro is not None:
            rows, summary, attribution = retro.timeline, retro.summary, retro.attribution
            actions = [
                {"id": a.pk, "description": a.description, "owner": a.owner_id, "due_on": a.due_on}
                for a in retro.actions.order_by("due_on", "pk")
            ]
        else:
            rows = retrospectives.prefill_timeline(self.ticket)
            summary, attribution, actions = "", "", []
        timeline_initial = [
            {"at": _local(row.get("at")), "kind": row.get("kind", ""), "text": row.get("text", "")}
            for row in rows
        ]
        form = RetrospectiveForm(data, initial={"summary": summary, "attribution": attribution})
        timeline = TimelineFormSet(data, initial=timeline_initial, prefix="timeline")
        action_set = ActionFormSet(
            data, initial=actions, prefix="actions", form_kwargs={"owners": self.owners}
        )
        for sub in [*timeline.forms, *action_set.forms]:
            style_form(sub)
        return form, timeline, action_set

    def _render(self, request, form, timeline, action_set, status=200):
        context = {
            "ticket": self.ticket,
            "ticket_url": ticket_url(self.ticket.pk),
            "retro": self.retro,
            "required": retrospectives.requires_retrospective(self.ticket),
            "form": form,
            "timeline": timeline,
            "actions": action_set,
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request, pk):
        return self._render(request, *self._forms())

    def post(self, request, pk):
        form, timeline, action_set = self._forms(request.POST)
        if not (form.is_valid() and timeline.is_valid() and action_set.is_valid()):
            return self._render(request, form, timeline, action_set)
        rows = [
            {
                "at": f.cleaned_data["at"],
                "kind": f.cleaned_data["kind"],
                "text": f.cleaned_data["text"],
            }
            for f in timeline.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE") and _filled(f, "at", "text")
        ]
        actions = [
            {k: f.cleaned_data.get(k) for k in ("id", "description", "owner", "due_on")}
            for f in action_set.forms
            if f.cleaned_data
            and not f.cleaned_data.get("DELETE")
            and _filled(f, "description", "owner", "due_on")
        ]
        try:
            retrospectives.write_retrospective(
                actor=request.user,
                ticket=self.ticket,
                summary=form.cleaned_data["summary"],
                attribution=form.cleaned_data["attribution"],
                timeline=rows,
                actions=actions,
            )
        except DomainError as exc:
            for name, msgs in exc.fields.items():
                for msg in msgs:
                    form.add_error(name if name in form.fields else None, msg)
            if not exc.fields:
                form.add_error(None, str(exc.message))
            return self._render(request, form, timeline, action_set)
        messages.success(request, _("Retrospective saved."))
        return HttpResponseRedirect(
            ticket_url(self.ticket.pk) or reverse("desk:retrospective-edit", args=[self.ticket.pk])
        )


def _filled(form, *names) -> bool:
    """A row counts when any of ``names`` was filled in (then the service checks all of them)."""
    return any(form.cleaned_data.get(n) not in (None, "") for n in names)


def _local(value):
    parsed = retrospectives.parse_at(value)
    return timezone.localtime(parsed).replace(tzinfo=None) if parsed else None


class ActionDoneView(StaffOnlyMixin, generic.View):
    http_method_names = ["post"]

    def post(self, request, pk):
        action_id = parse_id(pk)
        action = (
            RetrospectiveAction.objects.visible_to(request.user)
            .select_related("retrospective")
            .filter(pk=action_id)
            .first()
            if action_id
            else None
        )
        if action is None:
            raise Http404
        try:
            retrospectives.complete_action(actor=request.user, action=action)
        except DomainPermissionDenied:
            raise DjangoPermissionDenied
        messages.success(request, _("Action marked done."))
        return HttpResponseRedirect(
            reverse("desk:retrospective-edit", args=[action.retrospective.ticket_id])
        )


# ---------------------------------------------------------------- daily issue report


class DailyReportView(StaffOnlyMixin, generic.View):
    template_name = "desk/reports/daily_report.html"

    def _report(self, request):
        try:
            reports.check_access(request.user)
        except NotFound:
            raise Http404
        except DomainPermissionDenied:
            raise DjangoPermissionDenied
        date = reports.parse_report_date(request.GET.get("date"))
        return reports.build_daily_report(date, request.user)

    def get(self, request):
        try:
            report = self._report(request)
        except ValidationFailed as exc:
            context = {"error": exc.message, "today": reports.today()}
            return render(request, self.template_name, context, status=400)
        context = {
            "report": report,
            "today": reports.today(),
            "oldest": [{"ticket": t, "url": ticket_url(t.id)} for t in report.oldest_open],
            "fire_calls": [{"call": c, "url": ticket_url(c.ticket_id)} for c in report.fire_calls],
        }
        return render(request, self.template_name, context)


class DailyReportXlsxView(DailyReportView):
    def get(self, request):
        try:
            report = self._report(request)
        except ValidationFailed as exc:
            return HttpResponse(str(exc.message), status=400, content_type="text/plain")
        response = HttpResponse(reports.report_xlsx(report), content_type=XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = (
            f'attachment; filename="{reports.report_filename(report)}"'
        )
        return response


urlpatterns = [
    path("problems/", ProblemListView.as_view(), name="problem-list"),
    path("problems/new/", ProblemCreateView.as_view(), name="problem-create"),
    path("problems/<str:pk>/", ProblemDetailView.as_view(), name="problem-detail"),
    path("problems/<str:pk>/edit/", ProblemEditView.as_view(), name="problem-edit"),
    path("problems/<str:pk>/link/", ProblemLinkView.as_view(), name="problem-link"),
    path("problems/<str:pk>/unlink/", ProblemUnlinkView.as_view(), name="problem-unlink"),
    path(
        "problems/<str:pk>/transition/", ProblemTransitionView.as_view(), name="problem-transition"
    ),
    path("problems/<str:pk>/resolve/", ProblemResolveView.as_view(), name="problem-resolve"),
    path(
        "tickets/<str:pk>/retrospective/",
        RetrospectiveEditView.as_view(),
        name="retrospective-edit",
    ),
    path(
        "retrospective-actions/<str:pk>/done/",
        ActionDoneView.as_view(),
        name="retrospective-action-done",
    ),
    path("reports/daily-issues/", DailyReportView.as_view(), name="daily-report"),
    path("reports/daily-issues/xlsx/", DailyReportXlsxView.as_view(), name="daily-report-xlsx"),
]
