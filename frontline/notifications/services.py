"""Notifications: the in-app inbox and the outbox of email.

``notify`` writes one inbox row per recipient and one outbox row per recipient with an
address, inside the caller's transaction; the emails are handed to the worker only
after commit (``transaction.on_commit``), so nothing goes out for rolled-back data.
Both rows carry a dedupe key under a unique constraint: a retried business event
(a replayed request, a job run twice) never notifies anyone twice.

Titles and bodies may be lazy translations (``gettext_lazy`` / ``format_lazy``): each
recipient gets them in their own preferred language.

``notify_many`` does the same for many events at once (the SLA sweep's batch): one
INSERT for the inbox rows, one for the emails (``notifications.bulk``), and one
after-commit hand-over of all the new email ids to the worker. With a ``digest`` it
sends a person one email for all their new notices of a kind instead of one each.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from frontline.core.errors import NotFound
from frontline.core.rest import parse_id
from frontline.notifications import bulk
from frontline.notifications.models import Notification, OutboundEmail

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


def notify_many(
    items: Iterable[Notice | tuple], *, email: bool = True, digest: Digest | None = None
) -> int:
    """``notify`` for many events at once: one INSERT of inbox rows, one of emails.

    Each item is a :class:`Notice` (or a tuple of its fields). The rules are notify's,
    item by item and in order: inactive recipients are skipped, a person already
    notified of a dedupe key is not notified again (also when two items of the same
    call name the same person and key: the first wins), each reads it in their own
    language. The new emails go to the worker after commit, in a few task calls.
    Returns how many inbox rows were created. Call it inside the business transaction.

    With ``digest``, a person with several new notices of one kind in this call gets
    one email for all of them (each notice still gets its own inbox row):
    ``digest(user, kind, notices)`` returns that email's title, body and link; it is
    called in the person's language. A single notice of a kind is emailed as without
    ``digest``.
    """
    wanted: dict[tuple[int, str], tuple] = {}
    for recipients, kind, title, body, url, dedupe_key in items:
        key = str(dedupe_key)[:150]
        for user in recipients:
            if user is not None and user.is_active:
                wanted.setdefault((user.pk, key), (user, kind, title, body, url))
    if not wanted:
        return 0
    now = timezone.now()
    people, notices = {}, []
    for (pk, key), (user, kind, title, body, url) in wanted.items():
        if isinstance(title, str) and isinstance(body, str):
            # Plain strings read the same in every language: no switching per row.
            user_title, user_body = one_line(title), plain_body(body)
        else:
            with translation.override(_language_of(user)):
                user_title, user_body = one_line(title), plain_body(body)
        people[pk] = user
        notices.append((pk, kind[:40], user_title, user_body, safe_path(url), key))
    with transaction.atomic():
        new = bulk.insert_inbox(notices, now=now)
        fresh = [n for n in notices if (n[0], n[5]) in new]
        if email:
            mails = _emails(fresh, people, digest, now)
            if mails:
                _queue(mails, one_task_per_email=False)
    return len(fresh)


class Notified(NamedTuple):
    """One new inbox row, as a digest lists it."""

    title: str
    body: str
    url: str
    dedupe_key: str


# (user, kind, notices) -> (title, body, url) of the one email for those notices.
Digest = Callable[[Any, str, list[Notified]], tuple[Any, Any, str]]


def _emails(fresh, people, digest: Digest | None, now) -> list[OutboundEmail]:
    """The emails for the new inbox rows: one each, or one per person and kind (digest)."""
    groups: dict[tuple[int, str], list[Notified]] = {}
    for pk, kind, title, body, url, key in fresh:
        if people[pk].email:
            groups.setdefault((pk, kind if digest else key), []).append(
                Notified(title, body, url, key)
            )
    texts = _EmailTexts()
    mails = []
    for (pk, kind), group in groups.items():
        user = people[pk]
        language = _language_of(user)
        if len(group) == 1:
            title, body, url, key = group[0]
        else:
            with translation.override(language):
                title, body, url = digest(user, kind, group)
                title, body = one_line(title), plain_body(body)
            url = safe_path(url)
            # The same notices make the same key: a retried batch queues no second digest.
            listed = "\n".join(sorted(n.dedupe_key for n in group)).encode()
            key = f"digest:{kind}:{len(group)}:{hashlib.sha256(listed).hexdigest()[:32]}"
        text = texts.render(user, language, title, body, url)
        mails.append(_outbound(user, title, body, url, key, text=text, now=now))
    return mails


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
    ids = bulk.insert_emails(mails)
    from frontline import jobs
    from frontline.notifications import tasks

    # A broker hiccup must not fail a committed request; the beat sweep
    # (send_pending_emails) picks the message up a minute later.
    if one_task_per_email:
        for pk in ids:
            jobs.publish_on_commit(tasks.send_email, args=[pk])
    else:
        _hand_over(sorted(ids))


def _hand_over(ids: list[int]) -> None:
    """Many emails: one outbox job per chunk, published after commit (jobs.enqueue)."""
    from frontline import jobs
    from frontline.notifications import tasks

    for start in range(0, len(ids), EMAIL_TASK_CHUNK):
        jobs.enqueue(tasks.send_emails, args=[ids[start : start + EMAIL_TASK_CHUNK]])


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
