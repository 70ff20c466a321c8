"""Work done offline keeps the phone's times: on the work order's fields and as each
timeline event's ``occurred_at`` (``created_at`` stays the receipt time); the online path
is unchanged; a time the server cannot believe is refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from frontline.core.errors import ValidationFailed
from frontline.field import services
from frontline.field.models import ChecklistItem, WorkOrderEvent
from frontline.field.states import EventKind, WorkOrderStatus
from frontline.sync.tests.conftest import ON_SITE, act, order_for, wire

pytestmark = pytest.mark.django_db
W = WorkOrderStatus
SIGNATURE = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="  # noqa: E501


def ago(minutes: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=minutes)


def events(wo, kind):
    return list(WorkOrderEvent.objects.filter(work_order=wo, kind=kind))


def test_each_verb_keeps_the_device_time_on_the_order_and_its_event(cast, eng):
    # Given an order with a checklist item, dispatched two hours ago
    wo = order_for(cast, eng)
    item = ChecklistItem.objects.create(work_order=wo, label="压力")
    times = {k: ago(m) for k, m in [("accept", 50), ("travel", 45), ("in", 30), ("check", 25),
                                    ("sign", 20), ("done", 15)]}  # fmt: skip
    # When the engineer's verbs are called with the device's times
    services.accept(actor=eng, work_order=wo, at=times["accept"])
    services.start_travel(actor=eng, work_order=wo, at=times["travel"])
    services.check_in(actor=eng, work_order=wo, at=times["in"], **ON_SITE)
    services.set_checklist_item(actor=eng, work_order=wo, item_id=item.pk, result="ok",
                                at=times["check"])  # fmt: skip
    services.sign(actor=eng, work_order=wo, signature=SIGNATURE, signed_by="王工",
                  at=times["sign"])  # fmt: skip
    services.complete(actor=eng, work_order=wo, resolution_code="fixed", at=times["done"])
    # Then the order's fields hold the device times
    wo.refresh_from_db()
    item.refresh_from_db()
    assert (wo.accepted_at, wo.started_travel_at, wo.checked_in_at) == (
        times["accept"], times["travel"], times["in"])  # fmt: skip
    assert (item.checked_at, wo.signed_at) == (times["check"], times["sign"])
    assert wo.completed_at == wo.checked_out_at == times["done"]
    # And each event happened at the device time, received now
    expected = {EventKind.ACCEPTED: "accept", EventKind.EN_ROUTE: "travel",
                EventKind.CHECK_IN: "in", EventKind.CHECKLIST: "check",
                EventKind.SIGNATURE: "sign", EventKind.COMPLETED: "done"}  # fmt: skip
    for kind, key in expected.items():
        (event,) = events(wo, kind)
        assert event.occurred_at == event.when == times[key]
        assert event.created_at > times[key]


def test_the_online_path_is_unchanged(cast, eng):
    wo = order_for(cast, eng)
    before = timezone.now()
    services.accept(actor=eng, work_order=wo)
    wo.refresh_from_db()
    (event,) = events(wo, EventKind.ACCEPTED)
    assert wo.accepted_at >= before and event.occurred_at is None
    assert event.when == event.created_at
    assert "device_clock_behind" not in event.data


@pytest.mark.parametrize("offset", [dt.timedelta(minutes=10), dt.timedelta(days=-31)])
def test_a_time_too_far_ahead_or_back_is_refused_and_nothing_changes(cast, eng, offset):
    wo = order_for(cast, eng)
    with pytest.raises(ValidationFailed) as caught:
        services.accept(actor=eng, work_order=wo, at=timezone.now() + offset)
    assert "at" in caught.value.fields
    wo.refresh_from_db()
    assert wo.status == W.DISPATCHED and not events(wo, EventKind.ACCEPTED)


def test_a_time_before_the_previous_event_is_kept_and_flagged(cast, eng):
    # Given an order dispatched now, and a phone whose clock is an hour behind
    wo = order_for(cast, eng)
    behind = ago(60)
    services.accept(actor=eng, work_order=wo, at=behind)
    wo.refresh_from_db()
    (event,) = events(wo, EventKind.ACCEPTED)
    # Then the device's time is kept, the event flagged, and the timeline order is receipt order
    assert wo.accepted_at == behind and event.occurred_at == behind
    assert event.data["device_clock_behind"] is True
    assert list(wo.events.values_list("kind", flat=True))[-1] == EventKind.ACCEPTED


def test_through_the_sync_endpoint_the_timeline_shows_the_device_time(api, cast, eng):
    # Given an order accepted and travelled to offline
    wo = order_for(cast, eng)
    actions = [act("accept", wo, at=ago(20)), act("start_travel", wo, at=ago(12))]
    client = api.as_user(eng)
    body = {"device_id": "phone-1", "actions": [wire(a) for a in actions]}
    response = client.post("/api/v1/sync/", body, format="json")
    assert response.json()["summary"]["applied"] == 2
    # Then the order's API timeline reports when it happened on the phone
    wo.refresh_from_db()
    assert wo.accepted_at == actions[0].device_at
    assert wo.started_travel_at == actions[1].device_at
    timeline = client.get(f"/api/v1/work-orders/{wo.pk}/").json()["events"]
    by_kind = {e["kind"]: e for e in timeline}
    for kind, action in [("accepted", actions[0]), ("en_route", actions[1])]:
        shown = dt.datetime.fromisoformat(by_kind[kind]["occurred_at"])
        assert shown == action.device_at
        assert by_kind[kind]["created_at"] != by_kind[kind]["occurred_at"]
    # And a device time in the future is rejected with the field named
    late = act(
        "complete", wo, {"resolution_code": "fixed"}, at=timezone.now() + dt.timedelta(hours=2)
    )
    body = {"device_id": "phone-1", "actions": [wire(late)]}
    result = client.post("/api/v1/sync/", body, format="json").json()["results"][0]
    assert result["status"] == "rejected" and result["clock_flagged"]
    assert "at" in result["result"]["fields"]
