"""The work-order page and its action forms (dispatcher, partner outlet admin, engineer).

Each action is a small POST view that calls exactly one service, then redirects back to
the work order (or, for htmx, answers with the refreshed page partial). A DomainError
becomes the form's error and nothing changes; what a user may not see is a 404, what
they may see but not do is a 403 (the services decide who may act).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views import generic

from frontline.core.errors import DomainError, NotFound
from frontline.core.errors import PermissionDenied as DomainPermissionDenied
from frontline.core.pages import is_htmx
from frontline.core.rest import parse_id
from frontline.desk.views_actions import apply_error
from frontline.field import access, services
from frontline.field import forms as field_forms
from frontline.field.engineers import effective_skills, qualifies
from frontline.field.models import (
    ChecklistItem,
    EngineerProfile,
    GrabOffer,
    Survey,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderPhoto,
)
from frontline.field.models.scoping import is_field_staff
from frontline.field.states import (
    ASSIGNED_STATUSES,
    DONE_STATUSES,
    QUEUE_STATUSES,
    OfferStatus,
    WorkOrderStatus,
    can_move,
)

W = WorkOrderStatus
DISPATCHABLE = (QUEUE_STATUSES | ASSIGNED_STATUSES | {W.OFFERED, W.ON_HOLD}) - {W.ON_SITE}
TO_PARTNER = QUEUE_STATUSES | {W.OFFERED, W.DISPATCHED}


def visible_order(request, pk) -> WorkOrder:
    """The work order, if this user may see it; anyone else gets a 404."""
    order_id = parse_id(pk)
    if order_id is None:
        raise Http404
    qs = WorkOrder.objects.visible_to(request.user).select_related(
        "customer", "site", "asset", "project", "ticket", "team", "assignee", "partner",
        "revisit_of", "created_by",
    )  # fmt: skip
    try:
        return qs.get(pk=order_id)
    except WorkOrder.DoesNotExist:
        raise Http404


def dispatch_candidates(wo: WorkOrder) -> list:
    """Engineers the dispatch service would accept: active, of the right organisation
    (the outlet the order went to, else the operator), qualified on the day."""
    profiles = EngineerProfile.objects.filter(is_active=True, user__is_active=True).select_related(
        "user"
    )
    if wo.partner_id:
        profiles = profiles.filter(user__membership__organization_id=wo.partner_id)
    else:
        profiles = profiles.filter(user__membership__organization__kind="operator")
    profiles = list(profiles[:500])
    day = timezone.localdate(wo.window_start or timezone.now())
    skills = effective_skills([p.user_id for p in profiles], day)
    needed = {r.skill_id: r.min_level for r in wo.required_skills.all()}
    return [p.user for p in profiles if qualifies(skills[p.user_id], needed)]


def permissions(user, wo: WorkOrder) -> dict:
    """Which action forms the page offers (the services check again)."""
    can_dispatch = access.may_dispatch(user)
    partner_admin = access.partner_admin_of(user, wo)
    manage = can_dispatch or partner_admin
    mine = access.is_assignee(user, wo)
    s = wo.status
    return {
        "is_staff": is_field_staff(user),
        "can_dispatch": can_dispatch,
        "partner_admin": partner_admin,
        "is_assignee": mine,
        "show_dispatch": manage and s in DISPATCHABLE,
        "show_partner": can_dispatch and s in TO_PARTNER,
        "show_offer": manage and s in QUEUE_STATUSES,
        "show_withdraw": manage and s == W.OFFERED,
        "show_appointment": manage and s not in DONE_STATUSES,
        "show_hold": (can_dispatch or mine) and can_move(s, W.ON_HOLD),
        "show_resume": manage and s == W.ON_HOLD,
        "show_cancel": can_dispatch and can_move(s, W.CANCELLED),
        "show_close": manage and s == W.COMPLETED,
        "show_note": can_dispatch or mine or partner_admin,
        "show_link": can_dispatch and s not in DONE_STATUSES,
        "show_accept": mine and s == W.DISPATCHED,
        "show_reject": mine and can_move(s, W.REJECTED),
        "show_travel": mine and s == W.ACCEPTED,
        "show_check_in": mine and s in {W.ACCEPTED, W.EN_ROUTE},
        "show_complete": mine and s == W.ON_SITE,
    }


def _forms(user, wo, perms) -> dict:
    engineers = dispatch_candidates(wo) if perms["show_dispatch"] else []
    return {
        "dispatch": field_forms.DispatchForm(engineers=engineers),
        "partner": field_forms.PartnerForm(user=user),
        "offer": field_forms.OfferForm(),
        "appointment": field_forms.AppointmentForm(
            initial={"window_start": wo.window_start, "window_end": wo.window_end}
        ),
        "hold": field_forms.HoldForm(),
        "cancel": field_forms.CancelForm(),
        "reject": field_forms.RejectForm(),
        "note": field_forms.NoteForm(),
        "travel": field_forms.TravelForm(),
        "check_in": field_forms.CheckInForm(),
        "complete": field_forms.CompleteForm(),
    }


def order_context(request, wo: WorkOrder, bound: dict | None = None) -> dict:
    """Everything the work-order page shows, read through ``visible_to``."""
    user = request.user
    perms = permissions(user, wo)
    events = list(
        WorkOrderEvent.objects.visible_to(user).filter(work_order=wo).select_related("author")
    )
    photos = list(WorkOrderPhoto.objects.visible_to(user).filter(work_order=wo))
    forms = _forms(user, wo, perms)
    forms.update(bound or {})
    staff_view = perms["is_staff"] or access.partner_admin_of(user, wo) or perms["is_assignee"]
    return {
        "wo": wo,
        "object": wo,
        "events": events,
        "skills": list(wo.required_skills.select_related("skill")),
        "checklist": list(ChecklistItem.objects.visible_to(user).filter(work_order=wo)),
        "photos": photos,
        "survey": Survey.objects.visible_to(user).filter(work_order=wo).first()
        if staff_view
        else None,
        "revisits": list(
            WorkOrder.objects.visible_to(user)
            .filter(revisit_of=wo)
            .only("pk", "number", "title", "status")
        ),  # fmt: skip
        "open_offer": GrabOffer.objects.visible_to(user)
        .filter(work_order=wo, status=OfferStatus.OPEN)
        .first()
        if perms["is_staff"] or perms["partner_admin"]
        else None,
        "internal": staff_view,
        "perms": perms,
        "forms": forms,
        "htmx": is_htmx(request),
    }


def render_order(request, wo, *, bound=None, status=200):
    context = order_context(request, wo, bound)
    if is_htmx(request):
        # htmx swaps only 2xx answers: errors come back as a 200 partial that shows them.
        return render(request, "field/orders/partials/page.html", context)
    return render(request, "field/orders/detail.html", context, status=status)


class WorkOrderDetailView(LoginRequiredMixin, generic.View):
    http_method_names = ["get", "head", "options"]

    def get(self, request, pk):
        return render_order(request, visible_order(request, pk))


def run_action(view, wo, form):
    """Validate ``form``, call ``view.perform``; a refusal re-renders the page, else None."""
    if form is not None and not form.is_valid():
        return view.failed(wo, form, status=400)
    try:
        view.perform(wo, form.cleaned_data if form is not None else {})
    except DomainPermissionDenied:
        raise PermissionDenied
    except NotFound:
        raise Http404
    except DomainError as exc:
        if form is None:
            messages.error(view.request, str(exc.message))
            return view.failed(wo, None, status=exc.status)
        apply_error(form, exc)
        return view.failed(wo, form, status=exc.status)
    messages.success(view.request, view.success_message)
    return None


class WorkOrderActionView(LoginRequiredMixin, generic.View):
    """POST one action on one work order through one service.

    Subclasses set ``form_class`` (or None), ``form_name`` (the key in the page's forms),
    ``success_message`` and implement ``perform(wo, data)``.
    """

    http_method_names = ["post"]
    form_class = None
    form_name = ""
    success_message = _("Saved.")

    def form_kwargs(self, wo) -> dict:
        return {}

    def get_form(self, wo):
        if self.form_class is None:
            return None
        return self.form_class(data=self.request.POST, **self.form_kwargs(wo))

    def post(self, request, pk):
        wo = visible_order(request, pk)
        refused = run_action(self, wo, self.get_form(wo))
        if refused is not None:
            return refused
        if is_htmx(request):
            return render_order(request, visible_order(request, pk))
        return HttpResponseRedirect(wo.get_absolute_url())

    def failed(self, wo, form, *, status):
        # Re-read: a refused action changed nothing, the page shows what is stored.
        wo = visible_order(self.request, wo.pk)
        bound = {self.form_name: form} if form is not None and self.form_name else None
        return render_order(self.request, wo, bound=bound, status=status)

    def perform(self, wo, data):  # pragma: no cover - abstract
        raise NotImplementedError


class DispatchView(WorkOrderActionView):
    form_class = field_forms.DispatchForm
    form_name = "dispatch"
    success_message = _("Work order dispatched.")

    def form_kwargs(self, wo):
        return {"engineers": dispatch_candidates(wo)}

    def perform(self, wo, data):
        services.dispatch(actor=self.request.user, work_order=wo, engineer=data["engineer"],
                          planned_start=data["planned_start"])  # fmt: skip


class PartnerView(WorkOrderActionView):
    form_class = field_forms.PartnerForm
    form_name = "partner"
    success_message = _("Sent to the partner outlet.")

    def form_kwargs(self, wo):
        return {"user": self.request.user}

    def perform(self, wo, data):
        services.send_to_partner(actor=self.request.user, work_order=wo, partner=data["partner"])


class OfferView(WorkOrderActionView):
    form_class = field_forms.OfferForm
    form_name = "offer"
    success_message = _("Offered to the eligible engineers.")

    def perform(self, wo, data):
        services.offer(actor=self.request.user, work_order=wo,
                       expires_in_minutes=data["expires_in_minutes"], radius_km=data["radius_km"])  # fmt: skip


class WithdrawOfferView(WorkOrderActionView):
    success_message = _("Offer withdrawn: the work order is back in the queue.")

    def perform(self, wo, data):
        services.withdraw_offer(actor=self.request.user, work_order=wo)


class AppointmentView(WorkOrderActionView):
    form_class = field_forms.AppointmentForm
    form_name = "appointment"
    success_message = _("Appointment changed.")

    def perform(self, wo, data):
        services.set_appointment(actor=self.request.user, work_order=wo,
                                 window_start=data["window_start"], window_end=data["window_end"],
                                 reason=data["reason"])  # fmt: skip


class HoldView(WorkOrderActionView):
    form_class = field_forms.HoldForm
    form_name = "hold"
    success_message = _("Work order on hold.")

    def perform(self, wo, data):
        services.hold(actor=self.request.user, work_order=wo, reason=data["reason"])


class ResumeView(WorkOrderActionView):
    success_message = _("Work order resumed.")

    def perform(self, wo, data):
        services.resume(actor=self.request.user, work_order=wo)


class CancelView(WorkOrderActionView):
    form_class = field_forms.CancelForm
    form_name = "cancel"
    success_message = _("Work order cancelled.")

    def perform(self, wo, data):
        services.cancel(actor=self.request.user, work_order=wo, reason=data["reason"])


class CloseView(WorkOrderActionView):
    success_message = _("Work order closed; the customer gets a survey link.")

    def perform(self, wo, data):
        services.close(actor=self.request.user, work_order=wo)


class NoteView(WorkOrderActionView):
    form_class = field_forms.NoteForm
    form_name = "note"
    success_message = _("Internal note added.")

    def perform(self, wo, data):
        services.add_note(actor=self.request.user, work_order=wo, body=data["body"])


class TimelineLinkView(WorkOrderActionView):
    success_message = _("The customer was sent a link to follow the visit.")

    def perform(self, wo, data):
        services.send_timeline_link(actor=self.request.user, work_order=wo)


class AcceptView(WorkOrderActionView):
    success_message = _("Accepted.")

    def perform(self, wo, data):
        services.accept(actor=self.request.user, work_order=wo)


class RejectView(WorkOrderActionView):
    form_class = field_forms.RejectForm
    form_name = "reject"
    success_message = _("Rejected: the work order is back in the queue.")

    def perform(self, wo, data):
        services.reject(actor=self.request.user, work_order=wo, reason=data["reason"])


class TravelView(WorkOrderActionView):
    form_class = field_forms.TravelForm
    form_name = "travel"
    success_message = _("On the way.")

    def perform(self, wo, data):
        services.start_travel(actor=self.request.user, work_order=wo,
                              latitude=data["latitude"], longitude=data["longitude"])  # fmt: skip


class CheckInView(WorkOrderActionView):
    form_class = field_forms.CheckInForm
    form_name = "check_in"
    success_message = _("Checked in.")

    def perform(self, wo, data):
        services.check_in(actor=self.request.user, work_order=wo,
                          latitude=data["latitude"], longitude=data["longitude"])  # fmt: skip


class CompleteView(WorkOrderActionView):
    form_class = field_forms.CompleteForm
    form_name = "complete"
    success_message = _("Completed.")

    def perform(self, wo, data):
        services.complete(actor=self.request.user, work_order=wo,
                          resolution_code=data["resolution_code"],
                          resolution_notes=data["resolution_notes"],
                          parts_used=data["parts_used"], first_time_fix=data["first_time_fix"])  # fmt: skip


ACTIONS = {
    "dispatch": DispatchView,
    "send-to-partner": PartnerView,
    "offer": OfferView,
    "withdraw-offer": WithdrawOfferView,
    "appointment": AppointmentView,
    "hold": HoldView,
    "resume": ResumeView,
    "cancel": CancelView,
    "close": CloseView,
    "note": NoteView,
    "timeline-link": TimelineLinkView,
    "accept": AcceptView,
    "reject": RejectView,
    "start-travel": TravelView,
    "check-in": CheckInView,
    "complete": CompleteView,
}


def action_url(wo, verb: str) -> str:
    return reverse(f"field:work-order-{verb}", args=[wo.pk])


urlpatterns = [
    path("work-orders/<str:pk>/", WorkOrderDetailView.as_view(), name="work-order-detail"),
    *[
        path(f"work-orders/<str:pk>/{verb}/", view.as_view(), name=f"work-order-{verb}")
        for verb, view in ACTIONS.items()
    ],
]
