"""notify_many(), as the SLA sweep uses it: notify's rules for many events, in bulk.

(They live beside the sweep, their one caller; notify's own tests are in
``frontline/notifications/tests``.)
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import override_settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from frontline.notifications import services
from frontline.notifications.models import Notification, OutboundEmail
from frontline.notifications.services import Notice
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


def test_each_event_notifies_each_person_once(cast, django_capture_on_commit_callbacks):
    # Given an inactive colleague, a person listed twice, and an event already notified
    gone = f.UserFactory(email="gone@t.example", is_active=False)
    services.notify(recipients=[cast.agent], kind="k", title="old", dedupe_key="e:1")
    # When many events are notified at once
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        created = services.notify_many(
            [
                Notice([cast.agent, cast.engineer], "k", "冷站告警", "正文", "/x/", "e:1"),
                Notice([cast.engineer, None, gone], "k", "again", "", "", "e:1"),
                ([cast.manager, cast.manager], "k", "二号", "", "", "e:2"),
            ]
        )
    # Then each (person, event) once: the agent had e:1 already, the engineer's second
    # e:1 is the same event, the inactive person and None are skipped
    assert created == 2
    pairs = set(Notification.objects.values_list("recipient_id", "dedupe_key"))
    assert pairs == {(cast.agent.pk, "e:1"), (cast.engineer.pk, "e:1"), (cast.manager.pk, "e:2")}
    assert Notification.objects.get(recipient=cast.engineer).title == "冷站告警"
    # and the two new emails go to the worker in one hand-over after commit
    assert OutboundEmail.objects.count() == 3
    assert len(callbacks) == 1 and mail.outbox == []


def test_the_emails_go_out_after_commit(cast, django_capture_on_commit_callbacks):
    items = [Notice([cast.agent], "k", f"T-{i}", "", "/desk/", f"e:{i}") for i in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        services.notify_many(items)
    assert sorted(m.subject for m in mail.outbox) == ["T-0", "T-1", "T-2"]
    assert not OutboundEmail.objects.exclude(status="sent").exists()


def test_nothing_to_notify_writes_nothing(cast, django_assert_num_queries):
    cast.agent.is_active = False
    with django_assert_num_queries(0):
        assert services.notify_many([Notice([cast.agent, None], "k", "t", "", "", "x")]) == 0


@pytest.mark.parametrize("body", ["", "第一行\n第二行 & <b>"])
@pytest.mark.parametrize("url", ["", "/desk/tickets/5/"])
@override_settings(SITE_URL="https://frontline.example.com")
def test_the_email_is_what_notify_writes(cast, body, url):
    # Given readers in two languages
    cast.agent.preferred_language = "zh-hans"
    cast.engineer.preferred_language = "en"
    people = [cast.agent, cast.engineer]
    title = "SLA 告警: T-000001 冷机"
    # When the same event goes once through notify and once through notify_many
    services.notify(recipients=people, kind="k", title=title, body=body, url=url, dedupe_key="a")
    services.notify_many([Notice(people, "k", title, body, url, "b")])
    # Then every email (subject, text) is the same either way
    for person in people:
        one = OutboundEmail.objects.get(dedupe_key=f"a:{person.pk}")
        many = OutboundEmail.objects.get(dedupe_key=f"b:{person.pk}")
        assert (many.to, many.subject, many.body) == (one.to, one.subject, one.body)
    chinese = OutboundEmail.objects.get(dedupe_key=f"b:{cast.agent.pk}").body
    english = OutboundEmail.objects.get(dedupe_key=f"b:{cast.engineer.pk}").body
    assert chinese != english and english.startswith("Hello")


def test_lazy_titles_are_read_in_each_language(cast):
    cast.agent.preferred_language = "zh-hans"
    cast.engineer.preferred_language = "en"
    title = format_lazy("{}: T-1", _("Sites"))
    services.notify_many([Notice([cast.agent, cast.engineer], "k", title, "", "", "lang")])
    titles = dict(Notification.objects.values_list("recipient_id", "title"))
    assert titles == {cast.engineer.pk: "Sites: T-1", cast.agent.pk: "站点: T-1"}


def test_many_events_take_the_same_statements_as_two(cast, django_assert_max_num_queries):
    # (30 × 3 rows: within one INSERT even on SQLite, whose statements take ~1,000 values.)
    def items(prefix, count):
        people = [cast.agent, cast.engineer, cast.manager]
        return [
            Notice(people, "k", f"{prefix}{i}", "", "/x/", f"{prefix}:{i}") for i in range(count)
        ]

    with django_assert_max_num_queries(10) as few:
        services.notify_many(items("a", 2))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert services.notify_many(items("b", 30)) == 90


def _listing(user, kind, notices):
    return f"{len(notices)} × {kind}", "\n".join(n.title for n in notices), "/inbox/"


def test_with_a_digest_each_person_gets_one_email_per_kind(
    cast, django_capture_on_commit_callbacks
):
    # Given three events for the agent (two of one kind) and one for the engineer
    items = [
        Notice([cast.agent, cast.engineer], "a", "T-1", "", "/t/1/", "e:1"),
        Notice([cast.agent], "a", "T-2", "", "/t/2/", "e:2"),
        Notice([cast.agent], "b", "T-3", "", "/t/3/", "e:3"),
    ]
    # When they are notified with a digest
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notify_many(items, digest=_listing) == 4
    # Then each event is in the inbox, and the agent's two of kind "a" share one email
    assert Notification.objects.count() == 4
    subjects = sorted((m.to[0], m.subject) for m in mail.outbox)
    assert subjects == [
        (cast.agent.email, "2 × a"),
        (cast.agent.email, "T-3"),
        (cast.engineer.email, "T-1"),
    ]
    digest = next(m for m in mail.outbox if m.subject == "2 × a")
    assert "T-1" in digest.body and "T-2" in digest.body

    # And the same events again (a retried batch) notify and email nobody
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notify_many(items, digest=_listing) == 0
    assert OutboundEmail.objects.count() == 3 and len(mail.outbox) == 3
