"""recompute(): pauses follow the status, the policy is found, fields are written, stamps kept."""

from __future__ import annotations

import pytest

from frontline.desk import sla
from frontline.desk.models import SlaPause, Ticket, TicketEvent
from frontline.desk.states import EventKind, Severity, SlaState, TicketStatus
from frontline.desk.tests.test_sla_support import office_policy, set_status, sh, ticket_at

pytestmark = pytest.mark.django_db

MONDAY_9 = sh(2026, 3, 16, 9)


@pytest.fixture
def policy():
    return office_policy()


def test_a_new_ticket_gets_its_deadlines_in_one_update(policy, django_assert_num_queries):
    ticket = ticket_at(policy, MONDAY_9)
    # stamps, pauses, policy (+ periods + closed days), UPDATE, the sweep's clock,
    # policy event, savepoint pair.
    with django_assert_num_queries(10):
        sla.recompute(ticket, now=MONDAY_9)
    assert ticket.sla_policy == policy
    assert ticket.sla_state == SlaState.OK
    assert ticket.first_response_due_at == sh(2026, 3, 16, 10)
    assert ticket.resolution_due_at == sh(2026, 3, 16, 17)
    assert ticket.sla_warning_at == sh(2026, 3, 16, 9, 48)
    assert ticket.sla_next_check_at == ticket.sla_warning_at
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.first_response_due_at, stored.sla_next_check_at, stored.sla_policy_id) == (
        ticket.first_response_due_at,
        ticket.sla_next_check_at,
        policy.pk,
    )
    events = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.SLA_POLICY)
    assert [(e.public, e.data["to"]) for e in events] == [(False, policy.pk)]


def test_recomputing_again_records_no_second_policy_event(policy):
    ticket = ticket_at(policy, MONDAY_9)
    sla.recompute(ticket, now=MONDAY_9)
    sla.recompute(ticket, now=sh(2026, 3, 16, 9, 30))
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.SLA_POLICY).count() == 1


def test_without_a_policy_there_is_no_sla(policy):
    ticket = ticket_at(policy, MONDAY_9, severity=Severity.S4)
    sla.recompute(ticket, now=MONDAY_9)
    assert ticket.sla_state == SlaState.NONE
    assert ticket.first_response_due_at is ticket.sla_next_check_at is ticket.sla_policy_id is None
    no_project = ticket_at(policy, MONDAY_9)
    Ticket.objects.filter(pk=no_project.pk).update(project=None)
    no_project.refresh_from_db()
    sla.recompute(no_project, now=MONDAY_9)
    assert no_project.sla_state == SlaState.NONE


def test_waiting_on_the_customer_pauses_the_clock_and_resuming_pushes_deadlines(policy):
    ticket = ticket_at(policy, MONDAY_9)
    sla.recompute(ticket, now=MONDAY_9)

    set_status(ticket, TicketStatus.WAITING_CUSTOMER)
    sla.recompute(ticket, now=sh(2026, 3, 16, 9, 30))
    assert ticket.sla_state == SlaState.PAUSED and ticket.sla_next_check_at is None
    assert SlaPause.objects.filter(ticket=ticket, ended_at__isnull=True).count() == 1

    set_status(ticket, TicketStatus.IN_PROGRESS)
    sla.recompute(ticket, now=sh(2026, 3, 16, 11))
    assert not SlaPause.objects.filter(ticket=ticket, ended_at__isnull=True).exists()
    # 90 business minutes paused: first response 10:00 → 11:30.
    assert ticket.first_response_due_at == sh(2026, 3, 16, 11, 30)
    assert ticket.sla_state == SlaState.OK


def test_switching_between_waiting_statuses_keeps_one_open_pause(policy):
    ticket = ticket_at(policy, MONDAY_9)
    set_status(ticket, TicketStatus.WAITING_CUSTOMER)
    sla.recompute(ticket, now=sh(2026, 3, 16, 9, 10))
    set_status(ticket, TicketStatus.WAITING_THIRD_PARTY)
    sla.recompute(ticket, now=sh(2026, 3, 16, 9, 40))
    pauses = list(SlaPause.objects.filter(ticket=ticket).values_list("reason", "ended_at"))
    assert pauses == [
        (TicketStatus.WAITING_CUSTOMER, sh(2026, 3, 16, 9, 40)),
        (TicketStatus.WAITING_THIRD_PARTY, None),
    ]


def test_a_policy_change_mid_ticket_keeps_the_paused_time(policy):
    ticket = ticket_at(policy, MONDAY_9)
    set_status(ticket, TicketStatus.WAITING_CUSTOMER)
    sla.recompute(ticket, now=sh(2026, 3, 16, 9, 30))
    set_status(ticket, TicketStatus.IN_PROGRESS)
    sla.recompute(ticket, now=sh(2026, 3, 16, 10, 30))
    # Severity raised to S1, which has its own, stricter policy on the same project.
    strict = office_policy(policy.project, severity=Severity.S1, first_response_minutes=45)
    Ticket.objects.filter(pk=ticket.pk).update(severity=Severity.S1)
    ticket.severity = Severity.S1
    sla.recompute(ticket, now=sh(2026, 3, 16, 10, 40))
    # 30 minutes before the pause + 15 after it (the hour paused does not count).
    assert ticket.first_response_due_at == sh(2026, 3, 16, 10, 45)
    assert ticket.sla_policy == strict
    event = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.SLA_POLICY).last()
    assert (event.data["from"], event.data["to"]) == (policy.pk, strict.pk)


def test_stamps_survive_recompute(policy):
    ticket = ticket_at(policy, MONDAY_9)
    sla.recompute(ticket, now=MONDAY_9)
    Ticket.objects.filter(pk=ticket.pk).update(
        sla_warned_at=sh(2026, 3, 16, 9, 49), sla_breached_at=sh(2026, 3, 16, 10, 1)
    )
    ticket.refresh_from_db()
    sla.recompute(ticket, now=sh(2026, 3, 16, 10, 5))
    ticket.refresh_from_db()
    assert ticket.sla_warned_at == sh(2026, 3, 16, 9, 49)
    assert ticket.sla_breached_at == sh(2026, 3, 16, 10, 1)
    assert ticket.sla_state == SlaState.BREACHED
    # The first response was breached; the resolution (17:00) is still watched.
    assert ticket.sla_next_check_at == ticket.resolution_due_at


def test_resolving_settles_the_state_and_a_reopen_continues_the_clock(policy):
    ticket = ticket_at(policy, MONDAY_9)
    sla.recompute(ticket, now=MONDAY_9)
    set_status(
        ticket,
        TicketStatus.RESOLVED,
        first_responded_at=sh(2026, 3, 16, 9, 20),
        resolved_at=sh(2026, 3, 16, 11),
    )
    sla.recompute(ticket, now=sh(2026, 3, 16, 11))
    assert ticket.sla_state == SlaState.MET and ticket.sla_next_check_at is None
    Ticket.objects.filter(pk=ticket.pk).update(sla_warned_at=sh(2026, 3, 16, 9, 48))
    ticket.sla_warned_at = sh(2026, 3, 16, 9, 48)

    # Reopened on Wednesday morning: the two days it sat resolved do not count.
    set_status(ticket, TicketStatus.REOPENED, resolved_at=None)
    sla.recompute(ticket, now=sh(2026, 3, 18, 9))
    assert ticket.resolution_due_at == sh(2026, 3, 18, 15)
    assert ticket.sla_state == SlaState.OK
    assert ticket.sla_warned_at is None  # the warning moved later: it may fire again
    assert ticket.sla_next_check_at == ticket.sla_warning_at


def test_resolving_late_records_the_breach_even_without_a_sweep(policy):
    ticket = ticket_at(policy, MONDAY_9)
    sla.recompute(ticket, now=MONDAY_9)
    set_status(ticket, TicketStatus.RESOLVED, resolved_at=sh(2026, 3, 17, 10))
    sla.recompute(ticket, now=sh(2026, 3, 17, 10))
    assert ticket.sla_state == SlaState.BREACHED
    assert ticket.sla_breached_at == sh(2026, 3, 16, 10)


def test_explain_describes_policy_calendar_deadlines_and_pauses(policy):
    ticket = ticket_at(policy, MONDAY_9)
    set_status(ticket, TicketStatus.WAITING_THIRD_PARTY)
    sla.recompute(ticket, now=sh(2026, 3, 16, 9, 15))
    set_status(ticket, TicketStatus.IN_PROGRESS)
    sla.recompute(ticket, now=sh(2026, 3, 16, 9, 45))
    rows = sla.explain(ticket, now=sh(2026, 3, 16, 9, 50))
    assert rows[0]["key"] == "policy"
    assert "9×5 Mon–Fri 09:00–18:00" in rows[0]["detail"]
    assert policy.calendar.name in rows[0]["detail"]
    pause = next(r for r in rows if r["key"] == "pause")
    assert pause["minutes"] == 30
    first = next(r for r in rows if r["key"] == "first_response")
    assert first["at"] == sh(2026, 3, 16, 10, 30)


def test_explain_without_policy_says_so(policy):
    ticket = ticket_at(policy, MONDAY_9, severity=Severity.S4)
    rows = sla.explain(ticket)
    assert [r["key"] for r in rows] == ["policy"]
