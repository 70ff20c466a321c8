"""Shared steps of the ticket verbs: who may act, the locked row, ownership, status, notices.

Private to ``desk.tickets``, ``desk.handoffs`` and ``desk.lifecycle``; pages and the API
call the verbs (``frontline.desk.tickets``), never these helpers.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from frontline.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from frontline.core.locks import lock
from frontline.core.richtext import sanitize, to_text
from frontline.desk import access, sla
from frontline.desk.events import record_event
from frontline.desk.models import HandOff, Ticket
from frontline.desk.states import EventKind, HandOffStatus, allowed_next
from frontline.notifications.services import notify

ILLEGAL_TRANSITION = "illegal_transition"


def is_user(actor) -> bool:
    return bool(actor is not None and getattr(actor, "is_authenticated", False))


def require_staff(actor) -> None:
    """Operator staff who work tickets (reply, note, transition, hand off)."""
    if not is_user(actor) or not access.may_work(actor):
        raise PermissionDenied()


def require_staff_or_customer(actor, ticket: Ticket) -> None:
    if not is_user(actor):
        raise PermissionDenied()
    if not (access.may_work(actor) or access.is_ticket_customer(actor, ticket)):
        raise PermissionDenied()


def require_customer(actor, ticket: Ticket) -> None:
    if not is_user(actor) or not access.is_ticket_customer(actor, ticket):
        raise PermissionDenied()


def locked(ticket_or_pk) -> Ticket:
    """The ticket's current row under a row lock (call inside transaction.atomic())."""
    pk = getattr(ticket_or_pk, "pk", ticket_or_pk)
    try:
        return lock(Ticket, pk)
    except Ticket.DoesNotExist:
        raise NotFound()


def clean_body(body, *, field: str = "body", required: bool = True) -> str:
    """Sanitised rich text; an empty message (also after sanitising) is a field error."""
    text = sanitize(body if isinstance(body, str) else "")
    if required and not to_text(text):
        raise ValidationFailed(fields={field: [_("Write a message.")]})
    return text


def clean_line(value, *, field: str, limit: int, required: bool = True) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise ValidationFailed(fields={field: [_("This field is required.")]})
    if len(text) > limit:
        raise ValidationFailed(
            fields={field: [_("At most %(limit)d characters.") % {"limit": limit}]}
        )
    return text


def save(ticket: Ticket, fields: Iterable[str]) -> None:
    ticket.save(update_fields=[*fields, "updated_at"])


# ---------------------------------------------------------------- ownership


def pending_hand_off(ticket: Ticket) -> HandOff | None:
    return HandOff.objects.filter(ticket=ticket, status=HandOffStatus.REQUESTED).first()


def cancel_pending(*, actor, ticket: Ticket, why: str) -> HandOff | None:
    """A pending hand-off lapses when the ticket gets another owner by other means."""
    pending = pending_hand_off(ticket)
    if pending is None:
        return None
    now = timezone.now()
    if HandOff.objects.filter(pk=pending.pk, status=HandOffStatus.REQUESTED).update(
        status=HandOffStatus.CANCELLED, decided_at=now
    ):
        record_event(
            ticket=ticket,
            kind=EventKind.HAND_OFF_CANCELLED,
            author=actor,
            data={"hand_off": pending.pk, "to": pending.to_user_id, "why": why},
        )
        pending.status = HandOffStatus.CANCELLED
        pending.decided_at = now
    return pending


def set_owner(*, actor, ticket: Ticket, to_user, how: str, reason: str = ""):
    """Give the ticket a new owner at once (first handling, acceptance or reassignment).

    Returns the ASSIGNED event. A pending hand-off to someone else lapses. Call with the
    ticket locked.
    """
    old_owner_id = ticket.owner_id
    now = timezone.now()
    ticket.owner = to_user
    fields = ["owner"]
    if ticket.first_handled_at is None:
        ticket.first_handled_at = now
        fields.append("first_handled_at")
    save(ticket, fields)
    if how != "hand_off":
        cancel_pending(actor=actor, ticket=ticket, why=how)
    return record_event(
        ticket=ticket,
        kind=EventKind.ASSIGNED,
        author=actor,
        body=reason,
        data={"from": old_owner_id, "to": to_user.pk, "how": how},
    )


def handle_first(*, actor, ticket: Ticket) -> None:
    """Whoever on the operator side first handles a customer contact becomes its owner."""
    if ticket.first_handled_at is not None or not access.may_own(actor):
        return
    if ticket.owner_id == actor.pk:
        ticket.first_handled_at = timezone.now()
        save(ticket, ["first_handled_at"])
        return
    set_owner(actor=actor, ticket=ticket, to_user=actor, how="first_handled")


# ---------------------------------------------------------------- status


def illegal(from_status: str, to_status: str) -> Conflict:
    allowed = allowed_next(from_status)
    message = format_lazy(
        _("A ticket cannot go from “{old}” to “{new}”; it may go to: {allowed}."),
        old=from_status,
        new=to_status,
        allowed=", ".join(allowed) or "—",
    )
    return Conflict(message, code=ILLEGAL_TRANSITION, fields={"to_status": allowed})


def change_status(*, actor, ticket: Ticket, to_status: str, extra: dict | None = None, via=""):
    """Compare-and-set the status (plus ``extra`` fields) and record a neutral public event.

    The caller has checked the transition table and its preconditions and holds the lock.
    """
    old = ticket.status
    now = timezone.now()
    values = {"status": to_status, "updated_at": now, **(extra or {})}
    if not Ticket.objects.filter(pk=ticket.pk, status=old).update(**values):
        raise Conflict()
    for name, value in values.items():
        setattr(ticket, name, value)
    data = {"from": old, "to": to_status}
    if via:
        data["via"] = via
    return record_event(ticket=ticket, kind=EventKind.STATUS, author=actor, public=True, data=data)


def recompute_sla(ticket: Ticket) -> None:
    sla.recompute(ticket, now=timezone.now())


# ---------------------------------------------------------------- notifications


def ticket_url(ticket: Ticket, *, for_customer: bool = False) -> str:
    names = ["desk:portal-ticket-detail", "desk:portal-ticket"] if for_customer else []
    names.append("desk:ticket-detail")
    for name in names:
        try:
            return reverse(name, args=[ticket.pk])
        except NoReverseMatch:
            continue
    return ""


def tell(*, recipients, actor, kind: str, title, event, body="", customers: bool = False) -> None:
    """Notify everyone in ``recipients`` but the actor, once per event (dedupe key)."""
    people = [u for u in recipients if u is not None and (actor is None or u.pk != actor.pk)]
    if not people:
        return
    ticket = event.ticket
    notify(
        recipients=people,
        kind=kind,
        title=title,
        body=to_text(body)[:2000],
        url=ticket_url(ticket, for_customer=customers),
        dedupe_key=f"desk:{kind}:{event.pk}",
    )


def watchers_and_contact(ticket: Ticket) -> list:
    people = list(ticket.watchers.filter(is_active=True))
    if ticket.contact_id and ticket.contact is not None:
        people.append(ticket.contact)
    return people


def staff_and_customers(people) -> tuple[list, list]:
    staff = [u for u in people if access.is_desk_staff(u)]
    others = [u for u in people if not access.is_desk_staff(u)]
    return staff, others
