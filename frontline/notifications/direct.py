"""One email to an address (not an inbox user): public links to customers, for example."""

from __future__ import annotations

from django.utils import timezone

from frontline import jobs
from frontline.notifications.models import OutboundEmail
from frontline.notifications.services import SUBJECT_MAX, one_line


def queue_email(*, to: str, subject, body: str, dedupe_key: str) -> OutboundEmail | None:
    """Queue one email through the outbox (sent after commit, retried, never twice for
    the same ``dedupe_key``). Returns None when this key was queued before."""
    from frontline.notifications import tasks

    key = str(dedupe_key)[:200]
    if OutboundEmail.objects.filter(dedupe_key=key).exists():
        return None
    OutboundEmail.objects.bulk_create(
        [
            OutboundEmail(
                to=to,
                subject=one_line(subject, SUBJECT_MAX),
                body=str(body),
                dedupe_key=key,
                next_attempt_at=timezone.now(),
            )
        ],
        ignore_conflicts=True,  # a concurrent retry of the same key inserts nothing
    )
    row = OutboundEmail.objects.filter(dedupe_key=key).first()
    if row is not None:
        jobs.publish_on_commit(tasks.send_email, args=[row.pk])
    return row
