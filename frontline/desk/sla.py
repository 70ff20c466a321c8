"""The SLA engine: one pure function computes the deadlines; ``recompute`` stores them.

:func:`compute` knows nothing of the database: given when the ticket was created, the
policy's targets, the business calendar, the pauses and what happened so far, it says
when the first response and the resolution are due, when to warn, what the state is
and when the sweep must look next. Every ticket service calls :func:`recompute` after
a change that matters (create, first staff reply, status, severity, project); it keeps
the ``SlaPause`` rows in step with the status, picks the policy, and writes the result
with one UPDATE. The sweep (``desk.sweep``) fires warnings and breaches.

Rules, decided once here:

* Deadlines run from ``created_at`` in business time of the policy's calendar; paused
  stretches do not count. Pauses are rows, so a policy change mid-ticket recomputes
  from the start with the same pauses: paused time is kept.
* The clock stops while the status is waiting (``PAUSED_STATUSES``) and while the
  ticket is resolved or closed, so a reopen continues where resolution stopped it
  instead of counting the days it sat resolved.
* Resolving counts as the first response when nobody replied before; ``recompute``
  stores it as ``first_responded_at``, so a reopened ticket does not owe one again.
* The *active* deadline is the first response until it is given, then the resolution.
  The warning is at ``warning_percent`` of the active target.
* ``sla_warned_at`` and ``sla_breached_at`` are stamps written by the sweep (and, for a
  ticket resolved late that the sweep never saw, by recompute: the missed deadline).
  The warning stamp is the warning moment notified, so a warning sent late (after
  downtime) is still earlier than the next target's warning moment.
  Recompute never clears ``sla_breached_at``. It clears ``sla_warned_at`` only when the
  warning moment moves after the stamp (the first response was given and the
  resolution is now active, a reopen, a policy or severity change with later targets),
  so the next warning can fire. A breach fires for every missed deadline that is later
  than the last breach stamp, so a missed first response and a missed resolution are
  two breaches, each notified once.
* The state follows the current deadlines: paused while paused; met or breached once
  resolved; otherwise breached when a deadline was missed, warning past the warning
  moment, else ok. "none" when no policy covers the ticket's project and severity.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from frontline.desk.calendars import (
    Calendar,
    CalendarError,
    add_business_time,
    business_minutes_between,
    business_time_between,
)
from frontline.desk.events import record_event
from frontline.desk.models import SlaClock, SlaPause, SlaPolicy, Ticket
from frontline.desk.states import DONE_STATUSES, PAUSED_STATUSES, EventKind, SlaState

logger = logging.getLogger(__name__)

Pause = tuple[dt.datetime, dt.datetime | None]
FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"
STAMPS = ("sla_warned_at", "sla_breached_at", "sla_policy_id")
SLA_FIELDS = (
    "sla_policy_id",
    "sla_state",
    "first_response_due_at",
    "resolution_due_at",
    "sla_warning_at",
    "sla_next_check_at",
    "sla_warned_at",
    "sla_breached_at",
)


@dataclass(frozen=True)
class PolicyTargets:
    first_response_minutes: int
    resolution_minutes: int
    warning_percent: int = 80

    @classmethod
    def from_policy(cls, policy) -> PolicyTargets:
        return cls(policy.first_response_minutes, policy.resolution_minutes, policy.warning_percent)


@dataclass(frozen=True)
class SlaResult:
    state: str
    first_response_due_at: dt.datetime | None = None
    resolution_due_at: dt.datetime | None = None
    warning_at: dt.datetime | None = None
    next_check_at: dt.datetime | None = None
    active_target: str | None = None  # FIRST_RESPONSE, RESOLUTION or None
    active_due_at: dt.datetime | None = None
    # The stamps as they should be stored (warned may be cleared, breached set on late resolution).
    warned_at: dt.datetime | None = None
    breached_at: dt.datetime | None = None
    # For the sweep: a warning / breach is due now and not stamped yet.
    warning_due: bool = False
    breach_due: bool = False
    breach_due_at: dt.datetime | None = None  # the latest missed deadline not yet stamped
    rows: tuple[dict, ...] = field(default=(), compare=False)
    # The deadlines before the stamps (restamp decides again from them).
    basis: object = field(default=None, compare=False, repr=False)


# ---------------------------------------------------------------- the pure part


def merge_pauses(
    pauses: Iterable[Pause], created_at: dt.datetime, stop_at: dt.datetime | None = None
) -> list[Pause]:
    """Sorted, non-overlapping pauses inside ``[created_at, stop_at)``; an open one last."""
    spans: list[Pause] = []
    for start, end in pauses:
        if stop_at is not None:
            if start >= stop_at:
                continue
            end = stop_at if end is None else min(end, stop_at)
        start = max(start, created_at)
        if end is not None and end <= start:
            continue
        spans.append((start, end))
    spans.sort(key=lambda span: span[0])
    merged: list[Pause] = []
    for start, end in spans:
        if merged and (merged[-1][1] is None or start <= merged[-1][1]):
            last_start, last_end = merged[-1]
            merged[-1] = (
                last_start,
                None if end is None or last_end is None else max(end, last_end),
            )
        else:
            merged.append((start, end))
    return merged


def deadline(
    calendar: Calendar, created_at: dt.datetime, pauses: Sequence[Pause], amount: dt.timedelta
) -> dt.datetime | None:
    """When ``amount`` of unpaused business time has run; None if an open pause comes first."""
    cursor, remaining = created_at, amount
    for start, end in pauses:
        if start > cursor:
            available = business_time_between(calendar, cursor, start)
            if remaining <= available:
                return add_business_time(calendar, cursor, remaining)
            remaining -= available
        if end is None:
            return None
        cursor = max(cursor, end)
    return add_business_time(calendar, cursor, remaining)


@functools.lru_cache(maxsize=4096)
def _share(minutes: int, percent: int = 100) -> dt.timedelta:
    return dt.timedelta(microseconds=minutes * 60_000_000 * percent // 100)


class _Basis(NamedTuple):
    """What a ticket's deadlines are, before the stamps decide what is pending."""

    spans: list
    fr_due: dt.datetime | None
    r_due: dt.datetime | None
    warning_at: dt.datetime | None
    responded: dt.datetime | None
    resolved_at: dt.datetime | None
    paused: bool
    active: str | None
    active_due: dt.datetime | None


def compute(
    *,
    created_at: dt.datetime,
    policy_targets: PolicyTargets | None,
    calendar: Calendar | None,
    pauses: Iterable[Pause],
    first_responded_at: dt.datetime | None,
    resolved_at: dt.datetime | None,
    now: dt.datetime,
    warned_at: dt.datetime | None = None,
    breached_at: dt.datetime | None = None,
    explain: bool = True,
) -> SlaResult:
    """Deadlines, warning, state and next check of one ticket. Pure: no database, no clock.

    ``resolved_at`` is given only while the ticket is resolved or closed. May raise
    :class:`~frontline.desk.calendars.CalendarError` for a calendar without working time.
    ``explain=False`` leaves out the timeline rows (the sweep never shows them).
    """
    if policy_targets is None or calendar is None:
        return SlaResult(state=SlaState.NONE, warned_at=warned_at, breached_at=breached_at)
    t = policy_targets
    spans = merge_pauses(pauses, created_at, resolved_at) if pauses else []
    fr_due = deadline(calendar, created_at, spans, _share(t.first_response_minutes))
    r_due = deadline(calendar, created_at, spans, _share(t.resolution_minutes))
    responded = first_responded_at or resolved_at
    paused = resolved_at is None and bool(spans) and spans[-1][1] is None

    if resolved_at is not None:
        active, active_due, active_minutes = None, None, t.resolution_minutes
    elif responded is None:
        active, active_due, active_minutes = FIRST_RESPONSE, fr_due, t.first_response_minutes
    else:
        active, active_due, active_minutes = RESOLUTION, r_due, t.resolution_minutes
    warning_at = deadline(calendar, created_at, spans, _share(active_minutes, t.warning_percent))
    basis = _Basis(
        spans, fr_due, r_due, warning_at, responded, resolved_at, paused, active, active_due
    )
    result = _decide(basis, now=now, warned_at=warned_at, breached_at=breached_at)
    if not explain:
        return result
    rows = _rows(
        result,
        calendar=calendar,
        created_at=created_at,
        spans=spans,
        responded=responded,
        resolved_at=resolved_at,
        now=now,
    )
    return replace(result, rows=rows)


def restamp(
    result: SlaResult,
    *,
    now: dt.datetime,
    warned_at: dt.datetime | None,
    breached_at: dt.datetime | None,
) -> SlaResult:
    """``result`` as ``compute`` gives it with other stamps (the sweep's, after firing):
    the deadlines do not depend on the stamps, so only what is pending is decided again."""
    if result.basis is None:
        return SlaResult(state=SlaState.NONE, warned_at=warned_at, breached_at=breached_at)
    return _decide(result.basis, now=now, warned_at=warned_at, breached_at=breached_at)


def _result(**values) -> SlaResult:
    """``SlaResult(**values)`` without the frozen dataclass's ``__init__`` (one
    ``object.__setattr__`` per field: at 20,000 results a sweep batch, more than the
    rest of the decision). Every field is given; the instance is as frozen as any."""
    result = object.__new__(SlaResult)
    result.__dict__.update(values)
    return result


def _decide(basis: _Basis, *, now, warned_at, breached_at) -> SlaResult:
    """State, stamps and what is pending, from the deadlines and the stamps."""
    fr_due, r_due, warning_at = basis.fr_due, basis.r_due, basis.warning_at
    responded, resolved_at, paused = basis.responded, basis.resolved_at, basis.paused
    active_due = basis.active_due

    def missed(due, done_at):
        if due is None:
            return False
        return done_at > due if done_at is not None else now >= due

    fr_missed = missed(fr_due, responded)
    r_missed = missed(r_due, resolved_at)

    if warned_at and warning_at and resolved_at is None and warned_at < warning_at:
        warned_at = None  # the warning moment moved later: a new warning may fire
    if resolved_at is not None and (fr_missed or r_missed) and breached_at is None:
        breached_at = fr_due if fr_missed else r_due

    if resolved_at is not None:
        state = SlaState.BREACHED if fr_missed or r_missed else SlaState.MET
    elif paused:
        state = SlaState.PAUSED
    elif fr_missed or r_missed:
        state = SlaState.BREACHED
    elif warning_at is not None and now >= warning_at:
        state = SlaState.WARNING
    else:
        state = SlaState.OK

    pending: list[dt.datetime] = []
    warning_due = breach_due = False
    breach_due_at = None
    if resolved_at is None and not paused:
        # No warning for a deadline whose breach is already stamped.
        warn_open = active_due is None or breached_at is None or breached_at < active_due
        if warned_at is None and warning_at is not None and warn_open:
            pending.append(warning_at)
            warning_due = warning_at <= now
        watched = [fr_due] if responded is None or fr_missed else []
        watched.append(r_due)
        for due in watched:
            if due is not None and (breached_at is None or breached_at < due):
                pending.append(due)
                if due <= now:
                    breach_due, breach_due_at = True, due

    return _result(
        state=state,
        first_response_due_at=fr_due,
        resolution_due_at=r_due,
        warning_at=warning_at,
        next_check_at=min(pending) if pending else None,
        active_target=basis.active,
        active_due_at=active_due,
        warned_at=warned_at,
        breached_at=breached_at,
        warning_due=warning_due,
        breach_due=breach_due,
        breach_due_at=breach_due_at,
        rows=(),
        basis=basis,
    )


def _outcome(due, done_at, now, paused) -> tuple[str, dt.datetime | None]:
    if due is None:
        return ("paused" if paused else "pending"), None
    if done_at is not None:
        return ("met" if done_at <= due else "breached"), done_at
    if now >= due:
        return "breached", None
    return ("paused" if paused else "pending"), None


OUTCOME_LABELS = {
    "met": SlaState.MET.label,
    "breached": SlaState.BREACHED.label,
    "pending": SlaState.OK.label,
    "paused": SlaState.PAUSED.label,
}


def _rows(result, *, calendar, created_at, spans, responded, resolved_at, now) -> tuple[dict, ...]:
    """The explanation: every deadline with how it was reached, and every pause."""
    paused = result.state == SlaState.PAUSED
    rows: list[dict] = [{"key": "created", "label": _("Created"), "at": created_at}]
    for key, label, due, done_at, done_label in (
        (
            FIRST_RESPONSE,
            _("First response due"),
            result.first_response_due_at,
            responded,
            _("responded"),
        ),
        (RESOLUTION, _("Resolution due"), result.resolution_due_at, resolved_at, _("resolved")),
    ):
        status, at = _outcome(due, done_at, now, paused)
        detail = f"{done_label} {timezone.localtime(at):%Y-%m-%d %H:%M}" if at else ""
        if due is None:
            detail = _("not known while the clock is paused")
        rows.append(
            {
                "key": key,
                "label": label,
                "at": due,
                "status": status,
                "status_label": str(OUTCOME_LABELS[status]),
                "detail": detail,
            }
        )
    if result.warning_at is not None:
        rows.append(
            {
                "key": "warning",
                "label": _("Warning"),
                "at": result.warning_at,
                "detail": _("first response")
                if result.active_target == FIRST_RESPONSE
                else _("resolution"),
                "status": "warned" if result.warned_at else "pending",
                "status_label": _("warned") if result.warned_at else "",
            }
        )
    for start, end in spans:
        minutes = business_minutes_between(calendar, start, end or now)
        rows.append(
            {
                "key": "pause",
                "label": _("Paused"),
                "at": start,
                "until": end,
                "minutes": minutes,
                "detail": _("%(minutes)d business minutes") % {"minutes": minutes},
                "status": "paused" if end is None else "",
                "status_label": _("still paused") if end is None else "",
            }
        )
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    rows.sort(key=lambda row: row["at"] or far)
    return tuple(rows)


# ---------------------------------------------------------------- the database part


def policy_for(ticket):
    """The SlaPolicy of the ticket's project and severity (with its calendar), or None."""
    if ticket.project_id is None:
        return None
    return (
        SlaPolicy.objects.select_related("project", "calendar")
        .prefetch_related("calendar__periods", "calendar__closed_days")
        .filter(project_id=ticket.project_id, severity=ticket.severity)
        .first()
    )


def evaluate(
    ticket,
    *,
    policy,
    pauses: Iterable[Pause],
    now: dt.datetime,
    calendar: Calendar | None = None,
    explain: bool = True,
) -> SlaResult:
    """``compute`` for a ticket row with the given policy (a calendar without time counts as none).

    ``calendar`` is the policy's calendar already built (the sweep builds it once per run).
    """
    targets = PolicyTargets.from_policy(policy) if policy is not None else None
    if policy is None:
        calendar = None
    elif calendar is None:
        calendar = Calendar.from_model(policy.calendar)
    kwargs = {
        "created_at": ticket.created_at,
        "pauses": pauses,
        "first_responded_at": ticket.first_responded_at,
        "resolved_at": ticket.resolved_at if ticket.status in DONE_STATUSES else None,
        "now": now,
        "warned_at": ticket.sla_warned_at,
        "breached_at": ticket.sla_breached_at,
        "explain": explain,
    }
    try:
        return compute(policy_targets=targets, calendar=calendar, **kwargs)
    except CalendarError:
        logger.warning("SLA calendar %s has no working time", policy.calendar_id)
        return compute(policy_targets=None, calendar=None, **kwargs)


def _sync_pauses(ticket, now: dt.datetime) -> list[Pause]:
    """Open a pause when the status stops the clock, close it otherwise; return all pauses."""
    rows = list(SlaPause.objects.filter(ticket_id=ticket.pk).order_by("started_at", "pk"))
    open_pause = next((p for p in rows if p.ended_at is None), None)
    stops = ticket.status in PAUSED_STATUSES or ticket.status in DONE_STATUSES
    if open_pause is not None and (not stops or open_pause.reason != ticket.status):
        open_pause.ended_at = max(now, open_pause.started_at)
        SlaPause.objects.filter(pk=open_pause.pk).update(ended_at=open_pause.ended_at)
        open_pause = None
    if stops and open_pause is None:
        rows.append(SlaPause.objects.create(ticket=ticket, started_at=now, reason=ticket.status))
    return [(p.started_at, p.ended_at) for p in rows]


def _stored_values(result: SlaResult, policy) -> dict:
    return {
        "sla_policy_id": policy.pk if policy is not None else None,
        "sla_state": result.state,
        "first_response_due_at": result.first_response_due_at,
        "resolution_due_at": result.resolution_due_at,
        "sla_warning_at": result.warning_at,
        "sla_next_check_at": result.next_check_at,
        "sla_warned_at": result.warned_at,
        "sla_breached_at": result.breached_at,
    }


def _mirror(ticket, values: dict, policy) -> None:
    for name, value in values.items():
        setattr(ticket, name, value)
    if policy is not None:
        ticket.sla_policy = policy


def write_result(ticket, result: SlaResult, *, policy, extra: dict | None = None) -> None:
    """Store the result with one UPDATE (and the sweep's clock) and mirror it on the instance."""
    values = {**_stored_values(result, policy), **(extra or {})}
    Ticket.objects.filter(pk=ticket.pk).update(**values)
    schedule([(ticket.pk, result.next_check_at)])
    _mirror(ticket, values, policy)


def schedule(moments: Sequence[tuple[int, dt.datetime | None]]) -> None:
    """Set the sweep's clock of each ``(ticket id, next check or None)``: the same moment
    the ticket stores as ``sla_next_check_at``. Call it where that field is written, in
    the same transaction, with the ticket row locked (or just created)."""
    later = {pk: at for pk, at in moments if at is not None}
    done = [pk for pk, at in moments if at is None]
    if done:
        SlaClock.objects.filter(ticket_id__in=done).delete()
    if later:
        SlaClock.objects.bulk_create(
            [SlaClock(ticket_id=pk, next_check_at=at) for pk, at in later.items()],
            update_conflicts=True,
            unique_fields=["ticket"],
            update_fields=["next_check_at"],
        )


def write_results(entries: Sequence[tuple], *, also: Sequence[str] = ()) -> None:
    """Store many results at once (the sweep's batch) and mirror them on the instances.

    ``entries`` are ``(ticket, result, policy)``; ``also`` names further ticket fields
    to store as the instances hold them (the sweep's raised tier). One
    ``UPDATE … FROM (VALUES …)`` on PostgreSQL; elsewhere ``bulk_update``.
    """
    if not entries:
        return
    tickets = []
    for ticket, result, policy in entries:
        _mirror(ticket, _stored_values(result, policy), policy)
        tickets.append(ticket)
    names = [*SLA_FIELDS, *also]
    if connection.vendor == "postgresql":
        _update_from_values(tickets, names)
    else:
        Ticket.objects.bulk_update(tickets, names)
    schedule([(ticket.pk, ticket.sla_next_check_at) for ticket in tickets])


def _update_from_values(tickets: list, names: list[str]) -> None:
    """One UPDATE joining a VALUES list; casts each value to its column's type."""
    meta = Ticket._meta
    fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    pk = meta.pk
    columns = [pk, *fields]
    row = "(" + ", ".join(f"%s::{f.db_type(connection)}" for f in columns) + ")"
    params: list = []
    for ticket in tickets:
        for f in columns:
            params.append(f.get_db_prep_save(getattr(ticket, f.attname), connection))
    sql = "UPDATE {table} AS t SET {sets} FROM (VALUES {rows}) AS v ({names}) WHERE t.{pk} = v.{pk}"
    with connection.cursor() as cursor:
        cursor.execute(
            sql.format(
                table=quote(meta.db_table),
                sets=", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in fields),
                rows=", ".join([row] * len(tickets)),
                names=", ".join(quote(f.column) for f in columns),
                pk=quote(pk.column),
            ),
            params,
        )


def recompute(ticket, *, now: dt.datetime | None = None) -> SlaResult:
    """Bring the ticket's pauses and SLA fields up to date (call inside the service's
    transaction, with the ticket row locked, after the change is saved)."""
    now = now or timezone.now()
    with transaction.atomic():
        # The sweep's stamps as stored, not as a caller's possibly older copy has them.
        stored = Ticket.objects.filter(pk=ticket.pk).values(*STAMPS).first() or {}
        for name, value in stored.items():
            setattr(ticket, name, value)
        pauses = _sync_pauses(ticket, now)
        extra = {}
        if (
            ticket.first_responded_at is None
            and ticket.status in DONE_STATUSES
            and ticket.resolved_at is not None
        ):
            # The resolution was the first response: it stays one after a reopen.
            extra["first_responded_at"] = ticket.first_responded_at = ticket.resolved_at
        policy = policy_for(ticket)
        old_policy_id = ticket.sla_policy_id
        result = evaluate(ticket, policy=policy, pauses=pauses, now=now)
        write_result(ticket, result, policy=policy, extra=extra)
        new_policy_id = policy.pk if policy is not None else None
        if old_policy_id != new_policy_id:
            record_event(
                ticket=ticket,
                kind=EventKind.SLA_POLICY,
                data={
                    "from": old_policy_id,
                    "to": new_policy_id,
                    "policy": str(policy) if policy is not None else "",
                    "calendar": policy.calendar.name if policy is not None else "",
                },
            )
    return result


def explain(ticket, *, now: dt.datetime | None = None) -> list[dict]:
    """Rows for the SLA timeline on the ticket page (read only; nothing is written)."""
    now = now or timezone.now()
    policy = policy_for(ticket) if ticket.sla_policy_id is None else stored_policy(ticket)
    if policy is None:
        return [
            {
                "key": "policy",
                "label": _("No SLA"),
                "detail": _("No SLA policy covers this ticket's project and severity."),
            }
        ]
    pauses = SlaPause.objects.filter(ticket_id=ticket.pk).values_list("started_at", "ended_at")
    result = evaluate(ticket, policy=policy, pauses=list(pauses), now=now)
    calendar = Calendar.from_model(policy.calendar)
    header = {
        "key": "policy",
        "label": _("Policy"),
        "detail": _(
            "%(policy)s: first response %(first)d, resolution %(resolution)d business"
            " minutes, warning at %(percent)d%%; calendar %(calendar)s (%(rule)s)"
        )
        % {
            "policy": policy,
            "first": policy.first_response_minutes,
            "resolution": policy.resolution_minutes,
            "percent": policy.warning_percent,
            "calendar": policy.calendar.name,
            "rule": calendar.describe(),
        },
        "status": result.state,
        "status_label": str(SlaState(result.state).label),
    }
    return [header, *result.rows]


def stored_policy(ticket):
    return (
        SlaPolicy.objects.select_related("project", "calendar")
        .prefetch_related("calendar__periods", "calendar__closed_days")
        .filter(pk=ticket.sla_policy_id)
        .first()
    )


__all__ = [
    "FIRST_RESPONSE",
    "RESOLUTION",
    "PolicyTargets",
    "SlaResult",
    "compute",
    "deadline",
    "evaluate",
    "explain",
    "merge_pauses",
    "policy_for",
    "recompute",
    "restamp",
    "schedule",
    "stored_policy",
    "write_result",
    "write_results",
]
