"""Operator ticket pages: who may open them, the queues, the search, and what they show.

The story: customer A (华东生物制药) has a chiller ticket owned by the service agent,
with a public reply and an internal note; customer B has its own ticket. Operator staff
see both; customers, partners and outsiders find no staff page at all (404).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils import timezone

from frontline.desk.models import Ticket
from frontline.desk.states import EventKind, SlaState, TicketStatus
from frontline.desk.tests import factories as df
from frontline.testing import factories as f

STAFF = ["admin", "manager", "dispatcher", "agent", "engineer", "analyst"]
WORKERS = ["admin", "manager", "dispatcher", "agent", "engineer"]
NOT_STAFF = [
    "customer_a_admin",
    "customer_a_user",
    "customer_b_admin",
    "partner_admin",
    "partner_engineer",
    "supplier_contact",
    "outsider",
]
NOTE_TEXT = "内部备注：客户机房门禁需提前一天报备"
REPLY_TEXT = "您好，工程师已在路上"


@dataclass
class DeskWorld:
    ticket_a: Ticket
    ticket_b: Ticket


@pytest.fixture
def desk(cast) -> DeskWorld:
    for severity in ("S1", "S2", "S3", "S4"):
        df.SeverityLevelFactory(severity=severity)
    site_a = f.SiteFactory(customer=cast.customer_a, name="华东生物 一号厂区")
    ticket_a = df.TicketFactory(
        customer=cast.customer_a,
        owner=cast.agent,
        site=site_a,
        title="1# 冷水机组出水温度过高",
        first_handled_at=timezone.now(),
    )
    df.TicketEventFactory(
        ticket=ticket_a, kind=EventKind.REPLY, public=True, body=f"<p>{REPLY_TEXT}</p>"
    )
    df.TicketEventFactory(ticket=ticket_a, kind=EventKind.NOTE, body=f"<p>{NOTE_TEXT}</p>")
    ticket_b = df.TicketFactory(customer=cast.customer_b, owner=cast.agent, title="B 机房 UPS 告警")
    return DeskWorld(ticket_a=ticket_a, ticket_b=ticket_b)


def text(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------- who may open the pages


@pytest.mark.parametrize("role", STAFF)
def test_operator_staff_open_the_ticket_list_and_a_ticket(client, cast, desk, role):
    client.force_login(cast.by_role(role))
    assert client.get("/tickets/").status_code == 200
    for ticket in (desk.ticket_a, desk.ticket_b):
        response = client.get(f"/tickets/{ticket.pk}/")
        assert response.status_code == 200
        assert ticket.title in text(response)


@pytest.mark.parametrize("role", NOT_STAFF)
def test_anyone_else_finds_no_staff_ticket_page(client, cast, desk, role):
    # Given a customer (even of the ticket's own organisation), a partner or an outsider
    client.force_login(cast.by_role(role))
    # Then the staff pages do not exist for them, not even for their own tickets
    for url in (
        "/tickets/",
        "/tickets/new/",
        f"/tickets/{desk.ticket_a.pk}/",
        f"/tickets/{desk.ticket_b.pk}/",
    ):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("role", WORKERS)
def test_people_who_work_tickets_open_the_intake_form(client, cast, desk, role):
    client.force_login(cast.by_role(role))
    assert client.get("/tickets/new/").status_code == 200


def test_a_quality_analyst_reads_tickets_but_takes_no_calls(client, cast, desk):
    client.force_login(cast.analyst)
    assert client.get("/tickets/new/").status_code == 403
    response = client.get(f"/tickets/{desk.ticket_a.pk}/")
    assert 'data-testid="reply-form"' not in text(response)


@pytest.mark.parametrize(
    "url", ["/tickets/", "/tickets/new/", "/tickets/{a}/", "/tickets/{a}/reply/"]
)
def test_anonymous_visitors_are_sent_to_sign_in(client, desk, url):
    response = client.get(url.format(a=desk.ticket_a.pk))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("pk", ["99999999", "99999999999999999999999", "abc", "-1"])
def test_odd_or_unknown_ticket_ids_are_404(client, cast, desk, pk):
    client.force_login(cast.manager)
    assert client.get(f"/tickets/{pk}/").status_code == 404
    assert client.post(f"/tickets/{pk}/take/").status_code == 404


# ---------------------------------------------------------------- the queues


def ids(response) -> list[int]:
    return [t.pk for t in response.context["object_list"]]


def test_each_queue_shows_its_tickets(client, cast, desk):
    # Given tickets in every situation an agent cares about
    now = timezone.now()
    mine = df.TicketFactory(customer=cast.customer_a, owner=cast.engineer, first_handled_at=now)
    waiting = df.TicketFactory(customer=cast.customer_a, owner=cast.agent, first_handled_at=now)
    df.HandOffFactory(ticket=waiting, to_user=cast.engineer)
    breached = df.TicketFactory(
        customer=cast.customer_b,
        sla_state=SlaState.BREACHED,
        sla_breached_at=now,
        first_handled_at=now,
    )
    burning = df.TicketFactory(customer=cast.customer_b, fire_open=True, first_handled_at=now)
    closed = df.TicketFactory(
        customer=cast.customer_a, owner=cast.engineer, status=TicketStatus.CLOSED
    )
    client.force_login(cast.engineer)

    # When the engineer opens each queue, then it holds exactly its tickets
    def queue(name):
        return set(ids(client.get("/tickets/", {"queue": name})))

    assert queue("mine") == {mine.pk}
    assert queue("accept") == {waiting.pk}
    assert queue("unassigned") == {desk.ticket_b.pk}
    assert queue("breached") == {breached.pk}
    assert queue("fire") == {burning.pk}
    everything_open = {desk.ticket_a.pk, desk.ticket_b.pk, mine.pk, waiting.pk, breached.pk}
    assert queue("open") == everything_open | {burning.pk}
    assert closed.pk not in queue("open")
    # an unknown queue is the default one, never an error
    assert queue("nonsense") == queue("open")


def test_the_tabs_count_each_queue_and_show_who_a_ticket_waits_for(client, cast, desk):
    df.HandOffFactory(ticket=desk.ticket_a, to_user=cast.engineer)
    client.force_login(cast.engineer)
    response = client.get("/tickets/")
    tabs = {t["key"]: t["count"] for t in response.context["queues"]}
    assert tabs["accept"] == 1
    assert tabs["open"] == 2
    assert "工程师" in text(response)  # the pending hand-off's addressee, beside the owner


def test_search_finds_a_ticket_by_number_or_title(client, cast, desk):
    client.force_login(cast.agent)
    assert ids(client.get("/tickets/", {"q": desk.ticket_b.number})) == [desk.ticket_b.pk]
    assert ids(client.get("/tickets/", {"q": "冷水机组"})) == [desk.ticket_a.pk]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"customer": "{b}"}, ["b"]),
        ({"status": "triaged"}, ["a"]),
        ({"severity": "S1"}, ["b"]),
        ({"sort": "title"}, ["a", "b"]),
        ({"sort": "-title"}, ["b", "a"]),
    ],
)
def test_filters_and_sorting(client, cast, desk, query, expected):
    Ticket.objects.filter(pk=desk.ticket_a.pk).update(title="Alpha", status="triaged")
    Ticket.objects.filter(pk=desk.ticket_b.pk).update(title="Bravo", severity="S1")
    client.force_login(cast.manager)
    query = {k: v.format(b=cast.customer_b.pk) for k, v in query.items()}
    worlds = {"a": desk.ticket_a.pk, "b": desk.ticket_b.pk}
    assert ids(client.get("/tickets/", query)) == [worlds[w] for w in expected]


@pytest.mark.parametrize(
    "query",
    [
        {"sort": "owner__password"},
        {"sort": "99999999999999999999"},
        {"customer": "99999999999999999999"},
        {"customer": "abc"},
        {"status": "exploded"},
        {"sla_state": "'; DROP TABLE desk_ticket; --"},
        {"page": "99999999999999999999"},
        {"q": "x" * 5000},
        {"queue": "<script>"},
    ],
)
def test_odd_query_parameters_never_break_the_list(client, cast, desk, query):
    client.force_login(cast.manager)
    assert client.get("/tickets/", query).status_code in (200, 404)


def test_a_filter_for_another_customer_shows_nothing_of_it(client, cast, desk):
    # Staff see every customer; a filter naming a customer gives only that one's tickets.
    client.force_login(cast.agent)
    response = client.get("/tickets/", {"customer": cast.customer_a.pk})
    assert ids(response) == [desk.ticket_a.pk]
    assert desk.ticket_b.title not in text(response)


def test_htmx_asks_for_the_table_only(client, cast, desk):
    client.force_login(cast.agent)
    response = client.get("/tickets/", {"queue": "open"}, headers={"HX-Request": "true"})
    body = text(response)
    assert 'data-testid="ticket-table"' in body
    assert "<html" not in body
    assert 'data-testid="queues"' not in body
    restore = client.get(
        "/tickets/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in text(restore)


# ---------------------------------------------------------------- the ticket page


def test_the_ticket_page_shows_header_timeline_room_and_forms(client, cast, desk):
    df.HandOffFactory(ticket=desk.ticket_a, to_user=cast.engineer)
    client.force_login(cast.agent)
    response = client.get(f"/tickets/{desk.ticket_a.pk}/")
    body = text(response)
    assert desk.ticket_a.number in body
    assert "机枪" in body  # the S3 level's configured name
    assert "华东生物 一号厂区" in body
    assert REPLY_TEXT in body and NOTE_TEXT in body
    # public and internal entries are told apart
    assert 'data-event-kind="note" data-public="false"' in body
    assert 'data-event-kind="reply" data-public="true"' in body
    # the room holds the internal conversation
    room = body.split('data-testid="room"')[1]
    assert NOTE_TEXT in room and REPLY_TEXT not in room
    # the owner stays while the hand-off waits
    assert "工程师" in body.split('data-testid="pending-hand-off"')[1][:300]
    for form in ("reply", "note", "transition", "update", "call-fire"):
        assert f'data-testid="{form}-form"' in body, form
    # the transition offers only the allowed next statuses
    options = response.context["forms"]["transition"].fields["to_status"].widget.choices
    assert {v for v, _label in options} == {
        "triaged",
        "in_progress",
        "waiting_customer",
        "waiting_third_party",
        "resolved",
    }


def test_attachments_link_to_the_api_download(client, cast, desk):
    attachment = df.AttachmentFactory(ticket=desk.ticket_a, name="现场照片.txt", public=False)
    client.force_login(cast.agent)
    body = text(client.get(f"/tickets/{desk.ticket_a.pk}/"))
    assert f'href="/api/v1/attachments/{attachment.pk}/download/"' in body
    assert "现场照片.txt" in body


def test_reassign_is_offered_to_dispatchers_only(client, cast, desk):
    client.force_login(cast.dispatcher)
    assert 'data-testid="reassign-form"' in text(client.get(f"/tickets/{desk.ticket_a.pk}/"))
    client.force_login(cast.agent)
    assert 'data-testid="reassign-form"' not in text(client.get(f"/tickets/{desk.ticket_a.pk}/"))


def test_the_person_asked_sees_accept_and_decline(client, cast, desk):
    df.HandOffFactory(ticket=desk.ticket_a, to_user=cast.engineer)
    client.force_login(cast.engineer)
    body = text(client.get(f"/tickets/{desk.ticket_a.pk}/"))
    assert 'data-testid="accept-form"' in body and 'data-testid="decline-form"' in body
    client.force_login(cast.agent)
    body = text(client.get(f"/tickets/{desk.ticket_a.pk}/"))
    assert 'data-testid="accept-form"' not in body
    assert 'data-testid="cancel-hand-off-form"' in body


def test_the_page_survives_an_sla_without_rows(client, cast, desk, monkeypatch):
    from frontline.desk import sla

    monkeypatch.setattr(sla, "explain", lambda ticket: [])
    client.force_login(cast.agent)
    assert client.get(f"/tickets/{desk.ticket_a.pk}/").status_code == 200


def test_an_htmx_request_for_the_ticket_gets_the_partial(client, cast, desk):
    client.force_login(cast.agent)
    response = client.get(f"/tickets/{desk.ticket_a.pk}/", headers={"HX-Request": "true"})
    body = text(response)
    assert "<html" not in body
    assert 'data-testid="timeline"' in body


def test_the_intake_form_tags_each_choice_with_its_customer(client, cast, desk):
    # tickets.js narrows contact, project, site and asset to the chosen customer by this tag
    site = f.SiteFactory(customer=cast.customer_b, name="云谷 B 机房")
    client.force_login(cast.agent)
    body = text(client.get("/tickets/new/"))
    assert f'value="{site.pk}" data-customer="{cast.customer_b.pk}"' in body
    assert "desk/tickets.js" in body
