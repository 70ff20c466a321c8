"""The SLA sweep against other transactions on PostgreSQL, with real threads and row locks."""

from __future__ import annotations

import threading

import pytest
from django.db import connections, transaction

from frontline.desk import sla, sweep
from frontline.desk.models import Ticket, TicketEvent
from frontline.desk.states import EventKind
from frontline.desk.tests.test_sla_support import office_policy, sh, ticket_at
from frontline.notifications.models import Notification, OutboundEmail
from frontline.testing import factories as f

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_only"),
]

MONDAY_9 = sh(2026, 3, 16, 9)
WARNING_DUE = sh(2026, 3, 16, 9, 50)


@pytest.fixture
def due(cast):
    """Three tickets whose first-response warning is due at 09:50."""
    policy = office_policy(f.ProjectFactory(customer=cast.customer_a))
    tickets = [ticket_at(policy, MONDAY_9, owner=cast.agent) for _ in range(3)]
    for ticket in tickets:
        sla.recompute(ticket, now=MONDAY_9)
    return tickets


def hold_lock(pk: int, locked: threading.Event, release: threading.Event) -> None:
    """Another transaction (a ticket service, say) holding the ticket's row lock."""
    try:
        with transaction.atomic():
            Ticket.objects.select_for_update().get(pk=pk)
            locked.set()
            release.wait(timeout=10)
    finally:
        connections.close_all()


def warnings_of(ticket) -> int:
    return TicketEvent.objects.filter(ticket=ticket, kind=EventKind.SLA_WARNING).count()


def test_a_locked_ticket_is_left_to_the_next_run_and_the_rest_are_swept(due, cast):
    # Given someone holds the second ticket's row lock
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_lock, args=(due[1].pk, locked, release))
    holder.start()
    assert locked.wait(timeout=10)
    try:
        # When the sweep runs (it must not wait for the lock)
        report = sweep.sweep(now=WARNING_DUE)
    finally:
        release.set()
        holder.join(timeout=10)

    # Then the other two are warned, the locked one is reported as left over
    assert (report.checked, report.warned, report.skipped) == (2, 2, 1)
    assert [warnings_of(t) for t in due] == [1, 0, 1]
    # and the next run warns it, once
    again = sweep.sweep(now=WARNING_DUE)
    assert (again.checked, again.warned, again.skipped) == (1, 1, 0)
    assert [warnings_of(t) for t in due] == [1, 1, 1]
    assert Notification.objects.filter(kind="desk.sla_warning", recipient=cast.agent).count() == 3


def test_two_sweeps_at_once_warn_each_ticket_once(due, cast):
    results: list = [None, None]
    barrier = threading.Barrier(2, timeout=10)

    def run(i):
        try:
            barrier.wait()
            results[i] = sweep.sweep(now=WARNING_DUE, batch_size=1)
        except Exception as exc:  # noqa: BLE001 - the outcome is what we test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert all(isinstance(r, sweep.SweepReport) for r in results), results
    assert sum(r.warned for r in results) == 3
    assert [warnings_of(t) for t in due] == [1, 1, 1]
    assert Notification.objects.filter(kind="desk.sla_warning", recipient=cast.agent).count() == 3


@pytest.fixture
def many_due(cast):
    """Twenty-five tickets whose first-response warning is due at 09:50, and one more
    whose first response is only due at 11:00 (not yet due for anything)."""
    policy = office_policy(f.ProjectFactory(customer=cast.customer_a))
    tickets = [ticket_at(policy, MONDAY_9, owner=cast.agent) for _ in range(25)]
    later = ticket_at(policy, sh(2026, 3, 16, 10), owner=cast.agent)
    for ticket in [*tickets, later]:
        sla.recompute(ticket, now=MONDAY_9)
    return tickets, later


@pytest.mark.parametrize("defer_notices", [False, True])
def test_a_sweep_on_three_workers_warns_each_due_ticket_once(many_due, cast, defer_notices):
    tickets, later = many_due

    # When the sweep takes batches of four on three threads, each with its own connection
    report = sweep.sweep(now=WARNING_DUE, batch_size=4, workers=3, defer_notices=defer_notices)

    # Then every due ticket is warned once, the later one not at all, and nothing is left
    assert report.warned == 25
    assert report.skipped == 0
    assert [warnings_of(t) for t in tickets] == [1] * 25
    assert warnings_of(later) == 0
    notices = Notification.objects.filter(kind="desk.sla_warning", recipient=cast.agent)
    assert notices.count() == 25
    assert len(set(notices.values_list("url", flat=True))) == 25  # one per ticket
    # and a second run finds nothing to do
    again = sweep.sweep(now=WARNING_DUE, batch_size=4, workers=3)
    assert (again.warned, again.breached, again.skipped) == (0, 0, 0)


def test_an_error_in_one_worker_reaches_the_caller_and_the_committed_batches_stand(
    many_due, monkeypatch
):
    tickets, _later = many_due
    broken = tickets[-1].pk
    check = sweep._check

    def failing_check(ticket, pauses, *, batch, report):
        if ticket.pk == broken:
            raise RuntimeError("calendar service down")
        return check(ticket, pauses, batch=batch, report=report)

    monkeypatch.setattr(sweep, "_check", failing_check)

    # When one ticket's check fails in whichever thread takes it
    with pytest.raises(RuntimeError, match="calendar service down"):
        sweep.sweep(now=WARNING_DUE, batch_size=1, workers=2)

    # Then the batch it was in is undone (one ticket per batch here) and every other is kept
    assert warnings_of(tickets[-1]) == 0
    assert sum(warnings_of(t) for t in tickets[:-1]) >= 1
    # and once the cause is gone the next run finishes the job, each ticket warned once
    monkeypatch.setattr(sweep, "_check", check)
    sweep.sweep(now=WARNING_DUE, batch_size=1, workers=2)
    assert [warnings_of(t) for t in tickets] == [1] * 25


def test_a_run_hands_its_committed_batches_to_one_job_per_notices_per_job(
    many_due, cast, monkeypatch
):
    from frontline.desk import tasks

    tickets, _later = many_due
    queued: list = []
    monkeypatch.setattr(tasks.deliver_sla_notices, "delay", queued.append)
    monkeypatch.setattr(sweep, "NOTICES_PER_JOB", 20)

    # When one worker sweeps the 25 warnings in batches of four (seven batches)
    sweep.sweep(now=WARNING_DUE, batch_size=4, defer_notices=True)

    # Then the first five batches (20 notices) go to one job, the last two to another
    assert [len(ids) for ids in queued] == [5, 2]
    assert not Notification.objects.exists()
    # and each job notifies its batches together: one email for the owner per job
    assert [tasks.deliver_sla_notices(ids) for ids in queued] == [20, 5]
    assert Notification.objects.filter(recipient=cast.agent).count() == 25
    assert OutboundEmail.objects.filter(to=cast.agent.email).count() == 2
