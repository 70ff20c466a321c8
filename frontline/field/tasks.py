"""Background jobs of field service."""

from __future__ import annotations

import logging

from celery import shared_task

from frontline.field import services

logger = logging.getLogger(__name__)


@shared_task(name="frontline.field.tasks.expire_offers")
def expire_offers() -> int:
    """Offers past their time go back to the dispatcher's queue (beat: every minute)."""
    expired = services.expire_offers()
    if expired:
        logger.info("Grab offers expired: %d", expired)
    return expired
