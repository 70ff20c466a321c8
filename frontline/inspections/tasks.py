"""Inspection beat jobs (schedules in settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

import logging

from celery import shared_task

from frontline.inspections import anomalies, rounds, schedules

logger = logging.getLogger(__name__)


@shared_task(name="frontline.inspections.tasks.generate_rounds")
def generate_rounds() -> int:
    """Create rounds ahead from every active schedule (beat: every 15 minutes)."""
    created = schedules.generate_rounds()
    if created:
        logger.info("Inspection rounds generated: %d", created)
    return created


@shared_task(name="frontline.inspections.tasks.close_overdue_rounds")
def close_overdue_rounds() -> int:
    """Rounds nobody did (or abandoned) by the end of their window are missed."""
    closed = rounds.close_overdue_rounds()
    if closed:
        logger.info("Inspection rounds missed: %d", closed)
    return closed


@shared_task(name="frontline.inspections.tasks.sync_anomaly_outcomes")
def sync_anomaly_outcomes() -> int:
    """Anomalies whose work order or ticket is done become handled."""
    handled = anomalies.sync_anomaly_outcomes()
    if handled:
        logger.info("Anomalies handled by their follow-up: %d", handled)
    return handled
