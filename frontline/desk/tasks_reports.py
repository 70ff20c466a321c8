"""The daily issue report, emailed to every active manager (Celery beat, ``desk-daily-report``).

Once per manager per day, however often the task runs: each email is recorded as an
``OutboundEmail`` under ``daily-report:<date>:<user id>`` (a unique key) before it
is sent, and marked sent after. The email carries an attachment, which the outbox
does not, so this task sends it itself; its rows are never ``pending``, so the outbox
sender leaves them alone. A send that failed with an error is retried on the next
run; one whose outcome is unknown (the worker died while sending) is not, because a
second copy is worse than a missing one — it stays marked "sending" for a person.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext

from frontline.accounts.models import User
from frontline.accounts.roles import OrganizationKind, Role
from frontline.core.errors import DomainError
from frontline.desk.exports import XLSX_CONTENT_TYPE
from frontline.desk.reports import (
    build_daily_report,
    parse_report_date,
    report_filename,
    report_text,
    report_xlsx,
    today,
)
from frontline.notifications.models import EmailStatus, OutboundEmail

log = logging.getLogger(__name__)

SENDING = "sending"
MAX_ATTEMPTS = 5


def dedupe_key(date: dt.date, user: User) -> str:
    return f"daily-report:{date.isoformat()}:{user.pk}"


def report_recipients():
    """Every active manager of the operator who has an email address."""
    return (
        User.objects.filter(
            is_active=True,
            membership__role=Role.MANAGER,
            membership__organization__kind=OrganizationKind.OPERATOR,
        )
        .exclude(email="")
        .order_by("pk")
    )


@shared_task(name="frontline.desk.tasks_reports.email_daily_report")
def email_daily_report(date: str | None = None) -> int:
    """Email the report for ``date`` (default: yesterday in Asia/Shanghai); returns emails sent."""
    day = parse_report_date(date, default=today() - dt.timedelta(days=1))
    sent = 0
    for manager in report_recipients():
        try:
            sent += _send_one(manager, day)
        except Exception:  # one manager's failure must not stop the others
            log.exception("daily report for %s to user %s failed", day, manager.pk)
    return sent


def _claim(key: str, *, to: str, subject: str, body: str) -> OutboundEmail | None:
    """The outbox row for ``key``, claimed for sending now; None if sent, in flight or given up."""
    try:
        with transaction.atomic():
            return OutboundEmail.objects.create(
                dedupe_key=key,
                to=to,
                subject=subject,
                body=body,
                status=EmailStatus.FAILED,
                attempts=1,
                last_error=SENDING,
            )
    except IntegrityError:
        pass
    row = OutboundEmail.objects.filter(dedupe_key=key).first()
    if (
        row is None
        or row.status == EmailStatus.SENT
        or row.last_error == SENDING
        or row.attempts >= MAX_ATTEMPTS
    ):
        return None
    # Compare-and-set: of two runs retrying the same failed send, one wins.
    claimed = (
        OutboundEmail.objects.filter(pk=row.pk, status=EmailStatus.FAILED, attempts=row.attempts)
        .exclude(last_error=SENDING)
        .update(attempts=F("attempts") + 1, last_error=SENDING, subject=subject, body=body)
    )
    return row if claimed == 1 else None


def _send_one(user: User, day: dt.date) -> int:
    key = dedupe_key(day, user)
    if OutboundEmail.objects.filter(dedupe_key=key, status=EmailStatus.SENT).exists():
        return 0
    with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
        try:
            report = build_daily_report(day, user)
        except DomainError:
            return 0  # no longer allowed to read it
        subject = gettext("Daily issue report %(date)s") % {"date": day.isoformat()}
        body = report_text(report)
        attachment = report_xlsx(report)
    row = _claim(key, to=user.email, subject=subject[:250], body=body)
    if row is None:
        return 0
    message = EmailMessage(subject=subject, body=body, to=[user.email])
    message.attach(report_filename(report), attachment, XLSX_CONTENT_TYPE)
    try:
        message.send()
    except Exception as exc:
        OutboundEmail.objects.filter(pk=row.pk).update(
            last_error=f"{type(exc).__name__}: {exc}"[:300],
            next_attempt_at=None,
        )
        log.warning("daily report email %s failed: %s", key, exc)
        return 0
    OutboundEmail.objects.filter(pk=row.pk).update(
        status=EmailStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return 1
