"""The anomalies API: list within scope, report, and the handler's verbs."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from frontline.field.models import WorkOrder
from frontline.inspections import rounds
from frontline.inspections.models import Anomaly
from frontline.inspections.states import AnomalyAction, AnomalyStatus
from frontline.inspections.tests import factories as fi
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db
URL = "/api/v1/anomalies/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def raise_one(cast, customer, action=AnomalyAction.NONE, code="P01"):
    route = fi.route(customer=customer, anomaly_action=action)
    engineer = cast.engineer
    rnd = fi.round_for(route, engineer)
    cp = route.checkpoints.get(code=code)
    t, p, leak = list(cp.items.order_by("position"))
    rounds.record_visit(actor=engineer, round=rnd, checkpoint=cp, client_id=str(uuid.uuid4()),
                        readings=[{"item": t.pk, "value": 30}, {"item": p.pk, "value": 0.3},
                                  {"item": leak.pk, "value": True}])  # fmt: skip
    return route, rnd


def test_scoping(cast):
    raise_one(cast, cast.customer_a)
    raise_one(cast, cast.customer_b)
    assert client_for(cast.dispatcher).get(URL).json()["count"] == 4
    a_list = client_for(cast.customer_a_user).get(URL).json()
    assert a_list["count"] == 2
    assert {r["project"] for r in a_list["results"]} == set(
        Anomaly.objects.filter(customer=cast.customer_a).values_list("project_id", flat=True)
    )
    b_one = Anomaly.objects.filter(customer=cast.customer_b).first()
    a = client_for(cast.customer_a_user)
    assert a.get(f"{URL}{b_one.pk}/").status_code == 404
    assert a.post(f"{URL}{b_one.pk}/confirm/").status_code == 404
    assert client_for(cast.outsider).get(URL).json()["count"] == 0
    assert client_for(cast.partner_engineer).get(f"{URL}{b_one.pk}/").status_code == 404


def test_handler_verbs(cast):
    raise_one(cast, cast.customer_a)
    anomaly = Anomaly.objects.order_by("pk").first()
    url = f"{URL}{anomaly.pk}/"
    # engineers and customers may not confirm: 403, nothing changed
    assert client_for(cast.engineer).post(f"{url}confirm/").status_code == 403
    assert client_for(cast.customer_a_admin).post(f"{url}confirm/").status_code == 403
    anomaly.refresh_from_db()
    assert anomaly.status == AnomalyStatus.OPEN
    c = client_for(cast.analyst)
    assert c.post(f"{url}confirm/").json()["status"] == "confirmed"
    assert c.post(f"{url}confirm/").status_code == 409
    r = c.post(f"{url}follow-up/", {"action": "ticket"}, format="json")
    assert r.status_code == 200 and r.json()["ticket_number"]
    assert c.post(f"{url}handle/", {}, format="json").status_code == 400
    r = c.post(f"{url}handle/", {"resolution": "已更换阀门"}, format="json")
    assert r.status_code == 200 and r.json()["is_handled"] is True
    assert c.post(f"{url}dismiss/", {"reason": "x"}, format="json").status_code == 409
    other = Anomaly.objects.exclude(pk=anomaly.pk).get()
    r = client_for(cast.dispatcher).post(f"{URL}{other.pk}/dismiss/", {"reason": "误报"},
                                         format="json")  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "dismissed"


def test_the_finder_opens_the_work_order(cast):
    route, rnd = raise_one(cast, cast.customer_a)
    anomaly = Anomaly.objects.order_by("pk").first()
    r = client_for(cast.engineer).post(f"{URL}{anomaly.pk}/follow-up/",
                                       {"action": "work_order"}, format="json")  # fmt: skip
    assert r.status_code == 200 and r.json()["work_order_number"].startswith("W-")
    assert WorkOrder.objects.get().type == "inspection_follow_up"
    other_eng = f.member("engineer", cast.operator, email="n@t.example")
    second = Anomaly.objects.exclude(pk=anomaly.pk).get()
    assert client_for(other_eng).post(f"{URL}{second.pk}/follow-up/").status_code == 403


def test_report(cast):
    route, rnd = raise_one(cast, cast.customer_a)
    cp = route.checkpoints.get(code="P02")
    body = {"round": rnd.pk, "checkpoint": cp.pk, "description": "异响", "priority": "high"}
    r = client_for(cast.engineer).post(URL, body, format="json")
    assert r.status_code == 201 and r.json()["source"] == "reported"
    assert client_for(cast.customer_a_user).post(URL, body, format="json").status_code == 403
    b_route, b_round = raise_one(cast, cast.customer_b)
    cross = {**body, "checkpoint": b_route.checkpoints.first().pk}
    assert client_for(cast.engineer).post(URL, cross, format="json").status_code == 400
    assert client_for(cast.engineer).post(URL, {**body, "status": "handled"},
                                          format="json").status_code == 400  # fmt: skip
    assert (
        client_for(cast.engineer).post(URL, {**body, "round": "x"}, format="json").status_code
        == 400
    )


def test_filters(cast):
    raise_one(cast, cast.customer_a)
    c = client_for(cast.manager)
    assert c.get(URL, {"handled": "false"}).json()["count"] == 2
    assert c.get(URL, {"handled": "true"}).json()["count"] == 0
    assert c.get(URL, {"source": "failed_check"}).json()["count"] == 1
    assert c.get(URL, {"ordering": "-priority"}).status_code == 200
    assert c.get(URL, {"ordering": "description"}).status_code == 400
    assert c.get(URL, {"handled": "maybe"}).status_code == 400


@pytest.mark.parametrize("who", ["manager", "customer_a_user"])
def test_list_takes_a_fixed_number_of_queries(cast, who, django_assert_max_num_queries):
    raise_one(cast, cast.customer_a)
    client = client_for(cast.by_role(who))
    with django_assert_max_num_queries(10) as few:
        assert client.get(URL).status_code == 200
    for _ in range(5):
        raise_one(cast, cast.customer_a, action=AnomalyAction.WORK_ORDER)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(URL).json()["count"] == 12
