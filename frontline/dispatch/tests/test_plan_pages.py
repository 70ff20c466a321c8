"""Plan pages: list, "plan a day", the run's page with progress, routes and apply."""

from __future__ import annotations

import pytest
from django.urls import reverse

from frontline.dispatch.models import PlanRun, PlanStatus
from frontline.dispatch.tests.factories_planning import TOMORROW, planned, small_day
from frontline.field.models import WorkOrder
from frontline.field.states import WorkOrderStatus

pytestmark = pytest.mark.django_db
LIST = reverse("dispatch:plan-list")
NEW = reverse("dispatch:plan-create")
EVIL = '"><script>alert(1)</script>'


def test_plan_a_day_from_the_form(client, cast, django_capture_on_commit_callbacks):
    small_day(cast)
    client.force_login(cast.dispatcher)
    assert client.get(NEW, {"day": TOMORROW.isoformat()}).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(NEW, {"day": TOMORROW.isoformat(), "time_limit_s": 1})
    plan = PlanRun.objects.get()
    assert response.status_code == 302 and response["Location"] == plan.get_absolute_url()
    assert plan.status == PlanStatus.DONE and plan.created_by == cast.dispatcher


def test_the_form_refuses_bad_limits(client, cast):
    client.force_login(cast.dispatcher)
    response = client.post(NEW, {"day": TOMORROW.isoformat(), "time_limit_s": 9999})
    assert response.status_code == 200 and not PlanRun.objects.exists()


def test_a_running_plan_polls_its_progress(client, cast):
    plan = PlanRun.objects.create(day=TOMORROW, status=PlanStatus.RUNNING, progress=0.4,
                                  message="searching, best cost 12", created_by=cast.dispatcher)  # fmt: skip
    client.force_login(cast.dispatcher)
    body = client.get(plan.get_absolute_url()).content.decode()
    progress = reverse("dispatch:plan-progress", args=[plan.pk])
    assert f'hx-get="{progress}"' in body and 'hx-trigger="every 2s"' in body
    assert "searching, best cost 12" in body and 'value="40"' in body
    partial = client.get(progress, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    PlanRun.objects.filter(pk=plan.pk).update(status=PlanStatus.DONE)
    finished = client.get(progress, HTTP_HX_REQUEST="true")
    assert finished.status_code == 200 and finished["HX-Refresh"] == "true"
    assert "every 2s" not in finished.content.decode()


def test_a_failed_plan_shows_its_error(client, cast):
    plan = PlanRun.objects.create(day=TOMORROW, status=PlanStatus.FAILED,
                                  error="order 'W-1': impossible window")  # fmt: skip
    client.force_login(cast.dispatcher)
    body = client.get(plan.get_absolute_url()).content.decode()
    assert "order &#x27;W-1&#x27;: impossible window" in body and "every 2s" not in body


def test_the_plan_page_shows_routes_kpis_and_left_out_in_bounded_queries(
    client, cast, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    small_day(cast, orders=8)
    plan = planned(cast, django_capture_on_commit_callbacks)
    PlanRun.objects.filter(pk=plan.pk).update(
        left_out=[{"order_id": EVIL, "work_order": None, "reason": "no qualified engineer"}]
    )
    client.force_login(cast.dispatcher)
    with django_assert_max_num_queries(10):
        response = client.get(plan.get_absolute_url())
    body = response.content.decode()
    assert body.count('name="assignment"') == 8
    assert 'data-testid="plan-kpis"' in body and 'id="plan-map-data"' in body
    assert "no qualified engineer" in body and "<script>alert(1)" not in body
    assert 'data-testid="apply-all"' in body


def test_apply_selected_then_all_from_the_page(client, cast, django_capture_on_commit_callbacks):
    small_day(cast)
    plan = planned(cast, django_capture_on_commit_callbacks)
    first = plan.assignments.order_by("pk").first()
    client.force_login(cast.dispatcher)
    apply_url = reverse("dispatch:plan-apply", args=[plan.pk])
    response = client.post(apply_url, {"assignment": [first.pk]}, follow=True)
    assert "1 visits dispatched." in response.content.decode()
    assert PlanRun.objects.get().status == PlanStatus.PARTLY_APPLIED
    response = client.post(apply_url, {"selected": "1"}, follow=True)
    assert "Tick the visits to apply" in response.content.decode()
    client.post(apply_url, {"all": "1"})
    assert PlanRun.objects.get().status == PlanStatus.APPLIED
    assert not WorkOrder.objects.filter(status=WorkOrderStatus.NEW).exists()


def test_the_list_in_bounded_queries(client, cast, django_assert_max_num_queries):
    for _ in range(12):
        PlanRun.objects.create(day=TOMORROW, created_by=cast.dispatcher, kpis={"travel_km": 3.5})
    client.force_login(cast.analyst)
    with django_assert_max_num_queries(8):
        response = client.get(LIST)
    assert response.status_code == 200 and len(response.context["object_list"]) == 12
    assert "new-plan" not in response.content.decode()


@pytest.mark.parametrize("role", ["engineer", "agent", "analyst"])
def test_staff_without_dispatch_may_look_but_not_start_or_apply(
    client, cast, role, django_capture_on_commit_callbacks
):
    small_day(cast)
    plan = planned(cast, django_capture_on_commit_callbacks)
    client.force_login(cast.by_role(role))
    assert client.get(plan.get_absolute_url()).status_code == 200
    assert 'data-testid="apply-all"' not in client.get(plan.get_absolute_url()).content.decode()
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, {"day": TOMORROW.isoformat(), "time_limit_s": 1}).status_code == 403
    apply_url = reverse("dispatch:plan-apply", args=[plan.pk])
    assert client.post(apply_url, {"all": "1"}).status_code == 403
    assert PlanRun.objects.count() == 1 and PlanRun.objects.get().status == PlanStatus.DONE
    assert not WorkOrder.objects.exclude(status=WorkOrderStatus.NEW).exists()


@pytest.mark.parametrize("role", ["customer_a_admin", "partner_admin", "outsider"])
def test_others_get_404(client, cast, role, django_capture_on_commit_callbacks):
    small_day(cast)
    plan = planned(cast, django_capture_on_commit_callbacks)
    client.force_login(cast.by_role(role))
    for url in (
        LIST,
        NEW,
        plan.get_absolute_url(),
        reverse("dispatch:plan-progress", args=[plan.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(reverse("dispatch:plan-apply", args=[plan.pk]), {"all": "1"}).status_code == 404
    )
    assert not WorkOrder.objects.exclude(status=WorkOrderStatus.NEW).exists()
