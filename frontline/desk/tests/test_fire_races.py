"""Races on PostgreSQL with real threads: one open call per ticket, one join, one email each."""

from __future__ import annotations

import pytest
from django.core import mail

from frontline.core.errors import Conflict
from frontline.desk import fire
from frontline.desk.models import FireCall, FireSummons, TicketEvent
from frontline.desk.states import EventKind, TicketStatus
from frontline.desk.tests.factories import TicketFactory
from frontline.notifications.models import Notification, OutboundEmail
from frontline.testing.races import run_together

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_only"),
]


def test_simultaneous_calls_for_fire_open_one_call_and_notify_once(cast):
    # Given a burning ticket and five people calling fire on it at the same moment
    ticket = TicketFactory(
        customer=cast.customer_a, owner=cast.agent, status=TicketStatus.IN_PROGRESS
    )
    fire.ensure_default_levels()
    callers = [cast.agent, cast.engineer, cast.dispatcher, cast.manager, cast.analyst]

    def call(actor):
        return lambda: fire.call_fire(actor=actor, ticket=ticket, level="S2", message="冷站全停")

    results = run_together(*(call(a) for a in callers))

    # Then one call wins, the others are 409s; one event; each summoned person notified once
    wins = [r for r in results if isinstance(r, FireCall)]
    assert len(wins) == 1, results
    assert all(isinstance(r, Conflict) for r in results if r not in wins)
    assert FireCall.objects.filter(ticket=ticket).count() == 1
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.FIRE_CALLED).count() == 1
    recipients = list(Notification.objects.values_list("recipient_id", flat=True))
    assert len(recipients) == len(set(recipients)) > 0
    assert OutboundEmail.objects.count() == len(recipients)
    assert len(mail.outbox) == len(recipients)


def test_simultaneous_joins_by_one_person_join_once(cast):
    ticket = TicketFactory(
        customer=cast.customer_a, owner=cast.agent, status=TicketStatus.IN_PROGRESS
    )
    call = fire.call_fire(actor=cast.agent, ticket=ticket, level="S3", message="x")

    def join():
        return fire.join_fire(actor=cast.analyst, fire_call=call)

    results = run_together(join, join, join, join)
    assert all(isinstance(r, FireSummons) for r in results), results
    assert FireSummons.objects.filter(fire_call=call, user=cast.analyst).count() == 1
    assert TicketEvent.objects.filter(kind=EventKind.FIRE_JOINED).count() == 1
