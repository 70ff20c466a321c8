"""Set-based writes of inbox rows and emails for ``notify_many`` (the SLA sweep's batch).

On PostgreSQL each table gets one ``INSERT … SELECT FROM jsonb_array_elements(…) ON
CONFLICT DO NOTHING RETURNING …``: one JSON parameter, whatever the number of rows
(Django's ``bulk_create`` sends one parameter per value and builds a model instance
per row, which cost more than the server's own work at 10,000 rows), and the
statement itself says which rows are new, so no look-up before or after. Elsewhere
(SQLite) the ORM does the same in a few statements.
"""

from __future__ import annotations

from collections.abc import Sequence

from frontline.core.bulk import insert_rows, set_based
from frontline.notifications.models import EmailStatus, Notification, OutboundEmail

# How many (recipient, dedupe key) pairs one "already notified?" query looks up (SQLite).
_LOOKUP_CHUNK = 500


def insert_inbox(rows: Sequence[tuple], *, now) -> set[tuple[int, str]]:
    """Insert ``(recipient_id, kind, title, body, url, dedupe_key)`` rows; returns the
    ``(recipient_id, dedupe_key)`` of those that were new (the others were notified
    before, or by a concurrent run)."""
    if not rows:
        return set()
    if set_based():
        columns = [list(column) for column in zip(*rows, strict=True)]
        columns.append([now] * len(rows))
        names = ["recipient", "kind", "title", "body", "url", "dedupe_key", "created_at"]
        return set(insert_rows(Notification, names, columns, ("recipient", "dedupe_key")))
    already = _already_notified([(row[0], row[5]) for row in rows])
    new = [row for row in rows if (row[0], row[5]) not in already]
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=pk, kind=kind, title=title, body=body, url=url, dedupe_key=key
            )
            for pk, kind, title, body, url, key in new
        ],
        ignore_conflicts=True,
    )
    return {(row[0], row[5]) for row in new}


def _already_notified(pairs: list[tuple[int, str]]) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    for start in range(0, len(pairs), _LOOKUP_CHUNK):
        chunk = pairs[start : start + _LOOKUP_CHUNK]
        rows = Notification.objects.filter(
            recipient_id__in={pk for pk, _key in chunk}, dedupe_key__in={k for _pk, k in chunk}
        ).values_list("recipient_id", "dedupe_key")
        found.update(rows)
    return found


def insert_emails(mails: Sequence[OutboundEmail]) -> list[int]:
    """Insert the (unsaved) emails; returns the ids of the new ones, to hand to the
    worker (an email whose dedupe key exists already was queued before)."""
    if not mails:
        return []
    if set_based():
        names = ["to", "subject", "body", "dedupe_key", "status", "attempts"]
        names += ["next_attempt_at", "last_error", "created_at"]
        columns = [[getattr(m, name) for m in mails] for name in names[:-1]]
        created = mails[0].next_attempt_at
        columns.append([created] * len(mails))
        return sorted(pk for (pk,) in insert_rows(OutboundEmail, names, columns, ("id",)))
    OutboundEmail.objects.bulk_create(mails, ignore_conflicts=True)
    keys = [m.dedupe_key for m in mails]
    ids: list[int] = []
    for start in range(0, len(keys), _LOOKUP_CHUNK):
        ids.extend(
            OutboundEmail.objects.filter(
                dedupe_key__in=keys[start : start + _LOOKUP_CHUNK], status=EmailStatus.PENDING
            ).values_list("pk", flat=True)
        )
    return sorted(ids)
