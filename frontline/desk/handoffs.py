"""Owned hand-offs ("问题到我为止") and reassignment.

A hand-off is a request: the old owner stays owner until the new one accepts (or
declines with a reason). A dispatcher's or manager's reassignment takes effect at once
and counts as acceptance; it lets any pending request lapse. Decisions are
compare-and-set on ``HandOff.status`` under the ticket's row lock, so of two
simultaneous accepts exactly one wins. Re-exported by ``frontline.desk.tickets``.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from frontline.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from frontline.desk import access
from frontline.desk.events import record_event
from frontline.desk.handling import (
    clean_line,
    is_user,
    locked,
    pending_hand_off,
    set_owner,
    tell,
)
from frontline.desk.models import HandOff, Ticket
from frontline.desk.states import EventKind, HandOffStatus

MESSAGE_LIMIT = 2000

ALREADY_PENDING = _("A hand-off of this ticket is already waiting for acceptance.")
NOT_PENDING = _("This hand-off is no longer waiting for acceptance.")


def _check_new_owner(ticket: Ticket, to_user) -> None:
    if to_user is None or not access.may_own(to_user):
        raise ValidationFailed(
            fields={"to_user": [_("Choose an active colleague who works tickets.")]}
        )
    if to_user.pk == ticket.owner_id:
        raise ValidationFailed(fields={"to_user": [_("This person already owns the ticket.")]})


def _decide(hand_off: HandOff, status: str, **extra) -> HandOff:
    """Compare-and-set a pending hand-off to ``status``; Conflict when someone decided first."""
    now = timezone.now()
    done = HandOff.objects.filter(pk=hand_off.pk, status=HandOffStatus.REQUESTED).update(
        status=status, decided_at=now, **extra
    )
    if not done:
        raise Conflict(NOT_PENDING, code="hand_off_not_pending")
    hand_off.status = status
    hand_off.decided_at = now
    for name, value in extra.items():
        setattr(hand_off, name, value)
    return hand_off


def _locked_pair(hand_off) -> tuple[Ticket, HandOff]:
    """Lock the ticket first (the one lock order of every ticket verb), then re-read the hand-off."""
    ticket_id = getattr(hand_off, "ticket_id", None)
    if ticket_id is None:
        raise NotFound()
    ticket = locked(ticket_id)
    try:
        current = HandOff.objects.select_related("to_user", "from_user", "requested_by").get(
            pk=hand_off.pk, ticket_id=ticket.pk
        )
    except HandOff.DoesNotExist:
        raise NotFound()
    return ticket, current


def request_hand_off(*, actor, ticket, to_user, message="") -> HandOff:
    """Ask ``to_user`` to take the ticket over; the owner stays owner until they accept."""
    if not is_user(actor) or not access.may_work(actor):
        raise PermissionDenied()
    message = clean_line(message, field="message", limit=MESSAGE_LIMIT, required=False)
    with transaction.atomic():
        ticket = locked(ticket)
        if ticket.owner_id != actor.pk and not access.may_reassign(actor):
            raise PermissionDenied(_("Only the owner hands a ticket off."))
        _check_new_owner(ticket, to_user)
        if pending_hand_off(ticket) is not None:
            raise Conflict(ALREADY_PENDING, code="hand_off_pending")
        try:
            with transaction.atomic():
                hand_off = HandOff.objects.create(
                    ticket=ticket,
                    from_user_id=ticket.owner_id,
                    to_user=to_user,
                    requested_by=actor,
                    message=message,
                )
        except IntegrityError:
            raise Conflict(ALREADY_PENDING, code="hand_off_pending")
        event = record_event(
            ticket=ticket,
            kind=EventKind.HAND_OFF_REQUESTED,
            author=actor,
            body=message,
            data={"hand_off": hand_off.pk, "from": ticket.owner_id, "to": to_user.pk},
        )
        tell(
            recipients=[to_user],
            actor=actor,
            kind="hand_off_requested",
            title=format_lazy(
                _("{who} asks you to take over {number}: {title}"),
                who=actor,
                number=ticket.number,
                title=ticket.title,
            ),
            event=event,
            body=message,
        )
    return hand_off


def accept_hand_off(*, actor, hand_off) -> Ticket:
    """The person asked takes the ticket over; they become its owner now."""
    if not is_user(actor):
        raise PermissionDenied()
    with transaction.atomic():
        ticket, hand_off = _locked_pair(hand_off)
        if hand_off.to_user_id != actor.pk:
            raise PermissionDenied(_("Only the person asked can accept this hand-off."))
        if not access.may_own(actor):
            raise PermissionDenied()
        _decide(hand_off, HandOffStatus.ACCEPTED)
        set_owner(actor=actor, ticket=ticket, to_user=actor, how="hand_off")
        event = record_event(
            ticket=ticket,
            kind=EventKind.HAND_OFF_ACCEPTED,
            author=actor,
            data={"hand_off": hand_off.pk, "from": hand_off.from_user_id, "to": actor.pk},
        )
        tell(
            recipients=[hand_off.requested_by, hand_off.from_user],
            actor=actor,
            kind="hand_off_accepted",
            title=format_lazy(_("{who} took over {number}"), who=actor, number=ticket.number),
            event=event,
        )
    return ticket


def decline_hand_off(*, actor, hand_off, reason) -> HandOff:
    """The person asked says no, with a reason; the owner keeps the ticket."""
    if not is_user(actor):
        raise PermissionDenied()
    reason = clean_line(reason, field="reason", limit=MESSAGE_LIMIT)
    with transaction.atomic():
        ticket, hand_off = _locked_pair(hand_off)
        if hand_off.to_user_id != actor.pk:
            raise PermissionDenied(_("Only the person asked can decline this hand-off."))
        _decide(hand_off, HandOffStatus.DECLINED, reason=reason)
        event = record_event(
            ticket=ticket,
            kind=EventKind.HAND_OFF_DECLINED,
            author=actor,
            body=reason,
            data={"hand_off": hand_off.pk, "to": actor.pk},
        )
        tell(
            recipients=[hand_off.requested_by],
            actor=actor,
            kind="hand_off_declined",
            title=format_lazy(
                _("{who} declined to take over {number}"), who=actor, number=ticket.number
            ),
            event=event,
            body=reason,
        )
    return hand_off


def cancel_hand_off(*, actor, hand_off) -> HandOff:
    """The requester (or the owner it would move from) withdraws a pending request."""
    if not is_user(actor):
        raise PermissionDenied()
    with transaction.atomic():
        ticket, hand_off = _locked_pair(hand_off)
        if actor.pk not in {hand_off.requested_by_id, hand_off.from_user_id}:
            raise PermissionDenied(_("Only who asked, or the owner, can cancel this hand-off."))
        _decide(hand_off, HandOffStatus.CANCELLED)
        record_event(
            ticket=ticket,
            kind=EventKind.HAND_OFF_CANCELLED,
            author=actor,
            data={"hand_off": hand_off.pk, "to": hand_off.to_user_id, "why": "cancelled"},
        )
    return hand_off


def reassign(*, actor, ticket, to_user, reason="") -> Ticket:
    """A dispatcher or manager gives the ticket to someone at once (counts as acceptance)."""
    if not is_user(actor) or not access.may_reassign(actor):
        raise PermissionDenied()
    reason = clean_line(reason, field="reason", limit=MESSAGE_LIMIT, required=False)
    with transaction.atomic():
        ticket = locked(ticket)
        _check_new_owner(ticket, to_user)
        event = set_owner(
            actor=actor, ticket=ticket, to_user=to_user, how="reassigned", reason=reason
        )
        tell(
            recipients=[to_user],
            actor=actor,
            kind="ticket_assigned",
            title=format_lazy(
                _("{who} gave you {number}: {title}"),
                who=actor,
                number=ticket.number,
                title=ticket.title,
            ),
            event=event,
            body=reason,
        )
    return ticket


def hand_off_for(ticket: Ticket) -> HandOff:
    """The pending hand-off of a ticket (for the API's ticket-level actions), or NotFound."""
    pending = pending_hand_off(ticket)
    if pending is None:
        raise NotFound(_("No hand-off of this ticket is waiting for acceptance."))
    return pending
