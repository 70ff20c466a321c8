"""Rounds done offline: start, visits with readings, a skip, finish, at the device's times;
a round taken away or cancelled meanwhile is taken back."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from frontline.inspections import rounds
from frontline.inspections.models import PointVisit, Reading, Round
from frontline.inspections.states import AnomalyAction, RoundStatus
from frontline.inspections.tests import factories as fi
from frontline.sync.apply import apply_batch
from frontline.sync.models import SyncAction
from frontline.sync.tests.conftest import act

pytestmark = pytest.mark.django_db
R = RoundStatus


@pytest.fixture
def route(cast):
    return fi.route(customer=cast.customer_a, points=3, anomaly_action=AnomalyAction.NONE)


def readings(route, code):
    temp, pressure, leak = route.checkpoints.get(code=code).items.order_by("position")
    return [{"item": temp.pk, "value": 7.5}, {"item": pressure.pk, "value": "0.4"},
            {"item": leak.pk, "value": False}]  # fmt: skip


def walk(route, rnd, start):
    """Start, visit P01 (by id) and P02 (by code), skip P03, finish: minutes after ``start``."""
    p1 = route.checkpoints.get(code="P01")
    return [
        act("start_round", rnd, at=start),
        act("record_visit", rnd, {"checkpoint": p1.pk, "readings": readings(route, "P01"),
                                  "scanned": True}, at=start + dt.timedelta(minutes=3)),
        act("record_visit", rnd, {"checkpoint_code": "P02", "readings": readings(route, "P02")},
            at=start + dt.timedelta(minutes=9)),
        act("skip_point", rnd, {"checkpoint_code": "P03", "reason": "no_access"},
            at=start + dt.timedelta(minutes=12)),
        act("finish_round", rnd, at=start + dt.timedelta(minutes=14)),
    ]  # fmt: skip


def test_a_round_walked_offline_keeps_the_devices_times(cast, route):
    # Given a round of the engineer's, walked offline 30 minutes ago
    rnd = fi.round_for(route, cast.engineer, opens=timezone.now() - dt.timedelta(hours=1))
    start = timezone.now() - dt.timedelta(minutes=30)
    actions = walk(route, rnd, start)
    # When the phone syncs
    batch = apply_batch(actor=cast.engineer, device_id="phone-1", actions=actions)
    # Then all applied, and the round and its visits carry the phone's times
    assert [o.status for o in batch.results] == ["applied"] * 5
    rnd.refresh_from_db()
    assert rnd.status == R.COMPLETED
    assert rnd.started_at == start and rnd.finished_at == start + dt.timedelta(minutes=14)
    visits = list(PointVisit.objects.order_by("recorded_at"))
    assert [v.recorded_at for v in visits] == [a.device_at for a in actions[1:4]]
    # And a visit's client id is the action's (an online retry of it would be a replay)
    assert [v.client_id for v in visits] == [a.client_id for a in actions[1:4]]
    assert Reading.objects.count() == 6
    assert batch.results[1].result["visit"] == visits[0].pk
    assert batch.results[3].result["status"] == "skipped"


def test_a_round_synced_twice_records_each_visit_once(cast, route):
    rnd = fi.round_for(route, cast.engineer, opens=timezone.now() - dt.timedelta(hours=1))
    actions = walk(route, rnd, timezone.now() - dt.timedelta(minutes=30))
    first = apply_batch(actor=cast.engineer, device_id="phone-1", actions=actions)
    second = apply_batch(actor=cast.engineer, device_id="phone-1", actions=actions)
    assert [o.status for o in second.results] == ["replayed"] * 5
    assert [o.result for o in second.results] == [o.result for o in first.results]
    assert PointVisit.objects.count() == 3 and Reading.objects.count() == 6
    rnd.refresh_from_db()
    assert (rnd.points_visited, rnd.points_skipped) == (2, 1)


def test_a_visit_already_sent_online_is_not_recorded_again(cast, route):
    # Given the phone had a signal for P01 and posted it online with its client id
    rnd = fi.round_for(route, cast.engineer)
    actions = walk(route, rnd, timezone.now() - dt.timedelta(minutes=8))
    rounds.start_round(actor=cast.engineer, round=rnd, at=actions[0].device_at)
    p1 = route.checkpoints.get(code="P01")
    rounds.record_visit(actor=cast.engineer, round=rnd, checkpoint=p1,
                        readings=readings(route, "P01"), client_id=actions[1].client_id)  # fmt: skip
    # When the outbox syncs the rest with it
    batch = apply_batch(actor=cast.engineer, device_id="phone-1", actions=actions[1:3])
    # Then P01 is the visit already there (not created), P02 is new
    assert [o.status for o in batch.results] == ["applied", "applied"]
    assert [o.result["created"] for o in batch.results] == [False, True]
    assert PointVisit.objects.count() == 2


def test_a_round_given_to_someone_else_is_taken_back(cast, route):
    from frontline.testing import factories as f

    other = f.member("engineer", cast.operator, email="other@t.example")
    rnd = fi.round_for(route, other)
    batch = apply_batch(actor=cast.engineer, device_id="phone-1",
                        actions=walk(route, rnd, timezone.now() - dt.timedelta(minutes=5)))  # fmt: skip
    assert [o.status for o in batch.results] == ["taken_back"] + ["skipped"] * 4
    assert PointVisit.objects.count() == 0
    rnd.refresh_from_db()
    assert rnd.status == R.SCHEDULED


def test_a_cancelled_round_is_taken_back(cast, route):
    rnd = fi.round_for(route, cast.engineer)
    rounds.cancel_round(actor=cast.dispatcher, round=rnd, reason="停机检修")
    batch = apply_batch(actor=cast.engineer, device_id="phone-1",
                        actions=[act("start_round", rnd)])  # fmt: skip
    assert batch.results[0].status == "taken_back"
    assert "cancelled" in batch.results[0].result["detail"]


def test_a_device_time_the_round_service_refuses_is_rejected_and_flagged(cast, route):
    # The rounds services refuse a time more than five minutes ahead of the server
    rnd = fi.round_for(route, cast.engineer)
    batch = apply_batch(actor=cast.engineer, device_id="phone-1",
                        actions=[act("start_round", rnd, at=timezone.now() + dt.timedelta(hours=1))])  # fmt: skip
    outcome = batch.results[0]
    assert outcome.status == "rejected" and outcome.clock_flagged
    assert "at" in outcome.result["fields"]
    rnd.refresh_from_db()
    assert rnd.status == R.SCHEDULED
    assert SyncAction.objects.get().clock_flagged


def test_a_checkpoint_off_the_route_and_an_envelope_field_in_data_are_rejected(cast, route):
    rnd = fi.round_for(route, cast.engineer)
    elsewhere = fi.route(customer=cast.customer_a).checkpoints.first()
    batch = apply_batch(actor=cast.engineer, device_id="phone-1", actions=[
        act("record_visit", rnd, {"checkpoint": elsewhere.pk, "readings": []}),
        act("finish_round", fi.round_for(route, cast.engineer), {"at": "2026-01-01T00:00:00Z"}),
        act("skip_point", fi.round_for(route, cast.engineer),
            {"checkpoint_code": "P01", "reason": "no_access", "recorded_at": "x"}),
    ])  # fmt: skip
    assert [o.status for o in batch.results] == ["rejected"] * 3
    assert "checkpoint" in batch.results[0].result["fields"]
    assert "at" in batch.results[1].result["fields"]
    assert "recorded_at" in batch.results[2].result["fields"]
    assert PointVisit.objects.count() == 0
    assert Round.objects.filter(status=R.SCHEDULED).count() == 3
