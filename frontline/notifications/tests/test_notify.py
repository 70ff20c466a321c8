"""notify(): one inbox row and one email per person and event, safe headers, sent after commit."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from frontline.notifications import services
from frontline.notifications.models import Notification, OutboundEmail
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


def test_notify_fills_each_inbox_and_queues_one_email_each_after_commit(
    cast, django_capture_on_commit_callbacks
):
    # Given two people, one of them listed twice, and one without an email address
    nobody = f.UserFactory(email="placeholder@t.example")
    nobody.email = ""  # an address removed later: inbox only
    # When something notifies them
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        created = services.notify(
            recipients=[cast.agent, cast.engineer, cast.agent, nobody],
            kind="test.hello",
            title="冷站告警",
            body="一号冷站出水温度过高",
            url="/desk/tickets/1/",
            dedupe_key="hello:1",
        )
    # Then three inbox rows, two emails queued but not sent before commit
    assert created == 3
    assert Notification.objects.count() == 3
    assert OutboundEmail.objects.count() == 2
    assert mail.outbox == []
    assert len(callbacks) == 2
    # and after commit they go out
    for callback in callbacks:
        callback()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([cast.agent.email, cast.engineer.email])
    message = mail.outbox[0]
    assert "http://" in message.body and "/desk/tickets/1/" in message.body


def test_the_same_event_twice_notifies_nobody_twice(cast, django_capture_on_commit_callbacks):
    kwargs = dict(recipients=[cast.agent], kind="k", title="t", dedupe_key="event:7")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notify(**kwargs) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notify(**kwargs) == 0
    assert Notification.objects.count() == 1
    assert OutboundEmail.objects.get().dedupe_key == f"event:7:{cast.agent.pk}"
    assert len(mail.outbox) == 1


def test_a_rolled_back_transaction_leaves_no_trace_and_sends_nothing(
    cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ValueError), transaction.atomic():
            services.notify(recipients=[cast.agent], kind="k", title="t", dedupe_key="x:1")
            raise ValueError
    assert callbacks == []
    assert not Notification.objects.exists() and not OutboundEmail.objects.exists()
    assert mail.outbox == []


def test_inactive_people_are_not_notified(cast):
    cast.agent.is_active = False
    assert services.notify(recipients=[cast.agent], kind="k", title="t", dedupe_key="x") == 0


def test_email_false_notifies_in_app_only(cast):
    services.notify(recipients=[cast.agent], kind="k", title="t", dedupe_key="x", email=False)
    assert Notification.objects.count() == 1 and not OutboundEmail.objects.exists()


@pytest.mark.parametrize(
    "title",
    [
        "Help\r\nBcc: victim@evil.example",
        "Help\nBcc: victim@evil.example",
        "Help\u2028Bcc: victim@evil.example",
        "Help\x85Bcc: victim@evil.example\r",
    ],
)
def test_line_breaks_in_titles_never_reach_a_mail_header(
    cast, django_capture_on_commit_callbacks, title
):
    # Given a title carrying a header injection
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(recipients=[cast.agent], kind="k", title=title, dedupe_key="inj")

    # Then the stored title and the subject are one line
    note = Notification.objects.get()
    assert "\n" not in note.title and "\r" not in note.title
    (message,) = mail.outbox
    assert message.subject == "Help Bcc: victim@evil.example"
    # and the message has exactly the intended recipient and no Bcc header
    parsed = message.message()
    assert message.recipients() == [cast.agent.email]
    assert parsed["Bcc"] is None and parsed.get_all("To") == [cast.agent.email]
    assert "victim" not in "".join(k for k, _v in parsed.items() if k.lower() != "subject")


@pytest.mark.parametrize(
    "url, stored",
    [
        ("/desk/tickets/5/", "/desk/tickets/5/"),
        ("https://evil.example/", ""),
        ("//evil.example/x", ""),
        ("javascript:alert(1)", ""),
        ("/\\evil.example", ""),
    ],
)
def test_links_stay_on_this_site(cast, url, stored):
    services.notify(recipients=[cast.agent], kind="k", title="t", url=url, dedupe_key="u")
    assert Notification.objects.get().url == stored


@override_settings(SITE_URL="https://frontline.example.com")
def test_email_links_use_the_configured_site_url(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            recipients=[cast.agent], kind="k", title="t", url="/inbox/", dedupe_key="link"
        )
    assert "https://frontline.example.com/inbox/" in mail.outbox[0].body


def test_each_recipient_reads_it_in_their_own_language(cast, django_capture_on_commit_callbacks):
    cast.agent.preferred_language = "zh-hans"
    cast.engineer.preferred_language = "en"
    title = format_lazy("{}: T-1", _("Sites"))
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            recipients=[cast.agent, cast.engineer], kind="k", title=title, dedupe_key="lang"
        )
    titles = dict(Notification.objects.values_list("recipient_id", "title"))
    assert titles[cast.engineer.pk] == "Sites: T-1"
    assert titles[cast.agent.pk] == "站点: T-1"
    english = next(m for m in mail.outbox if m.to == [cast.engineer.email])
    assert english.body.startswith("Hello")


def test_the_email_body_is_plain_text_and_not_escaped(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            recipients=[cast.agent], kind="k", title="A & B", body="<b>x</b> & y", dedupe_key="p"
        )
    message = mail.outbox[0]
    assert message.content_subtype == "plain"
    assert "<b>x</b> & y" in message.body and "&amp;" not in message.body
