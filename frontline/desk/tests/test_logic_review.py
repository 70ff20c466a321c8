"""Logic review of the SLA engine, the sweep, the daily report, problems and retrospectives.

Each test tells one story through the services on a fixed clock (Asia/Shanghai).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from frontline.core.errors import ValidationFailed
from frontline.desk import lifecycle, problems, reports, retrospectives, sla, sweep, tickets
from frontline.desk.models import Ticket, TicketEvent
from frontline.desk.states import EventKind, Severity, SlaState, TicketStatus
from frontline.desk.tests.factories import BusinessCalendarFactory, SlaPolicyFactory
from frontline.desk.tests.test_sla_support import office_policy, sh, ticket_at
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db

MONDAY_9 = sh(2026, 3, 16, 9)


@pytest.fixture
def clock(monkeypatch):
    """``clock.at(moment)`` sets what ``timezone.now()`` returns everywhere."""

    class Clock:
        def at(self, moment: dt.datetime) -> None:
            monkeypatch.setattr(timezone, "now", lambda: moment.astimezone(dt.UTC))

    return Clock()


@pytest.fixture
def s2_ticket(cast, clock):
    """An S2 ticket of customer A created Monday 09:00, handled by the agent (office hours:
    first response 60, resolution 480 business minutes, warning at 80 %)."""
    clock.at(MONDAY_9)
    policy = office_policy(f.ProjectFactory(customer=cast.customer_a))
    ticket = ticket_at(
        policy,
        MONDAY_9,
        owner=cast.agent,
        contact=cast.customer_a_user,
        status=TicketStatus.IN_PROGRESS,
        first_handled_at=MONDAY_9,
    )
    sla.recompute(ticket, now=MONDAY_9)
    return ticket


def events(ticket, *kinds) -> list[TicketEvent]:
    return list(TicketEvent.objects.filter(ticket=ticket, kind__in=kinds).order_by("pk"))


# ---------------------------------------------------------------- resolve, reopen


def test_a_resolution_that_counted_as_the_first_response_still_counts_after_a_reopen(
    s2_ticket, cast, clock
):
    # Given the agent resolves at 09:30 without a public reply (the resolution is the
    # first response, in time: due at 10:00)
    clock.at(sh(2026, 3, 16, 9, 30))
    lifecycle.transition(actor=cast.agent, ticket=s2_ticket, to_status=TicketStatus.RESOLVED)
    s2_ticket.refresh_from_db()
    assert s2_ticket.sla_state == SlaState.MET
    # When the customer reopens at 10:00 and the sweep runs later that morning
    clock.at(sh(2026, 3, 16, 10))
    lifecycle.reopen(actor=cast.customer_a_user, ticket=s2_ticket, reason="还是不行")
    clock.at(sh(2026, 3, 16, 11))
    report = sweep.sweep(now=sh(2026, 3, 16, 11))
    # Then the first response stays met: no breach, the resolution is what is watched
    s2_ticket.refresh_from_db()
    assert report.breached == 0
    assert not events(s2_ticket, EventKind.SLA_BREACH)
    assert s2_ticket.sla_state == SlaState.OK
    assert s2_ticket.sla_breached_at is None


# ---------------------------------------------------------------- the daily report


def test_the_daily_report_keeps_a_warning_after_the_first_response(s2_ticket, cast, clock):
    # Given the first-response warning fires at 09:50 and the agent replies at 09:55
    sweep.sweep(now=sh(2026, 3, 16, 9, 50))
    clock.at(sh(2026, 3, 16, 9, 55))
    tickets.reply(actor=cast.agent, ticket=s2_ticket, body="正在处理")
    assert len(events(s2_ticket, EventKind.SLA_WARNING)) == 1
    # When the manager reads Monday's report
    report = reports.build_daily_report(dt.date(2026, 3, 16), cast.manager)
    # Then Monday had one SLA warning on an S2 ticket
    row = next(r for r in report.by_severity if r.severity == Severity.S2)
    assert row.sla_warnings == 1
    assert report.totals.sla_warnings == 1


def test_the_daily_report_keeps_a_breach_after_a_later_breach(s2_ticket, cast, clock):
    # Given the first response is breached on Monday and the resolution on Tuesday
    sweep.sweep(now=sh(2026, 3, 16, 10, 5))
    clock.at(sh(2026, 3, 16, 10, 30))
    tickets.reply(actor=cast.agent, ticket=s2_ticket, body="正在处理")
    sweep.sweep(now=sh(2026, 3, 17, 9, 30))
    assert len(events(s2_ticket, EventKind.SLA_BREACH)) == 2
    # When the manager reads the reports of both days
    monday = reports.build_daily_report(dt.date(2026, 3, 16), cast.manager)
    tuesday = reports.build_daily_report(dt.date(2026, 3, 17), cast.manager)
    # Then each day shows its own breach
    assert monday.totals.sla_breaches == 1
    assert tuesday.totals.sla_breaches == 1


def test_the_daily_report_counts_a_breach_recorded_when_resolving_late(s2_ticket, cast, clock):
    # Given no sweep ran (the resolution at 10:30 records the missed first response)
    clock.at(sh(2026, 3, 16, 10, 30))
    lifecycle.transition(actor=cast.agent, ticket=s2_ticket, to_status=TicketStatus.RESOLVED)
    s2_ticket.refresh_from_db()
    assert s2_ticket.sla_breached_at is not None
    # Then Monday's report counts it
    report = reports.build_daily_report(dt.date(2026, 3, 16), cast.manager)
    assert report.totals.sla_breaches == 1


# ---------------------------------------------------------------- catch-up


def test_after_downtime_the_resolution_warning_still_fires(s2_ticket, cast, clock):
    # Given the system was down from 09:00 until 15:30: the catch-up fires the
    # first-response warning and breach at once
    report = sweep.sweep(now=sh(2026, 3, 16, 15, 30))
    assert (report.warned, report.breached) == (1, 1)
    # When the agent replies at 15:35 (the resolution's warning moment, 15:24, has passed)
    clock.at(sh(2026, 3, 16, 15, 35))
    tickets.reply(actor=cast.agent, ticket=s2_ticket, body="正在处理")
    report = sweep.sweep(now=sh(2026, 3, 16, 15, 36))
    # Then the owner is warned of the resolution due at 17:00, once
    assert report.warned == 1
    warnings = events(s2_ticket, EventKind.SLA_WARNING)
    assert [e.data["target"] for e in warnings] == ["first_response", "resolution"]
    assert sweep.sweep(now=sh(2026, 3, 16, 15, 37)).warned == 0


# ---------------------------------------------------------------- calendars through the models


def test_a_china_holiday_calendar_from_the_database_skips_national_day(cast, clock):
    # Given a 9–18 calendar with China holidays (per chinese-calendar: 国庆 2026-10-01..07,
    # make-up workdays 2026-09-20 and 2026-10-10)
    calendar = BusinessCalendarFactory(use_china_holidays=True)
    policy = SlaPolicyFactory(
        project=f.ProjectFactory(customer=cast.customer_a),
        severity=Severity.S3,
        calendar=calendar,
        first_response_minutes=120,
        resolution_minutes=60 + 540 + 540 + 120,
        warning_percent=50,
    )
    # When a ticket arrives Wednesday 2026-09-30 at 17:00
    ticket = ticket_at(policy, sh(2026, 9, 30, 17), owner=cast.agent)
    clock.at(sh(2026, 9, 30, 17))
    sla.recompute(ticket, now=sh(2026, 9, 30, 17))
    # Then one hour counts on the 30th and the rest after the holiday (Thursday the 8th);
    # the resolution runs through Friday the 9th into the make-up Saturday the 10th
    assert ticket.sla_warning_at == sh(2026, 9, 30, 18)  # 50 %: the last minute of the 30th
    assert ticket.first_response_due_at == sh(2026, 10, 8, 10)
    assert ticket.resolution_due_at == sh(2026, 10, 10, 11)


# ---------------------------------------------------------------- problems


def test_resolving_a_problem_posts_one_public_reply_per_linked_ticket(cast, clock):
    clock.at(MONDAY_9)
    policy = office_policy(f.ProjectFactory(customer=cast.customer_a))
    waiting = ticket_at(policy, MONDAY_9, owner=cast.agent, status=TicketStatus.WAITING_CUSTOMER)
    closed = ticket_at(policy, MONDAY_9, owner=cast.agent, status=TicketStatus.CLOSED)
    other = ticket_at(policy, MONDAY_9, owner=cast.agent)
    problem = problems.create_problem(
        actor=cast.manager, title="冷水机组控制板固件缺陷", tickets=[waiting, closed]
    )
    problems.resolve_problem(actor=cast.manager, problem=problem, public_reply="固件已升级")
    for ticket in (waiting, closed):
        replies = events(ticket, EventKind.REPLY)
        assert len(replies) == 1 and replies[0].public
    assert not events(other, EventKind.REPLY)
    # Statuses are the agents' to change, not the problem's
    assert Ticket.objects.get(pk=waiting.pk).status == TicketStatus.WAITING_CUSTOMER
    assert Ticket.objects.get(pk=closed.pk).status == TicketStatus.CLOSED


# ---------------------------------------------------------------- briefs and retrospectives


def test_the_api_refuses_to_resolve_after_a_fire_call_without_a_brief(api, s2_ticket, cast):
    # Given fire was called on the ticket and no brief is written
    Ticket.objects.filter(pk=s2_ticket.pk).update(had_fire_call=True)
    # When the agent resolves it through the API
    response = api.as_user(cast.agent).post(
        f"/api/v1/tickets/{s2_ticket.pk}/transition/", {"to_status": "resolved"}, format="json"
    )
    # Then it is refused and the ticket stays open
    assert response.status_code == 400
    assert response.json()["code"] == "brief_required"
    assert Ticket.objects.get(pk=s2_ticket.pk).status == TicketStatus.IN_PROGRESS


def test_the_customer_cannot_confirm_an_s1_ticket_before_its_retrospective(cast, clock):
    # Given a resolved S1 ticket without a retrospective
    clock.at(MONDAY_9)
    policy = office_policy(f.ProjectFactory(customer=cast.customer_a), severity=Severity.S1)
    ticket = ticket_at(
        policy,
        MONDAY_9,
        owner=cast.agent,
        contact=cast.customer_a_user,
        status=TicketStatus.RESOLVED,
        resolved_at=MONDAY_9,
    )
    # When the customer confirms the resolution
    with pytest.raises(ValidationFailed) as refused:
        lifecycle.confirm_resolution(actor=cast.customer_a_user, ticket=ticket)
    # Then it stays resolved until the retrospective is written
    assert refused.value.code == "retrospective_required"
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.RESOLVED
    retrospectives.write_retrospective(
        actor=cast.agent, ticket=ticket, summary="冷机停机", attribution="implementation"
    )
    lifecycle.confirm_resolution(actor=cast.customer_a_user, ticket=ticket)
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.CLOSED
