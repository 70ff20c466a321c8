"""The company-wide fire feed: who may open it, what it shows, live partial, join, queries, API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from frontline.desk import fire
from frontline.desk.models import FireCall, FireSummons
from frontline.desk.states import SlaState, TicketStatus
from frontline.desk.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

OPERATOR_ROLES = ["admin", "manager", "dispatcher", "agent", "engineer", "analyst"]
OUTSIDERS = [
    "customer_a_admin",
    "customer_a_user",
    "partner_engineer",
    "supplier_contact",
    "outsider",
]
FEED = "/desk/fire/"
PARTIAL = "/desk/fire/partial/"


@pytest.fixture
def burning(cast):
    """An open S1 call on customer A's ticket, called by the agent."""
    ticket = TicketFactory(
        customer=cast.customer_a,
        owner=cast.agent,
        title="一号冷站全停",
        status=TicketStatus.IN_PROGRESS,
        sla_state=SlaState.WARNING,
        resolution_due_at=timezone.now() + dt.timedelta(hours=2),
    )
    return fire.call_fire(actor=cast.agent, ticket=ticket, level="S1", message="洁净区温度上升")


def many_calls(cast, n):
    for i in range(n):
        ticket = TicketFactory(
            customer=cast.customer_b if i % 2 else cast.customer_a,
            owner=cast.engineer,
            status=TicketStatus.IN_PROGRESS,
        )
        call = fire.call_fire(actor=cast.dispatcher, ticket=ticket, level="S2", message=f"火 {i}")
        fire.join_fire(actor=cast.analyst, fire_call=call)
        if i % 3 == 0:
            fire.close_fire_calls(actor=cast.dispatcher, ticket=ticket)


def test_urls_are_named():
    assert reverse("desk:fire-feed") == FEED
    assert reverse("desk:fire-feed-partial") == PARTIAL
    assert reverse("desk:severity-level-list") == "/desk/severity-levels/"


# ---------------------------------------------------------------- access


@pytest.mark.parametrize("role", OPERATOR_ROLES)
def test_every_operator_user_opens_the_feed(client, cast, burning, role):
    client.force_login(cast.by_role(role))
    response = client.get(FEED)
    assert response.status_code == 200
    assert burning.ticket.number in response.content.decode()


@pytest.mark.parametrize("role", OUTSIDERS)
@pytest.mark.parametrize("url", [FEED, PARTIAL])
def test_customers_partners_and_outsiders_get_a_404(client, cast, burning, role, url):
    client.force_login(cast.by_role(role))
    response = client.get(url)
    assert response.status_code == 404
    assert burning.ticket.number not in response.content.decode()


@pytest.mark.parametrize("url", [FEED, PARTIAL])
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_nav_shows_the_feed_to_staff_only(client, cast):
    client.force_login(cast.analyst)
    assert f'href="{FEED}"' in client.get("/").content.decode()
    client.force_login(cast.customer_a_user)
    assert f'href="{FEED}"' not in client.get("/").content.decode()


# ---------------------------------------------------------------- content


def test_the_feed_shows_what_the_company_needs_to_know(client, cast, burning):
    client.force_login(cast.manager)
    body = client.get(FEED).content.decode()
    ticket = burning.ticket
    assert f'href="{ticket.get_absolute_url()}"' in body
    for text in (ticket.title, cast.customer_a.name, "S1 导弹 / missile", "洁净区温度上升"):
        assert text in body
    assert "Warning" in body  # the SLA state
    assert str(cast.agent) in body  # owner and caller
    for person in (cast.admin, cast.manager, cast.dispatcher, cast.engineer):  # summoned
        assert str(person) in body
    # the live list polls its partial every 10 seconds, with no inline script
    assert f'hx-get="{PARTIAL}"' in body and 'hx-trigger="every 10s"' in body
    assert "<script>" not in body.replace('<script src="', "")


def test_the_partial_renders_only_the_list(client, cast, burning):
    client.force_login(cast.manager)
    for response in (client.get(PARTIAL), client.get(FEED, HTTP_HX_REQUEST="true")):
        body = response.content.decode()
        assert burning.ticket.number in body
        assert "<html" not in body and "navbar" not in body and 'id="fire-feed"' not in body


def test_a_history_restore_gets_the_whole_page(client, cast, burning):
    client.force_login(cast.manager)
    response = client.get(FEED, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in response.content.decode()


def test_recently_closed_calls_are_listed_below_and_old_ones_not(client, cast, burning):
    old = TicketFactory(customer=cast.customer_b, owner=cast.agent, title="上个月的火")
    call = fire.call_fire(actor=cast.agent, ticket=old, level="S3", message="旧")
    fire.close_fire_calls(actor=cast.agent, ticket=old)
    recent = TicketFactory(customer=cast.customer_b, owner=cast.agent, title="昨天的火")
    fire.call_fire(actor=cast.agent, ticket=recent, level="S3", message="新")
    fire.close_fire_calls(actor=cast.agent, ticket=recent)
    FireCall.objects.filter(pk=call.pk).update(closed_at=timezone.now() - dt.timedelta(days=8))

    client.force_login(cast.manager)
    body = client.get(FEED).content.decode()
    closed_section = body[body.index('data-testid="closed-calls"') :]
    assert "昨天的火" in closed_section and "上个月的火" not in body


def test_a_joined_person_sees_no_join_button(client, cast, burning):
    client.force_login(cast.agent)  # the caller is in the room
    body = client.get(FEED).content.decode()
    assert 'data-testid="join-fire"' not in body
    client.force_login(cast.analyst)
    assert 'data-testid="join-fire"' in client.get(FEED).content.decode()


@pytest.mark.parametrize(
    "evil",
    ['"><script>alert(1)</script>', "<img src=x onerror=alert(1)>", "{{7*7}}"],
)
def test_planted_markup_in_titles_and_messages_is_escaped(client, cast, evil):
    ticket = TicketFactory(customer=cast.customer_a, owner=cast.agent, title=f"T {evil}")
    fire.call_fire(actor=cast.agent, ticket=ticket, level="S2", message=f"M {evil} 温度")
    cast.customer_a.name = f"C {evil}"
    cast.customer_a.save()
    client.force_login(cast.manager)
    body = client.get(FEED).content.decode()
    assert "<script>alert(1)" not in body
    assert "<img src=x" not in body
    assert "&lt;script&gt;" in body or "&lt;img" in body or "{{7*7}}" in body
    assert "49" not in body.split('data-testid="open-calls"')[1][:200]


# ---------------------------------------------------------------- join


def test_join_from_the_feed_adds_me_to_the_room(client, cast, burning):
    client.force_login(cast.analyst)
    response = client.post(reverse("desk:fire-join", args=[burning.pk]))
    assert response.status_code == 302 and response["Location"] == FEED
    summons = FireSummons.objects.get(fire_call=burning, user=cast.analyst)
    assert summons.joined_at is not None
    # htmx: the refreshed list comes back, now without my join button
    response = client.post(reverse("desk:fire-join", args=[burning.pk]), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and "In the room" in body
    assert FireSummons.objects.filter(fire_call=burning, user=cast.analyst).count() == 1


def test_join_needs_a_csrf_token(cast, burning):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(cast.analyst)
    assert strict.post(reverse("desk:fire-join", args=[burning.pk])).status_code == 403
    assert strict.get(reverse("desk:fire-join", args=[burning.pk])).status_code == 405
    assert not FireSummons.objects.filter(user=cast.analyst).exists()


@pytest.mark.parametrize("role", ["customer_a_user", "partner_admin", "outsider"])
def test_outsiders_cannot_join_from_the_page(client, cast, burning, role):
    client.force_login(cast.by_role(role))
    assert client.post(reverse("desk:fire-join", args=[burning.pk])).status_code == 404
    assert not FireSummons.objects.filter(user=cast.by_role(role)).exists()


def test_joining_a_closed_or_unknown_call(client, cast, burning):
    client.force_login(cast.analyst)
    assert client.post(reverse("desk:fire-join", args=["nope"])).status_code == 404
    assert client.post(reverse("desk:fire-join", args=[10**12])).status_code == 404
    fire.close_fire_calls(actor=cast.agent, ticket=burning.ticket)
    response = client.post(reverse("desk:fire-join", args=[burning.pk]), follow=True)
    assert "This fire call is closed." in response.content.decode()
    assert not FireSummons.objects.filter(user=cast.analyst).exists()


# ---------------------------------------------------------------- queries


@pytest.mark.parametrize("url", [FEED, PARTIAL])
def test_the_feed_runs_a_fixed_number_of_queries(client, cast, django_assert_max_num_queries, url):
    many_calls(cast, 2)
    client.force_login(cast.manager)
    with django_assert_max_num_queries(9) as few:
        client.get(url)
    many_calls(cast, 12)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.content.decode().count('data-testid="fire-call"') == 9


def test_the_api_runs_a_fixed_number_of_queries(api, cast, django_assert_max_num_queries):
    many_calls(cast, 2)
    client = api.as_user(cast.manager)
    with django_assert_max_num_queries(7) as few:
        client.get("/api/v1/fire-feed/")
    many_calls(cast, 12)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/api/v1/fire-feed/")
    assert response.json()["count"] == 9


# ---------------------------------------------------------------- API


def test_the_api_lists_open_calls_with_people_and_sla(api, cast, burning):
    fire.join_fire(actor=cast.engineer, fire_call=burning)
    data = api.as_user(cast.analyst).get("/api/v1/fire-feed/").json()
    (row,) = data["results"]
    assert row["ticket"]["number"] == burning.ticket.number
    assert row["ticket"]["customer"] == {"id": cast.customer_a.pk, "name": cast.customer_a.name}
    assert row["ticket"]["sla_state"] == "warning" and row["ticket"]["resolution_due_at"]
    assert row["level"] == "S1" and row["level_name"] == "S1 导弹 / missile"
    assert row["ticket"]["owner"]["id"] == cast.agent.pk
    joined = {p["user"]["id"] for p in row["people"] if p["joined_at"]}
    assert joined == {cast.agent.pk, cast.engineer.pk}
    assert row["joined_by_me"] is False


def test_the_api_lists_recently_closed_calls_on_request(api, cast, burning):
    fire.close_fire_calls(actor=cast.agent, ticket=burning.ticket)
    client = api.as_user(cast.manager)
    assert client.get("/api/v1/fire-feed/").json()["count"] == 0
    closed = client.get("/api/v1/fire-feed/?state=closed").json()
    assert [r["id"] for r in closed["results"]] == [burning.pk]
    assert client.get("/api/v1/fire-feed/?state=burning").status_code == 400
    assert client.get("/api/v1/fire-feed/?customer=1").status_code == 400


@pytest.mark.parametrize(
    "role", ["customer_a_admin", "customer_a_user", "partner_engineer", "outsider"]
)
def test_the_api_is_a_404_for_everyone_outside_the_operator(api, cast, burning, role):
    response = api.as_user(cast.by_role(role)).get("/api/v1/fire-feed/")
    assert response.status_code == 404
    assert burning.ticket.number not in response.content.decode()


def test_the_api_needs_a_signed_in_user(api, burning):
    assert api.get("/api/v1/fire-feed/").status_code in {401, 403}
