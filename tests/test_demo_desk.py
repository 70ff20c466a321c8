"""The demo's service-desk history is played through the real services, and keeps their rules."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from frontline.desk.models import FireCall, HandOff, SlaPolicy, Ticket, TicketEvent
from frontline.desk.states import TicketStatus
from frontline.notifications.models import EmailStatus, OutboundEmail

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    from frontline.demo import loader

    return loader.load(desk_days=6, field_days=0, inspection_days=0).desk


def test_every_step_of_the_story_was_accepted_by_the_services(history):
    assert history.refused == []
    assert len(history.tickets) >= 8
    assert Ticket.objects.count() == len(history.tickets)


def test_the_desk_is_configured_for_every_project(history):
    assert SlaPolicy.objects.count() == 5 * 4
    assert not Ticket.objects.filter(sla_policy__isnull=True).exists()


def test_history_reaches_into_the_past_with_a_timeline(history):
    oldest = Ticket.objects.order_by("created_at").first()
    newest = Ticket.objects.order_by("-created_at").first()
    assert (newest.created_at - oldest.created_at).days >= 4
    # Timeline events carry the simulated times, never later than their ticket's life allows.
    assert not TicketEvent.objects.filter(created_at__lt=oldest.created_at).exists()
    assert TicketEvent.objects.filter(ticket=oldest).count() >= 3


def test_the_present_has_a_live_fire_a_waiting_hand_off_and_fresh_requests(history):
    live = FireCall.objects.get(closed_at__isnull=True)
    assert live.ticket.severity == "S1" and live.ticket.fire_open
    pending = HandOff.objects.get(status="requested")
    assert pending.to_user.email == "engineer@example.com"
    assert pending.ticket.owner_id == pending.from_user_id  # the old owner stays owner
    assert (
        Ticket.objects.filter(first_handled_at__isnull=True, status=TicketStatus.NEW).count() >= 2
    )


def test_resolved_fire_tickets_have_briefs_and_closed_s1_s2_have_retrospectives(history):
    for ticket in Ticket.objects.filter(had_fire_call=True, status__in=["resolved", "closed"]):
        assert hasattr(ticket, "brief")
    for ticket in Ticket.objects.filter(severity__in=["S1", "S2"], status="closed"):
        assert hasattr(ticket, "retrospective")


def test_the_demo_never_mails_anyone(history):
    assert not OutboundEmail.objects.filter(status=EmailStatus.PENDING).exists()


def test_the_command_can_skip_the_desk(db):
    call_command(
        "demo", "--desk-days", "0", "--field-days", "0", "--inspection-days", "0", verbosity=0
    )
    assert not Ticket.objects.exists()
