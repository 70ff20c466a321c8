"""The SLA sweep: fire due warnings and breaches, once each, in order.

Celery beat runs :func:`sweep` every minute (``frontline.desk.tasks.sweep_sla``). It
works in batches of tickets whose SLA clock (``SlaClock.next_check_at``, the moment
the ticket stores as ``sla_next_check_at``) has come, oldest first, found through the
clock's index. Each batch is one transaction: one
``SELECT … FOR UPDATE OF desk_ticket SKIP LOCKED`` takes the row locks, so two sweeps
(or a sweep and a ticket service holding a row) never work on the same ticket at once:
the one that cannot lock it leaves it to the next run. In that transaction the sweep
stamps ``sla_warned_at`` (with the warning moment) / ``sla_breached_at`` (with the
time of the run), writes the timeline events, raises the tier when the policy says
so, moves ``sla_next_check_at`` and the clock to the next pending moment (or drops
the clock), and queues the notifications, with a fixed number of statements per batch
whatever its size (``sweep_writes``: one JSON parameter per statement on
PostgreSQL). A warning changes no indexed column of the ticket, so its update is HOT.
The tickets are read as plain values, their owners and team leads once per run.

The notifications: by default written in the batch's transaction (``notify_many``:
inbox rows, email digests). With ``defer_notices`` (the beat task) the batch writes
one :class:`~frontline.desk.models.SlaNoticeBatch` row saying what fired instead; once
the committed batches of a run hold ``NOTICES_PER_JOB`` notices (and at its end) one
job delivers them together (:func:`deliver_notices`), each exactly once; batches whose
job was lost are delivered by a later beat run.

On PostgreSQL the beat task runs the batches on ``DESK_SLA_SWEEP_WORKERS`` threads,
each with its own connection (see :func:`sweep`).

Idempotent: a stamp is what makes a warning or breach "done", and it is written in the
same transaction as its event and its notifications (or their batch row), so a second
run finds nothing to do. After downtime the first run catches up: a missed warning
fires, then the breach. Breach notifications go to the ticket team's lead, then to
every active manager of the operator; warnings to the owner. Notification keys
include the deadline, so a retry never notifies twice.

Each ticket gets its own inbox row per recipient (a link to act on, read or unread on
its own); the email is a digest: a person with several warnings (or breaches) in one
batch (with ``defer_notices``: in one delivery job) gets one email listing them
(:func:`digest`), a person with one gets that ticket's email as before.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import threading
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields

from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from frontline import jobs
from frontline.core.bulk import set_based
from frontline.desk import sla, sweep_notices, sweep_writes
from frontline.desk.models import SlaClock, SlaNoticeBatch, SlaPolicy, Ticket
from frontline.desk.states import TIER_ORDER, EventKind, Tier
from frontline.desk.sweep_notices import (
    BREACH,
    DIGEST_LISTED,
    WARNING,
    _Lookups,
    deliver_notices,
    deliver_stale_notices,
    digest,
    escalation_managers,
)

logger = logging.getLogger(__name__)

# One transaction each: its row locks are held for about a tenth of a second at this
# size (a ticket service touching one of those tickets waits that long). Small enough
# that with two workers one checks a batch while the other's is written.
BATCH_SIZE = 1000
# The beat task's notices go to one delivery job per this many (one email per person
# and kind for all of them).
NOTICES_PER_JOB = 5000


@dataclass
class SweepReport:
    checked: int = 0  # tickets checked under lock (not those another sweep had done)
    warned: int = 0
    breached: int = 0
    tier_raised: int = 0
    skipped: int = 0  # still due after the run: locked by someone else, left to the next run

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(slots=True)
class _Due:
    """A locked ticket as the sweep reads it: what the SLA engine and the notices need
    (plain values: a model instance per row, with owner and team joined, cost more than
    the rest of the check)."""

    pk: int
    number: str
    title: str
    status: str
    tier: str
    created_at: dt.datetime
    first_responded_at: dt.datetime | None
    resolved_at: dt.datetime | None
    sla_warned_at: dt.datetime | None
    sla_breached_at: dt.datetime | None
    sla_policy_id: int | None
    clock_at: dt.datetime  # the moment the sweep found it by: its SlaClock's
    owner_id: int
    team_id: int | None
    # As stored, to write only what changes.
    sla_state: str
    first_response_due_at: dt.datetime | None
    resolution_due_at: dt.datetime | None
    sla_warning_at: dt.datetime | None
    sla_next_check_at: dt.datetime | None

    def stored(self) -> tuple:
        """The SLA values as stored, in ``sweep_writes.FIELDS`` order."""
        return (
            self.sla_policy_id,
            self.sla_state,
            self.first_response_due_at,
            self.resolution_due_at,
            self.sla_warning_at,
            self.sla_next_check_at,
            self.sla_warned_at,
            self.sla_breached_at,
            self.tier,
        )


_COLUMNS = [f.name for f in fields(_Due)]
_COLUMNS[0] = "pk"
_COLUMNS[_COLUMNS.index("clock_at")] = "sla_clock__next_check_at"


@dataclass
class _Batch:
    """What one batch writes, gathered while its tickets are checked."""

    now: dt.datetime
    lookups: _Lookups
    notices: _NoticeJobs | None = None  # None: notify in the batch's transaction
    results: list[tuple] = field(default_factory=list)
    stored: list[tuple] = field(default_factory=list)
    clocks: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    # [ticket id, "warning" | "breach", deadline (UTC ISO 8601) or None, target]
    fired: list[list] = field(default_factory=list)
    tickets: dict[int, _Due] = field(default_factory=dict)
    tier_raised: bool = False

    def event(self, ticket: _Due, kind: str, data: dict) -> None:
        # What record_event writes for a system event (no author, no body), in bulk.
        self.events.append((ticket.pk, kind, data))

    def fire(self, ticket: _Due, kind: str, due: str | None, target: str) -> None:
        # ``due``: the deadline as UTC ISO 8601, as the event has it.
        self.fired.append([ticket.pk, kind, due, target])
        self.tickets[ticket.pk] = ticket

    def result(
        self, ticket: _Due, result: sla.SlaResult, policy: SlaPolicy | None, stored: tuple
    ) -> None:
        # The values recompute stores (sla.write_result), and the tier; and as they were.
        self.stored.append(stored)
        self.results.append(
            (
                ticket.pk,
                policy.pk if policy is not None else None,
                result.state,
                result.first_response_due_at,
                result.resolution_due_at,
                result.warning_at,
                result.next_check_at,
                result.warned_at,
                result.breached_at,
                ticket.tier,
            )
        )
        if result.next_check_at != ticket.clock_at:
            self.clocks.append((ticket.pk, result.next_check_at))

    def write(self) -> None:
        sweep_writes.write_batch(
            self.results, tier=self.tier_raised, stored=self.stored, clocks=dict(self.clocks)
        )
        sweep_writes.insert_events(self.events)
        if not self.fired:
            return
        if self.notices is not None:
            self.notices.add(self.fired)
        else:
            sweep_notices.send(self.fired, self.tickets, self.lookups)


class _NoticeJobs:
    """The notice batches one run's committed batches wrote, handed to one delivery job
    together (a person gets one email per kind for all of them) once they hold
    ``NOTICES_PER_JOB`` notices, and at the end of the run. A batch that rolls back
    hands nothing over. Batches a run could not hand over (a broker hiccup, a worker
    killed) are delivered by a later beat run (``deliver_stale_notices``)."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.count = 0
        # The run has ended: a batch whose commit comes later (the sweep ran inside an
        # outer transaction) is handed over at that commit.
        self.closed = False

    def add(self, fired: list[list]) -> None:
        """Write the batch's :class:`SlaNoticeBatch` (inside its transaction)."""
        batch = SlaNoticeBatch.objects.create(fired=fired)
        transaction.on_commit(lambda: self._committed(batch.pk, len(fired)))

    def _committed(self, pk: int, count: int) -> None:
        self.ids.append(pk)
        self.count += count
        if self.closed or self.count >= NOTICES_PER_JOB:
            self.hand_over()

    def close(self) -> None:
        self.closed = True
        self.hand_over()

    def hand_over(self) -> None:
        if not self.ids:
            return
        from frontline.desk import tasks

        # A broker hiccup must not undo the sweep (logged; the rows stay pending).
        jobs.publish_on_commit(tasks.deliver_sla_notices, args=[self.ids])
        self.ids, self.count = [], 0


def sweep(
    now: dt.datetime | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    defer_notices: bool = False,
    workers: int = 1,
) -> SweepReport:
    """Handle every ticket whose next SLA check is due at ``now`` (default: the clock).

    ``defer_notices``: instead of writing the inbox rows and emails in each batch's
    transaction, write what they must say (an :class:`SlaNoticeBatch`) and deliver it
    after commit in a background job (:func:`deliver_notices`), exactly once. The beat
    task does so; a direct call notifies at once.

    ``workers``: on PostgreSQL, outside a transaction, that many threads each with its
    own connection take batches side by side (the beat task passes
    ``DESK_SLA_SWEEP_WORKERS``). While one thread's batch waits on the database
    another's is checked in Python. They share nothing but the due tickets:
    ``SKIP LOCKED`` gives each ticket to one of them, and a ticket one of them
    locks after the other has committed it is left alone: its row, read anew under the
    lock, shows its next check moved on (as with two beat runs at once). Inside a
    transaction other connections could not see its rows, so the sweep then stays on
    this one.
    """
    now = now or timezone.now()
    report = SweepReport()
    with _collector_paused():
        if workers > 1 and set_based() and not connection.in_atomic_block:
            _in_threads(
                workers, lambda part: _sweep_batches(now, part, batch_size, defer_notices), report
            )
        else:
            _sweep_batches(now, report, batch_size, defer_notices)
    report.skipped = SlaClock.objects.filter(next_check_at__lte=now).count()
    return report


def _sweep_batches(
    now: dt.datetime, report: SweepReport, batch_size: int, defer_notices: bool
) -> None:
    """Take batches of due tickets, one transaction each, until none is left."""
    notices = _NoticeJobs() if defer_notices else None
    try:
        _take_batches(now, report, batch_size, notices)
    finally:
        if notices is not None:
            notices.close()  # what the committed batches fired, also after an error


def _take_batches(
    now: dt.datetime, report: SweepReport, batch_size: int, notices: _NoticeJobs | None
) -> None:
    lookups = _Lookups()
    after: tuple[dt.datetime, int] | None = None
    while True:
        due = Ticket.objects.filter(sla_clock__next_check_at__lte=now)
        if after is not None:
            # Keyset paging: a row skipped because it was locked is not read again.
            due = due.filter(
                Q(sla_clock__next_check_at__gt=after[0])
                | Q(sla_clock__next_check_at=after[0], pk__gt=after[1])
            )
        with transaction.atomic():
            sweep_writes.relax_commit()
            seen = _check_batch(
                due,
                now=now,
                report=report,
                lookups=lookups,
                limit=batch_size,
                notices=notices,
            )
        if len(seen) < batch_size:
            break
        after = seen[-1]


def _in_threads(workers: int, work, report: SweepReport) -> None:
    """Run ``work(part_report)`` in ``workers`` threads (this one among them), add their
    reports to ``report``, and raise the first error any of them met (after all ended:
    the batches the others committed stand)."""
    parts = [SweepReport() for _ in range(workers)]
    errors: list[BaseException] = []

    def run(part: SweepReport) -> None:
        try:
            work(part)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
            errors.append(exc)
        finally:
            connections.close_all()  # this thread's own connections only

    threads = [threading.Thread(target=run, args=(part,)) for part in parts[1:]]
    for thread in threads:
        thread.start()
    try:
        work(parts[0])
    finally:
        for thread in threads:
            thread.join()
    for part in parts:
        for name in ("checked", "warned", "breached", "tier_raised"):
            setattr(report, name, getattr(report, name) + getattr(part, name))
    if errors:
        raise errors[0]


@contextmanager
def _collector_paused():
    """Python's cyclic garbage collector off for the sweep: a batch makes tens of
    thousands of short-lived objects (rows, results, JSON), each freed by reference
    counting, and the collector's passes over them (and over everything the process
    holds) cost a third of the checks' time. The rows of one batch are freed before the
    next is read, so memory stays a batch's worth; the little that is cyclic waits for
    the collector's first pass after the sweep. (The collector is the process's: other
    threads of a worker run without it for as long.)"""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check_ticket(
    pk: int,
    *,
    now: dt.datetime,
    report: SweepReport | None = None,
    lookups: _Lookups | None = None,
) -> None:
    """Fire what is due on one ticket, in its own transaction (a one-ticket batch)."""
    report = report if report is not None else SweepReport()
    with transaction.atomic():
        due = Ticket.objects.filter(pk=pk, sla_clock__next_check_at__lte=now)
        if not _check_batch(due, now=now, report=report, lookups=lookups or _Lookups()):
            report.skipped += 1


def _check_batch(
    due, *, now, report, lookups, limit=None, notices: _NoticeJobs | None = None
) -> list[tuple[dt.datetime, int]]:
    """Lock the first ``limit`` tickets of ``due`` that nobody else holds, fire what is
    due on them and write it all (call inside a transaction). Returns the (next check,
    pk) of each, in order."""
    locked = (
        due.select_for_update(skip_locked=True, of=("self",))
        .order_by("sla_clock__next_check_at", "pk")
        .values_list(*_COLUMNS)
    )
    tickets = [_Due(*row) for row in sweep_writes.fetch(locked[:limit] if limit else locked)]
    if not tickets:
        return []
    seen = [(t.clock_at, t.pk) for t in tickets]
    pauses: dict[int, list[sla.Pause]] = defaultdict(list)
    for ticket_id, started_at, ended_at in sweep_writes.pauses_of([t.pk for t in tickets]):
        pauses[ticket_id].append((started_at, ended_at))
    lookups.load_policies({t.sla_policy_id for t in tickets})
    batch = _Batch(now=now, lookups=lookups, notices=notices)
    for ticket in tickets:
        if _settled_meanwhile(ticket, now):
            batch.clocks.append((ticket.pk, ticket.sla_next_check_at))
            continue
        _check(ticket, pauses[ticket.pk], batch=batch, report=report)
        report.checked += 1
    batch.write()
    return seen


def _settled_meanwhile(ticket: _Due, now: dt.datetime) -> bool:
    """Whether nothing is due on a ticket after all: found by a clock that had moved on
    by the time its row was locked (another sweep, or a change to the ticket, committed
    in between: the lock reads the ticket's latest values, the clock's as they were when
    the query began). The ticket's own next check, written with its clock under the
    same lock, says so; its clock is then only set to it (again)."""
    return ticket.sla_next_check_at != ticket.clock_at and (
        ticket.sla_next_check_at is None or ticket.sla_next_check_at > now
    )


def _check(ticket: _Due, pauses: list, *, batch: _Batch, report: SweepReport) -> None:
    """Fire what is due on one locked ticket; its writes go to ``batch``."""
    now, lookups = batch.now, batch.lookups
    stored = ticket.stored()
    policy = lookups.policy(ticket.sla_policy_id)
    calendar = lookups.calendar(policy)

    result = sla.evaluate(
        ticket, policy=policy, calendar=calendar, pauses=pauses, now=now, explain=False
    )
    ticket.sla_warned_at = result.warned_at
    if result.warning_due:
        # The moment warned of, not the clock: after downtime a late stamp would hide
        # the next target's warning (recompute clears a stamp before the new moment).
        ticket.sla_warned_at = result.warning_at
        _warn(ticket, result, batch)
        report.warned += 1
    if result.breach_due:
        ticket.sla_breached_at = now
        _breach(ticket, result, batch)
        report.breached += 1
        new_tier = _raised_tier(ticket.tier, policy.raise_tier_on_breach)
        if new_tier:
            batch.event(
                ticket,
                EventKind.TIER,
                {"from": ticket.tier, "to": new_tier, "reason": "sla_breach"},
            )
            ticket.tier = new_tier
            batch.tier_raised = True
            report.tier_raised += 1
    if result.warning_due or result.breach_due:
        # What is pending now that the stamps are set (the deadlines stay as they are).
        result = sla.restamp(
            result, now=now, warned_at=ticket.sla_warned_at, breached_at=ticket.sla_breached_at
        )
    batch.result(ticket, result, policy, stored)


def _raised_tier(current: str, target: str) -> str | None:
    if not target or target not in TIER_ORDER:
        return None
    order = [str(t) for t in TIER_ORDER]
    here = order.index(current) if current in order else order.index(Tier.L1)
    return target if order.index(target) > here else None


def _target_of(result, due: dt.datetime | None) -> str:
    return sla.FIRST_RESPONSE if due == result.first_response_due_at else sla.RESOLUTION


def _utc_iso(moment: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC (the deadlines are UTC already: no conversion then)."""
    if moment is None:
        return None
    if moment.tzinfo is not dt.UTC:
        moment = moment.astimezone(dt.UTC)
    return moment.isoformat()


def _warn(ticket, result, batch: _Batch) -> None:
    due = _utc_iso(result.active_due_at)
    batch.event(
        ticket,
        EventKind.SLA_WARNING,
        {"target": result.active_target, "due": due, "warning_at": _utc_iso(result.warning_at)},
    )
    batch.fire(ticket, WARNING, due, result.active_target or sla.RESOLUTION)


def _breach(ticket, result, batch: _Batch) -> None:
    due = result.breach_due_at
    target = _target_of(result, due)
    due = _utc_iso(due)
    batch.event(ticket, EventKind.SLA_BREACH, {"target": target, "due": due})
    batch.fire(ticket, BREACH, due, target)


__all__ = [
    "DIGEST_LISTED",
    "SweepReport",
    "check_ticket",
    "deliver_notices",
    "deliver_stale_notices",
    "digest",
    "escalation_managers",
    "sweep",
]
