"""The SLA sweep against other transactions on PostgreSQL, with real threads and row locks."""

from __future__ import annotations

import threading

import pytest
from django.db import connections, transaction

from frontline.desk import sla, sweep
from frontline.desk.models import Ticket, TicketEvent
from frontline.desk.states import EventKind
from frontline.desk.tests.test_sla_support import office_policy, sh, ticket_at
from frontline.notifications.models import Notification
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
