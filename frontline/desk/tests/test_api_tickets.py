"""Tickets API: the scoping matrix, customer writes, actions, bad input and query counts."""

from __future__ import annotations

import pytest
from django.utils import timezone

from frontline.desk import tickets
from frontline.desk.models import HandOff, Ticket, TicketEvent
from frontline.desk.states import (
    Channel,
    EventKind,
    HandOffStatus,
    Severity,
    SlaState,
    TicketStatus,
)
from frontline.desk.tests import factories as df

pytestmark = pytest.mark.django_db
S = TicketStatus
URL = "/api/v1/tickets/"


@pytest.fixture
def places(cast):
    return df.Places(cast)


@pytest.fixture
def ticket_a(cast):
    """Customer A's ticket with a public reply and an internal note."""
    ticket = df.ticket_for(cast, first_handled_at=timezone.now(), status=S.IN_PROGRESS)
    tickets.reply(actor=cast.agent, ticket=ticket, body="我们正在处理")
    tickets.add_note(actor=cast.agent, ticket=ticket, body="内部：怀疑是压缩机")
    return ticket


@pytest.fixture
def ticket_b(cast):
    return df.ticket_for(cast, customer=cast.customer_b, first_handled_at=timezone.now())


# ---------------------------------------------------------------- scoping matrix

READERS = {
    # who: (sees A's ticket, sees B's ticket)
    "admin": (True, True),
    "manager": (True, True),
    "dispatcher": (True, True),
    "agent": (True, True),
    "engineer": (True, True),
    "analyst": (True, True),
    "customer_a_admin": (True, False),
    "customer_a_user": (True, False),
    "customer_b_admin": (False, True),
    "partner_admin": (False, False),
    "partner_engineer": (False, False),
    "supplier_contact": (False, False),
    "outsider": (False, False),
}


@pytest.mark.parametrize("who", sorted(READERS))
def test_who_sees_which_ticket_on_every_read_path(api, cast, ticket_a, ticket_b, who):
    client = api.as_user(cast.by_role(who))
    sees_a, sees_b = READERS[who]

    listed = {row["id"] for row in client.get(URL).json()["results"]}
    assert listed == {t.pk for t, seen in ((ticket_a, sees_a), (ticket_b, sees_b)) if seen}
    for ticket, seen in ((ticket_a, sees_a), (ticket_b, sees_b)):
        expected = 200 if seen else 404
        assert client.get(f"{URL}{ticket.pk}/").status_code == expected
        assert client.get(f"{URL}{ticket.pk}/events/").status_code == expected
        # writes on an invisible ticket are 404 too, never 403
        response = client.post(f"{URL}{ticket.pk}/reply/", {"body": "hi"}, format="json")
        assert response.status_code != 404 if seen else response.status_code == 404
    searched = client.get(URL, {"search": ticket_b.number}).json()["results"]
    assert [r["id"] for r in searched] == ([ticket_b.pk] if sees_b else [])


def test_anonymous_callers_are_refused(api, ticket_a):
    assert api.get(URL).status_code in {401, 403}
    assert api.get(f"{URL}{ticket_a.pk}/").status_code in {401, 403}


# ---------------------------------------------------------------- what a customer sees

INTERNAL_FIELDS = {"team", "tier", "tags", "owner", "watchers", "sla_state", "sla_policy",
                   "sla_warning_at", "sla_breached_at", "fire_open", "had_fire_call", "problem",
                   "pending_hand_off", "first_handled_at", "created_by"}  # fmt: skip


def test_a_customer_gets_no_internal_fields_and_no_internal_events(api, cast, ticket_a):
    client = api.as_user(cast.customer_a_user)
    body = client.get(f"{URL}{ticket_a.pk}/").json()
    assert not INTERNAL_FIELDS & set(body)
    assert body["owner_name"] == cast.agent.display_name

    events = client.get(f"{URL}{ticket_a.pk}/events/").json()["results"]
    assert [e["kind"] for e in events] == [EventKind.REPLY]
    assert "压缩机" not in str(events)
    assert not {"public", "data", "author"} & set(events[0])

    staff = api.as_user(cast.engineer).get(f"{URL}{ticket_a.pk}/events/").json()["results"]
    assert [e["kind"] for e in staff] == [EventKind.REPLY, EventKind.NOTE]


def test_staff_see_the_pending_hand_off(api, cast, ticket_a):
    tickets.request_hand_off(actor=cast.agent, ticket=ticket_a, to_user=cast.engineer)
    body = api.as_user(cast.manager).get(f"{URL}{ticket_a.pk}/").json()
    assert body["pending_hand_off"]["to_user"] == cast.engineer.pk
    assert body["allowed_statuses"] == sorted(["waiting_customer", "waiting_third_party",
                                               "resolved"])  # fmt: skip


# ---------------------------------------------------------------- creating


def test_a_customer_opens_a_ticket_through_the_api(api, cast, places):
    response = api.as_user(cast.customer_a_user).post(
        URL,
        {
            "title": "冷站漏水",
            "description": "<p>B1</p><script>x</script>",
            "site": places.site_a.pk,
            "severity": "S3",
        },  # fmt: skip
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    ticket = Ticket.objects.get(pk=body["id"])
    assert ticket.customer == cast.customer_a and ticket.channel == Channel.PORTAL
    assert ticket.contact == cast.customer_a_user
    assert "script" not in ticket.description
    assert not INTERNAL_FIELDS & set(body)


@pytest.mark.parametrize(
    "extra",
    [
        {"owner": "agent"},
        {"status": "closed"},
        {"team": 1},
        {"tags": ["vip"]},
        {"tier": "l3"},
        {"customer": "customer_b"},
        {"sla_state": "ok"},
        {"resolution_due_at": "2030-01-01T00:00:00Z"},
        {"first_responded_at": "2030-01-01T00:00:00Z"},
        {"internal": True},
        {"channel": "iot"},
        {"severity": "S1"},
        {"site": "site_b"},
        {"project": "project_b"},
        {"asset": "asset_b"},
    ],
)
def test_a_customer_post_with_fields_they_may_not_set_is_refused(api, cast, places, extra):
    ids = {"agent": cast.agent.pk, "customer_b": cast.customer_b.pk, "site_b": places.site_b.pk,
           "project_b": places.project_b.pk, "asset_b": places.asset_b.pk}  # fmt: skip
    payload = {"title": "x", **{k: ids.get(v, v) if isinstance(v, str) else v
                                for k, v in extra.items()}}  # fmt: skip
    response = api.as_user(cast.customer_a_user).post(URL, payload, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert set(response.json()["fields"]) == set(extra)
    assert not Ticket.objects.exists()


def test_staff_open_a_ticket_for_a_customer_and_own_it(api, cast):
    response = api.as_user(cast.agent).post(
        URL,
        {
            "title": "电话报修",
            "customer": cast.customer_b.pk,
            "channel": "phone",
            "severity": "S1",
            "tags": ["机房"],
        },  # fmt: skip
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"] == cast.agent.pk and body["tags"] == ["机房"]
    assert body["severity"] == "S1" and body["channel"] == "phone"


def test_an_idempotency_key_returns_the_first_ticket(api, cast):
    client = api.as_user(cast.customer_a_user)
    first = client.post(URL, {"title": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    again = client.post(URL, {"title": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("who", ["partner_admin", "analyst", "outsider", "supplier_contact"])
def test_people_who_cannot_open_tickets_get_403(api, cast, who):
    response = api.as_user(cast.by_role(who)).post(
        URL, {"title": "x", "customer": cast.customer_a.pk}, format="json"
    )
    assert response.status_code == 403
    assert not Ticket.objects.exists()


# ---------------------------------------------------------------- changing


def test_staff_patch_details_and_customers_may_not(api, cast, ticket_a):
    response = api.as_user(cast.agent).patch(
        f"{URL}{ticket_a.pk}/", {"severity": "S2", "tags": ["冷站"]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["severity"] == "S2"

    for payload in ({"title": "改"}, {"owner": cast.customer_a_user.pk}):
        refused = api.as_user(cast.customer_a_user).patch(
            f"{URL}{ticket_a.pk}/", payload, format="json"
        )
        assert refused.status_code == 403
    bad = api.as_user(cast.agent).patch(f"{URL}{ticket_a.pk}/", {"status": "closed"}, format="json")
    assert bad.status_code == 400 and "status" in bad.json()["fields"]
    ticket_a.refresh_from_db()
    assert ticket_a.title != "改" and ticket_a.status == S.IN_PROGRESS
    assert api.as_user(cast.agent).put(f"{URL}{ticket_a.pk}/", {}, format="json").status_code == 405


def test_an_illegal_transition_is_409_listing_the_allowed_statuses(api, cast, ticket_a):
    response = api.as_user(cast.agent).post(
        f"{URL}{ticket_a.pk}/transition/", {"to_status": "closed"}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "illegal_transition"
    assert body["fields"]["to_status"] == ["resolved", "waiting_customer", "waiting_third_party"]
    assert "resolved" in body["detail"]


def test_customers_cannot_transition_through_the_api(api, cast, ticket_a):
    response = api.as_user(cast.customer_a_user).post(
        f"{URL}{ticket_a.pk}/transition/", {"to_status": "resolved"}, format="json"
    )
    assert response.status_code == 403
    ticket_a.refresh_from_db()
    assert ticket_a.status == S.IN_PROGRESS


def test_the_whole_story_through_the_api(api, cast):
    # Given a customer submits a ticket
    customer = api.as_user(cast.customer_a_user)
    ticket_id = customer.post(URL, {"title": "停机"}, format="json").json()["id"]
    path = f"{URL}{ticket_id}/"

    # When the engineer takes it, hands it to the manager, who accepts
    engineer = api.as_user(cast.engineer)
    assert engineer.post(f"{path}take/").status_code == 200
    assert engineer.post(f"{path}hand-off/", {"to_user": cast.manager.pk, "message": "升级"},
                         format="json").status_code == 201  # fmt: skip
    manager = api.as_user(cast.manager)
    accepted = manager.post(f"{path}accept-hand-off/")
    assert accepted.status_code == 200 and accepted.json()["owner"] == cast.manager.pk
    # and replies, resolves
    assert manager.post(f"{path}reply/", {"body": "已修复"}, format="json").status_code == 201
    assert manager.post(f"{path}note/", {"body": "根因：阀门"}, format="json").status_code == 201
    resolved = manager.post(f"{path}transition/", {"to_status": "resolved"}, format="json")
    assert resolved.status_code == 200, resolved.json()

    # Then the customer confirms, rates, and sees only public events
    customer = api.as_user(cast.customer_a_user)
    assert customer.post(f"{path}confirm/").json()["status"] == "closed"
    assert customer.post(f"{path}rate/", {"rating": 5}, format="json").json()["rating"] == 5
    assert customer.post(f"{path}rate/", {"rating": 1}, format="json").status_code == 409
    kinds = [e["kind"] for e in customer.get(f"{path}events/").json()["results"]]
    assert EventKind.NOTE not in kinds and EventKind.HAND_OFF_REQUESTED not in kinds
    assert EventKind.REPLY in kinds and EventKind.RATING in kinds


def test_hand_off_decline_and_cancel_through_the_api(api, cast, ticket_a):
    path = f"{URL}{ticket_a.pk}/"
    agent = api.as_user(cast.agent)
    agent.post(f"{path}hand-off/", {"to_user": cast.engineer.pk}, format="json")
    engineer = api.as_user(cast.engineer)
    assert engineer.post(f"{path}decline-hand-off/", {}, format="json").status_code == 400
    declined = engineer.post(f"{path}decline-hand-off/", {"reason": "休假"}, format="json")
    assert declined.status_code == 200 and declined.json()["status"] == HandOffStatus.DECLINED
    assert engineer.post(f"{path}accept-hand-off/").status_code == 404

    agent = api.as_user(cast.agent)
    agent.post(f"{path}hand-off/", {"to_user": cast.engineer.pk}, format="json")
    assert agent.post(f"{path}cancel-hand-off/").json()["status"] == HandOffStatus.CANCELLED
    # a customer learns nothing about hand-offs
    customer = api.as_user(cast.customer_a_user)
    assert customer.post(f"{path}accept-hand-off/").status_code == 403


def test_reassign_watch_and_reopen_through_the_api(api, cast, ticket_a):
    path = f"{URL}{ticket_a.pk}/"
    assert (
        api.as_user(cast.agent)
        .post(f"{path}reassign/", {"to_user": cast.engineer.pk}, format="json")
        .status_code
        == 403
    )
    moved = api.as_user(cast.dispatcher).post(
        f"{path}reassign/", {"to_user": cast.engineer.pk, "reason": "值班"}, format="json"
    )
    assert moved.json()["owner"] == cast.engineer.pk
    watched = api.as_user(cast.manager).post(f"{path}watch/", {}, format="json")
    assert cast.manager.pk in watched.json()["watchers"]
    Ticket.objects.filter(pk=ticket_a.pk).update(status=S.RESOLVED, resolved_at=timezone.now())
    reopened = api.as_user(cast.customer_a_user).post(
        f"{path}reopen/", {"reason": "又坏了"}, format="json"
    )
    assert reopened.status_code == 200 and reopened.json()["status"] == S.REOPENED


def test_a_customer_reply_is_public_and_a_customer_note_is_refused(api, cast, ticket_a):
    client = api.as_user(cast.customer_a_user)
    reply = client.post(f"{URL}{ticket_a.pk}/reply/", {"body": "谢谢"}, format="json")
    assert reply.status_code == 201 and reply.json()["kind"] == EventKind.REPLY
    note = client.post(f"{URL}{ticket_a.pk}/note/", {"body": "偷看"}, format="json")
    assert note.status_code == 403
    assert not TicketEvent.objects.filter(body__contains="偷看").exists()


# ---------------------------------------------------------------- filters and bad input


def test_filters_narrow_the_list(api, cast, ticket_a, ticket_b):
    Ticket.objects.filter(pk=ticket_b.pk).update(
        sla_breached_at=timezone.now(), sla_state=SlaState.BREACHED, severity=Severity.S1
    )
    client = api.as_user(cast.agent)

    def ids(**params):
        response = client.get(URL, params)
        assert response.status_code == 200, response.json()
        return {r["id"] for r in response.json()["results"]}

    assert ids(breached="true") == {ticket_b.pk}
    assert ids(breached="false") == {ticket_a.pk}
    assert ids(customer=cast.customer_a.pk) == {ticket_a.pk}
    assert ids(status="in_progress") == {ticket_a.pk}
    assert ids(severity="S1") == {ticket_b.pk}
    assert ids(sla_state="breached") == {ticket_b.pk}
    assert ids(owner=cast.agent.pk, mine="true") == {ticket_a.pk, ticket_b.pk}
    assert ids(ordering="-number") == {ticket_a.pk, ticket_b.pk}
    tickets.request_hand_off(actor=cast.agent, ticket=ticket_a, to_user=cast.engineer)
    engineer = api.as_user(cast.engineer)
    assert [r["id"] for r in engineer.get(URL, {"awaiting_me": "true"}).json()["results"]] == [
        ticket_a.pk
    ]


def test_a_customer_cannot_filter_by_another_customer(api, cast, ticket_a):
    client = api.as_user(cast.customer_a_user)
    response = client.get(URL, {"customer": cast.customer_b.pk})
    assert response.status_code == 400
    assert client.get(URL, {"owner": cast.agent.pk}).status_code == 400


@pytest.mark.parametrize(
    "params",
    [
        {"breached": "maybe"},
        {"breached": "yes please"},
        {"status": "deleted"},
        {"severity": "S9"},
        {"owner": "1 OR 1=1"},
        {"owner": "99999999999999999999999"},
        {"customer": "-1"},
        {"ordering": "owner__password"},
        {"ordering": "title; DROP TABLE desk_ticket"},
        {"unknown": "1"},
        {"page_size": "-5"},
        {"page_size": "100000"},
        {"page": "abc"},
    ],
)
def test_bad_query_parameters_are_4xx_never_500(api, cast, ticket_a, params):
    response = api.as_user(cast.agent).get(URL, params)
    assert 400 <= response.status_code < 500
    assert "code" in response.json()


@pytest.mark.parametrize(
    "pk", ["0", "-3", "abc", "1e3", "99999999999999999999999", "9223372036854775808"]
)
def test_huge_or_malformed_ids_are_404(api, cast, pk):
    client = api.as_user(cast.agent)
    assert client.get(f"{URL}{pk}/").status_code == 404
    assert client.post(f"{URL}{pk}/reply/", {"body": "x"}, format="json").status_code == 404


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("", '{"title": "x", '),
        ("", "[1, 2, 3]"),
        ("", '"just a string"'),
        ("{id}/reply/", "{not json"),
        ("{id}/reply/", '{"body": "x", "public": false}'),
        ("{id}/reply/", '{"body": {"nested": 1}}'),
        ("{id}/transition/", '{"to_status": ["closed"]}'),
        ("{id}/hand-off/", '{"to_user": "abc"}'),
        ("{id}/hand-off/", '{"to_user": 99999999999999999999}'),
        ("{id}/hand-off/", '{"to_user": true}'),
        ("{id}/rate/", '{"rating": "five"}'),
        ("{id}/watch/", '{"watching": "perhaps"}'),
    ],
)
def test_malformed_bodies_are_400_never_500(api, cast, ticket_a, path, body):
    response = api.as_user(cast.agent).post(
        URL + path.format(id=ticket_a.pk), body, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] in {"invalid", "parse_error"}


def test_a_reply_with_another_customers_user_as_hand_off_target_is_refused(api, cast, ticket_a):
    response = api.as_user(cast.agent).post(
        f"{URL}{ticket_a.pk}/hand-off/", {"to_user": cast.customer_b_admin.pk}, format="json"
    )
    assert response.status_code == 400
    assert not HandOff.objects.exists()


# ---------------------------------------------------------------- query counts


def _many(cast, n: int) -> None:
    for i in range(n):
        customer = cast.customer_a if i % 2 else cast.customer_b
        ticket = df.ticket_for(cast, customer=customer, tags=[df.TagFactory()])
        ticket.watchers.add(cast.engineer)
        df.HandOffFactory(ticket=ticket, to_user=cast.manager)


@pytest.mark.parametrize("who", ["agent", "customer_a_user"])
def test_the_list_takes_a_constant_number_of_queries(api, cast, who, django_assert_max_num_queries):
    client = api.as_user(cast.by_role(who))
    _many(cast, 3)
    with django_assert_max_num_queries(12) as few:
        client.get(URL)
    _many(cast, 12)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(URL)
    assert response.status_code == 200 and response.json()["count"] >= 7


@pytest.mark.parametrize("who", ["agent", "customer_a_user"])
def test_the_timeline_takes_a_constant_number_of_queries(
    api, cast, ticket_a, who, django_assert_max_num_queries
):
    client = api.as_user(cast.by_role(who))
    with django_assert_max_num_queries(12) as few:
        client.get(f"{URL}{ticket_a.pk}/events/")
    for i in range(10):
        tickets.reply(actor=cast.customer_a_user, ticket=ticket_a, body=f"追问 {i}")
        tickets.add_note(actor=cast.engineer, ticket=ticket_a, body=f"内部 {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(f"{URL}{ticket_a.pk}/events/")
    assert response.status_code == 200 and response.json()["count"] >= 11
