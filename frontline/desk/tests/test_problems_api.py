"""The problems API: staff only (customers 404), writes through services, 409 lists what is allowed."""

from __future__ import annotations

import pytest

from frontline.desk import problems as svc
from frontline.desk.models import Problem, Ticket, TicketEvent
from frontline.desk.states import EventKind
from frontline.desk.tests.factories import ticket_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/problems/"


@pytest.fixture
def problem(cast):
    ticket = ticket_for(cast, title="冷机高压报警")
    return svc.create_problem(actor=cast.manager, title="变频器固件缺陷", tickets=[ticket])


def test_create_from_tickets(api, cast):
    # Given two tickets of different customers
    a = ticket_for(cast)
    b = ticket_for(cast, customer=cast.customer_b)
    # When an agent opens a problem from them
    response = api.as_user(cast.agent).post(
        URL, {"title": "固件缺陷", "tickets": [a.pk, b.pk], "attribution": "implementation"},
        format="json",
    )  # fmt: skip
    # Then it exists with both linked
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"] == f"P-{body['id']:04d}"
    assert body["ticket_count"] == 2
    assert {t["id"] for t in body["tickets"]} == {a.pk, b.pk}


def test_list_counts_linked_tickets_and_filters_by_status(api, cast, problem):
    svc.create_problem(actor=cast.manager, title="另一个")
    client = api.as_user(cast.analyst)
    rows = client.get(URL).json()["results"]
    assert {r["number"]: r["ticket_count"] for r in rows}[problem.number] == 1
    assert client.get(URL, {"status": "resolved"}).json()["count"] == 0
    assert client.get(URL, {"search": "固件"}).json()["count"] == 1
    assert client.get(URL, {"status": "nonsense"}).status_code == 400
    assert client.get(URL, {"bogus": "1"}).status_code == 400


@pytest.mark.parametrize(
    "role", ["customer_a_admin", "customer_a_user", "customer_b_admin", "partner_admin"]
)
def test_customers_and_partners_get_404_everywhere(api, cast, problem, role):
    # Given a customer whose own ticket is linked to the problem
    client = api.as_user(cast.by_role(role))
    ticket = Ticket.objects.filter(problem=problem).first()
    detail = f"{URL}{problem.pk}/"
    requests = [
        ("get", URL, None),
        ("post", URL, {"title": "x"}),
        ("get", detail, None),
        ("patch", detail, {"title": "x"}),
        ("post", f"{detail}link/", {"tickets": [ticket.pk]}),
        ("post", f"{detail}unlink/", {"ticket": ticket.pk}),
        ("post", f"{detail}transition/", {"status": "investigating"}),
        ("post", f"{detail}resolve/", {"public_reply": "x"}),
    ]
    for method, url, data in requests:
        response = getattr(client, method)(url, data, format="json")
        # Then every path is a 404, and nothing changed
        assert response.status_code == 404, (method, url, response.status_code)
    assert Problem.objects.count() == 1
    assert Problem.objects.get(pk=problem.pk).title == "变频器固件缺陷"


@pytest.mark.parametrize("role", ["dispatcher", "engineer", "analyst"])
def test_staff_without_the_capability_read_but_cannot_write(api, cast, problem, role):
    client = api.as_user(cast.by_role(role))
    assert client.get(f"{URL}{problem.pk}/").status_code == 200
    assert client.post(URL, {"title": "x"}, format="json").status_code == 403
    response = client.patch(f"{URL}{problem.pk}/", {"title": "改"}, format="json")
    assert response.status_code == 403
    assert Problem.objects.get(pk=problem.pk).title == "变频器固件缺陷"


def test_illegal_transition_is_409_with_the_allowed_statuses(api, cast, problem):
    client = api.as_user(cast.manager)
    response = client.post(f"{URL}{problem.pk}/transition/", {"status": "closed"}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "illegal_transition"
    assert body["fields"]["allowed"] == ["fix_in_progress", "investigating", "resolved"]
    assert Problem.objects.get(pk=problem.pk).status == "open"
    ok = client.post(f"{URL}{problem.pk}/transition/", {"status": "investigating"}, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == "investigating"


def test_link_and_unlink(api, cast, problem):
    client = api.as_user(cast.agent)
    other = ticket_for(cast, customer=cast.customer_b)
    response = client.post(f"{URL}{problem.pk}/link/", {"tickets": [other.pk]}, format="json")
    assert response.status_code == 200
    assert response.json()["ticket_count"] == 2
    response = client.post(f"{URL}{problem.pk}/unlink/", {"ticket": other.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["ticket_count"] == 1
    assert Ticket.objects.get(pk=other.pk).problem_id is None


@pytest.mark.parametrize("payload", [{"tickets": [999999]}, {"tickets": ["x"]}, {"tickets": []}])
def test_link_with_bad_ids_is_400(api, cast, problem, payload):
    response = api.as_user(cast.agent).post(f"{URL}{problem.pk}/link/", payload, format="json")
    assert response.status_code == 400
    assert Ticket.objects.filter(problem=problem).count() == 1


def test_resolve_replies_to_linked_tickets(api, cast, problem):
    response = api.as_user(cast.manager).post(
        f"{URL}{problem.pk}/resolve/", {"public_reply": "已升级固件"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "resolved"
    assert response.json()["resolved_at"]
    ticket = Ticket.objects.get(problem=problem)
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.REPLY, public=True).count() == 1


def test_patch_refuses_read_only_and_unknown_fields(api, cast, problem):
    client = api.as_user(cast.manager)
    for payload in ({"status": "closed"}, {"number": "P-9"}, {"owner": 1}):
        assert client.patch(f"{URL}{problem.pk}/", payload, format="json").status_code == 400
    problem.refresh_from_db()
    assert problem.status == "open"


def test_malformed_ids_are_404(api, cast):
    client = api.as_user(cast.manager)
    for pk in ("abc", "0", "99999999999999999999999", "-1"):
        assert client.get(f"{URL}{pk}/").status_code == 404


def test_list_query_count_does_not_grow(api, cast, django_assert_max_num_queries):
    for i in range(12):
        svc.create_problem(
            actor=cast.manager,
            title=f"问题 {i}",
            tickets=[ticket_for(cast), ticket_for(cast)],
            fix_owner=cast.engineer,
        )
    client = api.as_user(cast.manager)
    with django_assert_max_num_queries(5):
        response = client.get(URL, {"page_size": 200})
    assert response.json()["count"] == 12
