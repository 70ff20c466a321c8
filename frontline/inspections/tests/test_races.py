"""Races on PostgreSQL with real threads: one winner per offered round, one visit per
checkpoint, one unhandled anomaly per checkpoint and item."""

from __future__ import annotations

import uuid
from functools import partial

import pytest

from frontline.core.errors import Conflict
from frontline.inspections import rounds
from frontline.inspections.models import Anomaly, PointVisit, Round
from frontline.inspections.states import AnomalyAction
from frontline.inspections.tests import factories as fi
from frontline.testing import factories as f
from frontline.testing.races import run_together

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_only"),
]


def test_thirty_engineers_claim_one_offered_round_and_exactly_one_wins(cast):
    # Given a round offered to a team of thirty engineers
    team = f.TeamFactory()
    crew = [f.member("engineer", cast.operator, email=f"r{i}@t.example") for i in range(30)]
    team.members.add(*crew)
    route = fi.route(customer=cast.customer_a)
    rnd = fi.round_for(route, None, offered=True, team=team)
    # When they all claim it at the same moment
    results = run_together(*(partial(rounds.claim_round, actor=e, round=rnd) for e in crew))
    # Then one wins and the others get a 409 saying it was taken
    wins = [r for r in results if isinstance(r, Round)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(conflicts) == 29, results
    assert {c.code for c in conflicts} == {"round_taken"}
    rnd.refresh_from_db()
    assert rnd.assignee_id == wins[0].assignee_id and not rnd.offered


def test_the_same_visit_sent_twice_at_once_is_stored_once(cast):
    route = fi.route(customer=cast.customer_a, anomaly_action=AnomalyAction.NONE)
    rnd = fi.round_for(route, cast.engineer)
    cp = route.checkpoints.get(code="P01")
    t, p, leak = list(cp.items.order_by("position"))
    readings = [{"item": t.pk, "value": 30}, {"item": p.pk, "value": 0.3},
                {"item": leak.pk, "value": False}]  # fmt: skip
    cid = str(uuid.uuid4())
    call = partial(rounds.record_visit, actor=cast.engineer, round=rnd, checkpoint=cp,
                   readings=readings, client_id=cid)  # fmt: skip
    results = run_together(*(call for _ in range(8)))
    assert all(isinstance(r, tuple) for r in results), results
    assert sum(1 for _v, created in results if created) == 1
    assert PointVisit.objects.count() == 1
    rnd.refresh_from_db()
    assert rnd.points_visited == 1
    assert Anomaly.objects.count() == 1


def test_two_rounds_raise_the_same_anomaly_at_once(cast):
    route = fi.route(customer=cast.customer_a, anomaly_action=AnomalyAction.NONE)
    engineers = [f.member("engineer", cast.operator, email=f"a{i}@t.example") for i in range(6)]
    cp = route.checkpoints.get(code="P01")
    t, p, leak = list(cp.items.order_by("position"))
    readings = [{"item": t.pk, "value": 30}, {"item": p.pk, "value": 0.3},
                {"item": leak.pk, "value": False}]  # fmt: skip
    calls = [
        partial(
            rounds.record_visit,
            actor=e,
            round=fi.round_for(route, e),
            checkpoint=cp,
            readings=readings,
        )  # fmt: skip
        for e in engineers
    ]
    results = run_together(*calls)
    assert all(isinstance(r, tuple) for r in results), results
    anomaly = Anomaly.objects.get()
    assert anomaly.occurrences == 6
