"""The rounds API the phone uses: list and detail within scope, and the verbs."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from frontline.inspections import rounds
from frontline.inspections.models import Anomaly, PointVisit, Round
from frontline.inspections.states import AnomalyAction, ItemKind, RoundStatus
from frontline.inspections.tests import factories as fi
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db
URL = "/api/v1/rounds/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def route(cast):
    return fi.route(customer=cast.customer_a, anomaly_action=AnomalyAction.WORK_ORDER)


@pytest.fixture
def rnd(route, cast):
    return fi.round_for(route, cast.engineer)


def readings_for(route, code="P01", temp=7.5):
    cp = route.checkpoints.get(code=code)
    t, p, leak = list(cp.items.order_by("position"))
    return cp, [
        {"item": t.pk, "value": temp},
        {"item": p.pk, "value": 0.3},
        {"item": leak.pk, "value": False},
    ]


def test_the_whole_round_through_the_api(cast, route, rnd):
    client = client_for(cast.engineer)
    # Given the engineer opens the round: checkpoints and items, no QR values
    detail = client.get(f"{URL}{rnd.pk}/").json()
    assert [c["code"] for c in detail["checkpoints"]] == ["P01", "P02", "P03"]
    assert len(detail["checkpoints"][0]["items"]) == 3
    assert "qr_value" not in json.dumps(
        detail
    ) and route.checkpoints.first().qr_value not in json.dumps(detail)
    # When they start, scan P01 (QR), type P02's code, skip P03, and finish
    assert client.post(f"{URL}{rnd.pk}/start/", {}, format="json").json()["status"] == "in_progress"
    cp1, r1 = readings_for(route, "P01", temp=15)
    cid = str(uuid.uuid4())
    body = {"qr": cp1.qr_value, "readings": r1, "client_id": cid, "scanned": True}
    first = client.post(f"{URL}{rnd.pk}/visits/", body, format="json")
    assert first.status_code == 201, first.json()
    replay = client.post(f"{URL}{rnd.pk}/visits/", body, format="json")
    assert replay.status_code == 200 and replay.json()["id"] == first.json()["id"]
    _cp2, r2 = readings_for(route, "P02")
    second = client.post(f"{URL}{rnd.pk}/visits/", {"checkpoint_code": "P02", "readings": r2},
                         format="json")  # fmt: skip
    assert second.status_code == 201
    skip = client.post(f"{URL}{rnd.pk}/skip/", {"checkpoint_code": "P03", "reason": "no_access"},
                       format="json")  # fmt: skip
    assert skip.status_code == 201 and skip.json()["status"] == "skipped"
    done = client.post(f"{URL}{rnd.pk}/finish/", {}, format="json").json()
    # Then the round is completed and scored, the anomaly and its work order exist
    assert done["status"] == "completed" and done["quality_score"] is not None
    assert done["points_visited"] == 2 and done["points_skipped"] == 1
    assert len(done["visits"]) == 3
    anomaly = Anomaly.objects.get()
    assert anomaly.work_order_id is not None
    # And a late visit is a 409
    late = client.post(f"{URL}{rnd.pk}/visits/", {"checkpoint_code": "P03", "readings": []},
                       format="json")  # fmt: skip
    assert late.status_code == 409


def test_bad_readings_are_400_naming_the_item(cast, route, rnd):
    client = client_for(cast.engineer)
    cp, readings = readings_for(route)
    readings[0]["value"] = "1e30"
    r = client.post(f"{URL}{rnd.pk}/visits/", {"checkpoint": cp.pk, "readings": readings},
                    format="json")  # fmt: skip
    assert r.status_code == 400
    key = f"readings.{readings[0]['item']}"
    assert "出水温度" in r.json()["fields"][key][0]
    readings[0]["value"] = {"$gt": 1}
    r = client.post(f"{URL}{rnd.pk}/visits/", {"checkpoint": cp.pk, "readings": readings},
                    format="json")  # fmt: skip
    assert r.status_code == 400 and key in r.json()["fields"]
    assert PointVisit.objects.count() == 0


def test_checkpoint_not_on_route_unknown_fields_and_bad_ids(cast, route, rnd):
    client = client_for(cast.engineer)
    other = fi.route(customer=cast.customer_a).checkpoints.first()
    for body in ({"checkpoint": other.pk}, {"qr": other.qr_value}, {"checkpoint_code": "NOPE"},
                 {"checkpoint": "abc"}, {}, {"checkpoint_code": "P01", "evil": 1}):  # fmt: skip
        r = client.post(f"{URL}{rnd.pk}/visits/", {**body, "readings": []}, format="json")
        assert r.status_code == 400, body
    assert PointVisit.objects.count() == 0


def test_multipart_visit_with_a_photo(cast):
    route = fi.route(customer=cast.customer_a, points=1, anomaly_action=AnomalyAction.NONE,
                     items=({"name": "压力", "kind": ItemKind.NUMBER, "lo": "0", "hi": "1",
                             "photo_required": True},))  # fmt: skip
    rnd = fi.round_for(route, cast.engineer)
    item = route.checkpoints.get().items.get()
    client = client_for(cast.engineer)
    body = {"checkpoint_code": "P01", "readings": json.dumps([{"item": item.pk, "value": "0.5"}]),
            f"photo_{item.pk}": SimpleUploadedFile("p.png", png(), content_type="image/png")}  # fmt: skip
    r = client.post(f"{URL}{rnd.pk}/visits/", body, format="multipart")
    assert r.status_code == 201, r.json()
    assert r.json()["readings"][0]["has_photo"] is True
    bad = {"checkpoint_code": "P01", "readings": "[", "client_id": str(uuid.uuid4())}
    assert client.post(f"{URL}{rnd.pk}/visits/", bad, format="multipart").status_code == 400


def test_others_rounds_and_customers(cast, route, rnd):
    other_eng = f.member("engineer", cast.operator, email="o@t.example")
    cp, readings = readings_for(route)
    body = {"checkpoint": cp.pk, "readings": readings}
    # Another engineer sees it (staff) but may not act: 403, nothing changed
    r = client_for(other_eng).post(f"{URL}{rnd.pk}/visits/", body, format="json")
    assert r.status_code == 403
    assert client_for(other_eng).post(f"{URL}{rnd.pk}/start/", {}, format="json").status_code == 403
    # Customer A reads its round but cannot act; customer B and outsiders get 404
    a = client_for(cast.customer_a_user)
    assert a.get(f"{URL}{rnd.pk}/").status_code == 200
    assert a.post(f"{URL}{rnd.pk}/start/", {}, format="json").status_code == 403
    for who in ("customer_b_admin", "outsider", "supplier_contact"):
        c = client_for(cast.by_role(who))
        assert c.get(f"{URL}{rnd.pk}/").status_code == 404
        assert c.post(f"{URL}{rnd.pk}/visits/", body, format="json").status_code in (403, 404)
        assert c.get(URL).json().get("count", 0) == 0
    rnd.refresh_from_db()
    assert rnd.status == RoundStatus.SCHEDULED and PointVisit.objects.count() == 0


def test_claim_through_the_api(cast, route):
    rnd = fi.round_for(route, None, offered=True)
    other_eng = f.member("engineer", cast.operator, email="o2@t.example")
    assert client_for(cast.engineer).post(f"{URL}{rnd.pk}/claim/").status_code == 200
    r = client_for(other_eng).post(f"{URL}{rnd.pk}/claim/")
    assert r.status_code == 409 and r.json()["code"] == "round_taken"


def test_filters_and_ordering(cast, route, rnd):
    # (a day before rnd's window, by that window: the test may run across midnight)
    mine_yesterday = fi.round_for(
        route, cast.engineer, opens=rnd.window_start - dt.timedelta(days=1)
    )
    fi.round_for(route, cast.dispatcher)
    client = client_for(cast.engineer)
    ids = [r["id"] for r in client.get(URL, {"assignee": "me"}).json()["results"]]
    assert set(ids) == {rnd.pk, mine_yesterday.pk}
    today = timezone.localtime(rnd.window_start).date().isoformat()
    ids = [
        r["id"] for r in client.get(URL, {"assignee": "me", "date_from": today}).json()["results"]
    ]
    assert ids == [rnd.pk]
    assert client.get(URL, {"ordering": "password"}).status_code == 400
    assert client.get(URL, {"nope": 1}).status_code == 400
    assert client.get(URL, {"assignee": "x"}).status_code == 400
    assert (
        client.get(URL, {"ordering": "window_start"}).json()["results"][0]["id"]
        == mine_yesterday.pk
    )
    # a customer cannot filter by engineer
    assert client_for(cast.customer_a_user).get(URL, {"assignee": "me"}).status_code == 400
    # another customer's route as a filter is a 400, not a leak
    other = fi.route(customer=cast.customer_b)
    assert client_for(cast.customer_a_user).get(URL, {"route": other.pk}).status_code == 400


@pytest.mark.parametrize("who", ["dispatcher", "customer_a_user", "engineer"])
def test_list_and_detail_take_a_fixed_number_of_queries(cast, route, who,
                                                        django_assert_max_num_queries):  # fmt: skip
    client = client_for(cast.by_role(who))
    rnd = fi.round_for(route, cast.engineer)
    cp, readings = readings_for(route)
    rounds.record_visit(actor=cast.engineer, round=rnd, checkpoint=cp, readings=readings)
    with django_assert_max_num_queries(12) as few:
        assert client.get(URL).status_code == 200
    with django_assert_max_num_queries(14) as few_detail:
        assert client.get(f"{URL}{rnd.pk}/").status_code == 200
    for _ in range(10):
        fi.round_for(
            fi.route(customer=cast.customer_a, points=6), f.member("engineer", cast.operator)
        )
    for code in ("P02", "P03"):
        cp, readings = readings_for(route, code)
        rounds.record_visit(actor=cast.engineer, round=rnd, checkpoint=cp, readings=readings)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(URL).json()["count"] == 11
    with django_assert_max_num_queries(len(few_detail.captured_queries)):
        assert len(client.get(f"{URL}{rnd.pk}/").json()["visits"]) == 3


def test_cancel_and_create_ad_hoc(cast, route, rnd):
    assert client_for(cast.engineer).post(f"{URL}{rnd.pk}/cancel/", {"reason": "x"},
                                          format="json").status_code == 403  # fmt: skip
    r = client_for(cast.dispatcher).post(
        f"{URL}{rnd.pk}/cancel/", {"reason": "停电"}, format="json"
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    now = timezone.now()
    body = {"route": route.pk, "window_start": now.isoformat(),
            "window_end": (now + dt.timedelta(hours=2)).isoformat(), "assignee": cast.engineer.pk}  # fmt: skip
    assert client_for(cast.engineer).post(URL, body, format="json").status_code == 403
    made = client_for(cast.manager).post(URL, body, format="json")
    assert made.status_code == 201 and made.json()["assignee"] == cast.engineer.pk
    other = fi.route(customer=cast.customer_b)
    assert client_for(cast.customer_a_user).post(URL, {**body, "route": other.pk},
                                                 format="json").status_code == 403  # fmt: skip
    assert Round.objects.filter(route=other).count() == 0


def test_adjust_score(cast, route, rnd):
    rounds.start_round(actor=cast.engineer, round=rnd)
    rounds.finish_round(actor=cast.engineer, round=rnd)
    url = f"{URL}{rnd.pk}/adjust-score/"
    assert (
        client_for(cast.engineer).post(url, {"score": 90, "reason": "x"}, format="json").status_code
        == 403
    )
    assert (
        client_for(cast.analyst).post(url, {"score": 190, "reason": "x"}, format="json").status_code
        == 400
    )
    r = client_for(cast.analyst).post(url, {"score": "90.5", "reason": "复核"}, format="json")
    assert r.status_code == 200 and r.json()["quality_score"] == "90.50"
