"""Sending the outbox: claim, send, and retry with exponential backoff.

A message is claimed by one compare-and-set UPDATE (status still pending and due →
attempts + 1 and ``next_attempt_at`` pushed out by a lease). Exactly one worker wins
the claim, so a task delivered twice, or the beat sweep racing the after-commit task,
sends the email once. If the worker dies mid-send the lease runs out and the sweep
tries again (at-least-once only in that crash window, which no SMTP client can close).

After a failure the next try waits 1, 2, 4, … minutes; the eighth failure is final.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.mail import EmailMessage
from django.db.models import F
from django.utils import timezone

from frontline.notifications.models import EmailStatus, OutboundEmail
from frontline.notifications.services import one_line

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# How long a claimed message is left alone before it counts as abandoned.
LEASE = dt.timedelta(minutes=10)
SWEEP_BATCH = 200


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed try: 1, 2, 4, … minutes."""
    return dt.timedelta(minutes=2 ** max(attempts - 1, 0))


def claim(pk: int, *, now: dt.datetime | None = None) -> OutboundEmail | None:
    """Take one due, pending message for sending, or None when someone else has it."""
    now = now or timezone.now()
    won = OutboundEmail.objects.filter(
        pk=pk, status=EmailStatus.PENDING, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + LEASE)
    return OutboundEmail.objects.get(pk=pk) if won == 1 else None


def _message(email: OutboundEmail) -> EmailMessage:
    # The subject was made one line when queued; again here, for rows written elsewhere.
    return EmailMessage(subject=one_line(email.subject, 250), body=email.body, to=[email.to])


def deliver(pk: int) -> str:
    """Send one message if it is ours to send. Returns sent / retry / failed / skipped."""
    email = claim(pk)
    if email is None:
        return "skipped"
    try:
        _message(email).send(fail_silently=False)
    except Exception as exc:  # any transport error: retry later
        now = timezone.now()
        final = email.attempts >= MAX_ATTEMPTS
        OutboundEmail.objects.filter(pk=pk, status=EmailStatus.PENDING).update(
            status=EmailStatus.FAILED if final else EmailStatus.PENDING,
            next_attempt_at=None if final else now + backoff(email.attempts),
            last_error=f"{type(exc).__name__}: {exc}"[:300],
        )
        log.warning("email %s attempt %s failed: %s", pk, email.attempts, type(exc).__name__)
        return "failed" if final else "retry"
    OutboundEmail.objects.filter(pk=pk).update(
        status=EmailStatus.SENT, sent_at=timezone.now(), next_attempt_at=None, last_error=""
    )
    return "sent"


def due_ids(*, now: dt.datetime | None = None, limit: int = SWEEP_BATCH) -> list[int]:
    now = now or timezone.now()
    return list(
        OutboundEmail.objects.filter(status=EmailStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def deliver_each(ids) -> dict[str, int]:
    """``deliver`` each message in turn; how many ended sent / retry / failed / skipped."""
    outcome: dict[str, int] = {}
    for pk in ids:
        result = deliver(pk)
        outcome[result] = outcome.get(result, 0) + 1
    return outcome


def send_pending() -> dict[str, int]:
    """Send every due message (new ones whose after-commit task was lost, and retries)."""
    return deliver_each(due_ids())
