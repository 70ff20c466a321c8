"""Security review of the service desk: defects found by attacking it, each pinned by a test.

Given/when/then; a refused request also asserts that it revealed or changed nothing.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from frontline.desk import fire
from frontline.desk.models import Ticket
from frontline.desk.states import Severity, TicketStatus, Tier
from frontline.desk.tests import factories as df
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db
URL = "/api/v1/tickets/"


@pytest.fixture
def burning(cast):
    """Customer A's ticket at L3 with an open fire call: internal facts the customer never sees."""
    ticket = df.ticket_for(
        cast, first_handled_at=timezone.now(), status=TicketStatus.IN_PROGRESS, tier=Tier.L3
    )
    fire.call_fire(actor=cast.agent, ticket=ticket, level=Severity.S2, message="全员支援")
    return ticket


# ---------------------------------------------------------------- filters as an oracle

INTERNAL_FILTERS = [
    {"fire_open": "true"},
    {"tier": "l3"},
    {"breached": "false"},
    {"sla_state": "none"},
    {"team": "1"},
    {"owner": "1"},
    {"mine": "false"},
    {"awaiting_me": "false"},
]


@pytest.mark.parametrize("params", INTERNAL_FILTERS, ids=lambda p: next(iter(p)))
def test_a_customer_cannot_probe_internal_fields_through_list_filters(api, cast, burning, params):
    # Given customer A's ticket whose fire call and tier its serializer hides
    client = api.as_user(cast.customer_a_user)
    assert "fire_open" not in client.get(f"{URL}{burning.pk}/").json()

    # When the customer filters its list by an internal field
    response = client.get(URL, params)

    # Then the filter does not exist for it (400), so no count answers the question
    assert response.status_code == 400, response.json()
    assert set(response.json()["fields"]) == set(params)


def test_a_customer_still_filters_by_what_it_sees(api, cast, burning):
    # Given customer A's ticket in progress
    client = api.as_user(cast.customer_a_user)

    # When it filters by status, severity, channel and its own organisation
    response = client.get(
        URL,
        {
            "status": TicketStatus.IN_PROGRESS,
            "severity": burning.severity,
            "channel": burning.channel,
            "customer": cast.customer_a.pk,
        },
    )

    # Then the ticket is found
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [burning.pk]


def test_staff_keep_every_filter(api, cast, burning):
    # Given an agent
    client = api.as_user(cast.agent)

    # When they filter by the internal fields
    response = client.get(URL, {"fire_open": "true", "tier": "l3"})

    # Then the burning ticket is found
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [burning.pk]


# ---------------------------------------------------------------- another company's team


@pytest.fixture
def team_of_customer_b(cast):
    """A team inside customer B, led by B's admin (who must never hear of A's tickets)."""
    return f.TeamFactory(organization=cast.customer_b, lead=cast.customer_b_admin)


def test_staff_cannot_give_a_ticket_to_another_companys_team(api, cast, team_of_customer_b):
    # Given customer A's ticket (its team's lead hears of every SLA breach)
    ticket = df.ticket_for(cast, first_handled_at=timezone.now())

    # When an agent sets customer B's team on it
    response = api.as_user(cast.agent).patch(
        f"{URL}{ticket.pk}/", {"team": team_of_customer_b.pk}, format="json"
    )

    # Then it is refused and the ticket keeps no team
    assert response.status_code == 400
    assert "team" in response.json()["fields"]
    assert Ticket.objects.get(pk=ticket.pk).team_id is None


def test_staff_cannot_open_a_ticket_for_another_companys_team(api, cast, team_of_customer_b):
    # Given an agent taking a call from customer A
    client = api.as_user(cast.agent)

    # When they open the ticket with customer B's team
    response = client.post(
        URL,
        {"title": "冷机报警", "customer": cast.customer_a.pk, "team": team_of_customer_b.pk},
        format="json",
    )

    # Then it is refused and no ticket exists
    assert response.status_code == 400
    assert "team" in response.json()["fields"]
    assert not Ticket.objects.exists()


def test_staff_still_give_a_ticket_to_an_operator_team(api, cast):
    # Given customer A's ticket and one of our teams
    ticket = df.ticket_for(cast, first_handled_at=timezone.now())
    team = f.TeamFactory(organization=cast.operator)

    # When an agent sets it
    response = api.as_user(cast.agent).patch(f"{URL}{ticket.pk}/", {"team": team.pk}, format="json")

    # Then the ticket is the team's
    assert response.status_code == 200, response.json()
    assert Ticket.objects.get(pk=ticket.pk).team_id == team.pk


# ---------------------------------------------------------------- daily report dates


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize("fmt", ["json", "xlsx"])
def test_a_report_date_at_the_end_of_the_calendar_is_a_400_not_a_500(api, cast, day, fmt):
    # Given a manager who may read the daily report
    client = api.as_user(cast.manager)

    # When they ask for a day whose neighbours do not exist in Python's calendar
    response = client.get("/api/v1/reports/daily-issues/", {"date": day, "format": fmt})

    # Then it is a field error, not a crash
    assert response.status_code == 400
    assert "date" in response.json()["fields"]


@pytest.mark.parametrize("path", ["/reports/daily-issues/", "/reports/daily-issues/xlsx/"])
def test_the_report_pages_refuse_an_out_of_range_date(client, cast, path):
    # Given a manager on the report page
    client.force_login(cast.manager)

    # When the date is the last day Python knows
    response = client.get(path, {"date": "9999-12-31"})

    # Then the page answers without a server error
    assert response.status_code < 500


# ---------------------------------------------------------------- NUL in a search


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("customer_a_user", "/portal/tickets/"),
        ("agent", "/tickets/"),
        ("manager", "/problems/"),
    ],
)
def test_a_nul_character_in_a_page_search_is_not_a_server_error(client, cast, burning, who, path):
    # Given a signed-in user on a list page (PostgreSQL refuses NUL in any text parameter)
    client.force_login(cast.by_role(who))

    # When the search text carries a NUL character
    response = client.get(path, {"q": "T-\x00"})

    # Then the list answers normally
    assert response.status_code == 200
