"""In a real browser (Debian's Chromium): the dispatcher runs a plan and applies it.

Celery runs eagerly in tests, so the plan runs in the request that starts it (after
commit, as in production a worker would); the plan page then shows the result.
"""

from __future__ import annotations

import pytest

from frontline.dispatch.models import PlanRun, PlanStatus
from frontline.dispatch.tests.factories_planning import TOMORROW, small_day
from frontline.field.models import WorkOrder
from frontline.field.states import DispatchVia, WorkOrderStatus
from frontline.testing import factories as f

pytestmark = [pytest.mark.browser]


@pytest.mark.django_db(transaction=True)
def test_the_dispatcher_plans_the_day_applies_it_and_sees_the_timelines(page, cast, sign_in):
    # Given tomorrow's queue of four orders and two engineers, nothing dispatched
    small_day(cast)
    sign_in(page, "dispatcher@t.example", f.PASSWORD)

    # When the dispatcher opens the board for tomorrow
    page.goto(f"/board/?day={TOMORROW.isoformat()}")
    assert page.locator("[data-testid=board-queue] [data-order-id]").count() == 4
    assert page.locator("[data-testid=timeline-job]").count() == 0
    page.wait_for_selector("#board-map[data-markers]")

    # And plans the day with a one-second search
    page.click("[data-testid=plan-day]")
    assert page.input_value("#id_day") == TOMORROW.isoformat()
    page.fill("#id_time_limit_s", "1")
    page.click("[data-testid=start-plan]")
    page.wait_for_url("**/dispatch/plans/*/")

    # Then the plan is ready with a route per engineer on the page
    page.wait_for_selector("[data-testid=plan-status][data-status=done]", timeout=30_000)
    assert page.locator("[data-testid=plan-visits] tbody tr").count() == 4
    page.wait_for_selector("#plan-map[data-markers]")

    # When it is applied as a whole
    page.click("[data-testid=apply-all]")
    page.wait_for_selector("[data-testid=plan-status][data-status=applied]")
    assert "4 visits dispatched." in page.inner_text("main")

    # Then the board's timelines are filled and the queue is empty
    page.click("[data-testid=to-board]")
    page.wait_for_selector("[data-testid=timeline-job]")
    assert page.locator("[data-testid=timeline-job]").count() == 4
    assert page.locator("[data-testid=board-queue] [data-order-id]").count() == 0
    width = page.eval_on_selector("[data-testid=timeline-job]", "el => el.style.width")
    assert width.endswith("%")  # placed by board.js, not by an inline style
    assert PlanRun.objects.get().status == PlanStatus.APPLIED
    assert (
        WorkOrder.objects.filter(
            status=WorkOrderStatus.DISPATCHED, dispatched_via=DispatchVia.OPTIMISE
        ).count()
        == 4
    )
    assert page.js_errors == []


@pytest.mark.django_db(transaction=True)
def test_picking_an_order_shows_suggestions_and_dispatches_it(page, cast, sign_in):
    crew, orders = small_day(cast, orders=1)
    sign_in(page, "dispatcher@t.example", f.PASSWORD)
    page.goto(f"/board/?day={TOMORROW.isoformat()}")
    page.click(f"[data-order-id='{orders[0].pk}']")
    page.wait_for_selector("[data-testid=suggestion-list] [data-engineer-id]")
    assert page.locator("[data-testid=dispatch-to]").count() == 2
    page.locator("[data-testid=dispatch-to]").first.click()
    page.wait_for_selector("[data-testid=timeline-job]")
    orders[0].refresh_from_db()
    assert orders[0].status == WorkOrderStatus.DISPATCHED and orders[0].assignee in crew
    assert page.js_errors == []


@pytest.mark.django_db(transaction=True)
def test_the_plan_page_follows_a_running_plan_until_it_is_ready(page, cast, sign_in):
    # Given a plan a worker is running
    plan = PlanRun.objects.create(day=TOMORROW, status=PlanStatus.RUNNING, progress=0.3,
                                  message="searching", created_by=cast.dispatcher)  # fmt: skip
    sign_in(page, "dispatcher@t.example", f.PASSWORD)
    page.goto(plan.get_absolute_url())
    page.wait_for_selector("[data-testid=plan-status][data-status=running]")
    # When the worker reports progress, then finishes
    PlanRun.objects.filter(pk=plan.pk).update(progress=0.7, message="best cost 1234")
    page.wait_for_selector("text=best cost 1234", timeout=10_000)
    PlanRun.objects.filter(pk=plan.pk).update(
        status=PlanStatus.DONE, progress=1.0, message="Ready", kpis={"orders_planned": 0}
    )
    # Then the page reloads with the result, and polls no more
    page.wait_for_selector("[data-testid=plan-kpis]", timeout=10_000)
    assert page.get_attribute("[data-testid=plan-status]", "data-status") == "done"
    assert page.js_errors == []
