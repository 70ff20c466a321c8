"""Bad input gets a 4xx with {"code", "detail", "fields"}, never a 500; list endpoints stay flat in queries."""

from __future__ import annotations

import pytest

from frontline.accounts import tokens
from frontline.accounts.models import Team, User
from frontline.accounts.roles import Role
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db

HUGE = "9" * 30


def assert_error(response, status, *fields):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    for name in fields:
        assert name in body["fields"], body


def test_malformed_json_is_400(cast, api):
    client = api.as_user(cast.manager)
    response = client.generic(
        "POST", "/api/v1/teams/", '{"name": "x",', content_type="application/json"
    )
    assert_error(response, 400)
    assert response.json()["code"] == "parse_error"


def test_a_json_list_instead_of_an_object_is_400(cast, api):
    response = api.as_user(cast.manager).post("/api/v1/teams/", [1, 2], format="json")
    assert_error(response, 400)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"owner": 1}, "owner"),  # unknown
        ({"id": 5}, "id"),  # read-only
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),  # read-only
        ({"members": "abc"}, "members"),  # wrong type
        ({"members": [True]}, "members"),
        ({"lead": {"id": 1}}, "lead"),
        ({"is_active": "maybe"}, "is_active"),
        ({"dispatch_mode": "teleport"}, "dispatch_mode"),
        ({"members": [int(HUGE[:25])]}, "members"),
        ({"lead": -1}, "lead"),
    ],
)
def test_bad_team_payloads_are_400_and_create_nothing(cast, api, payload, field):
    base = {"organization": cast.operator.pk, "name": "新组"}
    response = api.as_user(cast.manager).post("/api/v1/teams/", {**base, **payload}, format="json")
    assert_error(response, 400, field)
    assert not Team.objects.filter(name="新组").exists()


def test_foreign_org_member_invisible_to_the_caller_is_400(cast, api):
    # Given a partner admin who cannot see the operator's engineer,
    # when they put that engineer in their team, then it is 400 and no team exists.
    response = api.as_user(cast.partner_admin).post(
        "/api/v1/teams/",
        {"organization": cast.partner.pk, "name": "苏州队", "members": [cast.engineer.pk]},
        format="json",
    )
    assert_error(response, 400, "members")
    assert not Team.objects.filter(name="苏州队").exists()


def test_member_from_another_org_visible_to_operator_is_still_400(cast, api):
    response = api.as_user(cast.manager).post(
        "/api/v1/teams/",
        {
            "organization": cast.partner.pk,
            "name": "混编队",
            "members": [cast.engineer.pk],
            "lead": cast.customer_a_user.pk,
        },
        format="json",
    )
    assert_error(response, 400, "members", "lead")
    assert not Team.objects.filter(name="混编队").exists()


def test_team_of_another_org_in_patch_is_404(cast, api):
    team = f.TeamFactory(name="总部组")
    response = api.as_user(cast.partner_admin).patch(
        f"/api/v1/teams/{team.pk}/", {"name": "x"}, format="json"
    )
    assert_error(response, 404)
    assert Team.objects.get(pk=team.pk).name == "总部组"


def test_updating_a_team_cannot_move_it_to_another_org(cast, api):
    team = f.TeamFactory(name="总部组")
    response = api.as_user(cast.manager).patch(
        f"/api/v1/teams/{team.pk}/", {"organization": cast.partner.pk}, format="json"
    )
    assert_error(response, 400, "organization")
    assert Team.objects.get(pk=team.pk).organization == cast.operator


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/teams/{HUGE}/",
        "/api/v1/teams/-1/",
        "/api/v1/teams/0/",
        "/api/v1/teams/1.5/",
        "/api/v1/teams/%00/",
        f"/api/v1/users/{HUGE}/",
        f"/api/v1/organizations/{HUGE}/",
        f"/api/v1/memberships/{HUGE}/",
        f"/api/v1/tokens/{HUGE}/",
        "/api/v1/teams/?page=999",
        "/api/v1/teams/?page=abc",
    ],
)
def test_odd_ids_and_pages_are_404(cast, api, url):
    assert_error(api.as_user(cast.admin).get(url), 404)


@pytest.mark.parametrize(
    "query",
    [
        "page_size=-1",
        "page_size=0",
        "page_size=100000",
        "page_size=abc",
        f"organization={HUGE}",
        "organization=-3",
        "organization=abc",
        "is_active=perhaps",
        "dispatch_mode=teleport",
        "ordering=password",
        "ordering=lead__password",
        "ordering=name;DROP TABLE accounts_team",
        "unknown=1",
        "token=abc",
    ],
)
def test_bad_query_parameters_are_4xx_never_500(cast, api, query):
    response = api.as_user(cast.admin).get(f"/api/v1/teams/?{query}")
    assert 400 <= response.status_code < 500, (query, response.status_code)
    assert set(response.json()) == {"code", "detail", "fields"}


@pytest.mark.parametrize("endpoint", ["organizations", "users", "memberships", "teams", "tokens"])
def test_ordering_off_the_allowlist_is_400_on_every_endpoint(cast, api, endpoint):
    response = api.as_user(cast.admin).get(f"/api/v1/{endpoint}/?ordering=password")
    assert_error(response, 400, "ordering")


def test_sql_looking_search_is_just_text(cast, api):
    f.TeamFactory(name="总部组")
    response = api.as_user(cast.admin).get("/api/v1/teams/", {"search": "' OR 1=1 --"})
    assert response.status_code == 200 and response.json()["count"] == 0


def test_filters_work_and_a_foreign_org_filter_is_400(cast, api):
    f.TeamFactory(name="总部组")
    f.TeamFactory(name="苏州队", organization=cast.partner, dispatch_mode="grab")
    client = api.as_user(cast.admin)
    names = [
        t["name"] for t in client.get("/api/v1/teams/", {"dispatch_mode": "grab"}).json()["results"]
    ]
    assert names == ["苏州队"]
    response = api.as_user(cast.partner_admin).get(
        "/api/v1/users/", {"organization": cast.customer_a.pk}
    )
    assert_error(response, 400, "organization")


def test_user_create_rejects_bad_email_wrong_role_and_unknown_timezone(cast, api):
    client = api.as_user(cast.admin)
    base = {
        "email": "ok@x.example",
        "display_name": "X",
        "organization": cast.customer_a.pk,
        "role": "customer_user",
    }
    assert_error(
        client.post("/api/v1/users/", {**base, "email": "not-an-email"}, format="json"),
        400,
        "email",
    )
    assert_error(client.post("/api/v1/users/", {**base, "role": "god"}, format="json"), 400, "role")
    assert_error(
        client.post("/api/v1/users/", {**base, "role": "admin"}, format="json"), 400, "role"
    )
    assert_error(
        client.post("/api/v1/users/", {**base, "time_zone": "Mars/X"}, format="json"),
        400,
        "time_zone",
    )
    assert_error(
        client.post("/api/v1/users/", {**base, "password": "short"}, format="json"), 400, "password"
    )
    assert_error(
        client.post("/api/v1/users/", {**base, "email": "AGENT@t.example"}, format="json"),
        400,
        "email",
    )
    assert not User.objects.filter(email="ok@x.example").exists()


def test_no_response_ever_carries_a_password_hash(cast, api):
    client = api.as_user(cast.admin)
    for url in [
        "/api/v1/users/",
        f"/api/v1/users/{cast.agent.pk}/",
        "/api/v1/me/",
        "/api/v1/memberships/",
    ]:
        text = client.get(url).content.decode()
        assert "md5$" not in text and "argon2" not in text and "password" not in text


# ---------------------------------------------------------------- query counts


@pytest.fixture
def crowd(cast):
    """Enough rows that an N+1 would show: teams with members, people with tokens."""
    for i in range(8):
        people = [f.member(Role.ENGINEER, cast.operator) for _ in range(3)]
        team = f.TeamFactory(name=f"组{i}", lead=people[0])
        team.members.set(people)
        f.member(Role.CUSTOMER_USER, cast.customer_a)
    for i in range(6):
        tokens.create_token(actor=cast.admin, user=cast.admin, name=f"t{i}")
    return cast


@pytest.mark.parametrize(
    ("endpoint", "max_queries"),
    [
        ("organizations", 6),
        ("users", 6),
        ("memberships", 6),
        ("teams", 7),
        ("tokens", 6),
        ("me", 4),
    ],
)
def test_list_endpoints_do_not_query_per_row(
    crowd, api, django_assert_max_num_queries, endpoint, max_queries
):
    client = api.as_user(crowd.admin)
    # Session + user (with membership) + count + rows (+ prefetch): independent of the row count.
    with django_assert_max_num_queries(max_queries):
        response = client.get(f"/api/v1/{endpoint}/")
    assert response.status_code == 200
    if endpoint != "me":
        assert response.json()["count"] >= 5


def test_session_writes_to_the_api_need_a_csrf_token(cast):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(cast.manager)
    response = client.post(
        "/api/v1/teams/", {"organization": cast.operator.pk, "name": "新组"}, format="json"
    )
    assert response.status_code == 403
    assert not Team.objects.filter(name="新组").exists()


def test_admin_gives_an_outsider_a_membership_via_api(cast, api):
    payload = {
        "user": cast.outsider.pk,
        "organization": cast.supplier.pk,
        "role": "supplier_contact",
    }
    # A customer admin cannot even see the outsider …
    response = api.as_user(cast.customer_a_admin).post(
        "/api/v1/memberships/", payload, format="json"
    )
    assert response.status_code == 400 and "user" in response.json()["fields"]
    # … the operator's admin can place them, once.
    response = api.as_user(cast.admin).post("/api/v1/memberships/", payload, format="json")
    assert response.status_code == 201, response.content
    assert User.objects.get(pk=cast.outsider.pk).role == "supplier_contact"
    again = api.as_user(cast.admin).post("/api/v1/memberships/", payload, format="json")
    assert again.status_code == 400


def test_team_list_page_survives_odd_filters(cast, client):
    client.force_login(cast.manager)
    for query in [
        "is_active=perhaps",
        f"organization={HUGE}",
        "page=abc",
        "sort=;DROP",
        "q=" + "x" * 500,
    ]:
        assert client.get(f"/people/teams/?{query}").status_code in {200, 404}, query
