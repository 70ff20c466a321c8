"""The SLA sweep: warnings and breaches fire once, in order, also after downtime; escalation."""

from __future__ import annotations

import datetime as dt

import pytest

from frontline.desk import sla, sweep
from frontline.desk.models import Ticket, TicketEvent
from frontline.desk.states import EventKind, SlaState, TicketStatus, Tier
from frontline.desk.tasks import recompute_policy_tickets, sweep_sla
from frontline.desk.tests.test_sla_support import office_policy, set_status, sh, ticket_at
from frontline.notifications import services as notifications
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db

MONDAY_9 = sh(2026, 3, 16, 9)


def utc(moment) -> str:
    return moment.astimezone(dt.UTC).isoformat()


@pytest.fixture
def sent(monkeypatch):
    """Every notice handed to notify_many(), in order (the outbox itself is the
    notifications engineer's)."""
    calls = []

    def fake_notify_many(items, *, email=True, digest=None):
        for recipients, kind, title, _body, _url, dedupe_key in items:
            calls.extend((user, kind, dedupe_key, title) for user in recipients)
        return len(calls)

    monkeypatch.setattr(notifications, "notify_many", fake_notify_many)
    return calls


@pytest.fixture
def team_lead(cast):
    return f.member("agent", cast.operator, email="lead@t.example", display_name="组长")


@pytest.fixture
def ticket(cast, team_lead):
    """An S2 ticket on Monday 09:00: warning 09:48, first response 10:00, resolution 17:00."""
    policy = office_policy(f.ProjectFactory(customer=cast.customer_a))
    team = f.TeamFactory(lead=team_lead)
    ticket = ticket_at(policy, MONDAY_9, owner=cast.agent, team=team)
    sla.recompute(ticket, now=MONDAY_9)
    return ticket


def kinds(ticket) -> list[str]:
    wanted = {EventKind.SLA_WARNING, EventKind.SLA_BREACH, EventKind.TIER}
    return [
        e.kind for e in TicketEvent.objects.filter(ticket=ticket, kind__in=wanted).order_by("pk")
    ]


def test_nothing_happens_before_the_warning(ticket, sent):
    report = sweep.sweep(now=sh(2026, 3, 16, 9, 47))
    assert report.checked == 0 and kinds(ticket) == [] and sent == []


def test_a_ticket_found_by_a_clock_that_lags_it_is_left_alone(ticket, sent):
    """As when another sweep warned it between this one's query and its row lock: the
    locked row is the latest, the clock as it was when the query began."""
    from frontline.desk.models import SlaClock

    # Given the ticket was warned already (next check 10:00), its clock still at 09:48
    sweep.sweep(now=sh(2026, 3, 16, 9, 50))
    sent.clear()
    SlaClock.objects.filter(ticket=ticket).update(next_check_at=sh(2026, 3, 16, 9, 48))
    # When a sweep finds it by that clock
    report = sweep.sweep(now=sh(2026, 3, 16, 9, 55))
    # Then nothing is checked or fired again, and the clock is put right
    assert (report.checked, report.warned, report.skipped) == (0, 0, 0)
    assert kinds(ticket) == [EventKind.SLA_WARNING] and sent == []
    assert SlaClock.objects.get(ticket=ticket).next_check_at == sh(2026, 3, 16, 10)


def test_the_warning_fires_once_and_goes_to_the_owner(ticket, sent, cast):
    report = sweep.sweep(now=sh(2026, 3, 16, 9, 50))
    assert (report.checked, report.warned, report.breached) == (1, 1, 0)
    ticket.refresh_from_db()
    assert ticket.sla_warned_at == sh(2026, 3, 16, 9, 48)  # the moment warned of
    assert ticket.sla_state == SlaState.WARNING
    assert ticket.sla_next_check_at == sh(2026, 3, 16, 10)
    assert [(u, k, key) for u, k, key, _t in sent] == [
        (
            cast.agent,
            "desk.sla_warning",
            f"sla-warning:{ticket.pk}:{utc(sh(2026, 3, 16, 10))}",
        )
    ]
    assert ticket.number in sent[0][3]

    again = sweep.sweep(now=sh(2026, 3, 16, 9, 50))
    assert again.as_dict() == sweep.SweepReport().as_dict()
    assert kinds(ticket) == [EventKind.SLA_WARNING] and len(sent) == 1


def test_the_breach_goes_to_the_team_lead_then_the_managers(ticket, sent, cast, team_lead):
    sweep.sweep(now=sh(2026, 3, 16, 9, 50))
    sent.clear()
    report = sweep.sweep(now=sh(2026, 3, 16, 10, 0, 30))
    assert report.breached == 1
    ticket.refresh_from_db()
    assert ticket.sla_state == SlaState.BREACHED
    assert ticket.sla_breached_at == sh(2026, 3, 16, 10, 0, 30)
    key = f"sla-breach:{ticket.pk}:{utc(sh(2026, 3, 16, 10))}"
    assert [(u, k, d) for u, k, d, _t in sent] == [
        (team_lead, "desk.sla_breach", key),
        (cast.manager, "desk.sla_breach", key),
    ]
    # Next: the resolution deadline, still to be watched.
    assert ticket.sla_next_check_at == ticket.resolution_due_at == sh(2026, 3, 16, 17)
    assert sweep.sweep(now=sh(2026, 3, 16, 10, 1)).checked == 0


def test_a_sweep_after_downtime_catches_up_once_in_order(ticket, sent):
    # The system was down from Monday 09:00 until Tuesday noon.
    report = sweep.sweep(now=sh(2026, 3, 17, 12))
    assert (report.warned, report.breached) == (1, 1)
    assert kinds(ticket) == [EventKind.SLA_WARNING, EventKind.SLA_BREACH]
    ticket.refresh_from_db()
    assert ticket.sla_next_check_at is None  # both deadlines are past and notified
    assert [k for _u, k, _d, _t in sent] == [
        "desk.sla_warning",
        "desk.sla_breach",
        "desk.sla_breach",
    ]

    for _ in range(2):
        sweep.sweep(now=sh(2026, 3, 17, 12, 5))
    assert kinds(ticket) == [EventKind.SLA_WARNING, EventKind.SLA_BREACH]


def test_a_missed_first_response_and_a_missed_resolution_are_two_breaches(ticket, sent):
    sweep.sweep(now=sh(2026, 3, 16, 10, 5))
    set_status(ticket, TicketStatus.IN_PROGRESS, first_responded_at=sh(2026, 3, 16, 10, 30))
    sla.recompute(ticket, now=sh(2026, 3, 16, 10, 30))
    # The resolution is active now: a fresh warning at 80 % of 480 minutes (15:24), then 17:00.
    assert ticket.sla_warned_at is None
    assert ticket.sla_next_check_at == sh(2026, 3, 16, 15, 24)
    sweep.sweep(now=sh(2026, 3, 16, 15, 25))
    sweep.sweep(now=sh(2026, 3, 16, 17, 1))
    assert kinds(ticket) == [
        EventKind.SLA_WARNING,
        EventKind.SLA_BREACH,
        EventKind.SLA_WARNING,
        EventKind.SLA_BREACH,
    ]
    breaches = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.SLA_BREACH)
    assert [e.data["target"] for e in breaches] == ["first_response", "resolution"]
    assert len({d for _u, _k, d, _t in sent}) == 4  # each event its own dedupe key


def test_a_breach_raises_the_tier_when_the_policy_says_so(ticket, sent):
    ticket.sla_policy.raise_tier_on_breach = Tier.L3
    ticket.sla_policy.save()
    sweep.sweep(now=sh(2026, 3, 16, 10, 5))
    ticket.refresh_from_db()
    assert ticket.tier == Tier.L3
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.TIER)
    assert (event.data["from"], event.data["to"]) == (Tier.L1, Tier.L3)


def test_the_tier_is_never_lowered(ticket, sent):
    Ticket.objects.filter(pk=ticket.pk).update(tier=Tier.L3)
    ticket.sla_policy.raise_tier_on_breach = Tier.L2
    ticket.sla_policy.save()
    report = sweep.sweep(now=sh(2026, 3, 16, 10, 5))
    ticket.refresh_from_db()
    assert ticket.tier == Tier.L3 and report.tier_raised == 0
    assert not TicketEvent.objects.filter(ticket=ticket, kind=EventKind.TIER).exists()


def test_a_paused_ticket_is_not_swept(ticket, sent):
    set_status(ticket, TicketStatus.WAITING_CUSTOMER)
    sla.recompute(ticket, now=sh(2026, 3, 16, 9, 30))
    assert ticket.sla_next_check_at is None
    assert sweep.sweep(now=sh(2026, 3, 20)).checked == 0
    assert sent == []


def test_a_ticket_whose_policy_was_deleted_just_drops_out(ticket, sent):
    policy = ticket.sla_policy
    Ticket.objects.filter(pk=ticket.pk).update(sla_policy=None)
    policy.delete()
    sweep.sweep(now=sh(2026, 3, 16, 10, 5))
    ticket.refresh_from_db()
    assert ticket.sla_next_check_at is None and ticket.sla_state == SlaState.NONE
    assert sent == []


def test_batches_cover_every_due_ticket(cast, sent):
    policy = office_policy(f.ProjectFactory(customer=cast.customer_a))
    tickets = [ticket_at(policy, MONDAY_9) for _ in range(5)]
    for t in tickets:
        sla.recompute(t, now=MONDAY_9)
    report = sweep.sweep(now=sh(2026, 3, 16, 9, 50), batch_size=2)
    assert report.checked == report.warned == 5


def test_the_celery_task_sweeps_and_reports(ticket, sent, monkeypatch):
    monkeypatch.setattr(sweep.timezone, "now", lambda: sh(2026, 3, 16, 9, 50))
    assert sweep_sla.name == "frontline.desk.tasks.sweep_sla"
    assert sweep_sla()["warned"] == 1


def test_recompute_task_updates_open_tickets_of_a_scope(ticket):
    policy = ticket.sla_policy
    policy.first_response_minutes = 120
    policy.save()
    assert recompute_policy_tickets([[policy.project_id, policy.severity]]) == 1
    ticket.refresh_from_db()
    assert ticket.first_response_due_at is not None
    assert recompute_policy_tickets([]) == 0


def test_notifications_land_in_the_inboxes_once_without_mocks(ticket, cast, team_lead):
    from frontline.notifications.models import Notification

    for _ in range(2):
        sweep.sweep(now=sh(2026, 3, 16, 10, 5))
        # A retry of the same check (as after a crash before the row moved on) adds nothing.
        Ticket.objects.filter(pk=ticket.pk).update(sla_next_check_at=sh(2026, 3, 16, 10))
        sla.schedule([(ticket.pk, sh(2026, 3, 16, 10))])
    breaches = Notification.objects.filter(kind="desk.sla_breach")
    assert sorted(n.recipient_id for n in breaches) == sorted([team_lead.pk, cast.manager.pk])
    assert Notification.objects.filter(kind="desk.sla_warning", recipient=cast.agent).count() == 1
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.SLA_BREACH).count() == 1


def _due_tickets(cast, policy, count):
    for _ in range(count):
        sla.recompute(ticket_at(policy, MONDAY_9, owner=cast.agent), now=MONDAY_9)


def test_a_batch_takes_the_same_statements_for_3_tickets_as_for_30(
    cast, django_assert_max_num_queries
):
    # Given due tickets on one policy (the notifications go to the real inbox and outbox)
    policy = office_policy(f.ProjectFactory(customer=cast.customer_a))
    _due_tickets(cast, policy, 3)
    # When a sweep handles 3 of them, and later 30 in the same single batch
    with django_assert_max_num_queries(30) as few:
        assert sweep.sweep(now=sh(2026, 3, 16, 9, 50)).warned == 3
    _due_tickets(cast, policy, 30)
    # Then the statements do not grow with the tickets: lock, pauses, policy, update,
    # events, notifications and emails once per batch (+ the transaction, the count)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert sweep.sweep(now=sh(2026, 3, 16, 9, 50)).warned == 30


def test_check_ticket_fires_what_is_due_on_one_ticket(ticket, sent, cast):
    report = sweep.SweepReport()
    sweep.check_ticket(ticket.pk, now=sh(2026, 3, 16, 9, 50), report=report)
    assert (report.checked, report.warned, report.skipped) == (1, 1, 0)
    # Not due any more: nothing to lock, nothing fired
    sweep.check_ticket(ticket.pk, now=sh(2026, 3, 16, 9, 50), report=report)
    assert (report.checked, report.warned, report.skipped) == (1, 1, 1)
    assert kinds(ticket) == [EventKind.SLA_WARNING] and len(sent) == 1


@pytest.fixture
def breaching(cast, team_lead):
    """Three tickets of one team, owned by the agent, all past their first response at 10:05."""
    policy = office_policy(f.ProjectFactory(customer=cast.customer_a))
    team = f.TeamFactory(lead=team_lead)
    tickets = [ticket_at(policy, MONDAY_9, owner=cast.agent, team=team) for _ in range(3)]
    for t in tickets:
        sla.recompute(t, now=MONDAY_9)
    return tickets


def test_many_breaches_in_one_batch_make_one_email_per_person_and_an_inbox_row_each(
    breaching, cast, team_lead, django_capture_on_commit_callbacks
):
    from django.core import mail

    from frontline.notifications.models import Notification, OutboundEmail

    # When the sweep finds three missed first responses (and their warnings) at once
    with django_capture_on_commit_callbacks(execute=True):
        report = sweep.sweep(now=sh(2026, 3, 16, 10, 5))
    assert (report.warned, report.breached) == (3, 3)
    # Then every ticket is in each inbox: the owner's warnings, the lead's and manager's breaches
    for person, kind in [
        (cast.agent, "desk.sla_warning"),
        (team_lead, "desk.sla_breach"),
        (cast.manager, "desk.sla_breach"),
    ]:
        rows = Notification.objects.filter(recipient=person, kind=kind)
        assert sorted(n.url for n in rows) == sorted(t.get_absolute_url() for t in breaching)
    # but each person gets one email, which lists the three tickets
    assert OutboundEmail.objects.count() == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [cast.agent.email, team_lead.email, cast.manager.email]
    )
    to_manager = next(m for m in mail.outbox if m.to == [cast.manager.email])
    assert "3" in to_manager.subject
    assert all(t.number in to_manager.body for t in breaching)
    assert "/inbox/" in to_manager.body

    # And a second run (nothing due) or a retry of the same deadlines sends nothing more
    Ticket.objects.filter(pk__in=[t.pk for t in breaching]).update(
        sla_next_check_at=sh(2026, 3, 16, 10), sla_warned_at=None, sla_breached_at=None
    )
    sla.schedule([(t.pk, sh(2026, 3, 16, 10)) for t in breaching])
    with django_capture_on_commit_callbacks(execute=True):
        sweep.sweep(now=sh(2026, 3, 16, 10, 5))
    assert OutboundEmail.objects.count() == 3 and len(mail.outbox) == 3
    assert Notification.objects.count() == 9


def test_one_breach_is_emailed_on_its_own(ticket, cast, django_capture_on_commit_callbacks):
    from django.core import mail

    sweep.sweep(now=sh(2026, 3, 16, 9, 50))
    with django_capture_on_commit_callbacks(execute=True):
        sweep.sweep(now=sh(2026, 3, 16, 10, 5))
    to_manager = [m for m in mail.outbox if m.to == [cast.manager.email]]
    assert len(to_manager) == 1 and ticket.number in to_manager[0].subject


def test_a_digest_lists_the_first_tickets_and_counts_the_rest(cast):
    notices = [
        notifications.Notified(f"SLA breached: T-{i:03d}", "due", f"/desk/tickets/{i}/", f"k{i}")
        for i in range(sweep.DIGEST_LISTED + 4)
    ]
    title, body, url = sweep.digest(cast.manager, "desk.sla_breach", notices, inbox="/inbox/")
    assert str(sweep.DIGEST_LISTED + 4) in title
    assert "T-000" in body and f"T-{sweep.DIGEST_LISTED - 1:03d}" in body
    assert f"T-{sweep.DIGEST_LISTED:03d}" not in body and "4" in body.splitlines()[-1]
    assert url == "/inbox/"


def test_workers_inside_a_transaction_sweep_on_this_connection(ticket, sent):
    # Given a ticket whose warning is due, written in this (test) transaction, which no
    # other connection can see
    # When the sweep is asked for several workers inside that transaction
    report = sweep.sweep(now=sh(2026, 3, 16, 9, 50), workers=3)

    # Then it works on this connection alone and warns the ticket
    assert (report.warned, report.skipped) == (1, 0)
    assert kinds(ticket) == [EventKind.SLA_WARNING]
