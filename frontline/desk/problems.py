"""Problems (归因归母): verbs that group tickets under one root cause and fix it for good.

Pages, API and jobs change problems through these functions only. Each checks the
actor's capability (``Cap.MANAGE_PROBLEMS``), re-reads the problem under a row lock,
checks every ticket it is given against ``Ticket.objects.visible_to(actor)``, writes
an ``AuditEntry`` for the problem and an internal ``PROBLEM`` event on every ticket
it links or unlinks, all in one transaction. Status changes follow
``PROBLEM_TRANSITIONS`` and are compare-and-set.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import User
from frontline.accounts.roles import Cap
from frontline.core import audit
from frontline.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from frontline.core.locks import lock
from frontline.core.rest import parse_id
from frontline.desk.access import is_desk_staff
from frontline.desk.events import record_event
from frontline.desk.models import Problem, Ticket
from frontline.desk.models.fire import Attribution
from frontline.desk.models.problems import PROBLEM_TRANSITIONS, ProblemStatus
from frontline.desk.states import EventKind

PROBLEM_FIELDS = ("title", "description", "attribution", "fix_plan", "fix_owner", "fix_due_on")
MAX_TICKETS_PER_CALL = 500

ALREADY_LINKED = _("Already linked to problem %(problem)s: %(tickets)s. Unlink them there first.")
NOT_LINKED = _("This ticket is not linked to this problem.")
PROBLEM_CLOSED = _("This problem is closed; tickets can no longer be linked to it.")
TOO_MANY_TICKETS = _("Link at most %(max)d tickets at a time.")
FIX_OWNER_NOT_STAFF = _("The fix owner must be an active person of the operator.")
ILLEGAL_TRANSITION = _(
    "A problem that is %(current)s cannot become %(target)s. Allowed: %(allowed)s."
)
UNKNOWN_STATUS = _("Unknown status.")


def allowed_problem_statuses(status: str) -> list[str]:
    return sorted(PROBLEM_TRANSITIONS.get(status, frozenset()))


# ---------------------------------------------------------------- checks


def _require(actor) -> None:
    if not is_desk_staff(actor):
        raise NotFound()
    if not actor.has_capability(Cap.MANAGE_PROBLEMS):
        raise PermissionDenied()


def _clean_values(values: dict[str, Any]) -> dict[str, Any]:
    """Validate problem fields; return them tidied. Raises ValidationFailed with every error."""
    errors: dict[str, list[str]] = {}
    clean = {k: v.strip() if isinstance(v, str) else v for k, v in values.items()}
    if "title" in clean:
        title = clean["title"] or ""
        if not title:
            errors["title"] = [str(_("Give the problem a title."))]
        elif len(title) > 200:
            errors["title"] = [str(_("At most 200 characters."))]
    for name in ("description", "fix_plan"):
        if name in clean:
            clean[name] = clean[name] or ""
            if len(clean[name]) > 20_000:
                errors[name] = [str(_("At most 20,000 characters."))]
    if "attribution" in clean:
        clean["attribution"] = clean["attribution"] or ""
        if clean["attribution"] and clean["attribution"] not in Attribution.values:
            errors["attribution"] = [str(_("Choose one of the listed attributions."))]
    if "fix_owner" in clean and clean["fix_owner"] is not None:
        owner = clean["fix_owner"]
        if not isinstance(owner, User) or not owner.is_active or not is_desk_staff(owner):
            errors["fix_owner"] = [str(FIX_OWNER_NOT_STAFF)]
    if "fix_due_on" in clean and clean["fix_due_on"] is not None:
        if not isinstance(clean["fix_due_on"], dt.date) or isinstance(
            clean["fix_due_on"], dt.datetime
        ):
            errors["fix_due_on"] = [str(_("Give a date."))]
    if errors:
        raise ValidationFailed(fields=errors)
    return clean


def _visible_tickets(actor, tickets: Iterable) -> list[Ticket]:
    """The tickets named (objects or ids), each visible to ``actor``, locked, in id order.

    One the actor may not see is reported exactly like one that does not exist.
    """
    ids: list[int] = []
    for item in tickets:
        pk = item.pk if isinstance(item, Ticket) else parse_id(item)
        if pk is None:
            raise ValidationFailed(
                fields={"tickets": [_("No such ticket: %(id)s.") % {"id": str(item)[:30]}]}
            )
        if pk not in ids:
            ids.append(pk)
    if len(ids) > MAX_TICKETS_PER_CALL:
        raise ValidationFailed(
            fields={"tickets": [TOO_MANY_TICKETS % {"max": MAX_TICKETS_PER_CALL}]}
        )
    visible = Ticket.objects.visible_to(actor).filter(pk__in=ids).values("pk")
    found = list(
        Ticket.objects.select_for_update(of=("self",)).filter(pk__in=visible).order_by("pk")
    )
    missing = sorted(set(ids) - {t.pk for t in found})
    if missing:
        raise ValidationFailed(
            fields={"tickets": [_("No such ticket: %(id)s.") % {"id": pk} for pk in missing]}
        )
    return found


def _linked_elsewhere(problem: Problem, tickets: list[Ticket]) -> None:
    others = [t for t in tickets if t.problem_id is not None and t.problem_id != problem.pk]
    if others:
        numbers = {t.problem_id for t in others}
        labels = dict(Problem.objects.filter(pk__in=numbers).values_list("pk", "number"))
        message = ALREADY_LINKED % {
            "problem": ", ".join(sorted(labels.values())),
            "tickets": ", ".join(t.number for t in others),
        }
        raise ValidationFailed(message, fields={"tickets": [message]})


def _link(actor, problem: Problem, tickets: list[Ticket]) -> list[Ticket]:
    """Point ``tickets`` (locked, checked) at ``problem``; one internal event each."""
    new = [t for t in tickets if t.problem_id != problem.pk]
    if not new:
        return []
    now = timezone.now()
    updated = Ticket.objects.filter(pk__in=[t.pk for t in new], problem__isnull=True).update(
        problem=problem, updated_at=now
    )
    if updated != len(new):  # pragma: no cover - the rows are locked
        raise Conflict()
    for ticket in new:
        ticket.problem = problem
        record_event(
            ticket=ticket,
            kind=EventKind.PROBLEM,
            author=actor,
            public=False,
            body=str(_("Linked to problem %(problem)s.") % {"problem": str(problem)}),
            data={"problem": problem.pk, "number": problem.number, "linked": True},
        )
    return new


# ---------------------------------------------------------------- verbs


def create_problem(
    *,
    actor,
    title: str,
    description: str = "",
    tickets: Iterable = (),
    attribution: str = "",
    fix_plan: str = "",
    fix_owner=None,
    fix_due_on=None,
) -> Problem:
    """Open a problem, numbered ``P-0001`` from its id, with ``tickets`` linked at once."""
    _require(actor)
    values = _clean_values(
        {
            "title": title,
            "description": description,
            "attribution": attribution,
            "fix_plan": fix_plan,
            "fix_owner": fix_owner,
            "fix_due_on": fix_due_on,
        }
    )
    with transaction.atomic():
        found = _visible_tickets(actor, tickets)
        # A placeholder number keeps the unique column filled until the id is known.
        problem = Problem.objects.create(
            number=f"tmp-{uuid.uuid4().hex[:16]}", created_by=actor, **values
        )
        problem.number = f"P-{problem.pk:04d}"
        Problem.objects.filter(pk=problem.pk).update(number=problem.number)
        _linked_elsewhere(problem, found)
        linked = _link(actor, problem, found)
        changes = audit.snapshot(problem, ["number", *PROBLEM_FIELDS, "status"])
        if linked:
            changes["tickets"] = [None, [t.number for t in linked]]
        audit.record(
            actor=actor, instance=problem, action=audit.AuditAction.CREATE, changes=changes
        )
    return problem


def update_problem(*, actor, problem: Problem, **changes) -> Problem:
    """Change title, description, attribution or the systemic fix plan, owner and due date."""
    _require(actor)
    unknown = sorted(set(changes) - set(PROBLEM_FIELDS))
    if unknown:
        raise ValidationFailed(
            fields={n: [_("This field cannot be changed here.")] for n in unknown}
        )
    values = _clean_values(changes)
    with transaction.atomic():
        current = lock(Problem.objects.visible_to(actor), problem.pk)
        diff = audit.apply_changes(current, values)
        if diff:
            current.save()
            audit.record(
                actor=actor, instance=current, action=audit.AuditAction.UPDATE, changes=diff
            )
    return current


def link_tickets(*, actor, problem: Problem, tickets: Iterable) -> list[Ticket]:
    """Group more tickets under ``problem``; returns the ones newly linked."""
    _require(actor)
    with transaction.atomic():
        current = lock(Problem.objects.visible_to(actor), problem.pk)
        if current.status == ProblemStatus.CLOSED:
            raise Conflict(PROBLEM_CLOSED, code="problem_closed")
        found = _visible_tickets(actor, tickets)
        if not found:
            raise ValidationFailed(fields={"tickets": [_("Choose at least one ticket.")]})
        _linked_elsewhere(current, found)
        linked = _link(actor, current, found)
        if linked:
            audit.record(
                actor=actor,
                instance=current,
                action=audit.AuditAction.ACTION,
                verb="link",
                changes={"tickets": [None, [t.number for t in linked]]},
            )
    return linked


def unlink_ticket(*, actor, problem: Problem, ticket) -> Ticket:
    """Take one ticket out of ``problem`` (it keeps its own history, with an internal event)."""
    _require(actor)
    with transaction.atomic():
        current = lock(Problem.objects.visible_to(actor), problem.pk)
        (found,) = _visible_tickets(actor, [ticket])
        if found.problem_id != current.pk:
            raise ValidationFailed(NOT_LINKED, fields={"ticket": [NOT_LINKED]})
        Ticket.objects.filter(pk=found.pk, problem=current).update(
            problem=None, updated_at=timezone.now()
        )
        found.problem = None
        record_event(
            ticket=found,
            kind=EventKind.PROBLEM,
            author=actor,
            public=False,
            body=str(_("Unlinked from problem %(problem)s.") % {"problem": str(current)}),
            data={"problem": current.pk, "number": current.number, "linked": False},
        )
        audit.record(
            actor=actor,
            instance=current,
            action=audit.AuditAction.ACTION,
            verb="unlink",
            changes={"tickets": [[found.number], None]},
        )
    return found


def _illegal(current: str, target: str) -> Conflict:
    allowed = allowed_problem_statuses(current)
    labels = ", ".join(str(ProblemStatus(s).label) for s in allowed) or "—"
    message = ILLEGAL_TRANSITION % {
        "current": ProblemStatus(current).label,
        "target": ProblemStatus(target).label,
        "allowed": labels,
    }
    return Conflict(
        message, code="illegal_transition", fields={"status": [message], "allowed": allowed}
    )


def _move(actor, problem: Problem, to_status: str, *, verb: str) -> Problem:
    """Compare-and-set the status of a locked ``problem``; audit it."""
    if to_status not in ProblemStatus.values:
        raise ValidationFailed(fields={"status": [UNKNOWN_STATUS]})
    old = problem.status
    if to_status not in PROBLEM_TRANSITIONS.get(old, frozenset()):
        raise _illegal(old, to_status)
    now = timezone.now()
    resolved_at = problem.resolved_at
    if to_status == ProblemStatus.RESOLVED:
        resolved_at = now
    elif to_status != ProblemStatus.CLOSED:
        resolved_at = None
    updated = Problem.objects.filter(pk=problem.pk, status=old).update(
        status=to_status, resolved_at=resolved_at, updated_at=now
    )
    if updated != 1:  # pragma: no cover - the row is locked
        raise Conflict()
    problem.status, problem.resolved_at, problem.updated_at = to_status, resolved_at, now
    audit.record(
        actor=actor,
        instance=problem,
        action=audit.AuditAction.ACTION,
        verb=verb,
        changes={"status": [old, to_status]},
    )
    return problem


def transition_problem(*, actor, problem: Problem, to_status: str) -> Problem:
    """Move a problem along ``PROBLEM_TRANSITIONS``; anything else is a 409 naming what is allowed."""
    _require(actor)
    with transaction.atomic():
        current = lock(Problem.objects.visible_to(actor), problem.pk)
        return _move(actor, current, to_status, verb="transition")


def resolve_problem(*, actor, problem: Problem, public_reply: str = "") -> Problem:
    """Mark the problem resolved (stamping ``resolved_at``) and, when ``public_reply`` is given,
    post it as a public reply on every linked ticket — through the ticket
    service, which records the event and notifies the customer — all in one transaction."""
    _require(actor)
    # Imported here: the ticket verbs depend on much of the desk, and problems are a leaf.
    from frontline.desk import tickets as ticket_services

    reply = (public_reply or "").strip()
    with transaction.atomic():
        current = lock(Problem.objects.visible_to(actor), problem.pk)
        _move(actor, current, ProblemStatus.RESOLVED, verb="resolve")
        if reply:
            linked = Ticket.objects.visible_to(actor).filter(problem=current).order_by("pk")
            for ticket in linked:
                ticket_services.reply(actor=actor, ticket=ticket, body=reply)
    return current
