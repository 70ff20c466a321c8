"""The sweep's clock and its deferred notices.

The story: an S2 ticket opened on Monday 09:00 (warning 09:48, first response 10:00,
resolution 17:00), owned by the agent, in a team led by the lead. The clock (the
sweep's index) always says what the ticket stores as its next check. The beat task
sweeps with the notices deferred: the batch's job delivers them after commit, once,
also when it is retried, lost or fails half-way.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from frontline.desk import sla, sweep, sweep_notices, sweep_writes
from frontline.desk.models import SlaClock, SlaNoticeBatch, Ticket
from frontline.desk.states import TicketStatus
from frontline.desk.tests.test_sla_support import office_policy, set_status, sh, ticket_at
from frontline.notifications import services as notifications
from frontline.notifications.models import Notification, OutboundEmail
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db

MONDAY_9 = sh(2026, 3, 16, 9)


@pytest.fixture
def team_lead(cast):
    return f.member("agent", cast.operator, email="lead@t.example", display_name="组长")


@pytest.fixture
def ticket(cast, team_lead):
    policy = office_policy(f.ProjectFactory(customer=cast.customer_a))
    ticket = ticket_at(policy, MONDAY_9, owner=cast.agent, team=f.TeamFactory(lead=team_lead))
    sla.recompute(ticket, now=MONDAY_9)
    return ticket


def clock(ticket):
    return SlaClock.objects.filter(ticket=ticket).values_list("next_check_at", flat=True).first()


def stored_next(ticket):
    return Ticket.objects.values_list("sla_next_check_at", flat=True).get(pk=ticket.pk)


# ---------------------------------------------------------------- the clock


def test_the_clock_follows_the_ticket_s_next_check_through_its_life(ticket):
    # Given a new ticket: its clock is its warning moment
    assert clock(ticket) == stored_next(ticket) == sh(2026, 3, 16, 9, 48)
    # When the warning fires, the clock moves to the first-response deadline
    sweep.sweep(now=sh(2026, 3, 16, 9, 50))
    assert clock(ticket) == stored_next(ticket) == sh(2026, 3, 16, 10)
    # When the ticket waits on the customer, nothing is pending: no clock
    set_status(ticket, TicketStatus.WAITING_CUSTOMER)
    sla.recompute(ticket, now=sh(2026, 3, 16, 9, 55))
    assert clock(ticket) is stored_next(ticket) is None
    # When it is worked on again, the clock is back
    set_status(ticket, TicketStatus.IN_PROGRESS)
    sla.recompute(ticket, now=sh(2026, 3, 16, 11))
    assert clock(ticket) == stored_next(ticket) is not None
    # When it is resolved, the clock is gone for good
    set_status(ticket, TicketStatus.RESOLVED, resolved_at=sh(2026, 3, 16, 11, 30))
    sla.recompute(ticket, now=sh(2026, 3, 16, 11, 30))
    assert clock(ticket) is stored_next(ticket) is None


def test_after_both_deadlines_are_notified_the_clock_is_gone(ticket):
    sweep.sweep(now=sh(2026, 3, 17, 12))
    assert clock(ticket) is stored_next(ticket) is None
    assert sweep.sweep(now=sh(2026, 3, 18, 12)).checked == 0


def test_a_restart_loses_no_timer_the_clock_is_a_row(ticket):
    # Nothing is held in memory between runs: a new process finds the same due ticket.
    assert SlaClock.objects.filter(next_check_at__lte=sh(2026, 3, 16, 9, 50)).count() == 1
    assert sweep.sweep(now=sh(2026, 3, 16, 9, 50)).warned == 1


def test_no_index_of_the_ticket_covers_what_a_warning_changes():
    # A warning writes these columns only; an index on any of them would make every
    # warning's update write every index of desk_ticket (no HOT update).
    changed = {"sla_state", "sla_warned_at", "sla_next_check_at", "sla_warning_at", "tier"}
    meta = Ticket._meta
    indexed = set()
    for index in meta.indexes:
        indexed |= {name.lstrip("-") for name in index.fields}
        if index.condition is not None:
            indexed |= {child[0].split("__")[0] for child in index.condition.children}
    for constraint in meta.constraints:
        indexed |= set(getattr(constraint, "fields", ()))
    indexed |= {f.name for f in meta.concrete_fields if f.db_index or f.unique}
    assert not changed & indexed


# ---------------------------------------------------------------- deferred notices


def test_the_beat_sweep_stamps_now_and_its_job_notifies_after_commit(
    ticket, cast, team_lead, monkeypatch, django_capture_on_commit_callbacks
):
    from frontline.desk import tasks

    queued = []
    monkeypatch.setattr(tasks.deliver_sla_notices, "delay", queued.append)
    # When the beat task's sweep finds the warning and the breach due (after downtime)
    with django_capture_on_commit_callbacks(execute=True):
        report = sweep.sweep(now=sh(2026, 3, 16, 10, 5), defer_notices=True)
        # Then the stamps and events are written, the notices not yet: one batch says
        # what fired, and no job has it before the batch commits
        assert (report.warned, report.breached) == (1, 1)
        assert not Notification.objects.exists() and not OutboundEmail.objects.exists()
        batch = SlaNoticeBatch.objects.get()
        assert [row[:2] for row in batch.fired] == [
            [ticket.pk, "warning"],
            [ticket.pk, "breach"],
        ]
        assert queued == []
    # When it commits, one job is handed the batch
    assert queued == [[batch.pk]]
    # and runs (twice: a broker may deliver a task twice)
    assert tasks.deliver_sla_notices(*queued[0]) == 3
    assert tasks.deliver_sla_notices(*queued[0]) == 0
    # Then each person has the notice once
    inbox = sorted(Notification.objects.values_list("recipient_id", "kind"))
    assert inbox == sorted(
        [
            (cast.agent.pk, "desk.sla_warning"),
            (team_lead.pk, "desk.sla_breach"),
            (cast.manager.pk, "desk.sla_breach"),
        ]
    )
    assert OutboundEmail.objects.count() == 3
    batch.refresh_from_db()
    assert batch.delivered_at is not None


def test_deferred_notices_read_as_the_ones_sent_at_once(ticket, cast, team_lead):
    sweep.sweep(now=sh(2026, 3, 16, 10, 5), defer_notices=True)
    sweep.deliver_notices(SlaNoticeBatch.objects.get().pk)
    deferred = sorted(
        Notification.objects.values_list("recipient_id", "kind", "dedupe_key", "title")
    )
    # The same check, notified at once on a copy of the ticket
    Notification.objects.all().delete()
    Ticket.objects.filter(pk=ticket.pk).update(
        sla_warned_at=None, sla_breached_at=None, sla_next_check_at=sh(2026, 3, 16, 9, 48)
    )
    sla.schedule([(ticket.pk, sh(2026, 3, 16, 9, 48))])
    sweep.sweep(now=sh(2026, 3, 16, 10, 5))
    at_once = sorted(
        Notification.objects.values_list("recipient_id", "kind", "dedupe_key", "title")
    )
    assert deferred == at_once and len(at_once) == 3


def test_a_lost_job_is_delivered_by_a_later_beat_run_once(ticket, cast):
    # Given the sweep's job never ran (the broker lost it)
    sweep.sweep(now=sh(2026, 3, 16, 9, 50), defer_notices=True)
    batch = SlaNoticeBatch.objects.get()
    # When a beat run looks less than two minutes later, it leaves the job its chance
    assert sweep.deliver_stale_notices(now=batch.created_at + sweep_notices.STALE_AFTER / 2) == 0
    assert not Notification.objects.exists()
    # and later it delivers the batch, once
    later = batch.created_at + sweep_notices.STALE_AFTER * 2
    assert sweep.deliver_stale_notices(now=later) == 1
    assert sweep.deliver_stale_notices(now=later) == 0
    assert Notification.objects.filter(recipient=cast.agent, kind="desk.sla_warning").count() == 1


def test_a_job_that_fails_half_way_leaves_nothing_and_its_retry_notifies_once(
    ticket, cast, monkeypatch
):
    sweep.sweep(now=sh(2026, 3, 16, 10, 5), defer_notices=True)
    batch = SlaNoticeBatch.objects.get()
    real = notifications.notify_many

    def half_way(items, **kwargs):
        real(items, **kwargs)  # the inbox rows are written, then the worker dies
        raise RuntimeError("worker killed")

    monkeypatch.setattr(notifications, "notify_many", half_way)
    with pytest.raises(RuntimeError):
        sweep.deliver_notices(batch.pk)
    assert not Notification.objects.exists()  # rolled back with the batch's stamp
    batch.refresh_from_db()
    assert batch.delivered_at is None
    monkeypatch.setattr(notifications, "notify_many", real)
    assert sweep.deliver_notices(batch.pk) == 3
    assert sweep.deliver_notices(batch.pk) == 0
    assert Notification.objects.count() == 3


def test_the_beat_task_defers_and_hands_the_batch_to_its_job(
    ticket, cast, monkeypatch, django_capture_on_commit_callbacks
):
    from frontline.desk import tasks

    queued = []
    monkeypatch.setattr(tasks.deliver_sla_notices, "delay", queued.append)
    monkeypatch.setattr(sweep.timezone, "now", lambda: sh(2026, 3, 16, 9, 50))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_sla()["warned"] == 1
    batch = SlaNoticeBatch.objects.get()
    assert queued == [[batch.pk]] and not Notification.objects.exists()
    assert tasks.deliver_sla_notices(batch.pk) == 1
    assert tasks.deliver_sla_notices(batch.pk) == 0


def test_pauses_are_read_for_the_whole_batch(ticket):
    set_status(ticket, TicketStatus.WAITING_CUSTOMER)
    sla.recompute(ticket, now=sh(2026, 3, 16, 9, 30))
    rows = sweep_writes.pauses_of([ticket.pk])
    assert [(pk, start) for pk, start, _end in rows] == [(ticket.pk, sh(2026, 3, 16, 9, 30))]


def test_a_decided_result_has_every_field_of_a_constructed_one(ticket):
    import dataclasses

    result = sla.evaluate(ticket, policy=ticket.sla_policy, pauses=[], now=MONDAY_9)
    again = sla.restamp(result, now=MONDAY_9, warned_at=None, breached_at=None)
    names = {f.name for f in dataclasses.fields(sla.SlaResult)}
    assert names <= set(vars(again)) and again == dataclasses.replace(again)
    assert again.next_check_at == result.next_check_at == sh(2026, 3, 16, 9, 48)
    with pytest.raises(dataclasses.FrozenInstanceError):
        again.state = "x"


def test_batches_left_pending_are_delivered_together_one_email_per_person(cast):
    # Given three warnings swept in three batches whose job was lost
    policy = office_policy(f.ProjectFactory(customer=cast.customer_a))
    tickets = [ticket_at(policy, sh(2026, 3, 16, 9), owner=cast.agent) for _ in range(3)]
    for each in tickets:
        sla.recompute(each, now=sh(2026, 3, 16, 9))
    sweep.sweep(now=sh(2026, 3, 16, 9, 50), batch_size=1, defer_notices=True)
    assert SlaNoticeBatch.objects.pending().count() == 3
    # When a later beat run delivers them
    later = timezone.now() + sweep_notices.STALE_AFTER * 2
    assert sweep.deliver_stale_notices(now=later) == 3
    # Then the owner has an inbox row per ticket and one email listing all three
    assert Notification.objects.filter(recipient=cast.agent).count() == 3
    emails = OutboundEmail.objects.filter(to=cast.agent.email)
    assert emails.count() == 1
    assert all(t.number in emails.get().body for t in tickets)
    assert not SlaNoticeBatch.objects.pending().exists()
