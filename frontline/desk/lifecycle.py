"""A ticket's status: staff transitions along ``states.TRANSITIONS``, and the customer's
confirmation, reopening and rating. Re-exported by ``frontline.desk.tickets``.

Resolving a ticket that had a fire call needs a bug brief; closing an S1 or S2 ticket
needs a retrospective. Status changes are compare-and-set under the row lock and write
a neutral public STATUS event; a staff comment goes on the timeline as an internal note.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from frontline.core.errors import Conflict, PermissionDenied, ValidationFailed
from frontline.desk import access, fire
from frontline.desk.events import record_event
from frontline.desk.handling import (
    change_status,
    clean_body,
    clean_line,
    illegal,
    is_user,
    locked,
    recompute_sla,
    require_customer,
    require_staff_or_customer,
    tell,
)
from frontline.desk.models import BugBrief, Retrospective, Ticket
from frontline.desk.states import TRANSITIONS, EventKind, Severity, TicketStatus

S = TicketStatus
DEFAULT_REOPEN_DAYS = 7
RATING_COMMENT_LIMIT = 2000
NEEDS_RETROSPECTIVE = frozenset({Severity.S1, Severity.S2})


def reopen_days() -> int:
    return int(getattr(settings, "DESK_REOPEN_DAYS", DEFAULT_REOPEN_DAYS))


def _check_allowed(ticket: Ticket, to_status: str) -> None:
    if to_status not in S.values:
        raise ValidationFailed(fields={"to_status": [_("Not a valid status.")]})
    if to_status not in TRANSITIONS.get(ticket.status, frozenset()):
        raise illegal(ticket.status, to_status)


def _preconditions(ticket: Ticket, to_status: str) -> None:
    if to_status == S.RESOLVED and ticket.had_fire_call:
        if not BugBrief.objects.filter(ticket=ticket).exists():
            raise ValidationFailed(
                _("Write the bug brief before resolving a ticket that had a fire call."),
                code="brief_required",
            )
    if to_status == S.CLOSED and ticket.severity in NEEDS_RETROSPECTIVE:
        if not Retrospective.objects.filter(ticket=ticket).exists():
            raise ValidationFailed(
                _("An S1 or S2 ticket is closed only after its retrospective is written."),
                code="retrospective_required",
            )


def _extra(to_status: str, now: dt.datetime) -> dict:
    if to_status == S.RESOLVED:
        return {"resolved_at": now, "closed_at": None}
    if to_status == S.CLOSED:
        return {"closed_at": now}
    if to_status == S.REOPENED:
        return {"resolved_at": None, "closed_at": None}
    return {}


def _move(*, actor, ticket: Ticket, to_status: str, via: str = ""):
    """Check, change and follow up one status change (the ticket is locked)."""
    _check_allowed(ticket, to_status)
    _preconditions(ticket, to_status)
    event = change_status(
        actor=actor,
        ticket=ticket,
        to_status=to_status,
        extra=_extra(to_status, timezone.now()),
        via=via,
    )
    if to_status == S.RESOLVED:
        fire.close_fire_calls(actor=actor, ticket=ticket)
    recompute_sla(ticket)
    return event


def transition(*, actor, ticket, to_status, comment="") -> Ticket:
    """Move a ticket along the transition table (staff only; customers confirm or reopen)."""
    if not is_user(actor) or not access.may_work(actor):
        raise PermissionDenied()
    note = clean_body(comment, field="comment", required=False)
    with transaction.atomic():
        ticket = locked(ticket)
        event = _move(actor=actor, ticket=ticket, to_status=str(to_status or ""))
        if note:
            record_event(
                ticket=ticket,
                kind=EventKind.NOTE,
                author=actor,
                body=note,
                data={"status_event": event.pk},
            )
        if to_status == S.RESOLVED:
            _tell_customer(actor=actor, ticket=ticket, event=event)
    return ticket


def _tell_customer(*, actor, ticket: Ticket, event) -> None:
    people = [ticket.contact] if ticket.contact_id else []
    people += [u for u in ticket.watchers.all() if not access.is_desk_staff(u)]
    tell(
        recipients=people,
        actor=actor,
        kind="ticket_resolved",
        title=format_lazy(
            _("{number} is resolved: please confirm or reopen"), number=ticket.number
        ),
        event=event,
        customers=True,
    )


def confirm_resolution(*, actor, ticket) -> Ticket:
    """The customer agrees the problem is solved: resolved → closed."""
    with transaction.atomic():
        ticket = locked(ticket)
        require_customer(actor, ticket)
        if ticket.status != S.RESOLVED:
            raise Conflict(
                _("Only a resolved ticket can be confirmed."),
                code="not_resolved",
                fields={"status": [ticket.status]},
            )
        _move(actor=actor, ticket=ticket, to_status=S.CLOSED, via="confirmed")
    return ticket


def _within_reopen_period(ticket: Ticket) -> bool:
    if ticket.resolved_at is None:
        return False
    return timezone.now() <= ticket.resolved_at + dt.timedelta(days=reopen_days())


def reopen(*, actor, ticket, reason) -> Ticket:
    """Reopen a resolved or closed ticket: the customer within DESK_REOPEN_DAYS, staff any time."""
    with transaction.atomic():
        ticket = locked(ticket)
        require_staff_or_customer(actor, ticket)
        staff = access.may_work(actor)
        text = clean_body(reason, field="reason")
        if ticket.status not in {S.RESOLVED, S.CLOSED}:
            raise illegal(ticket.status, S.REOPENED)
        if not staff and not _within_reopen_period(ticket):
            raise Conflict(
                format_lazy(
                    _(
                        "A ticket can be reopened within {days} days of its resolution; "
                        "please open a new ticket."
                    ),
                    days=reopen_days(),
                ),
                code="reopen_expired",
            )
        said = record_event(
            ticket=ticket,
            kind=EventKind.NOTE if staff else EventKind.REPLY,
            author=actor,
            public=not staff,
            body=text,
            data={"reopen": True},
        )
        _move(actor=actor, ticket=ticket, to_status=S.REOPENED, via="reopen")
        if not staff:
            tell(
                recipients=[ticket.owner],
                actor=actor,
                kind="ticket_reopened",
                title=format_lazy(_("The customer reopened {number}"), number=ticket.number),
                event=said,
                body=text,
            )
    return ticket


def rate(*, actor, ticket, rating, comment="") -> Ticket:
    """The customer rates the resolution once, 1 to 5, after it is resolved or closed."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationFailed(fields={"rating": [_("Give a whole number from 1 to 5.")]})
    comment = clean_line(comment, field="comment", limit=RATING_COMMENT_LIMIT, required=False)
    with transaction.atomic():
        ticket = locked(ticket)
        require_customer(actor, ticket)
        if ticket.status not in {S.RESOLVED, S.CLOSED}:
            raise Conflict(_("A ticket can be rated once it is resolved."), code="not_resolved")
        done = Ticket.objects.filter(pk=ticket.pk, rating__isnull=True).update(
            rating=rating, rating_comment=comment, updated_at=timezone.now()
        )
        if not done:
            raise Conflict(_("This ticket has already been rated."), code="already_rated")
        ticket.rating = rating
        ticket.rating_comment = comment
        record_event(
            ticket=ticket,
            kind=EventKind.RATING,
            author=actor,
            public=True,
            body=comment,
            data={"rating": rating},
        )
    return ticket
