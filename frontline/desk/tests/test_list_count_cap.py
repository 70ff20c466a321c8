"""The tickets list counts exactly up to a cap and says "N+" above it (API and page).

The story: the desk has seven open tickets. With the cap at 100 every list says 7;
with the cap at 4 (a tiny stand-in for the real 10,000) the lists say "4+", and an
agent still pages through all seven, with the same number of queries.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from frontline.desk.tests import factories as df

pytestmark = pytest.mark.django_db
URL = "/api/v1/tickets/"


@pytest.fixture
def seven(cast):
    return [df.ticket_for(cast) for _ in range(7)]


def _pages(client, url):
    """Every page of the API list by following ``next``: the ids and the counts seen."""
    ids, counts = [], set()
    while url:
        body = client.get(url).json()
        ids += [row["id"] for row in body["results"]]
        counts.add((body["count"], body["count_capped"]))
        url = body["next"]
    return ids, counts


def test_below_the_cap_the_api_count_is_exact(api, cast, seven, settings):
    settings.LIST_COUNT_CAP = 100
    client = api.as_user(cast.agent)
    ids, counts = _pages(client, f"{URL}?page_size=3")
    assert counts == {(7, False)}
    assert sorted(ids) == sorted(t.pk for t in seven)


def test_at_the_cap_the_count_is_still_exact(api, cast, seven, settings):
    settings.LIST_COUNT_CAP = 7
    body = api.as_user(cast.agent).get(URL).json()
    assert (body["count"], body["count_capped"], len(body["results"])) == (7, False, 7)


def test_above_the_cap_the_api_says_cap_plus_and_next_reaches_every_ticket(
    api, cast, seven, settings
):
    settings.LIST_COUNT_CAP = 4
    client = api.as_user(cast.agent)
    ids, counts = _pages(client, f"{URL}?page_size=3")
    assert counts == {(4, True)}
    assert sorted(ids) == sorted(t.pk for t in seven)  # three pages, past the cap too
    third = client.get(URL, {"page_size": 3, "page": 3}).json()
    assert third["next"] is None and "page=2" in third["previous"]
    assert client.get(URL, {"page_size": 3, "page": 4}).status_code == 404


def test_a_filter_is_counted_the_same_way(api, cast, seven, settings):
    settings.LIST_COUNT_CAP = 4
    client = api.as_user(cast.agent)
    assert client.get(URL, {"status": "closed"}).json() == {
        "count": 0,
        "count_capped": False,
        "next": None,
        "previous": None,
        "results": [],
    }
    body = client.get(URL, {"status": "new"}).json()
    assert (body["count"], body["count_capped"]) == (4, True)


@pytest.mark.parametrize("who", ["agent", "customer_a_user"])
def test_capped_or_not_the_list_takes_the_same_queries(
    api, cast, seven, who, settings, django_assert_num_queries
):
    client = api.as_user(cast.by_role(who))
    settings.LIST_COUNT_CAP = 100
    with CaptureQueriesContext(connection) as exact:
        assert client.get(URL, {"page_size": 3}).json()["count_capped"] is False
    settings.LIST_COUNT_CAP = 4
    with django_assert_num_queries(len(exact)):
        assert client.get(URL, {"page_size": 3}).json()["count_capped"] is True


def test_the_schema_documents_count_capped(api, cast):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    listing = schema["paths"]["/api/v1/tickets/"]["get"]["responses"]["200"]["content"]
    ref = listing["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    page = schema["components"]["schemas"][ref]
    assert page["properties"]["count_capped"]["type"] == "boolean"
    assert "count_capped" in page["required"]


def test_the_page_says_cap_plus_and_pages_on(client, cast, seven, settings):
    settings.LIST_COUNT_CAP = 30
    for _ in range(30):
        df.ticket_for(cast)
    client.force_login(cast.agent)
    first = client.get("/tickets/")
    assert first.context["paginator"].capped
    html = first.content.decode()
    assert "1–25 of 30+" in html and "page=2" in html
    second = client.get("/tickets/", {"page": 2})
    assert len(second.context["object_list"]) == 12 and not second.context["page_obj"].has_next()


def test_the_page_counts_exactly_below_the_cap(client, cast, seven, settings):
    settings.LIST_COUNT_CAP = 100
    client.force_login(cast.agent)
    response = client.get("/tickets/")
    assert not response.context["paginator"].capped and response.context["paginator"].count == 7
    assert "count-capped" not in response.content.decode()
