"""``POST /api/v1/sync/``: who may call it, the envelope's limits, the answer's shape, and
the queries it costs per action."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.urls import reverse

from frontline.field.models import WorkOrder
from frontline.field.states import WorkOrderStatus
from frontline.sync import api as sync_api
from frontline.sync.models import SyncAction
from frontline.sync.tests.conftest import ON_SITE, act, order_for, wire

pytestmark = pytest.mark.django_db
URL = "/api/v1/sync/"
W = WorkOrderStatus


def post(client, actions, device="phone-1", **extra):
    body = {"device_id": device, "actions": [wire(a) for a in actions]}
    return client.post(URL, body, format="json", **extra)


def test_the_url_is_named():
    assert reverse("api-v1:sync") == URL


@pytest.mark.parametrize(
    "who", ["dispatcher", "manager", "agent", "analyst", "customer_a_admin", "customer_a_user",
            "supplier_contact", "outsider"],
)  # fmt: skip
def test_only_engineers_may_sync(api, cast, eng, who):
    # Given an order of the engineer's, and someone else holding the engineer's outbox
    wo = order_for(cast, eng)
    response = post(api.as_user(cast.by_role(who)), [act("accept", wo)])
    # Then 403 and nothing changed
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "permission_denied"
    wo.refresh_from_db()
    assert wo.status == W.DISPATCHED and not SyncAction.objects.exists()


def test_anonymous_callers_are_refused(api):
    assert post(api, []).status_code == 401


def test_an_engineer_syncs_and_gets_one_result_per_action_and_a_summary(api, cast, eng):
    wo = order_for(cast, eng)
    done = {"resolution_code": "fixed"}
    actions = [act("accept", wo), act("complete", wo, done), act("check_in", wo, ON_SITE)]
    response = post(api.as_user(eng), actions)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["device_id"] == "phone-1" and body["received_at"]
    assert [r["status"] for r in body["results"]] == ["applied", "rejected", "skipped"]
    assert [r["client_id"] for r in body["results"]] == [str(a.client_id) for a in actions]
    first = body["results"][0]
    assert first["result"] == {"work_order": wo.pk, "number": wo.number, "status": "accepted"}
    assert first["kind"] == "accept" and first["target"] == wo.pk
    assert body["results"][1]["result"]["code"] == "illegal_transition"
    assert first["original_status"] is None and first["clock_flagged"] is False
    assert set(body["results"][1]["result"]) == {"code", "detail", "fields"}
    assert body["summary"] == {"applied": 1, "replayed": 0, "rejected": 1, "taken_back": 0,
                               "skipped": 1}  # fmt: skip
    # And the same request again replays
    again = post(api.as_user(eng), actions).json()
    assert [r["status"] for r in again["results"]] == ["replayed", "replayed", "skipped"]
    assert again["results"][0]["result"] == first["result"]


def test_a_partner_engineer_syncs_only_work_sent_to_the_outlet(api, cast):
    from frontline.field.tests.factories import engineer

    outlet_engineer = engineer(user=cast.partner_engineer)
    operator_order = order_for(cast, engineer())
    response = post(api.as_user(outlet_engineer), [act("accept", operator_order)])
    assert response.status_code == 200
    result = response.json()["results"][0]
    assert result["status"] == "taken_back" and operator_order.number not in str(result)


def test_a_batch_over_500_actions_is_refused_whole(api, cast, eng):
    wo = order_for(cast, eng)
    actions = [act("accept", wo) for _ in range(sync_api.MAX_ACTIONS + 1)]
    response = post(api.as_user(eng), actions)
    assert response.status_code == 400
    assert "actions" in response.json()["fields"]
    assert not SyncAction.objects.exists()


def test_an_oversized_action_is_400_and_an_oversized_body_413(api, cast, eng):
    wo = order_for(cast, eng)
    huge = act("reject", wo, {"reason": "x" * (sync_api.DATA_MAX_CHARS + 10)})
    response = post(api.as_user(eng), [huge])
    assert response.status_code == 400
    assert any(k.startswith("actions") for k in response.json()["fields"])
    # A body announced over the limit is refused before it is read
    response = post(api.as_user(eng), [act("accept", wo)],
                    CONTENT_LENGTH=str(sync_api.MAX_BODY_BYTES + 1))  # fmt: skip
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    wo.refresh_from_db()
    assert wo.status == W.DISPATCHED and not SyncAction.objects.exists()


@pytest.mark.parametrize(
    "broken",
    [
        {"client_id": "not-a-uuid"},
        {"kind": "add_photo"},
        {"target": 0},
        {"target": "41; DROP TABLE"},
        {"device_at": "yesterday"},
        {"data": ["not", "an", "object"]},
        {"surprise": 1},
    ],
)
def test_a_malformed_action_is_400_naming_it_and_nothing_applies(api, cast, eng, broken):
    wo = order_for(cast, eng)
    good = wire(act("accept", wo))
    body = {"device_id": "phone-1", "actions": [good, {**wire(act("accept", wo)), **broken}]}
    response = api.as_user(eng).post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    # named by position, which the phone reads to keep that action aside (sync/outbox.js)
    assert response.json()["fields"] and all(
        re.fullmatch(r"actions\.1\.\w+", key) for key in response.json()["fields"]
    ), response.json()["fields"]
    wo.refresh_from_db()
    assert wo.status == W.DISPATCHED and not SyncAction.objects.exists()


@pytest.mark.parametrize(
    "body", [{}, {"device_id": "", "actions": []}, {"device_id": "p" * 65, "actions": []},
             {"device_id": "phone", "actions": {}}, [], {"device_id": "p", "actions": [], "x": 1}],
)  # fmt: skip
def test_a_malformed_envelope_is_400(api, eng, body):
    response = api.as_user(eng).post(URL, body, format="json")
    assert response.status_code == 400, response.content


def test_queries_per_action_are_bounded(api, cast, eng, django_assert_max_num_queries):
    # Given ten orders, each accepted, travelled to and checked in on the phone
    orders = [order_for(cast, eng) for _ in range(10)]
    actions = []
    for i, wo in enumerate(orders):
        for j, (kind, data) in enumerate([("accept", {}), ("start_travel", {}),
                                          ("check_in", ON_SITE)]):  # fmt: skip
            actions.append(act(kind, wo, data, ago=dt.timedelta(minutes=60 - 3 * i - j)))
    client = api.as_user(eng)
    # Then the batch costs at most 18 queries an action (savepoints and the services' own
    # included: about 15 today), whatever the batch's length
    with django_assert_max_num_queries(18 * len(actions)):
        response = post(client, actions)
    assert response.json()["summary"]["applied"] == 30
    # And a replay costs one query an action
    with django_assert_max_num_queries(len(actions) + 5):
        response = post(client, actions)
    assert response.json()["summary"]["replayed"] == 30
    assert WorkOrder.objects.filter(status=W.ON_SITE).count() == 10


def test_a_token_with_only_the_read_scope_cannot_sync(api, cast, eng):
    from frontline.accounts import tokens

    _token, secret = tokens.create_token(actor=eng, user=eng, name="ro", scopes=["read"])
    response = api.post(URL, {"device_id": "p", "actions": []}, format="json",
                        HTTP_AUTHORIZATION=f"Bearer {secret}")  # fmt: skip
    assert response.status_code == 403


def test_a_client_id_is_unique_per_engineer_in_the_database(cast, eng):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    row = dict(user=eng, device_id="p", client_id=uuid.uuid4(), kind="accept",
               target_type="work_order", target_id=1, fingerprint="x", device_at=timezone.now(),
               received_at=timezone.now(), clock_skew_seconds=0, status="applied",
               batch_position=0)  # fmt: skip
    SyncAction.objects.create(**row)
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncAction.objects.create(**row)


def test_an_engineer_syncing_in_a_loop_is_throttled(api, cast, eng, settings):
    settings.SYNC_RATE_PER_MINUTE = 2
    client = api.as_user(eng)
    assert [post(client, []).status_code for _ in range(3)] == [200, 200, 429]
