"""Hostile text stays text, and list pages run a fixed number of queries however many rows."""

from __future__ import annotations

import pytest
from django.utils import timezone

from frontline.desk import tickets
from frontline.desk.states import EventKind
from frontline.desk.tests import factories as df
from frontline.desk.tests import test_pages
from frontline.desk.tests.test_pages import text
from frontline.testing import factories as f

EVIL_TITLE = '"><script>alert(1)</script>'
EVIL_BODY = "<img src=x onerror=alert(1)>"

# The story's world (customer A's and B's tickets), shared with the page tests.
desk = test_pages.desk


@pytest.fixture
def evil(cast, desk):
    """A ticket of customer A with a hostile title, and a hostile reply through the service."""
    ticket = df.TicketFactory(customer=cast.customer_a, owner=cast.agent, title=EVIL_TITLE)
    tickets.reply(actor=cast.agent, ticket=ticket, body=f"<p>看这里</p>{EVIL_BODY}")
    return ticket


def assert_harmless(body: str) -> None:
    assert "<script>alert(1)</script>" not in body
    assert "onerror" not in body
    assert "<img" not in body


def test_the_staff_list_escapes_a_hostile_title(client, cast, evil):
    client.force_login(cast.agent)
    body = text(client.get("/tickets/"))
    assert_harmless(body)
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_the_staff_page_escapes_the_title_and_sanitises_the_reply(client, cast, evil):
    client.force_login(cast.agent)
    body = text(client.get(f"/tickets/{evil.pk}/"))
    assert_harmless(body)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<p>看这里</p>" in body  # harmless formatting survives


def test_a_hostile_reply_posted_on_the_page_is_stored_sanitised(client, cast, desk):
    client.force_login(cast.agent)
    client.post(f"/tickets/{desk.ticket_a.pk}/reply/", {"reply-body": f"好的{EVIL_BODY}"})
    body = text(client.get(f"/tickets/{desk.ticket_a.pk}/"))
    assert_harmless(body)
    assert "好的" in body


def test_a_hostile_description_from_intake_is_sanitised(client, cast, desk):
    client.force_login(cast.agent)
    response = client.post(
        "/tickets/new/",
        {
            "customer": cast.customer_a.pk,
            "channel": "phone",
            "severity": "S3",
            "title": EVIL_TITLE,
            "description": f"<b>电话报修</b>{EVIL_BODY}<svg onload=alert(1)>",
        },
    )
    assert response.status_code == 302
    body = text(client.get(response["Location"]))
    assert_harmless(body)
    assert "onload" not in body
    assert "<b>电话报修</b>" in body


def test_staff_intake_creates_a_ticket_owned_by_the_agent(client, cast, desk):
    site = f.SiteFactory(customer=cast.customer_a)
    client.force_login(cast.agent)
    response = client.post(
        "/tickets/new/",
        {
            "customer": cast.customer_a.pk,
            "contact": cast.customer_a_user.pk,
            "site": site.pk,
            "channel": "email",
            "severity": "S2",
            "title": "邮件报修：冷却塔异响",
            "description": "客户邮件转录",
        },
    )
    assert response.status_code == 302
    from frontline.desk.models import Ticket

    ticket = Ticket.objects.get(title="邮件报修：冷却塔异响")
    assert (ticket.customer, ticket.owner, ticket.site, ticket.channel) == (
        cast.customer_a,
        cast.agent,
        site,
        "email",
    )


def test_intake_refuses_a_site_of_another_customer(client, cast, desk):
    from frontline.desk.models import Ticket

    site_b = f.SiteFactory(customer=cast.customer_b)
    client.force_login(cast.agent)
    count = Ticket.objects.count()
    response = client.post(
        "/tickets/new/",
        {
            "customer": cast.customer_a.pk,
            "site": site_b.pk,
            "channel": "phone",
            "severity": "S3",
            "title": "错挂站点",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Ticket.objects.count() == count


# ---------------------------------------------------------------- query counts


@pytest.fixture
def many(cast, desk):
    """Thirty more tickets across customers, owners, teams and hand-offs, with events."""
    team = f.TeamFactory()
    now = timezone.now()
    for i in range(30):
        ticket = df.TicketFactory(
            customer=cast.customer_a if i % 2 else cast.customer_b,
            owner=cast.agent if i % 3 else cast.engineer,
            team=team if i % 4 else None,
            first_handled_at=now if i % 5 else None,
            fire_open=i % 7 == 0,
        )
        df.TicketEventFactory(ticket=ticket, kind=EventKind.NOTE)
        if i % 6 == 0:
            df.HandOffFactory(ticket=ticket, to_user=cast.engineer)
    return desk


# Session, user, inbox badge, the count, the rows, the queue counts, filter choices (team,
# customer): a baseline; more means a query per row crept in.
LIST_MAX = 8
DETAIL_MAX = 19  # +1: the ticket's work orders (field)


@pytest.mark.parametrize("queue", ["open", "mine", "accept", "unassigned", "fire"])
def test_the_staff_list_does_not_grow_with_rows(
    client, cast, many, django_assert_max_num_queries, queue
):
    client.force_login(cast.engineer)
    with django_assert_max_num_queries(LIST_MAX):
        response = client.get("/tickets/", {"queue": queue})
    assert response.status_code == 200


def test_the_staff_list_partial_does_not_grow_with_rows(
    client, cast, many, django_assert_max_num_queries
):
    client.force_login(cast.engineer)
    with django_assert_max_num_queries(LIST_MAX):
        response = client.get("/tickets/", headers={"HX-Request": "true"})
    assert response.status_code == 200


def test_the_ticket_page_does_not_grow_with_events(
    client, cast, many, django_assert_max_num_queries
):
    ticket = many.ticket_a
    for i in range(20):
        df.TicketEventFactory(ticket=ticket, kind=EventKind.NOTE, body=f"<p>{i}</p>")
        df.AttachmentFactory(ticket=ticket)
    client.force_login(cast.agent)
    with django_assert_max_num_queries(DETAIL_MAX):
        response = client.get(f"/tickets/{ticket.pk}/")
    assert response.status_code == 200
