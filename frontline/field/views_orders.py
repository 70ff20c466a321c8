"""Work-order pages: the list with queues, the create form, and scoped photo downloads.

The page of one work order and its actions live in ``views_order_actions``. Every page
reads through ``visible_to(user)``: operator staff see every order, a customer its own,
a partner outlet what was sent to it; anyone else gets a 404.
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.views import generic

from frontline.accounts.roles import Cap
from frontline.core.errors import DomainError
from frontline.core.pages import ScopedListView, ScopedQuerysetMixin, style_form
from frontline.core.rest import parse_id
from frontline.desk.models import Ticket
from frontline.desk.views_actions import apply_error
from frontline.field import access, services, views_order_actions
from frontline.field.forms import CustomerWorkOrderFilter, WorkOrderCreateForm, WorkOrderFilter
from frontline.field.models import WorkOrder, WorkOrderPhoto
from frontline.field.models.scoping import is_field_staff
from frontline.field.states import (
    DONE_STATUSES,
    OPEN_STATUSES,
    PRIORITY_RANK,
    QUEUE_STATUSES,
    WorkOrderStatus,
)


class FieldReaderMixin(LoginRequiredMixin):
    """Whoever may see work orders (in their scope); anyone else signed in gets a 404."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not request.user.has_capability(Cap.VIEW_WORK_ORDERS):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


def queue_conditions(user) -> dict[str, Q]:
    """The list's tabs. Staff and partner outlets get the working queues; customers not."""
    tabs = {"open": Q(status__in=OPEN_STATUSES)}
    if not _is_customer(user):
        tabs["queue"] = Q(status__in=QUEUE_STATUSES)
        tabs["mine"] = Q(status__in=OPEN_STATUSES) & (Q(assignee=user) | Q(created_by=user))
        tabs["offered"] = Q(status=WorkOrderStatus.OFFERED)
        tabs["on_hold"] = Q(status=WorkOrderStatus.ON_HOLD)
    tabs["done"] = Q(status__in=DONE_STATUSES)
    tabs["all"] = Q()
    return tabs


def _is_customer(user) -> bool:
    from frontline.field.models.scoping import is_customer

    return is_customer(user)


QUEUE_LABELS = {
    "open": _("All open"),
    "queue": _("Unassigned queue"),
    "mine": _("Mine"),
    "offered": _("On offer"),
    "on_hold": _("On hold"),
    "done": _("Done"),
    "all": _("All"),
}
QUEUE_ICONS = {
    "open": "inbox",
    "queue": "hourglass",
    "mine": "person",
    "offered": "megaphone",
    "on_hold": "pause-circle",
    "done": "check2-circle",
    "all": "list-ul",
}


class RankedQuerysetMixin(ScopedQuerysetMixin):
    """Rows with everything the table shows, and a priority rank to sort by."""

    def get_queryset(self):
        rank = Case(
            *[When(priority=p, then=Value(r)) for p, r in PRIORITY_RANK.items()],
            default=Value(0),
            output_field=IntegerField(),
        )
        return (
            super()
            .get_queryset()
            .select_related("customer", "site", "assignee", "partner", "team")
            .annotate(priority_rank=rank)
        )


class WorkOrderListView(FieldReaderMixin, ScopedListView, RankedQuerysetMixin):
    model = WorkOrder
    filter_fields = ("status", "priority", "type", "team", "assignee", "customer", "day", "mine")
    search_fields = ("number", "title")
    search_hint = _("Number or title")
    sort_fields = {
        "number": _("Number"),
        "title": _("Title"),
        "status": _("Status"),
        "priority_rank": _("Priority"),
        "customer__name": _("Customer"),
        "site__name": _("Site"),
        "assignee__display_name": _("Engineer"),
        "window_start": _("Appointment"),
        "planned_start": _("Planned start"),
        "created_at": _("Created"),
    }
    default_sort = "-created_at"
    template_name = "field/orders/list.html"
    partial_template_name = "field/orders/partials/table.html"

    @property
    def filterset_class(self):
        if is_field_staff(self.request.user) or not _is_customer(self.request.user):
            return WorkOrderFilter
        return CustomerWorkOrderFilter

    def can_write(self, obj=None) -> bool:
        return access.may_dispatch(self.request.user)

    def get_queryset(self):
        self.queue = self.request.GET.get("queue", "open")
        conditions = queue_conditions(self.request.user)
        if self.queue not in conditions:
            self.queue = "open"
        return super().get_queryset().filter(conditions[self.queue])

    def queue_tabs(self):
        """Every tab with its count, in one aggregate query."""
        conditions = queue_conditions(self.request.user)
        counts = WorkOrder.objects.visible_to(self.request.user).aggregate(
            **{key: Count("pk", filter=cond) for key, cond in conditions.items()}
        )
        return [
            {"key": key, "label": QUEUE_LABELS[key], "icon": QUEUE_ICONS[key],
             "count": counts[key], "active": key == self.queue}
            for key in conditions
        ]  # fmt: skip

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
            internal=is_field_staff(self.request.user) or not _is_customer(self.request.user),
        )
        return ctx

    def get_template_names(self):
        # A history restore asks for the whole page, even though it comes from htmx.
        if self.request.headers.get("HX-History-Restore-Request") == "true":
            return [self.template_name]
        return super().get_template_names()


def _ticket_from(request, raw) -> Ticket | None:
    """The ticket named in the request, if this user sees it; a bad or hidden one is a 404."""
    if raw in (None, ""):
        return None
    ticket_id = parse_id(raw)
    ticket = (
        Ticket.objects.visible_to(request.user)
        .select_related("customer", "site", "asset", "project")
        .filter(pk=ticket_id)
        .first()
        if ticket_id
        else None
    )
    if ticket is None:
        raise Http404
    return ticket


class WorkOrderCreateView(FieldReaderMixin, generic.FormView):
    """A dispatcher opens a work order; from a ticket (``?ticket=``) the form starts filled in."""

    form_class = WorkOrderCreateForm
    template_name = "field/orders/form.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not request.user.has_capability(Cap.VIEW_WORK_ORDERS):
            raise Http404
        raw = request.POST.get("ticket_id") if request.method == "POST" else None
        self.ticket = _ticket_from(request, raw or request.GET.get("ticket"))
        user = request.user
        if not (access.may_dispatch(user) or access.may_create_from_ticket(user, self.ticket)):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def get_initial(self):
        ticket = self.ticket
        if ticket is None:
            return {}
        return {
            "ticket_id": ticket.pk,
            "title": ticket.title,
            "customer": ticket.customer_id,
            "site": ticket.site_id or (ticket.asset.site_id if ticket.asset_id else None),
            "asset": ticket.asset_id,
            "project": ticket.project_id,
        }

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["ticket"] = self.ticket
        return ctx

    def form_valid(self, form):
        data = form.cleaned_data
        skills = [{"skill": s, "min_level": data["min_level"]} for s in data["skills"]]
        try:
            wo = services.create_work_order(
                actor=self.request.user, title=data["title"], type=data["type"],
                customer=data["customer"], site=data["site"], asset=data["asset"],
                project=data["project"], ticket=self.ticket, priority=data["priority"],
                required_skills=skills, estimated_minutes=data["estimated_minutes"],
                window_start=data["window_start"], window_end=data["window_end"],
                team=data["team"], description=data["description"], route=True,
            )  # fmt: skip
        except DomainError as exc:
            apply_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Work order %(n)s created.") % {"n": wo.number})
        return HttpResponseRedirect(wo.get_absolute_url())


def _file_response(handle, *, content_type: str, name: str):
    """Served inline for <img>, but never as HTML: no sniffing, sandboxed if opened."""
    response = FileResponse(handle, content_type=content_type)
    fallback = "".join(ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\;%' else "_" for ch in name)
    response["Content-Disposition"] = (
        f"inline; filename=\"{fallback.strip() or 'file'}\"; filename*=UTF-8''{quote(name, safe='')}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


class PhotoDownloadView(FieldReaderMixin, generic.View):
    http_method_names = ["get", "head", "options"]

    def get(self, request, pk):
        photo_id = parse_id(pk)
        photo = (
            WorkOrderPhoto.objects.visible_to(request.user).filter(pk=photo_id).first()
            if photo_id
            else None
        )
        if photo is None:
            raise Http404
        try:
            handle = photo.file.open("rb")
        except (FileNotFoundError, ValueError):
            raise Http404
        return _file_response(handle, content_type=photo.content_type, name=photo.name)


class SignatureDownloadView(FieldReaderMixin, generic.View):
    http_method_names = ["get", "head", "options"]

    def get(self, request, pk):
        wo = views_order_actions.visible_order(request, pk)
        if not wo.signature:
            raise Http404
        try:
            handle = wo.signature.open("rb")
        except (FileNotFoundError, ValueError):
            raise Http404
        return _file_response(handle, content_type="image/png", name=f"{wo.number}-signature.png")


urlpatterns = [
    path("work-orders/", WorkOrderListView.as_view(), name="work-order-list"),
    path("work-orders/new/", WorkOrderCreateView.as_view(), name="work-order-create"),
    path("work-orders/photos/<str:pk>/", PhotoDownloadView.as_view(), name="photo-download"),
    path(
        "work-orders/<str:pk>/signature/",
        SignatureDownloadView.as_view(),
        name="signature-download",
    ),
    *views_order_actions.urlpatterns,
]
