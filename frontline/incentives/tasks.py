"""Background jobs: the award scanner (beat, every 5 minutes)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="frontline.incentives.tasks.award_points", ignore_result=True)
def award_points() -> int:
    from frontline.incentives.awarding import award_points as run

    return run()
