"""The relay on PostgreSQL: a row another relay holds is skipped, not waited for."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connections, transaction
from django.utils import timezone

from frontline import jobs
from frontline.jobs.models import JobStatus, OutboxJob

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_only"),
]


def test_a_relay_skips_the_rows_another_relay_has_locked():
    held, ours = (jobs.enqueue("frontline.ping").pk for _ in range(2))
    OutboxJob.objects.update(status=JobStatus.PENDING)  # as if the broker had been down
    later = timezone.now() + dt.timedelta(minutes=1)
    locked, release = threading.Event(), threading.Event()

    def other_relay():
        try:
            with transaction.atomic():
                OutboxJob.objects.select_for_update().get(pk=held)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_relay)
    thread.start()
    try:
        assert locked.wait(10)
        # While the other relay holds one row, this one publishes the other, at once
        assert jobs.relay_pending(now=later) == 1
        assert OutboxJob.objects.get(pk=ours).status == JobStatus.DONE
        assert OutboxJob.objects.get(pk=held).status == JobStatus.PENDING
    finally:
        release.set()
        thread.join(10)
    assert jobs.relay_pending(now=later) == 1
    assert OutboxJob.objects.get(pk=held).status == JobStatus.DONE
