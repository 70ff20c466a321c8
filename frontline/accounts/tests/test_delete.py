"""Deleting organisations, memberships and teams: services, API matrix and team pages.

People are never deleted (they are deactivated); a membership is removed only by the
operator's admins and never one's own; an organisation only while nothing belongs to it.
"""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from frontline.accounts import services
from frontline.accounts.models import Membership, Organization, Team, User
from frontline.accounts.roles import OrganizationKind, Role
from frontline.core.errors import Conflict, PermissionDenied
from frontline.core.models import AuditEntry
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
STAFF = {"admin", "manager", "dispatcher", "agent", "engineer", "analyst"}


def deletions(obj) -> list[AuditEntry]:
    return list(AuditEntry.objects.for_object(obj).filter(action="delete"))


def empty_customer() -> Organization:
    return f.OrganizationFactory(name="录错的客户", code="typo", kind=OrganizationKind.CUSTOMER)


# ---------------------------------------------------------------- organisations


class TestDeleteOrganization:
    def test_the_admin_deletes_an_empty_organisation_and_it_is_audited(self, cast):
        org = empty_customer()
        pk = org.pk

        services.delete_organization(actor=cast.admin, organization=org)

        assert not Organization.objects.filter(pk=pk).exists()
        [entry] = AuditEntry.objects.filter(object_id=str(pk), action="delete")
        assert entry.actor == cast.admin
        assert entry.changes["code"] == ["typo", None]
        assert entry.changes["kind"] == ["customer", None]

    def test_the_operator_is_never_deleted(self, cast):
        # Even with nobody left in it (a superuser outside every organisation asks)
        Membership.objects.filter(organization=cast.operator).delete()
        root = f.UserFactory(is_superuser=True, is_staff=True)

        with pytest.raises(PermissionDenied):
            services.delete_organization(actor=root, organization=cast.operator)
        assert Organization.objects.filter(pk=cast.operator.pk).exists()

    @pytest.mark.parametrize("what", ["membership", "team", "site", "project"])
    def test_an_organisation_something_belongs_to_is_a_conflict(self, cast, what):
        # Given an organisation with one membership, team, site or project
        org = empty_customer()
        if what == "membership":
            f.member(Role.CUSTOMER_USER, org)
        elif what == "team":
            f.TeamFactory(organization=org)
        elif what == "site":
            f.SiteFactory(customer=org)
        else:
            f.ProjectFactory(customer=org)

        # When the admin deletes it, then it is refused with a 409 and kept
        with pytest.raises(Conflict) as exc:
            services.delete_organization(actor=cast.admin, organization=org)
        assert exc.value.status == 409
        assert exc.value.code == "organization_in_use"
        assert "deactivate" in str(exc.value.message)
        assert Organization.objects.filter(pk=org.pk).exists()
        assert deletions(org) == []

    @pytest.mark.parametrize("role", ["manager", "customer_a_admin", "partner_admin"])
    def test_only_the_operators_admins_delete_organisations(self, cast, role):
        org = empty_customer()
        with pytest.raises(PermissionDenied):
            services.delete_organization(actor=cast.by_role(role), organization=org)
        assert Organization.objects.filter(pk=org.pk).exists()


# ---------------------------------------------------------------- memberships


class TestDeleteMembership:
    def test_the_admin_takes_someone_out_of_their_organisation_and_teams(self, cast):
        # Given a partner engineer who leads one partner team and is a member of another
        person = cast.partner_engineer
        led = f.TeamFactory(organization=cast.partner, name="苏州一队", lead=person)
        led.members.set([person, cast.partner_admin])
        other = f.TeamFactory(organization=cast.partner, name="苏州二队")
        other.members.set([person])
        membership = person.membership

        # When the operator's admin removes their membership
        services.delete_membership(actor=cast.admin, membership=membership)

        # Then the person keeps their account but belongs nowhere and is in no team
        person = User.objects.get(pk=person.pk)
        assert person.is_active and person.organization is None
        assert not Membership.objects.filter(pk=membership.pk).exists()
        led.refresh_from_db()
        assert led.lead is None
        assert list(led.members.all()) == [cast.partner_admin]
        assert not other.members.exists()
        # And the membership's last values and each team's change are in the audit
        [entry] = deletions(membership)
        assert entry.changes["role"] == ["partner_engineer", None]
        assert entry.changes["organization"] == [cast.partner.name, None]
        team_entry = AuditEntry.objects.for_object(led).get()
        assert team_entry.changes["lead"] == [str(person), None]
        assert team_entry.changes["members"][1] == [str(cast.partner_admin)]

    def test_nobody_removes_their_own_membership(self, cast):
        with pytest.raises(PermissionDenied):
            services.delete_membership(actor=cast.admin, membership=cast.admin.membership)
        assert Membership.objects.filter(user=cast.admin).exists()

    @pytest.mark.parametrize("role", ["manager", "customer_a_admin", "partner_admin"])
    def test_only_the_operators_admins_remove_memberships(self, cast, role):
        target = cast.customer_a_user.membership
        with pytest.raises(PermissionDenied):
            services.delete_membership(actor=cast.by_role(role), membership=target)
        assert Membership.objects.filter(pk=target.pk).exists()

    def test_an_admin_cannot_remove_a_superusers_membership(self, cast):
        root = f.member(Role.ADMIN, cast.operator, is_superuser=True)
        with pytest.raises(PermissionDenied):
            services.delete_membership(actor=cast.admin, membership=root.membership)
        assert Membership.objects.filter(user=root).exists()


# ---------------------------------------------------------------- teams


class TestDeleteTeam:
    def test_a_manager_disbands_a_team_and_its_members_stay(self, cast):
        team = f.TeamFactory(name="夜班组", lead=cast.engineer)
        team.members.set([cast.engineer, cast.dispatcher])
        pk = team.pk

        services.delete_team(actor=cast.manager, team=team)

        assert not Team.objects.filter(pk=pk).exists()
        assert User.objects.filter(pk__in=[cast.engineer.pk, cast.dispatcher.pk]).count() == 2
        [entry] = AuditEntry.objects.filter(object_id=str(pk), action="delete")
        assert entry.changes["name"] == ["夜班组", None]
        assert entry.changes["lead"] == [str(cast.engineer), None]
        assert entry.changes["members"] == [
            sorted([str(cast.engineer), str(cast.dispatcher)]),
            None,
        ]

    @pytest.mark.parametrize(
        "role", ["dispatcher", "engineer", "partner_admin", "customer_a_admin"]
    )
    def test_who_may_not_manage_the_team_is_refused(self, cast, role):
        team = f.TeamFactory(name="夜班组")
        team.members.set([cast.engineer])
        with pytest.raises(PermissionDenied):
            services.delete_team(actor=cast.by_role(role), team=team)
        assert list(Team.objects.get(pk=team.pk).members.all()) == [cast.engineer]

    def test_a_partner_admin_disbands_a_team_of_their_own(self, cast):
        team = f.TeamFactory(organization=cast.partner, name="苏州队")
        services.delete_team(actor=cast.partner_admin, team=team)
        assert not Team.objects.filter(pk=team.pk).exists()


# ---------------------------------------------------------------- API


@pytest.fixture
def targets(cast):
    """One deletable thing of each kind, and some that must never go."""
    spare = f.member(Role.CUSTOMER_USER, cast.customer_a, email="spare@cust-a.example")
    return {
        "empty_org": empty_customer(),
        "operator": cast.operator,
        "own_customer": cast.customer_a,
        "membership": spare.membership,
        "operator_team": f.TeamFactory(organization=cast.operator, name="总部组"),
        "partner_team": f.TeamFactory(organization=cast.partner, name="网点组"),
    }


ENDPOINT = {
    "empty_org": "organizations",
    "operator": "organizations",
    "own_customer": "organizations",
    "membership": "memberships",
    "operator_team": "teams",
    "partner_team": "teams",
}
MODEL = {"organizations": Organization, "memberships": Membership, "teams": Team}


def expected_status(role: str, target: str) -> int:
    staff = role in STAFF
    if target == "empty_org":
        return (204 if role == "admin" else 403) if staff else 404
    if target == "operator":  # everyone sees the operator; nobody deletes it
        return 404 if role == "outsider" else 403
    if target == "own_customer":  # customer A still has people: a 409 even for the admin
        if role == "admin":
            return 409
        return 403 if staff or role.startswith("customer_a") else 404
    if target == "membership":  # customer A's user: only the operator's admin removes it
        if role == "admin":
            return 204
        return 403 if staff or role.startswith("customer_a") else 404
    if target == "operator_team":
        if role in {"admin", "manager"}:
            return 204
        return 403 if staff else 404
    # partner_team
    if role in {"admin", "manager", "partner_admin"}:
        return 204
    return 403 if staff or role == "partner_engineer" else 404


@pytest.mark.parametrize("target", list(ENDPOINT))
@pytest.mark.parametrize("role", ROLES)
def test_delete_matrix(api, cast, targets, role, target):
    # Given something to delete, when a role deletes it through the API
    obj = targets[target]
    endpoint = ENDPOINT[target]
    response = api.as_user(cast.by_role(role)).delete(f"/api/v1/{endpoint}/{obj.pk}/")

    # Then: 204 and gone with an audit entry, or refused with nothing changed
    expected = expected_status(role, target)
    assert response.status_code == expected, response.content
    exists = MODEL[endpoint].objects.filter(pk=obj.pk).exists()
    if expected == 204:
        assert not exists
        assert AuditEntry.objects.for_object(obj).filter(action="delete").count() == 1
    else:
        assert set(response.json()) == {"code", "detail", "fields"}
        assert exists
        assert deletions(obj) == []


def test_a_customer_admin_is_told_why_they_cannot_remove_a_colleague(api, cast, targets):
    response = api.as_user(cast.customer_a_admin).delete(
        f"/api/v1/memberships/{targets['membership'].pk}/"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_removing_ones_own_membership_via_the_api_is_403(api, cast):
    response = api.as_user(cast.admin).delete(f"/api/v1/memberships/{cast.admin.membership.pk}/")
    assert response.status_code == 403
    assert Membership.objects.filter(user=cast.admin).exists()


def test_deleting_a_customer_with_people_says_so(api, cast):
    response = api.as_user(cast.admin).delete(f"/api/v1/organizations/{cast.customer_b.pk}/")
    assert response.status_code == 409
    assert response.json()["code"] == "organization_in_use"


# ---------------------------------------------------------------- team pages


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_manager_deletes_a_team_from_its_page(cast):
    team = f.TeamFactory(name="夜班组")
    client = signed_in(cast.manager)
    page = client.get(team.get_absolute_url()).content.decode()
    url = reverse("accounts:team-delete", args=[team.pk])
    assert f'action="{url}"' in page and "data-confirm=" in page

    response = client.post(url)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:team-list")
    assert not Team.objects.filter(pk=team.pk).exists()
    assert any("夜班组" in str(m) for m in get_messages(response.wsgi_request))


def test_the_team_delete_page_asks_first(cast):
    team = f.TeamFactory(name="夜班组")
    response = signed_in(cast.manager).get(reverse("accounts:team-delete", args=[team.pk]))
    assert response.status_code == 200
    assert 'data-testid="confirm-delete"' in response.content.decode()
    assert Team.objects.filter(pk=team.pk).exists()


@pytest.mark.parametrize("role", ["dispatcher", "agent", "analyst"])
def test_staff_who_see_but_do_not_manage_teams_get_no_button_and_403(cast, role):
    team = f.TeamFactory(name="夜班组")
    client = signed_in(cast.by_role(role))
    url = reverse("accounts:team-delete", args=[team.pk])

    assert 'data-testid="delete"' not in client.get(team.get_absolute_url()).content.decode()
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert Team.objects.filter(pk=team.pk).exists()


@pytest.mark.parametrize("role", ["partner_admin", "customer_a_admin", "outsider"])
def test_another_organisations_team_is_404(cast, role):
    team = f.TeamFactory(name="总部组")
    response = signed_in(cast.by_role(role)).post(reverse("accounts:team-delete", args=[team.pk]))
    assert response.status_code == 404
    assert Team.objects.filter(pk=team.pk).exists()


def test_the_team_delete_form_enforces_csrf(cast):
    team = f.TeamFactory(name="夜班组")
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.manager)
    url = reverse("accounts:team-delete", args=[team.pk])

    assert client.post(url).status_code == 403
    assert Team.objects.filter(pk=team.pk).exists()

    client.get(url)
    response = client.post(url, {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert response.status_code == 302
    assert not Team.objects.filter(pk=team.pk).exists()
