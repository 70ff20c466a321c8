"""Background jobs of dispatch planning."""

from __future__ import annotations

from celery import shared_task

from frontline.dispatch import planning


@shared_task(name="frontline.dispatch.tasks.run_plan")
def run_plan(plan_id: int) -> str:
    """Plan one queued run (``dispatch.planning.execute``): progress, result or failure
    all end up on the ``PlanRun``, which the plan page polls."""
    plan = planning.execute(plan_id)
    return "skipped" if plan is None else plan.status


@shared_task(name="frontline.dispatch.tasks.fail_stale_runs")
def fail_stale_runs() -> int:
    """Every few minutes: runs whose worker died end as failed, not running forever."""
    return planning.fail_stale_runs()
