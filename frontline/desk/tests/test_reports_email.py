"""The scheduled daily report email: once per manager per day, in their language, with the xlsx."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.utils import translation

from frontline.accounts.roles import Role
from frontline.desk import tasks_reports
from frontline.desk.reports import today
from frontline.desk.tasks_reports import email_daily_report
from frontline.desk.tests.factories import operator_user
from frontline.notifications.models import EmailStatus, OutboundEmail

pytestmark = pytest.mark.django_db

DATE = "2026-03-10"


@pytest.fixture
def managers(cast):
    """The cast's manager (English), a Chinese-speaking manager and an inactive one."""
    zh = operator_user(Role.MANAGER, email="zh-manager@t.example", preferred_language="zh-hans")
    gone = operator_user(Role.MANAGER, email="gone@t.example")
    gone.is_active = False
    gone.save()
    return [cast.manager, zh]


def test_sends_once_per_manager_per_day_even_if_run_twice(cast, managers):
    # When the task runs twice for the same day
    first = email_daily_report(DATE)
    second = email_daily_report(DATE)
    # Then each active manager got exactly one email, with the workbook attached
    assert (first, second) == (2, 0)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in managers)
    for message in mail.outbox:
        (name, content, mimetype) = message.attachments[0]
        assert name == f"daily-issues-{DATE}.xlsx" and content[:2] == b"PK"
        assert DATE in message.subject and "S1" in message.body
    rows = OutboundEmail.objects.filter(dedupe_key__startswith=f"daily-report:{DATE}:")
    assert rows.count() == 2 and set(rows.values_list("status", flat=True)) == {EmailStatus.SENT}
    # Nobody else (analysts, agents, customers, the inactive manager) got one
    assert cast.analyst.email not in {m.to[0] for m in mail.outbox}


def test_another_day_is_another_email(cast, managers):
    email_daily_report(DATE)
    email_daily_report("2026-03-11")
    assert len(mail.outbox) == 4


def test_each_manager_reads_it_in_their_language(cast, managers, monkeypatch):
    seen = {}
    real = tasks_reports.report_text

    def spy(report):
        seen[translation.get_language()] = True
        return real(report)

    monkeypatch.setattr(tasks_reports, "report_text", spy)
    email_daily_report(DATE)
    assert set(seen) == {"en", "zh-hans"}


def test_a_failed_send_is_retried_on_the_next_run(cast, managers, monkeypatch):
    real_send = EmailMessage.send
    failing = {"to": cast.manager.email}

    def send(self, *args, **kwargs):
        if self.to == [failing["to"]]:
            raise OSError("SMTP down")
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(EmailMessage, "send", send)
    assert email_daily_report(DATE) == 1
    row = OutboundEmail.objects.get(dedupe_key=f"daily-report:{DATE}:{cast.manager.pk}")
    assert row.status == EmailStatus.FAILED and "SMTP down" in row.last_error
    failing["to"] = None
    assert email_daily_report(DATE) == 1
    assert email_daily_report(DATE) == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in managers)


def test_a_send_with_unknown_outcome_is_not_repeated(cast, managers):
    # Given a worker that died while sending to the manager (claimed, never marked)
    OutboundEmail.objects.create(
        dedupe_key=f"daily-report:{DATE}:{cast.manager.pk}", to=cast.manager.email,
        subject="x", body="x", status=EmailStatus.FAILED, attempts=1,
        last_error=tasks_reports.SENDING,
    )  # fmt: skip
    # When the task runs again, the manager gets no second copy
    email_daily_report(DATE)
    assert [m.to[0] for m in mail.outbox] == [managers[1].email]


def test_outbox_sender_leaves_report_rows_alone(cast, managers):
    email_daily_report(DATE)
    assert not OutboundEmail.objects.filter(status=EmailStatus.PENDING).exists()


def test_default_day_is_yesterday(cast, managers):
    email_daily_report()
    yesterday = (today() - dt.timedelta(days=1)).isoformat()
    assert all(yesterday in m.subject for m in mail.outbox) and len(mail.outbox) == 2


def test_beat_schedule_uses_the_configured_time(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["desk-daily-report"]
    assert entry["task"] == "frontline.desk.tasks_reports.email_daily_report"
    assert entry["schedule"].hour == {settings.DESK_DAILY_REPORT_HOUR}
    assert entry["schedule"].minute == {settings.DESK_DAILY_REPORT_MINUTE}
