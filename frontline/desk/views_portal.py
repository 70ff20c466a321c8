"""The customer portal: a customer's people submit tickets and follow them.

Only users who may submit tickets (capability ``submit_tickets``) use the portal;
they see their own organisation's tickets (``Ticket.objects.visible_to``) with only
the public part of each timeline and only public attachments. Operator staff who
open a portal address are sent to the staff page of the same thing; anyone else
gets a 404. Every change goes through desk.tickets, which decides what a customer
may set (never owner, status jumps, SLA fields or a severity the portal does not offer).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views import generic

from frontline.accounts.roles import Cap
from frontline.core.errors import DomainError
from frontline.core.pages import ScopedListView, is_htmx
from frontline.core.rest import parse_id
from frontline.desk import access, tickets
from frontline.desk import forms as desk_forms
from frontline.desk.models import Attachment, SeverityLevel, Ticket, TicketEvent
from frontline.desk.states import DONE_STATUSES, TicketStatus
from frontline.desk.views_actions import apply_error, attachment_download_url, run_action


def is_portal_user(user) -> bool:
    return (
        user.is_authenticated
        and not access.is_desk_staff(user)
        and user.has_capability(Cap.SUBMIT_TICKETS)
    )


class PortalMixin(LoginRequiredMixin):
    """Customers only; staff are sent to the staff page (``staff_url``), everyone else 404."""

    def staff_url(self) -> str:
        return reverse("desk:ticket-list")

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return self.handle_no_permission()
        if access.is_desk_staff(user):
            return HttpResponseRedirect(self.staff_url())
        if not is_portal_user(user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


def portal_ticket(request, pk) -> Ticket:
    """One of the customer's own tickets, or a 404 (another organisation's looks absent)."""
    ticket_id = parse_id(pk)
    if ticket_id is None:
        raise Http404
    qs = Ticket.objects.visible_to(request.user).select_related("site", "asset", "owner")
    try:
        return qs.get(pk=ticket_id)
    except Ticket.DoesNotExist:
        raise Http404


def _with_severity_name(qs):
    return qs.annotate(
        severity_name=Subquery(
            SeverityLevel.objects.filter(severity=OuterRef("severity")).values("name")[:1]
        )
    )


class PortalTicketListView(PortalMixin, ScopedListView):
    model = Ticket
    select_related = ("site",)
    search_fields = ("number", "title")
    sort_fields = {
        "number": _("Number"),
        "title": _("Title"),
        "status": _("Status"),
        "created_at": _("Created"),
        "updated_at": _("Updated"),
    }
    default_sort = "-updated_at"
    template_name = "desk/portal/ticket_list.html"
    partial_template_name = "desk/portal/partials/ticket_table.html"

    def get_queryset(self):
        qs = super().get_queryset()
        self.status = self.request.GET.get("status", "")
        if self.status == "open":
            qs = qs.exclude(status__in=DONE_STATUSES)
        elif self.status == "done":
            qs = qs.filter(status__in=DONE_STATUSES)
        else:
            self.status = ""
        return _with_severity_name(qs)

    def can_write(self, obj=None) -> bool:
        return True

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        query.pop("sort", None)
        ctx.update(
            status=self.status,
            sort_querystring=query.urlencode(),
            partial_template=self.partial_template_name,
        )
        return ctx


class PortalTicketCreateView(PortalMixin, generic.FormView):
    form_class = desk_forms.PortalTicketForm
    template_name = "desk/portal/ticket_form.html"

    def staff_url(self) -> str:
        return reverse("desk:ticket-create")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            ticket = tickets.create_ticket(
                actor=self.request.user,
                title=data["title"],
                description=data["description"],
                severity=data["severity"],
                site=data["site"],
                asset=data["asset"],
                files=data["files"],
            )
        except DomainError as exc:
            apply_error(form, exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Thank you. Your request %(number)s has been received.") % {"number": ticket.number},
        )
        return HttpResponseRedirect(reverse("desk:portal-ticket-detail", args=[ticket.pk]))


def portal_context(request, ticket, bound=None) -> dict:
    user = request.user
    attachments = list(Attachment.objects.visible_to(user).filter(ticket=ticket))
    for attachment in attachments:
        attachment.download_url = attachment_download_url(attachment)
    forms = {
        "reply": desk_forms.PortalReplyForm(),
        "reopen": desk_forms.ReopenForm(),
        "rate": desk_forms.RateForm(),
    }
    forms.update(bound or {})
    return {
        "ticket": ticket,
        "level": SeverityLevel.objects.filter(severity=ticket.severity).first(),
        # TicketEvent.visible_to keeps only public events for a customer.
        "events": list(
            TicketEvent.objects.visible_to(user).filter(ticket=ticket).select_related("author")
        ),
        "attachments": attachments,
        "is_resolved": ticket.status == TicketStatus.RESOLVED,
        "may_rate": ticket.status in DONE_STATUSES and ticket.rating is None,
        "forms": forms,
        "htmx": is_htmx(request),
    }


def render_portal_ticket(request, ticket, *, bound=None, status=200):
    context = portal_context(request, ticket, bound)
    if is_htmx(request):
        return render(request, "desk/portal/partials/ticket_page.html", context)
    return render(request, "desk/portal/ticket_detail.html", context, status=status)


class PortalTicketDetailView(PortalMixin, generic.View):
    http_method_names = ["get", "head", "options"]

    def staff_url(self) -> str:
        pk = parse_id(self.kwargs.get("pk", ""))
        return reverse("desk:ticket-detail", args=[pk]) if pk else reverse("desk:ticket-list")

    def get(self, request, pk):
        return render_portal_ticket(request, portal_ticket(request, pk))


class PortalActionView(PortalMixin, generic.View):
    """One customer action on one of their tickets, through one service."""

    http_method_names = ["post"]
    form_class = None
    form_name = ""
    success_message = _("Saved.")

    def staff_url(self) -> str:
        pk = parse_id(self.kwargs.get("pk", ""))
        return reverse("desk:ticket-detail", args=[pk]) if pk else reverse("desk:ticket-list")

    def post(self, request, pk):
        ticket = portal_ticket(request, pk)
        form = None
        if self.form_class is not None:
            form = self.form_class(data=request.POST, files=request.FILES)
        refused = run_action(self, ticket, form)
        if refused is not None:
            return refused
        if is_htmx(request):
            return render_portal_ticket(request, portal_ticket(request, pk))
        return HttpResponseRedirect(reverse("desk:portal-ticket-detail", args=[ticket.pk]))

    def failed(self, ticket, form, *, status):
        ticket = portal_ticket(self.request, ticket.pk)
        bound = {self.form_name: form} if form is not None else None
        return render_portal_ticket(self.request, ticket, bound=bound, status=status)

    def perform(self, ticket, form):  # pragma: no cover - abstract
        raise NotImplementedError


class PortalReplyView(PortalActionView):
    form_class = desk_forms.PortalReplyForm
    form_name = "reply"
    success_message = _("Your message was sent.")

    def perform(self, ticket, form):
        data = form.cleaned_data
        tickets.reply(
            actor=self.request.user, ticket=ticket, body=data["body"], files=data["files"]
        )


class PortalConfirmView(PortalActionView):
    success_message = _("Thank you for confirming the resolution.")

    def perform(self, ticket, form):
        tickets.confirm_resolution(actor=self.request.user, ticket=ticket)


class PortalReopenView(PortalActionView):
    form_class = desk_forms.ReopenForm
    form_name = "reopen"
    success_message = _("The request was reopened.")

    def perform(self, ticket, form):
        tickets.reopen(actor=self.request.user, ticket=ticket, reason=form.cleaned_data["reason"])


class PortalRateView(PortalActionView):
    form_class = desk_forms.RateForm
    form_name = "rate"
    success_message = _("Thank you for your rating.")

    def perform(self, ticket, form):
        data = form.cleaned_data
        tickets.rate(
            actor=self.request.user, ticket=ticket, rating=data["rating"], comment=data["comment"]
        )


urlpatterns = [
    path("portal/tickets/", PortalTicketListView.as_view(), name="portal-ticket-list"),
    path("portal/tickets/new/", PortalTicketCreateView.as_view(), name="portal-ticket-create"),
    path(
        "portal/tickets/<str:pk>/",
        PortalTicketDetailView.as_view(),
        name="portal-ticket-detail",
    ),
    path("portal/tickets/<str:pk>/reply/", PortalReplyView.as_view(), name="portal-reply"),
    path("portal/tickets/<str:pk>/confirm/", PortalConfirmView.as_view(), name="portal-confirm"),
    path("portal/tickets/<str:pk>/reopen/", PortalReopenView.as_view(), name="portal-reopen"),
    path("portal/tickets/<str:pk>/rate/", PortalRateView.as_view(), name="portal-rate"),
]
