"""The ticket page for operator staff and its actions.

Each action is a small POST view that calls exactly one service and then redirects
back to the ticket (or, for htmx, answers with the refreshed ticket partial). A
DomainError becomes the form's error and nothing changes; what a user may not see
is a 404, what they may see but not do is a 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views import generic

from frontline.core.errors import Conflict, DomainError, NotFound
from frontline.core.errors import PermissionDenied as DomainPermissionDenied
from frontline.core.pages import is_htmx
from frontline.core.rest import parse_id
from frontline.desk import access, fire, sla, tickets
from frontline.desk import forms as desk_forms
from frontline.desk.models import (
    Attachment,
    BugBrief,
    FireCall,
    FireSummons,
    HandOff,
    SeverityLevel,
    Ticket,
    TicketEvent,
)
from frontline.desk.states import EventKind, HandOffStatus

ROOM_KINDS = frozenset(
    {EventKind.NOTE, EventKind.FIRE_CALLED, EventKind.FIRE_JOINED, EventKind.FIRE_CLOSED}
)


def attachment_download_url(attachment) -> str:
    """The API serves every attachment (as a download, scoped like the ticket)."""
    return reverse("api-v1:attachment-download", args=[attachment.pk])


def staff_ticket(request, pk) -> Ticket:
    """The ticket, if this operator user may see it; anyone else gets a 404."""
    user = request.user
    ticket_id = parse_id(pk)
    if ticket_id is None or not access.is_desk_staff(user):
        raise Http404
    qs = Ticket.objects.visible_to(user).select_related(
        "customer", "contact", "project", "site", "asset", "owner", "team", "category"
    )
    try:
        return qs.get(pk=ticket_id)
    except Ticket.DoesNotExist:
        raise Http404


def apply_error(form, exc: DomainError) -> None:
    """Put a service's error on the form: field messages on their fields, the rest on the form.

    A conflict's ``fields`` carry data (e.g. the allowed statuses), not messages: its
    message, which lists them, is what the user reads.
    """
    if exc.status == 409 or not exc.fields:
        form.add_error(None, str(exc.message))
        return
    if str(exc.message) != str(exc.default_message):
        form.add_error(None, str(exc.message))
    for name, msgs in exc.fields.items():
        target = name if name in form.fields else None
        for msg in msgs:
            form.add_error(target, msg)


def ticket_context(request, ticket, bound: dict | None = None) -> dict:
    """Everything the ticket page shows, read through ``visible_to``; ``bound`` replaces forms."""
    user = request.user
    events = list(
        TicketEvent.objects.visible_to(user).filter(ticket=ticket).select_related("author")
    )
    attachments = list(
        Attachment.objects.visible_to(user).filter(ticket=ticket).select_related("uploaded_by")
    )
    for attachment in attachments:
        attachment.download_url = attachment_download_url(attachment)
    pending = (
        HandOff.objects.visible_to(user)
        .filter(ticket=ticket, status=HandOffStatus.REQUESTED)
        .select_related("from_user", "to_user", "requested_by")
        .first()
    )
    open_call = (
        FireCall.objects.visible_to(user)
        .filter(ticket=ticket, closed_at__isnull=True)
        .select_related("called_by")
        .first()
    )
    joined = list(
        FireSummons.objects.visible_to(user)
        .filter(fire_call__ticket=ticket, joined_at__isnull=False)
        .select_related("user", "fire_call")
        .order_by("joined_at", "pk")
    )
    brief = BugBrief.objects.visible_to(user).filter(ticket=ticket).first()
    tags = list(ticket.tags.all())
    watchers = list(ticket.watchers.all())
    can_work = access.may_work(user)
    forms = {
        "reply": desk_forms.ReplyForm(),
        "note": desk_forms.NoteForm(),
        "transition": desk_forms.TransitionForm(ticket=ticket),
        "handoff": desk_forms.HandOffForm(ticket=ticket),
        "decline": desk_forms.DeclineForm(),
        "reassign": desk_forms.ReassignForm(ticket=ticket),
        "fire": desk_forms.FireCallForm(ticket=ticket),
        "brief": desk_forms.BriefForm(brief=brief),
        "fields": desk_forms.TicketFieldsForm(
            ticket=ticket, user=user, tag_names=[t.name for t in tags]
        ),
    }
    forms.update(bound or {})
    return {
        "ticket": ticket,
        "object": ticket,
        "level": SeverityLevel.objects.filter(severity=ticket.severity).first(),
        "tags": tags,
        "watchers": watchers,
        "watching": any(w.pk == user.pk for w in watchers),
        "events": events,
        "room_events": [e for e in events if e.kind in ROOM_KINDS],
        "attachments": attachments,
        "pending": pending,
        "pending_to_me": pending is not None and pending.to_user_id == user.pk,
        "may_cancel_pending": pending is not None
        and user.pk in {pending.requested_by_id, pending.from_user_id},
        "open_call": open_call,
        "joined": joined,
        "i_joined": open_call is not None
        and any(s.user_id == user.pk and s.fire_call_id == open_call.pk for s in joined),
        "brief": brief,
        "sla_rows": sla.explain(ticket) or [],
        "can_work": can_work,
        "can_reassign": access.may_reassign(user),
        "can_call_fire": access.may_call_fire(user),
        "is_owner": ticket.owner_id == user.pk,
        "forms": forms,
        "htmx": is_htmx(request),
    }


def render_ticket(request, ticket, *, bound=None, status=200):
    context = ticket_context(request, ticket, bound)
    if is_htmx(request):
        # htmx swaps only 2xx answers: errors come back as a 200 partial that shows them.
        return render(request, "desk/partials/ticket_page.html", context)
    return render(request, "desk/ticket_detail.html", context, status=status)


class TicketDetailView(LoginRequiredMixin, generic.View):
    http_method_names = ["get", "head", "options"]

    def get(self, request, pk):
        return render_ticket(request, staff_ticket(request, pk))


def run_action(view, ticket, form):
    """Validate ``form``, call ``view.perform``; a refusal re-renders the page, else None.

    Shared by the staff and the portal action views: a domain error becomes the form's
    error (or a message when the action has no form) and changes nothing; a permission
    error is a 403 and a missing object a 404.
    """
    request = view.request
    if form is not None and not form.is_valid():
        return view.failed(ticket, form, status=400)
    try:
        view.perform(ticket, form)
    except DomainPermissionDenied:
        raise PermissionDenied
    except NotFound:
        raise Http404
    except DomainError as exc:
        if form is None:
            messages.error(request, str(exc.message))
            return view.failed(ticket, None, status=exc.status)
        apply_error(form, exc)
        return view.failed(ticket, form, status=exc.status)
    messages.success(request, view.success_message)
    return None


class TicketActionView(LoginRequiredMixin, generic.View):
    """POST one action on one ticket through one service.

    Subclasses set ``form_class`` (or None), ``form_name`` (the key in the page's
    forms), ``success_message``, may override ``allowed(ticket)`` and implement
    ``perform(ticket, data)``.
    """

    http_method_names = ["post"]
    form_class = None
    form_name = ""
    success_message = _("Saved.")

    def allowed(self, ticket) -> bool:
        return access.may_work(self.request.user)

    def form_kwargs(self, ticket) -> dict:
        return {}

    def get_form(self, ticket):
        if self.form_class is None:
            return None
        return self.form_class(
            data=self.request.POST, files=self.request.FILES, **self.form_kwargs(ticket)
        )

    def post(self, request, pk):
        ticket = staff_ticket(request, pk)
        if not self.allowed(ticket):
            raise PermissionDenied
        refused = run_action(self, ticket, self.get_form(ticket))
        if refused is not None:
            return refused
        if is_htmx(request):
            return render_ticket(request, staff_ticket(request, pk))
        return HttpResponseRedirect(ticket.get_absolute_url())

    def failed(self, ticket, form, *, status):
        # Re-read the ticket: a refused action changed nothing, the page shows what is stored.
        ticket = staff_ticket(self.request, ticket.pk)
        bound = {self.form_name: form} if form is not None and self.form_name else None
        return render_ticket(self.request, ticket, bound=bound, status=status)

    def perform(self, ticket, form):  # pragma: no cover - abstract
        raise NotImplementedError


class ReplyView(TicketActionView):
    form_class = desk_forms.ReplyForm
    form_name = "reply"
    success_message = _("Reply sent to the customer.")

    def perform(self, ticket, form):
        data = form.cleaned_data
        tickets.reply(
            actor=self.request.user, ticket=ticket, body=data["body"], files=data["files"]
        )


class NoteView(TicketActionView):
    form_class = desk_forms.NoteForm
    form_name = "note"
    success_message = _("Internal note added.")

    def perform(self, ticket, form):
        data = form.cleaned_data
        tickets.add_note(
            actor=self.request.user, ticket=ticket, body=data["body"], files=data["files"]
        )


class TicketFormMixin:
    def form_kwargs(self, ticket) -> dict:
        return {"ticket": ticket}


class TransitionView(TicketFormMixin, TicketActionView):
    form_class = desk_forms.TransitionForm
    form_name = "transition"
    success_message = _("Status changed.")

    def perform(self, ticket, form):
        data = form.cleaned_data
        tickets.transition(
            actor=self.request.user,
            ticket=ticket,
            to_status=data["to_status"],
            comment=data["comment"],
        )


class TakeView(TicketActionView):
    success_message = _("You own this ticket now.")

    def perform(self, ticket, form):
        tickets.take_ticket(actor=self.request.user, ticket=ticket)


class HandOffView(TicketFormMixin, TicketActionView):
    form_class = desk_forms.HandOffForm
    form_name = "handoff"
    success_message = _("Hand-off requested: you stay the owner until it is accepted.")

    def perform(self, ticket, form):
        data = form.cleaned_data
        tickets.request_hand_off(
            actor=self.request.user,
            ticket=ticket,
            to_user=data["to_user"],
            message=data["message"],
        )


class PendingHandOffMixin:
    def pending(self, ticket):
        hand_off = (
            HandOff.objects.visible_to(self.request.user)
            .filter(ticket=ticket, status=HandOffStatus.REQUESTED)
            .first()
        )
        if hand_off is None:
            raise Conflict(_("There is no pending hand-off on this ticket."))
        return hand_off


class AcceptHandOffView(PendingHandOffMixin, TicketActionView):
    success_message = _("Hand-off accepted: you own this ticket now.")

    def perform(self, ticket, form):
        tickets.accept_hand_off(actor=self.request.user, hand_off=self.pending(ticket))


class DeclineHandOffView(PendingHandOffMixin, TicketActionView):
    form_class = desk_forms.DeclineForm
    form_name = "decline"
    success_message = _("Hand-off declined.")

    def perform(self, ticket, form):
        data = form.cleaned_data
        tickets.decline_hand_off(
            actor=self.request.user, hand_off=self.pending(ticket), reason=data["reason"]
        )


class CancelHandOffView(PendingHandOffMixin, TicketActionView):
    success_message = _("Hand-off cancelled.")

    def perform(self, ticket, form):
        tickets.cancel_hand_off(actor=self.request.user, hand_off=self.pending(ticket))


class ReassignView(TicketFormMixin, TicketActionView):
    form_class = desk_forms.ReassignForm
    form_name = "reassign"
    success_message = _("Ticket reassigned.")

    def allowed(self, ticket) -> bool:
        return access.may_reassign(self.request.user)

    def perform(self, ticket, form):
        data = form.cleaned_data
        tickets.reassign(
            actor=self.request.user, ticket=ticket, to_user=data["to_user"], reason=data["message"]
        )


class WatchView(TicketActionView):
    success_message = _("Watchers updated.")

    def allowed(self, ticket) -> bool:
        return access.is_desk_staff(self.request.user)

    def perform(self, ticket, form):
        watching = self.request.POST.get("watching", "1") != "0"
        tickets.watch(actor=self.request.user, ticket=ticket, watching=watching)


class CallFireView(TicketFormMixin, TicketActionView):
    form_class = desk_forms.FireCallForm
    form_name = "fire"
    success_message = _("Fire called: the summoned people are being notified.")

    def allowed(self, ticket) -> bool:
        return access.may_call_fire(self.request.user)

    def perform(self, ticket, form):
        data = form.cleaned_data
        fire.call_fire(
            actor=self.request.user, ticket=ticket, level=data["level"], message=data["message"]
        )


class JoinFireView(TicketActionView):
    success_message = _("You joined the room.")

    def allowed(self, ticket) -> bool:
        return access.is_desk_staff(self.request.user)

    def perform(self, ticket, form):
        call = FireCall.objects.visible_to(self.request.user).filter(
            ticket=ticket, closed_at__isnull=True
        )
        fire_call = call.first()
        if fire_call is None:
            raise Conflict(_("No fire call is open on this ticket."))
        fire.join_fire(actor=self.request.user, fire_call=fire_call)


class BriefView(TicketActionView):
    form_class = desk_forms.BriefForm
    form_name = "brief"
    success_message = _("Bug brief saved.")

    def perform(self, ticket, form):
        data = form.cleaned_data
        fire.write_brief(actor=self.request.user, ticket=ticket, **data)


class UpdateFieldsView(TicketActionView):
    form_class = desk_forms.TicketFieldsForm
    form_name = "fields"
    success_message = _("Details updated.")

    def form_kwargs(self, ticket) -> dict:
        names = list(ticket.tags.values_list("name", flat=True))
        return {"ticket": ticket, "user": self.request.user, "tag_names": names}

    def perform(self, ticket, form):
        changes = form.changes()
        if changes:
            tickets.update_ticket(actor=self.request.user, ticket=ticket, **changes)


urlpatterns = [
    path("tickets/<str:pk>/", TicketDetailView.as_view(), name="ticket-detail"),
    path("tickets/<str:pk>/reply/", ReplyView.as_view(), name="ticket-reply"),
    path("tickets/<str:pk>/note/", NoteView.as_view(), name="ticket-note"),
    path("tickets/<str:pk>/transition/", TransitionView.as_view(), name="ticket-transition"),
    path("tickets/<str:pk>/take/", TakeView.as_view(), name="ticket-take"),
    path("tickets/<str:pk>/hand-off/", HandOffView.as_view(), name="ticket-hand-off"),
    path(
        "tickets/<str:pk>/hand-off/accept/",
        AcceptHandOffView.as_view(),
        name="ticket-accept-hand-off",
    ),
    path(
        "tickets/<str:pk>/hand-off/decline/",
        DeclineHandOffView.as_view(),
        name="ticket-decline-hand-off",
    ),
    path(
        "tickets/<str:pk>/hand-off/cancel/",
        CancelHandOffView.as_view(),
        name="ticket-cancel-hand-off",
    ),
    path("tickets/<str:pk>/reassign/", ReassignView.as_view(), name="ticket-reassign"),
    path("tickets/<str:pk>/watch/", WatchView.as_view(), name="ticket-watch"),
    path("tickets/<str:pk>/call-fire/", CallFireView.as_view(), name="ticket-call-fire"),
    path("tickets/<str:pk>/join/", JoinFireView.as_view(), name="ticket-join-fire"),
    path("tickets/<str:pk>/brief/", BriefView.as_view(), name="ticket-brief"),
    path("tickets/<str:pk>/update/", UpdateFieldsView.as_view(), name="ticket-update"),
]
