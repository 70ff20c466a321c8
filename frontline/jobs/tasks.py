"""Background jobs of the job outbox: run one job, and the relay of unpublished ones."""

from __future__ import annotations

from celery import shared_task

from frontline.jobs import services


@shared_task(name="frontline.jobs.tasks.run_job")
def run_job(job_id: int) -> str:
    """Run one outbox job (``jobs.services.run``); a repeated delivery does nothing."""
    return services.run(job_id)


@shared_task(name="frontline.jobs.tasks.relay_pending")
def relay_pending() -> int:
    """Every 30 s and when a worker starts: publish jobs left in the outbox (and
    forget done jobs older than a week)."""
    services.purge_finished()
    return services.relay_pending()
