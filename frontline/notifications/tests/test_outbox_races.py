"""Races on PostgreSQL with real threads: a message delivered to many workers at once goes out once."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connections
from django.utils import timezone

from frontline.notifications import outbox
from frontline.notifications.models import EmailStatus, OutboundEmail

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("postgres_only"),
]


def test_eight_workers_delivering_one_message_send_it_once():
    email = OutboundEmail.objects.create(
        to="agent@t.example",
        subject="s",
        body="b",
        dedupe_key="race:1",
        next_attempt_at=timezone.now(),
    )
    results: list = []
    barrier = threading.Barrier(8, timeout=10)

    def worker():
        try:
            barrier.wait()
            results.append(outbox.deliver(email.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(results) == ["sent"] + ["skipped"] * 7
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT and email.attempts == 1
