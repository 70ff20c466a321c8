"""Notifications: the in-app inbox and the outbox of email.

``notify`` writes one inbox row per recipient and one outbox row per recipient with an
address, inside the caller's transaction; the emails are handed to the worker only
after commit (``transaction.on_commit``), so nothing goes out for rolled-back data.
Both rows carry a dedupe key under a unique constraint: a retried business event
(a replayed request, a job run twice) never notifies anyone twice.

Titles and bodies may be lazy translations (``gettext_lazy`` / ``format_lazy``): each
recipient gets them in their own preferred language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import partial

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from frontline.core.errors import NotFound
from frontline.core.rest import parse_id
from frontline.notifications.models import EmailStatus, Notification, OutboundEmail

TITLE_MAX = 200
SUBJECT_MAX = 250
BODY_MAX = 10_000
URL_MAX = 300

# Every character a mail header or a mail reader could take for a line break.
_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def one_line(text, limit: int = TITLE_MAX) -> str:
    """A single header-safe line: CR/LF and other breaks become one space (SECURITY.md #16)."""
    value = _LINE_BREAKS.sub(" ", str(text or ""))
    return _CONTROL.sub("", value).strip()[:limit]


def plain_body(text, limit: int = BODY_MAX) -> str:
    """Plain text for an inbox row or an email body (never rendered as HTML)."""
    value = str(text or "").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", value).strip()[:limit]


def safe_path(url: str) -> str:
    """Only a path on this site ("/desk/tickets/5/"): never another host or a ``javascript:`` URL."""
    url = one_line(url, URL_MAX)
    if not url.startswith("/") or url.startswith("//") or "\\" in url:
        return ""
    return url


def _language_of(user) -> str:
    return user.preferred_language or settings.LANGUAGE_CODE


def notify(
    *, recipients: Iterable, kind: str, title, body="", url: str = "", dedupe_key: str, email=True
) -> int:
    """Put one notification in each recipient's inbox and queue one email each.

    Inactive recipients are skipped. Returns how many inbox rows were created (0 when
    this event was already notified). Call it inside the business transaction.
    """
    people = {u.pk: u for u in recipients if u is not None and u.is_active}
    if not people:
        return 0
    url = safe_path(url)
    dedupe_key = str(dedupe_key)[:150]
    already = set(
        Notification.objects.filter(dedupe_key=dedupe_key, recipient_id__in=people).values_list(
            "recipient_id", flat=True
        )
    )
    new_people = [u for pk, u in people.items() if pk not in already]
    rows, mails = [], []
    for user in new_people:
        with translation.override(_language_of(user)):
            user_title = one_line(title)
            user_body = plain_body(body)
            rows.append(
                Notification(
                    recipient=user,
                    kind=kind[:40],
                    title=user_title,
                    body=user_body,
                    url=url,
                    dedupe_key=dedupe_key,
                )
            )
            if email and user.email:
                mails.append(_outbound(user, user_title, user_body, url, dedupe_key))
    with transaction.atomic():
        # ignore_conflicts: a concurrent retry of the same event inserts nothing twice.
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        if mails:
            _queue(mails)
    return len(rows)


def _outbound(user, title: str, body: str, url: str, dedupe_key: str) -> OutboundEmail:
    text = render_to_string(
        "notifications/email/notification.txt",
        {
            "user": user,
            "title": title,
            "body": body,
            # Links in emails use the configured site URL, never the request's Host.
            "link": f"{settings.SITE_URL}{url}" if url else "",
        },
    )
    return OutboundEmail(
        to=user.email,
        subject=one_line(title, SUBJECT_MAX),
        body=text,
        dedupe_key=f"{dedupe_key}:{user.pk}",
        next_attempt_at=timezone.now(),
    )


def _queue(mails: list[OutboundEmail]) -> None:
    OutboundEmail.objects.bulk_create(mails, ignore_conflicts=True)
    ids = list(
        OutboundEmail.objects.filter(
            dedupe_key__in=[m.dedupe_key for m in mails], status=EmailStatus.PENDING
        ).values_list("pk", flat=True)
    )
    from frontline.notifications import tasks

    for pk in ids:
        # robust: a broker hiccup must not fail a committed request; the beat sweep
        # (send_pending_emails) picks the message up a minute later.
        transaction.on_commit(partial(tasks.send_email.delay, pk), robust=True)


# ---------------------------------------------------------------- the inbox


def _own(user, notification_id) -> Notification:
    pk = parse_id(notification_id)
    found = Notification.objects.visible_to(user).filter(pk=pk).first() if pk else None
    if found is None:
        raise NotFound
    return found


def mark_read(*, user, notification_id) -> Notification:
    """Mark one of the user's notifications read (another person's is a 404); idempotent."""
    note = _own(user, notification_id)
    now = timezone.now()
    if Notification.objects.filter(pk=note.pk, read_at__isnull=True).update(read_at=now):
        note.read_at = now
    return note


def mark_unread(*, user, notification_id) -> Notification:
    note = _own(user, notification_id)
    Notification.objects.filter(pk=note.pk).update(read_at=None)
    note.read_at = None
    return note


def mark_all_read(*, user) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    return Notification.objects.visible_to(user).unread().update(read_at=timezone.now())


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
