"""A real Celery round trip through Redis: a worker thread runs frontline.ping."""

from __future__ import annotations

import uuid

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker

from frontline.celery import ping

pytestmark = pytest.mark.integration


def test_ping_round_trip_through_redis(redis_url):
    # A separate app so the project's eager test configuration stays untouched; it
    # runs the real task function under its real name on a queue of its own.
    app = Celery("frontline-it", broker=redis_url, backend=redis_url, set_as_current=False)
    queue = f"frontline-it-{uuid.uuid4().hex}"
    app.conf.update(
        task_default_queue=queue,
        task_always_eager=False,
        task_ignore_result=False,
        broker_connection_retry_on_startup=False,
        worker_hijack_root_logger=False,
    )
    app.task(name="frontline.ping", ignore_result=False)(ping.run)

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        result = app.send_task("frontline.ping")
        assert result.get(timeout=20) == "pong"
    result.forget()
