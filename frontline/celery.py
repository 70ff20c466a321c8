"""The Celery application. Broker: Redis via REDIS_URL, otherwise embedded SQLite."""

from __future__ import annotations

import os

from celery import Celery

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
