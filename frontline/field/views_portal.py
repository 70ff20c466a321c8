"""The customer portal's service visits: the organisation's work orders and each one's
customer-safe timeline (status, appointment, engineer, ETA, reassignments).

Only customer users who may view work orders use these pages; they see their own
organisation's orders (``WorkOrder.objects.visible_to``) and only the public events.
Operator staff who open a portal address are sent to the staff page; anyone else gets a
404. The same customer-safe view (``visit_context``) serves the tokenised public link.
"""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.views import generic

from frontline.accounts.roles import Cap
from frontline.core.pages import ScopedListView, is_htmx
from frontline.core.rest import parse_id
from frontline.field.models import WorkOrder, WorkOrderEvent
from frontline.field.models.scoping import is_customer, is_field_staff
from frontline.field.states import DONE_STATUSES, EventKind, WorkOrderStatus

W = WorkOrderStatus
# Statuses in which an arrival time means something to the customer.
ETA_STATUSES = frozenset({W.DISPATCHED, W.ACCEPTED, W.EN_ROUTE})
_ENGINEER_KINDS = {EventKind.DISPATCHED, EventKind.CLAIMED, EventKind.REASSIGNED}


def is_portal_customer(user) -> bool:
    return user.is_authenticated and is_customer(user) and user.has_capability(Cap.VIEW_WORK_ORDERS)


def _staff_url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # the staff pages are another module's
        return reverse("home")


class PortalMixin(LoginRequiredMixin):
    """Customers only; field staff go to the staff page, everyone else gets a 404."""

    def staff_url(self) -> str:
        return _staff_url("field:work-order-list")

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return self.handle_no_permission()
        if is_field_staff(user):
            return HttpResponseRedirect(self.staff_url())
        if not is_portal_customer(user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


def _event_detail(event) -> str:
    """One customer-safe line from an event's data (never positions or distances)."""
    data = event.data or {}
    if event.kind in _ENGINEER_KINDS and data.get("name"):
        return str(_("Engineer: %(name)s") % {"name": data["name"]})
    if event.kind == EventKind.ETA and data.get("eta"):
        eta = parse_datetime(str(data["eta"]))
        if eta is not None:
            return str(_("Expected at %(t)s") % {"t": timezone.localtime(eta).strftime("%H:%M")})
    if event.kind == EventKind.SIGNATURE and data.get("signed_by"):
        return str(_("Signed by %(name)s") % {"name": data["signed_by"]})
    if event.kind == EventKind.PARTNER and data.get("name"):
        return str(_("Handled by our partner %(name)s") % {"name": data["name"]})
    return ""


def public_events(work_order) -> list[dict]:
    """The customer's part of the timeline, newest first, as plain values."""
    rows = WorkOrderEvent.objects.filter(work_order=work_order, public=True).order_by(
        "-created_at", "-id"
    )
    return [
        {
            "when": e.created_at,
            "kind": e.kind,
            "label": e.get_kind_display(),
            "detail": _event_detail(e),
            "body": e.body,
        }
        for e in rows[:200]
    ]


def visit_context(work_order: WorkOrder, *, now=None) -> dict:
    """What a customer may see of one visit: no internal notes, positions or flags."""
    assignee = work_order.assignee
    events = public_events(work_order)
    reassignments = sum(1 for e in events if e["kind"] == EventKind.REASSIGNED)
    show_eta = work_order.status in ETA_STATUSES and work_order.eta is not None
    return {
        "visit": work_order,
        "site": work_order.site,
        "engineer_name": (assignee.display_name or "") if assignee is not None else "",
        "eta": work_order.eta if show_eta else None,
        "is_done": work_order.status in DONE_STATUSES,
        "events": events,
        "reassignments": reassignments,
    }


def portal_work_order(request, pk) -> WorkOrder:
    wo_id = parse_id(pk)
    if wo_id is None:
        raise Http404
    qs = WorkOrder.objects.visible_to(request.user).select_related("site", "assignee", "ticket")
    try:
        return qs.get(pk=wo_id)
    except WorkOrder.DoesNotExist:
        raise Http404


class PortalWorkOrderListView(PortalMixin, ScopedListView):
    model = WorkOrder
    select_related = ("site", "assignee")
    search_fields = ("number", "title", "site__name")
    sort_fields = {
        "number": _("Number"),
        "window_start": _("Appointment"),
        "status": _("Status"),
        "created_at": _("Created"),
    }
    default_sort = "-created_at"
    template_name = "field/portal/work_order_list.html"
    partial_template_name = "field/portal/partials/work_order_table.html"

    def get_queryset(self):
        qs = super().get_queryset()
        self.status = self.request.GET.get("status", "")
        if self.status == "open":
            qs = qs.exclude(status__in=DONE_STATUSES)
        elif self.status == "done":
            qs = qs.filter(status__in=DONE_STATUSES)
        else:
            self.status = ""
        return qs

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        for wo in ctx["object_list"]:
            wo.eta_visible = wo.eta if wo.status in ETA_STATUSES else None
        query = self.request.GET.copy()
        query.pop("page", None)
        query.pop("sort", None)
        ctx.update(
            status=self.status,
            sort_querystring=query.urlencode(),
            partial_template=self.partial_template_name,
        )
        return ctx


class PortalWorkOrderDetailView(PortalMixin, generic.View):
    http_method_names = ["get", "head", "options"]

    def staff_url(self) -> str:
        pk = parse_id(self.kwargs.get("pk", ""))
        if pk is None:
            return _staff_url("field:work-order-list")
        return _staff_url("field:work-order-detail", pk)

    def get(self, request, pk):
        wo = portal_work_order(request, pk)
        context = visit_context(wo)
        context["poll_url"] = request.path
        if wo.ticket_id:
            context["ticket_url"] = reverse("desk:portal-ticket-detail", args=[wo.ticket_id])
        if is_htmx(request):
            return render(request, "field/portal/partials/visit.html", context)
        return render(request, "field/portal/work_order_detail.html", context)


urlpatterns = [
    path("portal/work-orders/", PortalWorkOrderListView.as_view(), name="portal-work-order-list"),
    path(
        "portal/work-orders/<str:pk>/",
        PortalWorkOrderDetailView.as_view(),
        name="portal-work-order-detail",
    ),
]
