"""Races on PostgreSQL with real threads: the same batch posted twice at once applies each
action exactly once; the other post replays it."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
from django.utils import timezone

from frontline.field.models import WorkOrderEvent
from frontline.field.states import EventKind, WorkOrderStatus
from frontline.field.tests.factories import engineer
from frontline.inspections.models import PointVisit
from frontline.inspections.states import AnomalyAction
from frontline.inspections.tests import factories as fi
from frontline.sync.apply import apply_batch
from frontline.sync.models import SyncAction
from frontline.sync.tests.conftest import ON_SITE, act, order_for
from frontline.testing.races import run_together

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_only"),
]


def test_the_same_batch_posted_twice_at_once_applies_each_action_once(cast):
    # Given an engineer's outbox: two orders done and a round walked
    eng = engineer(user=cast.engineer)
    orders = [order_for(cast, eng) for _ in range(2)]
    route = fi.route(customer=cast.customer_a, points=2, anomaly_action=AnomalyAction.NONE)
    rnd = fi.round_for(route, eng, opens=timezone.now() - dt.timedelta(hours=1))
    start = timezone.now() - dt.timedelta(minutes=40)
    actions = []
    for i, wo in enumerate(orders):
        for j, (kind, data) in enumerate([("accept", {}), ("start_travel", {}),
                                          ("check_in", ON_SITE)]):  # fmt: skip
            actions.append(act(kind, wo, data, at=start + dt.timedelta(minutes=3 * i + j)))
    actions += [
        act("start_round", rnd, at=start + dt.timedelta(minutes=10)),
        act("skip_point", rnd, {"checkpoint_code": "P01", "reason": "no_access"},
            at=start + dt.timedelta(minutes=11)),
        act("skip_point", rnd, {"checkpoint_code": "P02", "reason": "unsafe"},
            at=start + dt.timedelta(minutes=12)),
        act("finish_round", rnd, at=start + dt.timedelta(minutes=13)),
    ]  # fmt: skip
    call = partial(apply_batch, actor=eng, device_id="phone-1", actions=actions)
    # When the phone's retry goes out while the first post is still running
    first, second = run_together(call, call)
    # Then neither failed, and each action was applied by exactly one of them
    assert not isinstance(first, Exception), first
    assert not isinstance(second, Exception), second
    for a, b in zip(first.results, second.results, strict=True):
        assert {a.status, b.status} == {"applied", "replayed"}, (a, b)
        assert a.result == b.result
    assert SyncAction.objects.count() == len(actions)
    for wo in orders:
        wo.refresh_from_db()
        assert wo.status == WorkOrderStatus.ON_SITE
        kinds = list(WorkOrderEvent.objects.filter(work_order=wo).values_list("kind", flat=True))
        for kind in (EventKind.ACCEPTED, EventKind.EN_ROUTE, EventKind.CHECK_IN):
            assert kinds.count(kind) == 1, kinds
    assert PointVisit.objects.count() == 2
    rnd.refresh_from_db()
    assert rnd.points_skipped == 2 and rnd.status == "completed"
