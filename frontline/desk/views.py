"""Ticket pages for operator staff: the queues, staff intake, and (in views_actions) the ticket page.

Only operator staff reach these pages; for everyone else they do not exist (404),
customers work through the portal (views_portal). Every page reads through
``visible_to(user)`` and every change goes through a service in desk.tickets or
desk.fire: no view saves a model.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.http import Http404, HttpResponseRedirect
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views import generic

from frontline.core.errors import DomainError
from frontline.core.pages import ScopedListView, style_form
from frontline.core.paging import CappedPaginator
from frontline.desk import access, filters, tickets, views_actions
from frontline.desk.forms import TicketCreateForm
from frontline.desk.models import HandOff, SeverityLevel, Ticket
from frontline.desk.states import OPEN_STATUSES, HandOffStatus, SlaState


class StaffOnlyMixin(LoginRequiredMixin):
    """Operator staff only: anyone else signed in gets a 404, as if the page did not exist."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not access.is_desk_staff(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


def _pending_to_me(user):
    return Exists(
        HandOff.objects.filter(ticket=OuterRef("pk"), to_user=user, status=HandOffStatus.REQUESTED)
    )


# Each queue: (label, condition on a ticket row). "open" is the default tab.
def queue_conditions(user) -> dict[str, Q]:
    is_open = Q(status__in=OPEN_STATUSES)
    return {
        "open": is_open,
        "mine": is_open & Q(owner=user),
        "accept": Q(_pending_to_me(user)),
        "unassigned": is_open & Q(first_handled_at__isnull=True),
        # The sweep stamps sla_breached_at when it moves a ticket to breached; that
        # implied condition lets the partial ticket_breached_idx find the few candidates
        # (no index may cover sla_state: warnings must stay HOT updates).
        "breached": is_open & Q(sla_breached_at__isnull=False, sla_state=SlaState.BREACHED),
        "fire": Q(fire_open=True),
    }


QUEUE_LABELS = {
    "open": _("All open"),
    "mine": _("My tickets"),
    "accept": _("Waiting for me to accept"),
    "unassigned": _("Unassigned / new"),
    "breached": _("Breached"),
    "fire": _("Fire"),
}
QUEUE_ICONS = {
    "open": "inbox",
    "mine": "person",
    "accept": "arrow-left-right",
    "unassigned": "hourglass",
    "breached": "exclamation-octagon",
    "fire": "fire",
}


def with_list_columns(qs):
    """Everything a ticket row shows, in the same query (constant query count per page)."""
    return qs.select_related("customer", "owner", "team").annotate(
        severity_name=Subquery(
            SeverityLevel.objects.filter(severity=OuterRef("severity")).values("name")[:1]
        ),
        pending_to_name=Subquery(
            HandOff.objects.filter(ticket=OuterRef("pk"), status=HandOffStatus.REQUESTED).values(
                "to_user__display_name"
            )[:1]
        ),
    )


class TicketListView(StaffOnlyMixin, ScopedListView):
    model = Ticket
    filterset_class = filters.TicketFilter
    filter_fields = ("status", "severity", "team", "customer", "sla_state")
    search_fields = ("number", "title")
    search_hint = _("Number or title")
    sort_fields = {
        "number": _("Number"),
        "title": _("Title"),
        "severity": _("Severity"),
        "status": _("Status"),
        "customer__name": _("Customer"),
        "owner__display_name": _("Owner"),
        "created_at": _("Created"),
        "updated_at": _("Updated"),
        "resolution_due_at": _("Resolution due"),
    }
    default_sort = "-created_at"
    # Counted exactly up to 10,000 ("10,000+" above): as the API (CappedCountPagination).
    paginator_class = CappedPaginator
    template_name = "desk/ticket_list.html"
    partial_template_name = "desk/partials/ticket_table.html"

    def can_write(self, obj=None) -> bool:
        return access.may_work(self.request.user)

    def get_queryset(self):
        self.queue = self.request.GET.get("queue", "open")
        conditions = queue_conditions(self.request.user)
        if self.queue not in conditions:
            self.queue = "open"
        qs = super().get_queryset().filter(conditions[self.queue])
        return with_list_columns(qs)

    def queue_tabs(self):
        """Every queue with its count, in one aggregate query."""
        conditions = queue_conditions(self.request.user)
        counts = Ticket.objects.visible_to(self.request.user).aggregate(
            **{key: Count("pk", filter=cond) for key, cond in conditions.items()}
        )
        return [
            {
                "key": key,
                "label": QUEUE_LABELS[key],
                "icon": QUEUE_ICONS[key],
                "count": counts[key],
                "active": key == self.queue,
            }
            for key in conditions
        ]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        query.pop("sort", None)
        filter_fields = []
        if self.filterset is not None:
            style_form(self.filterset.form)
            filter_fields = [
                self.filterset.form[name]
                for name in self.filter_fields
                if name in self.filterset.form.fields
            ]
        ctx.update(
            queue=self.queue,
            queues=self.queue_tabs(),
            sort_querystring=query.urlencode(),
            filter_fields=filter_fields,
            partial_template=self.partial_template_name,
            search_hint=self.search_hint,
        )
        return ctx

    def get_template_names(self):
        # A history restore asks for the whole page, even though it comes from htmx.
        if self.request.headers.get("HX-History-Restore-Request") == "true":
            return [self.template_name]
        return super().get_template_names()


class TicketCreateView(StaffOnlyMixin, generic.FormView):
    """Staff intake of a customer's call or email: the agent who takes it becomes its owner."""

    form_class = TicketCreateForm
    template_name = "desk/ticket_form.html"

    def dispatch(self, request, *args, **kwargs):
        # Staff who only read tickets (quality analysts) may see the desk but not take calls.
        if access.is_desk_staff(request.user) and not access.may_work(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

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
                customer=data["customer"],
                contact=data["contact"],
                project=data["project"],
                site=data["site"],
                asset=data["asset"],
                channel=data["channel"],
                severity=data["severity"],
            )
        except DomainError as exc:
            views_actions.apply_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Ticket %(number)s created.") % {"number": ticket.number})
        return HttpResponseRedirect(ticket.get_absolute_url())


urlpatterns = [
    path("tickets/", TicketListView.as_view(), name="ticket-list"),
    path("tickets/new/", TicketCreateView.as_view(), name="ticket-create"),
    *views_actions.urlpatterns,
]
