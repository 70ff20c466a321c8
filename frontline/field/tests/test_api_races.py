"""Grab races on PostgreSQL with real threads: exactly one winner, the rest 409, one notice."""

from __future__ import annotations

from functools import partial

import pytest

from frontline.core.errors import Conflict
from frontline.field import services
from frontline.field.models import GrabOffer, WorkOrder, WorkOrderEvent
from frontline.field.states import EventKind, OfferStatus, WorkOrderStatus
from frontline.field.tests.factories import engineer
from frontline.field.tests.factories_api import URL, client_for, hvac, order
from frontline.notifications.models import Notification
from frontline.testing.races import run_together

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_only"),
]
W = WorkOrderStatus


def _offered(cast, n: int):
    skill = hvac()
    crew = [engineer(skills={skill: 2}) for _ in range(n)]
    wo = order(cast, required_skills=[{"skill": "hvac", "min_level": 1}])
    grab = services.offer(actor=cast.dispatcher, work_order=wo, radius_km=100)
    assert grab.recipients.count() == n
    return wo, grab, crew


def _one_claim_on_record(wo, grab, winner_id, cast):
    wo.refresh_from_db()
    grab.refresh_from_db()
    assert (wo.status, wo.assignee_id) == (W.ACCEPTED, winner_id)
    assert (grab.status, grab.claimed_by_id) == (OfferStatus.CLAIMED, winner_id)
    assert WorkOrderEvent.objects.filter(work_order=wo, kind=EventKind.CLAIMED).count() == 1
    notices = Notification.objects.filter(kind="work_order_claimed", recipient=cast.dispatcher)
    assert notices.count() == 1


def test_fifty_engineers_claim_one_offer_at_once_and_exactly_one_wins(cast):
    # Given an offer made to fifty qualified engineers
    wo, grab, crew = _offered(cast, 50)

    # When they all claim it at the same moment
    results = run_together(
        *(partial(services.claim_offer, actor=eng, offer_id=grab.pk) for eng in crew)
    )

    # Then one wins, forty-nine get a 409 saying it was taken, the dispatcher hears once
    wins = [r for r in results if isinstance(r, WorkOrder)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(conflicts) == 49, [
        r for r in results if not isinstance(r, WorkOrder | Conflict)
    ]
    assert {c.code for c in conflicts} == {"offer_taken"}
    _one_claim_on_record(wo, grab, wins[0].assignee_id, cast)


def test_twenty_engineers_claim_through_the_api_at_once(cast):
    wo, grab, crew = _offered(cast, 20)
    clients = [client_for(eng) for eng in crew]  # signed in before the race starts

    def claim(client):
        return client.post(f"/api/v1/offers/{grab.pk}/claim/", {}, format="json")

    responses = run_together(*(partial(claim, c) for c in clients))

    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * 19, responses
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"offer_taken"}
    winner = next(r.json()["assignee"] for r in responses if r.status_code == 200)
    _one_claim_on_record(wo, grab, winner, cast)
    # and the same work order cannot be claimed again through its own endpoint
    late = clients[0].post(f"{URL}{wo.pk}/claim/", {}, format="json")
    assert late.status_code == 409


def test_a_claim_racing_a_reassignment_ends_consistent(cast):
    # Given an offer, and a dispatcher who decides to give the order to someone directly
    wo, grab, (claimer, chosen) = _offered(cast, 2)

    # When the claim and the dispatch arrive together
    results = run_together(
        partial(services.claim_offer, actor=claimer, offer_id=grab.pk),
        partial(services.dispatch, actor=cast.dispatcher, work_order=wo, engineer=chosen),
    )

    # Then no error but a 409, and the dispatcher's choice holds either way
    assert not any(isinstance(r, Exception) and not isinstance(r, Conflict) for r in results)
    assert not isinstance(results[1], Exception), results
    wo.refresh_from_db()
    grab.refresh_from_db()
    assert (wo.status, wo.assignee_id) == (W.DISPATCHED, chosen.pk)
    assert not GrabOffer.objects.filter(work_order=wo, status=OfferStatus.OPEN).exists()
    if isinstance(results[0], Conflict):
        # the dispatch came first: the offer was withdrawn under the claim
        assert grab.status == OfferStatus.WITHDRAWN and results[0].code == "offer_expired"
        assert not WorkOrderEvent.objects.filter(work_order=wo, kind=EventKind.CLAIMED).exists()
    else:
        # the claim came first, then the dispatcher reassigned (the claimer is told)
        assert grab.status == OfferStatus.CLAIMED and grab.claimed_by_id == claimer.pk
        assert WorkOrderEvent.objects.filter(work_order=wo, kind=EventKind.REASSIGNED).count() == 1
        assert Notification.objects.filter(kind="work_order_reassigned", recipient=claimer).exists()
