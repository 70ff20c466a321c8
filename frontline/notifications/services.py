"""Notifications: the in-app inbox and the outbox of email.

``notify`` writes one inbox row per recipient and one outbox row per recipient with an
address, inside the caller's transaction; the emails are handed to the worker only
after commit (``transaction.on_commit``), so nothing goes out for rolled-back data.
Both rows carry a dedupe key under a unique constraint: a retried business event
(a replayed request, a job run twice) never notifies anyone twice.

Titles and bodies may be lazy translations (``gettext_lazy`` / ``format_lazy``): each
recipient gets them in their own preferred language.

``notify_many`` does the same for many events at once (the SLA sweep's batch): one
INSERT for the inbox rows, one for the emails, and one after-commit hand-over of all
the new email ids to the worker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import partial
from typing import Any, NamedTuple

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


# Emails whose ids one task call takes (after commit, from notify_many).
EMAIL_TASK_CHUNK = 200
# How many (recipient, dedupe key) pairs one "already notified?" query looks up.
_LOOKUP_CHUNK = 500


class Notice(NamedTuple):
    """One business event to notify, as ``notify_many`` takes it."""

    recipients: Iterable
    kind: str
    title: Any
    body: Any = ""
    url: str = ""
    dedupe_key: str = ""


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


def notify_many(items: Iterable[Notice | tuple], *, email: bool = True) -> int:
    """``notify`` for many events at once: one INSERT of inbox rows, one of emails.

    Each item is a :class:`Notice` (or a tuple of its fields). The rules are notify's,
    item by item and in order: inactive recipients are skipped, a person already
    notified of a dedupe key is not notified again (also when two items of the same
    call name the same person and key: the first wins), each reads it in their own
    language. The new emails go to the worker after commit, in a few task calls.
    Returns how many inbox rows were created. Call it inside the business transaction.
    """
    wanted: dict[tuple[int, str], tuple] = {}
    for recipients, kind, title, body, url, dedupe_key in items:
        key = str(dedupe_key)[:150]
        for user in recipients:
            if user is not None and user.is_active:
                wanted.setdefault((user.pk, key), (user, kind, title, body, url))
    if not wanted:
        return 0
    already = _already_notified(list(wanted))
    emails = _EmailTexts()
    now = timezone.now()
    rows, mails = [], []
    for (pk, key), (user, kind, title, body, url) in wanted.items():
        if (pk, key) in already:
            continue
        url = safe_path(url)
        language = _language_of(user)
        if isinstance(title, str) and isinstance(body, str):
            # Plain strings read the same in every language: no switching per row.
            user_title, user_body = one_line(title), plain_body(body)
        else:
            with translation.override(language):
                user_title, user_body = one_line(title), plain_body(body)
        if email and user.email:
            text = emails.render(user, language, user_title, user_body, url)
            mails.append(_outbound(user, user_title, user_body, url, key, text=text, now=now))
        rows.append(
            Notification(
                recipient=user,
                kind=kind[:40],
                title=user_title,
                body=user_body,
                url=url,
                dedupe_key=key,
            )
        )
    with transaction.atomic():
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        if mails:
            _queue(mails, one_task_per_email=False)
    return len(rows)


def _already_notified(pairs: list[tuple[int, str]]) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    for start in range(0, len(pairs), _LOOKUP_CHUNK):
        chunk = pairs[start : start + _LOOKUP_CHUNK]
        rows = Notification.objects.filter(
            recipient_id__in={pk for pk, _key in chunk}, dedupe_key__in={k for _pk, k in chunk}
        ).values_list("recipient_id", "dedupe_key")
        found.update(rows)
    return found


def _email_text(user, title: str, body: str, link: str) -> str:
    return render_to_string(
        "notifications/email/notification.txt",
        {"user": user, "title": title, "body": body, "link": link},
    )


# Stand-ins for the variable parts of an email. They cannot occur in real values:
# one_line and plain_body strip every control character, NUL included.
_SLOTS = {"title": "\x00title\x00", "body": "\x00body\x00", "link": "\x00link\x00"}
_SLOT = re.compile("\x00(title|body|link)\x00")


class _EmailTexts:
    """Email bodies for one ``notify_many`` call, rendering the template once per reader.

    The template is rendered with stand-ins for title, body and link, once per
    language, recipient and which parts are present; each email then fills in its
    values. The text is the template's own output (it renders them unescaped); a
    template whose output does not carry each stand-in exactly once is rendered per
    email instead.
    """

    def __init__(self):
        self._skeletons: dict[tuple, str | None] = {}

    def render(self, user, language: str, title: str, body: str, url: str) -> str:
        """The email to ``user`` in ``language``, as the template renders it."""
        # Links in emails use the configured site URL, never the request's Host.
        values = {"title": title, "body": body, "link": f"{settings.SITE_URL}{url}" if url else ""}
        present = tuple(name for name, value in values.items() if value)
        key = (language, user.pk, present)
        if key not in self._skeletons:
            slots = {name: _SLOTS[name] if name in present else "" for name in values}
            with translation.override(language):
                skeleton = _email_text(user, **slots)
            whole = all(skeleton.count(_SLOTS[name]) == 1 for name in present)
            self._skeletons[key] = skeleton if whole else None
        skeleton = self._skeletons[key]
        if skeleton is None:
            with translation.override(language):
                return _email_text(user, **values)
        return _SLOT.sub(lambda match: values[match.group(1)], skeleton)


def _outbound(
    user, title: str, body: str, url: str, dedupe_key: str, *, text: str | None = None, now=None
) -> OutboundEmail:
    if text is None:
        # Links in emails use the configured site URL, never the request's Host.
        text = _email_text(user, title, body, f"{settings.SITE_URL}{url}" if url else "")
    return OutboundEmail(
        to=user.email,
        subject=one_line(title, SUBJECT_MAX),
        body=text,
        dedupe_key=f"{dedupe_key}:{user.pk}",
        next_attempt_at=now or timezone.now(),
    )


def _queue(mails: list[OutboundEmail], *, one_task_per_email: bool = True) -> None:
    OutboundEmail.objects.bulk_create(mails, ignore_conflicts=True)
    keys = [m.dedupe_key for m in mails]
    ids: list[int] = []
    for start in range(0, len(keys), _LOOKUP_CHUNK):
        ids.extend(
            OutboundEmail.objects.filter(
                dedupe_key__in=keys[start : start + _LOOKUP_CHUNK], status=EmailStatus.PENDING
            ).values_list("pk", flat=True)
        )
    from frontline.notifications import tasks

    # robust: a broker hiccup must not fail a committed request; the beat sweep
    # (send_pending_emails) picks the message up a minute later.
    if one_task_per_email:
        for pk in ids:
            transaction.on_commit(partial(tasks.send_email.delay, pk), robust=True)
    elif ids:
        transaction.on_commit(partial(_hand_over, sorted(ids)), robust=True)


def _hand_over(ids: list[int]) -> None:
    from frontline.notifications import tasks

    for start in range(0, len(ids), EMAIL_TASK_CHUNK):
        tasks.send_emails.delay(ids[start : start + EMAIL_TASK_CHUNK])


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
