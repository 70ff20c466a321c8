"""Owned hand-offs ("问题到我为止"): the old owner keeps the ticket until the new one accepts."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from frontline.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from frontline.desk import handoffs, tickets
from frontline.desk.models import HandOff, TicketEvent
from frontline.desk.states import EventKind, HandOffStatus
from frontline.desk.tests import factories as df
from frontline.notifications.models import Notification

pytestmark = pytest.mark.django_db
H = HandOffStatus


@pytest.fixture
def ticket(cast):
    return df.ticket_for(cast, first_handled_at=timezone.now())


def ask(cast, ticket, to=None):
    return tickets.request_hand_off(
        actor=cast.agent, ticket=ticket, to_user=to or cast.engineer, message="夜班交接"
    )


def test_the_owner_stays_owner_until_the_colleague_accepts(cast, ticket):
    # When the agent asks the engineer to take over
    hand_off = ask(cast, ticket)

    # Then the agent still owns the ticket and the engineer is told
    ticket.refresh_from_db()
    assert ticket.owner == cast.agent
    assert hand_off.status == H.REQUESTED and hand_off.from_user == cast.agent
    assert Notification.objects.filter(recipient=cast.engineer, kind="hand_off_requested").exists()

    # When the engineer accepts
    tickets.accept_hand_off(actor=cast.engineer, hand_off=hand_off)

    # Then they own it, and the requester hears about it
    ticket.refresh_from_db()
    hand_off.refresh_from_db()
    assert ticket.owner == cast.engineer
    assert hand_off.status == H.ACCEPTED and hand_off.decided_at is not None
    assert Notification.objects.filter(recipient=cast.agent, kind="hand_off_accepted").exists()
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", "public"))
    assert (EventKind.HAND_OFF_REQUESTED, False) in kinds
    assert (EventKind.HAND_OFF_ACCEPTED, False) in kinds


def test_accepting_an_unhandled_ticket_counts_as_handling_it(cast):
    ticket = df.ticket_for(cast, first_handled_at=None)
    tickets.accept_hand_off(actor=cast.engineer, hand_off=ask(cast, ticket))
    ticket.refresh_from_db()
    assert ticket.first_handled_at is not None


def test_only_the_owner_or_a_dispatcher_asks_for_a_hand_off(cast, ticket):
    with pytest.raises(PermissionDenied):
        tickets.request_hand_off(actor=cast.engineer, ticket=ticket, to_user=cast.manager)
    with pytest.raises(PermissionDenied):
        tickets.request_hand_off(actor=cast.customer_a_user, ticket=ticket, to_user=cast.engineer)
    hand_off = tickets.request_hand_off(actor=cast.dispatcher, ticket=ticket, to_user=cast.engineer)
    assert hand_off.from_user == cast.agent and hand_off.requested_by == cast.dispatcher


@pytest.mark.parametrize("to", ["analyst", "customer_a_user", "partner_engineer", "agent"])
def test_a_hand_off_goes_to_an_active_colleague_who_works_tickets(cast, ticket, to):
    with pytest.raises(ValidationFailed) as exc:
        tickets.request_hand_off(actor=cast.agent, ticket=ticket, to_user=cast.by_role(to))
    assert "to_user" in exc.value.fields
    assert not HandOff.objects.exists()


def test_an_inactive_colleague_cannot_be_asked(cast, ticket):
    cast.engineer.is_active = False
    cast.engineer.save()
    with pytest.raises(ValidationFailed):
        ask(cast, ticket)


def test_at_most_one_hand_off_waits_per_ticket(cast, ticket):
    ask(cast, ticket)
    with pytest.raises(Conflict) as exc:
        ask(cast, ticket, to=cast.manager)
    assert exc.value.code == "hand_off_pending"
    # and the database says so too
    with pytest.raises(IntegrityError), transaction.atomic():
        HandOff.objects.create(ticket=ticket, from_user=cast.agent, to_user=cast.manager,
                               requested_by=cast.agent)  # fmt: skip


def test_only_the_person_asked_accepts(cast, ticket):
    hand_off = ask(cast, ticket)
    for who in ("manager", "agent", "customer_a_user"):
        with pytest.raises(PermissionDenied):
            tickets.accept_hand_off(actor=cast.by_role(who), hand_off=hand_off)
    ticket.refresh_from_db()
    hand_off.refresh_from_db()
    assert ticket.owner == cast.agent and hand_off.status == H.REQUESTED


def test_declining_needs_a_reason_and_leaves_the_owner(cast, ticket):
    hand_off = ask(cast, ticket)
    with pytest.raises(ValidationFailed) as exc:
        tickets.decline_hand_off(actor=cast.engineer, hand_off=hand_off, reason="   ")
    assert "reason" in exc.value.fields
    with pytest.raises(PermissionDenied):
        tickets.decline_hand_off(actor=cast.manager, hand_off=hand_off, reason="不是我")

    tickets.decline_hand_off(actor=cast.engineer, hand_off=hand_off, reason="今晚不在岗")

    hand_off.refresh_from_db()
    ticket.refresh_from_db()
    assert hand_off.status == H.DECLINED and hand_off.reason == "今晚不在岗"
    assert ticket.owner == cast.agent
    assert Notification.objects.filter(recipient=cast.agent, kind="hand_off_declined").exists()
    # a decided hand-off cannot be accepted afterwards
    with pytest.raises(Conflict) as exc:
        tickets.accept_hand_off(actor=cast.engineer, hand_off=hand_off)
    assert exc.value.code == "hand_off_not_pending"


def test_the_requester_or_old_owner_cancels(cast, ticket):
    hand_off = tickets.request_hand_off(actor=cast.dispatcher, ticket=ticket, to_user=cast.engineer)
    with pytest.raises(PermissionDenied):
        tickets.cancel_hand_off(actor=cast.engineer, hand_off=hand_off)
    tickets.cancel_hand_off(actor=cast.agent, hand_off=hand_off)
    hand_off.refresh_from_db()
    assert hand_off.status == H.CANCELLED
    # a new request is possible again
    assert ask(cast, ticket).status == H.REQUESTED


def test_a_reassignment_takes_effect_at_once_and_lets_a_pending_hand_off_lapse(cast, ticket):
    hand_off = ask(cast, ticket)

    tickets.reassign(actor=cast.dispatcher, ticket=ticket, to_user=cast.manager, reason="升级")

    ticket.refresh_from_db()
    hand_off.refresh_from_db()
    assert ticket.owner == cast.manager
    assert hand_off.status == H.CANCELLED
    assert Notification.objects.filter(recipient=cast.manager, kind="ticket_assigned").exists()
    with pytest.raises(Conflict):
        tickets.accept_hand_off(actor=cast.engineer, hand_off=hand_off)
    ticket.refresh_from_db()
    assert ticket.owner == cast.manager


@pytest.mark.parametrize("who", ["agent", "engineer", "customer_a_admin", "analyst"])
def test_only_dispatchers_and_managers_reassign(cast, ticket, who):
    with pytest.raises(PermissionDenied):
        tickets.reassign(actor=cast.by_role(who), ticket=ticket, to_user=cast.engineer)
    ticket.refresh_from_db()
    assert ticket.owner == cast.agent


def test_taking_over_through_first_handling_cancels_an_intake_hand_off(cast):
    ticket = df.ticket_for(cast, first_handled_at=None)
    hand_off = ask(cast, ticket)
    tickets.take_ticket(actor=cast.manager, ticket=ticket)
    hand_off.refresh_from_db()
    assert hand_off.status == H.CANCELLED


def test_hand_off_for_a_ticket_without_one_is_not_found(cast, ticket):
    with pytest.raises(NotFound):
        handoffs.hand_off_for(ticket)
