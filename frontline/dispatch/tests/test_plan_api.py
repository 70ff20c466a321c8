"""/api/v1/dispatch/plans/: start (202), progress and result, apply; scoping."""

from __future__ import annotations

import pytest

from frontline.dispatch.models import PlanRun, PlanStatus
from frontline.dispatch.tests.factories_planning import TOMORROW, planned, small_day
from frontline.field import services
from frontline.field.models import WorkOrder
from frontline.field.states import WorkOrderStatus

pytestmark = pytest.mark.django_db
URL = "/api/v1/dispatch/plans/"


def test_post_starts_a_run_and_answers_202_with_its_url(
    api, cast, django_capture_on_commit_callbacks
):
    small_day(cast)
    client = api.as_user(cast.dispatcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {"day": TOMORROW.isoformat(), "time_limit_s": 1},
                               format="json")  # fmt: skip
    assert response.status_code == 202, response.json()
    body = response.json()
    plan = PlanRun.objects.get()
    assert body["id"] == plan.pk and body["url"] == f"/dispatch/plans/{plan.pk}/"
    assert response["Location"].endswith(f"{URL}{plan.pk}/")
    # Celery runs eagerly in tests: the run is already over
    detail = client.get(f"{URL}{plan.pk}/").json()
    assert detail["status"] == "done" and detail["progress"] == 1.0
    assert len(detail["assignments"]) == 4 and detail["left_out"] == []
    assert detail["kpis"]["orders_planned"] == 4


def test_bad_input_is_400(api, cast):
    client = api.as_user(cast.dispatcher)
    for payload in ({"day": "tomorrow"}, {"day": TOMORROW.isoformat(), "time_limit_s": 0},
                    {"day": TOMORROW.isoformat(), "status": "done"},
                    {"day": TOMORROW.isoformat(), "team": 999999}):  # fmt: skip
        assert client.post(URL, payload, format="json").status_code == 400, payload
    assert not PlanRun.objects.exists()


def test_apply_all_and_selected(api, cast, django_capture_on_commit_callbacks):
    small_day(cast)
    plan = planned(cast, django_capture_on_commit_callbacks)
    first, *rest = plan.assignments.order_by("pk")
    client = api.as_user(cast.dispatcher)
    response = client.post(f"{URL}{plan.pk}/apply/", {"assignments": [first.pk]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"status": "partly_applied", "applied": [first.pk], "skipped": []}
    response = client.post(f"{URL}{plan.pk}/apply/", {}, format="json")
    assert response.json()["status"] == "applied"
    assert sorted(response.json()["applied"]) == sorted(r.pk for r in rest)
    assert not WorkOrder.objects.filter(status=WorkOrderStatus.NEW).exists()
    assert client.post(f"{URL}{plan.pk}/apply/", {}, format="json").status_code == 409


def test_stale_orders_are_reported(api, cast, django_capture_on_commit_callbacks):
    crew, orders = small_day(cast)
    plan = planned(cast, django_capture_on_commit_callbacks)
    services.cancel(actor=cast.dispatcher, work_order=orders[0], reason="客户取消")
    response = api.as_user(cast.dispatcher).post(f"{URL}{plan.pk}/apply/", {}, format="json")
    skipped = response.json()["skipped"]
    assert [s["work_order"] for s in skipped] == [orders[0].pk]
    assert skipped[0]["reason"] == "it is Cancelled now"
    assert response.json()["status"] == "partly_applied"


@pytest.mark.parametrize("role", ["engineer", "agent", "analyst"])
def test_staff_without_dispatch_read_but_may_not_start_or_apply(
    api, cast, role, django_capture_on_commit_callbacks
):
    small_day(cast)
    plan = planned(cast, django_capture_on_commit_callbacks)
    client = api.as_user(cast.by_role(role))
    assert client.get(f"{URL}{plan.pk}/").status_code == 200
    assert client.post(URL, {"day": TOMORROW.isoformat()}, format="json").status_code == 403
    assert client.post(f"{URL}{plan.pk}/apply/", {}, format="json").status_code == 403
    assert PlanRun.objects.count() == 1
    assert PlanRun.objects.get().status == PlanStatus.DONE
    assert not WorkOrder.objects.exclude(status=WorkOrderStatus.NEW).exists()


@pytest.mark.parametrize(
    "role", ["customer_a_admin", "partner_admin", "partner_engineer", "outsider"]
)
def test_outsiders_see_no_plans(api, cast, role, django_capture_on_commit_callbacks):
    small_day(cast)
    plan = planned(cast, django_capture_on_commit_callbacks)
    client = api.as_user(cast.by_role(role))
    assert client.get(URL).json()["results"] == []
    assert client.get(f"{URL}{plan.pk}/").status_code == 404
    assert client.post(f"{URL}{plan.pk}/apply/", {}, format="json").status_code in (403, 404)
    assert client.post(URL, {"day": TOMORROW.isoformat()}, format="json").status_code == 403
    assert PlanRun.objects.count() == 1
    assert not WorkOrder.objects.exclude(status=WorkOrderStatus.NEW).exists()


def test_list_and_detail_query_counts(api, cast, django_assert_max_num_queries,
                                      django_capture_on_commit_callbacks):  # fmt: skip
    small_day(cast, orders=6)
    plans = [planned(cast, django_capture_on_commit_callbacks) for _ in range(3)]
    client = api.as_user(cast.dispatcher)
    with django_assert_max_num_queries(6):
        assert client.get(URL).json()["count"] == 3
    with django_assert_max_num_queries(7):
        assert len(client.get(f"{URL}{plans[0].pk}/").json()["assignments"]) == 6
    assert client.get(URL, {"status": "done"}).json()["count"] == 3
    assert client.get(URL, {"bogus": "1"}).status_code == 400
