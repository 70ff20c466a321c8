"""Races on PostgreSQL with real threads: exactly one winner, the others a 409, never bad data."""

from __future__ import annotations

import pytest
from django.utils import timezone

from frontline.core.errors import Conflict
from frontline.desk import tickets
from frontline.desk.models import HandOff, Ticket, TicketEvent
from frontline.desk.states import Channel, EventKind, HandOffStatus
from frontline.desk.tests import factories as df
from frontline.notifications.models import Notification
from frontline.testing.races import run_together

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_only"),
]


def test_two_simultaneous_accepts_of_one_hand_off_have_exactly_one_winner(cast):
    # Given a pending hand-off (the new owner double-clicks, or two tabs)
    ticket = df.ticket_for(cast, first_handled_at=timezone.now())
    hand_off = tickets.request_hand_off(actor=cast.agent, ticket=ticket, to_user=cast.engineer)

    def accept():
        return tickets.accept_hand_off(actor=cast.engineer, hand_off=hand_off)

    # When both accepts arrive at once
    results = run_together(accept, accept)

    # Then one wins, the other gets a 409, and the timeline says accepted once
    conflicts = [r for r in results if isinstance(r, Conflict)]
    wins = [r for r in results if isinstance(r, Ticket)]
    assert len(wins) == 1 and len(conflicts) == 1, results
    assert conflicts[0].code == "hand_off_not_pending"
    hand_off.refresh_from_db()
    ticket.refresh_from_db()
    assert hand_off.status == HandOffStatus.ACCEPTED
    assert ticket.owner == cast.engineer
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.HAND_OFF_ACCEPTED).count() == 1
    assert Notification.objects.filter(kind="hand_off_accepted", recipient=cast.agent).count() == 1


def test_an_accept_racing_a_reassignment_leaves_one_consistent_owner(cast):
    ticket = df.ticket_for(cast, first_handled_at=timezone.now())
    hand_off = tickets.request_hand_off(actor=cast.agent, ticket=ticket, to_user=cast.engineer)

    results = run_together(
        lambda: tickets.accept_hand_off(actor=cast.engineer, hand_off=hand_off),
        lambda: tickets.reassign(actor=cast.dispatcher, ticket=ticket, to_user=cast.manager),
    )

    hand_off.refresh_from_db()
    ticket.refresh_from_db()
    assert not any(isinstance(r, Exception) and not isinstance(r, Conflict) for r in results)
    if isinstance(results[0], Conflict):
        # the reassignment came first: the hand-off lapsed
        assert hand_off.status == HandOffStatus.CANCELLED and ticket.owner == cast.manager
    else:
        # the accept came first, then the dispatcher reassigned
        assert hand_off.status == HandOffStatus.ACCEPTED and ticket.owner == cast.manager
    assert HandOff.objects.filter(status=HandOffStatus.REQUESTED).count() == 0


def test_two_requests_with_one_external_reference_make_one_ticket(cast):
    def create():
        return tickets.create_ticket(actor=cast.customer_a_user, title="重复提交",
                                     external_ref="client-42")  # fmt: skip

    results = run_together(create, create, create)

    assert all(isinstance(r, Ticket) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Ticket.objects.filter(external_ref="client-42", channel=Channel.PORTAL).count() == 1


def test_two_simultaneous_hand_off_requests_leave_one_pending(cast):
    ticket = df.ticket_for(cast, first_handled_at=timezone.now())
    results = run_together(
        lambda: tickets.request_hand_off(actor=cast.agent, ticket=ticket, to_user=cast.engineer),
        lambda: tickets.request_hand_off(actor=cast.agent, ticket=ticket, to_user=cast.manager),
    )
    assert sum(isinstance(r, HandOff) for r in results) == 1, results
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert HandOff.objects.filter(status=HandOffStatus.REQUESTED).count() == 1
