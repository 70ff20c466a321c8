"""The outbox: sent once under double delivery, retried with backoff, failed after 8 tries."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from frontline.notifications import outbox, tasks
from frontline.notifications.models import EmailStatus, OutboundEmail

pytestmark = pytest.mark.django_db


@pytest.fixture
def email(db):
    return OutboundEmail.objects.create(
        to="agent@t.example",
        subject="冷站告警",
        body="正文",
        dedupe_key="e:1",
        next_attempt_at=timezone.now(),
    )


def test_backoff_doubles_from_one_minute():
    assert [outbox.backoff(n).total_seconds() / 60 for n in range(1, 8)] == [
        1,
        2,
        4,
        8,
        16,
        32,
        64,
    ]


def test_a_task_delivered_twice_sends_once(email):
    assert tasks.send_email(email.pk) == "sent"
    assert tasks.send_email(email.pk) == "skipped"
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT and email.sent_at and email.attempts == 1


def test_a_second_delivery_while_the_first_is_sending_sends_nothing(email):
    # Given the SMTP send of the first worker is in progress when the duplicate arrives
    inner = []
    real_send = mail.EmailMessage.send

    def send_and_race(self, *args, **kwargs):
        inner.append(outbox.deliver(email.pk))
        return real_send(self, *args, **kwargs)

    with mock.patch.object(mail.EmailMessage, "send", send_and_race):
        first = outbox.deliver(email.pk)

    # Then the duplicate found the message claimed; one email left
    assert (first, inner) == ("sent", ["skipped"])
    assert len(mail.outbox) == 1


def test_the_beat_sweep_and_the_task_do_not_both_send(email):
    assert outbox.send_pending() == {"sent": 1}
    assert tasks.send_email(email.pk) == "skipped"
    assert outbox.send_pending() == {}
    assert len(mail.outbox) == 1


def _failing(*args, **kwargs):
    raise ConnectionRefusedError("smtp down")


def test_failures_retry_with_backoff_and_give_up_after_eight_tries(email):
    with mock.patch.object(mail.EmailMessage, "send", _failing):
        waits = []
        for attempt in range(1, 9):
            before = timezone.now()
            result = outbox.deliver(email.pk)
            email.refresh_from_db()
            assert email.attempts == attempt
            if attempt < 8:
                assert result == "retry" and email.status == EmailStatus.PENDING
                waits.append(round((email.next_attempt_at - before).total_seconds() / 60))
                # not due yet: a delivery now does nothing
                assert outbox.deliver(email.pk) == "skipped"
                # time passes
                OutboundEmail.objects.filter(pk=email.pk).update(
                    next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
                )
            else:
                assert result == "failed"
    assert waits == [1, 2, 4, 8, 16, 32, 64]
    assert email.status == EmailStatus.FAILED and email.next_attempt_at is None
    assert "smtp down" in email.last_error
    assert outbox.deliver(email.pk) == "skipped"
    assert mail.outbox == []


def test_a_retry_that_succeeds_is_sent(email):
    with mock.patch.object(mail.EmailMessage, "send", _failing):
        assert outbox.deliver(email.pk) == "retry"
    OutboundEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    assert tasks.send_pending_emails() == {"sent": 1}
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT and email.attempts == 2 and email.last_error == ""


def test_a_message_abandoned_by_a_dead_worker_is_picked_up_after_its_lease(email):
    # Given a worker claimed the message and died before sending
    assert outbox.claim(email.pk) is not None
    assert outbox.send_pending() == {}
    # When the lease has run out
    OutboundEmail.objects.filter(pk=email.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )
    # Then the sweep sends it
    assert outbox.send_pending() == {"sent": 1}
    assert len(mail.outbox) == 1


def test_a_subject_with_line_breaks_written_elsewhere_is_still_one_line(email):
    OutboundEmail.objects.filter(pk=email.pk).update(subject="Hi\r\nBcc: x@evil.example")
    outbox.deliver(email.pk)
    (message,) = mail.outbox
    assert message.subject == "Hi Bcc: x@evil.example"
    assert message.message()["Bcc"] is None and message.recipients() == ["agent@t.example"]
