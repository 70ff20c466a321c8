"""The Celery application. Broker: Redis via REDIS_URL, otherwise embedded SQLite."""

from __future__ import annotations

import logging
import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontline.settings")

app = Celery("frontline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Apps may keep jobs in more than one module (e.g. desk.tasks_reports).
app.autodiscover_tasks(related_name="tasks_reports")


@app.task(name="frontline.ping")
def ping() -> str:
    """Round-trip check used by health checks and the broker integration tests."""
    return "pong"


@worker_ready.connect
def _relay_on_start(sender=None, **kwargs) -> None:
    """A worker that starts after an outage publishes what waited in the job outbox
    at once, not at the next beat tick (several workers starting relay harmlessly:
    SKIP LOCKED keeps two relays off the same row)."""
    from frontline.jobs.tasks import relay_pending

    # To a queue this worker consumes, so that it (or a sibling) runs the relay.
    consumed = list(getattr(app.amqp.queues, "consume_from", None) or ())
    try:
        relay_pending.apply_async(retry=False, queue=consumed[0] if consumed else None)
    except Exception:  # noqa: BLE001 - the beat job relays again within 30 s
        logging.getLogger(__name__).warning("could not queue the job relay at start")
