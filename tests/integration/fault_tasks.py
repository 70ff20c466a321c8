"""A job for the worker-crash test, imported by the test's Celery worker (--include)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from celery import shared_task

from frontline.notifications.models import OutboundEmail


@shared_task(name="tests.integration.fault_tasks.queue_email_slowly")
def queue_email_slowly(key: str, seconds: float, pid_file: str) -> None:
    """Queue one email (a side effect no retry may repeat), say which worker process
    runs it, then take a while."""
    OutboundEmail.objects.create(to="ops@example.com", subject=key, body="", dedupe_key=key)
    Path(pid_file).write_text(str(os.getpid()))
    time.sleep(seconds)
