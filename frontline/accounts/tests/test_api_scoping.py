"""The API scoping matrix: each role sees exactly its share, and another organisation's object is a 404."""

from __future__ import annotations

import pytest

from frontline.accounts import tokens
from frontline.accounts.models import Membership, Organization, Team, User
from frontline.accounts.roles import Cap
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db

ROLES = [
    "admin",
    "manager",
    "dispatcher",
    "agent",
    "engineer",
    "analyst",
    "customer_a_admin",
    "customer_a_user",
    "customer_b_admin",
    "partner_admin",
    "partner_engineer",
    "supplier_contact",
    "outsider",
]
OPERATOR_STAFF = {"admin", "manager", "dispatcher", "agent", "engineer", "analyst"}


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def world(cast):
    """Two teams (the operator's and the partner's) and a token for everyone."""
    f.TeamFactory(name="总部暖通组", organization=cast.operator, lead=cast.engineer)
    f.TeamFactory(name="苏州网点队", organization=cast.partner, lead=cast.partner_engineer)
    for name in ROLES:
        tokens.create_token(actor=cast.by_role(name), user=cast.by_role(name), name=f"{name} token")
    return cast


def expected_orgs(cast, name):
    actor = cast.by_role(name)
    if name in OPERATOR_STAFF:
        return set(Organization.objects.values_list("pk", flat=True))
    if actor.organization_id is None:
        return set()
    return {cast.operator.pk, actor.organization_id}


def expected_users(cast, name):
    actor = cast.by_role(name)
    if name in OPERATOR_STAFF:
        return set(User.objects.values_list("pk", flat=True))
    if actor.organization_id is None:
        return {actor.pk}
    return set(
        User.objects.filter(membership__organization_id=actor.organization_id).values_list(
            "pk", flat=True
        )
    )


def expected_memberships(cast, name):
    actor = cast.by_role(name)
    qs = Membership.objects.all()
    if name not in OPERATOR_STAFF:
        qs = (
            qs.filter(organization_id=actor.organization_id) if actor.organization_id else qs.none()
        )
    return set(qs.values_list("pk", flat=True))


def expected_teams(cast, name):
    actor = cast.by_role(name)
    if name in OPERATOR_STAFF:
        return set(Team.objects.values_list("pk", flat=True))
    if not actor.has_capability(Cap.VIEW_TEAMS):
        return set()
    return set(
        Team.objects.filter(organization_id=actor.organization_id).values_list("pk", flat=True)
    )


def expected_tokens(cast, name):
    return set(cast.by_role(name).api_tokens.values_list("pk", flat=True))


EXPECTED = {
    "organizations": expected_orgs,
    "users": expected_users,
    "memberships": expected_memberships,
    "teams": expected_teams,
    "tokens": expected_tokens,
}


@pytest.mark.parametrize("endpoint", list(EXPECTED))
@pytest.mark.parametrize("name", ROLES)
def test_list_contains_exactly_what_the_role_may_see(world, api, name, endpoint):
    # Given a user of some role, when they list an endpoint, then they see exactly their share.
    client = api.as_user(world.by_role(name))
    response = client.get(f"/api/v1/{endpoint}/")
    assert ids(response) == EXPECTED[endpoint](world, name)
    assert response.json()["count"] == len(EXPECTED[endpoint](world, name))


def _other_org(cast, name):
    return (
        cast.customer_a
        if cast.by_role(name).organization_id == cast.customer_b.pk
        else cast.customer_b
    )


@pytest.mark.parametrize("name", ROLES)
def test_detail_own_org_is_200_and_other_org_is_404(world, api, name):
    actor = world.by_role(name)
    client = api.as_user(actor)
    other = _other_org(world, name)
    other_person = User.objects.filter(membership__organization=other).first()
    staff = name in OPERATOR_STAFF
    # users: oneself always, another org's person only for operator staff
    assert client.get(f"/api/v1/users/{actor.pk}/").status_code == 200
    assert client.get(f"/api/v1/users/{other_person.pk}/").status_code == (200 if staff else 404)
    # organisations and memberships: one's own, never another customer's unless operator staff
    if actor.organization_id:
        assert client.get(f"/api/v1/organizations/{actor.organization_id}/").status_code == 200
        assert client.get(f"/api/v1/memberships/{actor.membership.pk}/").status_code == 200
    assert client.get(f"/api/v1/organizations/{other.pk}/").status_code == (200 if staff else 404)
    assert client.get(f"/api/v1/memberships/{other_person.membership.pk}/").status_code == (
        200 if staff else 404
    )
    # tokens: only one's own, even for the operator's admin
    own_token = actor.api_tokens.get()
    someone_else = (world.manager if actor != world.manager else world.admin).api_tokens.get()
    assert client.get(f"/api/v1/tokens/{own_token.pk}/").status_code == 200
    assert client.get(f"/api/v1/tokens/{someone_else.pk}/").status_code == 404


@pytest.mark.parametrize("name", ROLES)
def test_team_detail_by_role(world, api, name):
    client = api.as_user(world.by_role(name))
    operator_team = Team.objects.get(organization=world.operator)
    partner_team = Team.objects.get(organization=world.partner)
    staff = name in OPERATOR_STAFF
    partner = name.startswith("partner")
    assert client.get(f"/api/v1/teams/{operator_team.pk}/").status_code == (200 if staff else 404)
    assert client.get(f"/api/v1/teams/{partner_team.pk}/").status_code == (
        200 if staff or partner else 404
    )


@pytest.mark.parametrize("name", ROLES)
def test_me_describes_the_caller(world, api, name):
    actor = world.by_role(name)
    body = api.as_user(actor).get("/api/v1/me/").json()
    assert body["id"] == actor.pk and body["email"] == actor.email
    assert body["role"] == actor.role
    assert body["capabilities"] == sorted(actor.capabilities)
    if actor.organization_id:
        assert body["organization"] == {
            "id": actor.organization_id,
            "name": actor.organization.name,
            "kind": actor.organization.kind,
        }
    else:
        assert body["organization"] is None
    assert "password" not in body


def test_anonymous_gets_401_everywhere(world, api):
    for endpoint in [*EXPECTED, "me"]:
        assert api.get(f"/api/v1/{endpoint}/").status_code == 401


# ---------------------------------------------------------------- denied writes change nothing


def _db_state():
    return (
        list(Organization.objects.order_by("pk").values()),
        # last_login moves when the test client signs in; everything else must stay.
        [
            {k: v for k, v in row.items() if k != "last_login"}
            for row in User.objects.order_by("pk").values()
        ],
        list(Membership.objects.order_by("pk").values()),
        list(Team.objects.order_by("pk").values()),
        sorted(Team.members.through.objects.values_list("team_id", "user_id")),
    )


ORG_CREATE = {"admin": 201}
USER_CREATE = {"admin": 201, "customer_a_admin": 201, "customer_b_admin": 400, "partner_admin": 400}
TEAM_PATCH = {
    "admin": 200,
    "manager": 200,
    "dispatcher": 403,
    "agent": 403,
    "engineer": 403,
    "analyst": 403,
}


@pytest.mark.parametrize("name", ROLES)
def test_create_organization_matrix(world, api, name):
    before = _db_state()
    response = api.as_user(world.by_role(name)).post(
        "/api/v1/organizations/",
        {"name": "新客户", "code": "new-c", "kind": "customer"},
        format="json",
    )
    assert response.status_code == ORG_CREATE.get(name, 403), response.content
    if response.status_code != 201:
        assert _db_state() == before


@pytest.mark.parametrize("name", ROLES)
def test_create_user_matrix(world, api, name):
    before = _db_state()
    payload = {
        "email": "new@cust-a.example",
        "display_name": "新同事",
        "organization": world.customer_a.pk,
        "role": "customer_user",
    }
    response = api.as_user(world.by_role(name)).post("/api/v1/users/", payload, format="json")
    assert response.status_code == USER_CREATE.get(name, 403), response.content
    if response.status_code == 201:
        assert response.json()["organization"] == world.customer_a.pk
        assert "password" not in response.json()
    else:
        assert set(response.json()) == {"code", "detail", "fields"}
        assert _db_state() == before


@pytest.mark.parametrize("name", ROLES)
def test_patch_operator_team_matrix(world, api, name):
    team = Team.objects.get(organization=world.operator)
    before = _db_state()
    response = api.as_user(world.by_role(name)).patch(
        f"/api/v1/teams/{team.pk}/", {"name": "改名", "members": [world.engineer.pk]}, format="json"
    )
    assert response.status_code == TEAM_PATCH.get(name, 404), response.content
    if response.status_code == 200:
        assert response.json()["members"] == [world.engineer.pk]
    else:
        assert _db_state() == before


@pytest.mark.parametrize(
    ("name", "target", "status"),
    [
        ("customer_a_admin", "customer_a_user", 200),
        ("customer_a_admin", "customer_b_admin", 404),
        ("customer_a_user", "customer_a_admin", 403),
        ("partner_admin", "partner_engineer", 200),
        ("manager", "agent", 403),
        ("admin", "partner_engineer", 200),
    ],
)
def test_patch_user_matrix(world, api, name, target, status):
    before = _db_state()
    response = api.as_user(world.by_role(name)).patch(
        f"/api/v1/users/{world.by_role(target).pk}/", {"display_name": "改过"}, format="json"
    )
    assert response.status_code == status, response.content
    if status != 200:
        assert _db_state() == before
    else:
        assert User.objects.get(pk=world.by_role(target).pk).display_name == "改过"


@pytest.mark.parametrize(
    "payload",
    [
        {"role": "customer_user"},
        {"organization": "other"},
        {"is_staff": True},
        {"is_superuser": True},
        {"is_active": False},
    ],
)
def test_editing_own_role_org_or_staff_via_api_is_403_and_changes_nothing(world, api, payload):
    actor = world.customer_a_admin
    payload = {k: (world.operator.pk if v == "other" else v) for k, v in payload.items()}
    before = _db_state()
    response = api.as_user(actor).patch(f"/api/v1/users/{actor.pk}/", payload, format="json")
    assert response.status_code == 403, response.content
    assert _db_state() == before
    response = api.as_user(actor).patch(
        f"/api/v1/memberships/{actor.membership.pk}/", {"role": "customer_user"}, format="json"
    )
    assert response.status_code == 403
    assert _db_state() == before


def test_partner_admin_creating_an_admin_via_api_is_403(world, api):
    before = _db_state()
    response = api.as_user(world.partner_admin).post(
        "/api/v1/users/",
        {
            "email": "boss@p.example",
            "display_name": "Boss",
            "organization": world.partner.pk,
            "role": "admin",
        },
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert _db_state() == before


def test_deactivate_via_api(world, api):
    response = api.as_user(world.customer_a_admin).post(
        f"/api/v1/users/{world.customer_a_user.pk}/deactivate/"
    )
    assert response.status_code == 200 and response.json()["is_active"] is False
    response = api.as_user(world.customer_b_admin).post(
        f"/api/v1/users/{world.customer_a_admin.pk}/deactivate/"
    )
    assert response.status_code == 404
    assert User.objects.get(pk=world.customer_a_admin.pk).is_active


def test_people_are_deactivated_not_deleted_and_put_is_not_offered(world, api):
    client = api.as_user(world.admin)
    team = Team.objects.first()
    assert client.put(f"/api/v1/teams/{team.pk}/", {"name": "x"}, format="json").status_code == 405
    assert client.delete(f"/api/v1/users/{world.agent.pk}/").status_code == 405
    assert client.delete(f"/api/v1/tokens/{world.admin.api_tokens.get().pk}/").status_code == 405
    assert Team.objects.filter(pk=team.pk).exists()
    assert User.objects.filter(pk=world.agent.pk, is_active=True).exists()
    assert world.admin.api_tokens.exists()
