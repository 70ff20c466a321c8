"""Services: who may do what to organisations, people, memberships and teams; denied means unchanged."""

from __future__ import annotations

import pytest

from frontline.accounts import services
from frontline.accounts.models import Membership, Organization, Team, User
from frontline.accounts.roles import OrganizationKind, Role
from frontline.core.errors import PermissionDenied, ValidationFailed
from frontline.core.models import AuditEntry
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db


def _snapshot(user: User) -> tuple:
    user = User.objects.get(pk=user.pk)
    return (
        user.role,
        user.organization_id,
        user.is_staff,
        user.is_superuser,
        user.is_active,
        user.email,
    )


# ---------------------------------------------------------------- organisations


def test_admin_creates_a_customer_and_it_is_audited(cast):
    org = services.create_organization(
        actor=cast.admin, name="新客户", code="new-cust", kind="customer"
    )
    assert Organization.objects.get(code="new-cust").kind == OrganizationKind.CUSTOMER
    entry = AuditEntry.objects.for_object(org).get()
    assert entry.actor == cast.admin and entry.action == "create"


def test_a_second_operator_is_refused(cast):
    before = Organization.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        services.create_organization(actor=cast.admin, name="Other op", code="op2", kind="operator")
    assert "kind" in exc.value.fields
    assert Organization.objects.count() == before


def test_turning_a_customer_into_a_second_operator_is_refused(cast):
    empty = f.OrganizationFactory(kind=OrganizationKind.CUSTOMER)
    with pytest.raises(ValidationFailed):
        services.update_organization(actor=cast.admin, organization=empty, kind="operator")
    assert Organization.objects.get(pk=empty.pk).kind == "customer"


def test_kind_change_that_would_orphan_roles_is_refused(cast):
    with pytest.raises(ValidationFailed):
        services.update_organization(actor=cast.admin, organization=cast.customer_a, kind="partner")
    assert Organization.objects.get(pk=cast.customer_a.pk).kind == "customer"


@pytest.mark.parametrize(
    "actor", ["manager", "dispatcher", "customer_a_admin", "partner_admin", "outsider"]
)
def test_only_admins_manage_organizations(cast, actor):
    with pytest.raises(PermissionDenied):
        services.create_organization(
            actor=cast.by_role(actor), name="X", code="x-org", kind="customer"
        )
    with pytest.raises(PermissionDenied):
        services.update_organization(
            actor=cast.by_role(actor), organization=cast.customer_b, name="Hacked"
        )
    assert not Organization.objects.filter(code="x-org").exists()
    assert Organization.objects.get(pk=cast.customer_b.pk).name == "云谷数据中心"


def test_duplicate_organisation_code_is_a_field_error(cast):
    with pytest.raises(ValidationFailed) as exc:
        services.create_organization(actor=cast.admin, name="Dup", code="cust-a", kind="customer")
    assert "code" in exc.value.fields


# ---------------------------------------------------------------- users and the role ceiling


def test_customer_admin_creates_a_user_in_own_org(cast):
    user = services.create_user(
        actor=cast.customer_a_admin,
        email="New@Cust-A.example",
        display_name="新人",
        organization=cast.customer_a,
        role=Role.CUSTOMER_USER,
    )
    assert user.email == "new@cust-a.example"
    assert user.organization_id == cast.customer_a.pk and user.role == Role.CUSTOMER_USER
    assert not user.has_usable_password()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.CUSTOMER_USER, Role.MANAGER])
def test_partner_admin_cannot_create_above_or_outside_their_ceiling(cast, role):
    before = (User.objects.count(), Membership.objects.count())
    with pytest.raises(PermissionDenied):
        services.create_user(
            actor=cast.partner_admin,
            email="x@p.example",
            display_name="X",
            organization=cast.partner,
            role=role,
        )
    assert (User.objects.count(), Membership.objects.count()) == before


def test_customer_admin_cannot_create_users_in_another_org(cast):
    with pytest.raises(PermissionDenied):
        services.create_user(
            actor=cast.customer_a_admin,
            email="x@b.example",
            display_name="X",
            organization=cast.customer_b,
            role=Role.CUSTOMER_USER,
        )
    assert not User.objects.filter(email="x@b.example").exists()


@pytest.mark.parametrize(
    "actor", ["manager", "agent", "customer_a_user", "partner_engineer", "outsider"]
)
def test_people_without_manage_users_cannot_create_users(cast, actor):
    with pytest.raises(PermissionDenied):
        services.create_user(
            actor=cast.by_role(actor),
            email="x@x.example",
            display_name="X",
            organization=cast.customer_a,
            role=Role.CUSTOMER_USER,
        )
    assert not User.objects.filter(email="x@x.example").exists()


def test_operator_admin_creates_in_any_org_but_the_role_must_fit_its_kind(cast):
    services.create_user(
        actor=cast.admin,
        email="pe@p.example",
        display_name="PE",
        organization=cast.partner,
        role=Role.PARTNER_ENGINEER,
        password="a-long-enough-Passw0rd",
    )
    assert User.objects.get(email="pe@p.example").check_password("a-long-enough-Passw0rd")
    with pytest.raises(ValidationFailed) as exc:
        services.create_user(
            actor=cast.admin,
            email="bad@p.example",
            display_name="B",
            organization=cast.partner,
            role=Role.CUSTOMER_USER,
        )
    assert "role" in exc.value.fields
    assert not User.objects.filter(email="bad@p.example").exists()


def test_duplicate_email_ignoring_case_is_refused(cast):
    with pytest.raises(ValidationFailed) as exc:
        services.create_user(
            actor=cast.admin,
            email="AGENT@t.example",
            display_name="A",
            organization=cast.operator,
            role=Role.AGENT,
        )
    assert "email" in exc.value.fields


def test_weak_password_is_refused(cast):
    with pytest.raises(ValidationFailed) as exc:
        services.create_user(
            actor=cast.admin,
            email="weak@t.example",
            display_name="W",
            organization=cast.operator,
            role=Role.AGENT,
            password="123",
        )
    assert "password" in exc.value.fields
    assert not User.objects.filter(email="weak@t.example").exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"role": Role.CUSTOMER_USER},
        {"organization": "customer_b"},
        {"is_staff": True},
        {"is_superuser": True},
        {"is_active": False},
    ],
)
def test_nobody_changes_their_own_role_org_or_access(cast, changes):
    changes = {k: (cast.customer_b if v == "customer_b" else v) for k, v in changes.items()}
    for actor in (cast.customer_a_admin, cast.admin):
        before = _snapshot(actor)
        with pytest.raises(PermissionDenied):
            services.update_user(actor=actor, user=actor, **changes)
        assert _snapshot(actor) == before


def test_a_user_edits_their_own_profile(cast):
    services.update_user(
        actor=cast.customer_a_user, user=cast.customer_a_user, display_name="王工", phone="138"
    )
    user = User.objects.get(pk=cast.customer_a_user.pk)
    assert (user.display_name, user.phone) == ("王工", "138")


def test_customer_admin_changes_a_colleague_within_the_ceiling(cast):
    services.update_user(
        actor=cast.customer_a_admin, user=cast.customer_a_user, role=Role.CUSTOMER_ADMIN
    )
    assert User.objects.get(pk=cast.customer_a_user.pk).role == Role.CUSTOMER_ADMIN


def test_customer_admin_cannot_touch_another_orgs_user_or_promote_to_operator(cast):
    before = _snapshot(cast.customer_b_admin)
    with pytest.raises(PermissionDenied):
        services.update_user(
            actor=cast.customer_a_admin, user=cast.customer_b_admin, display_name="x"
        )
    with pytest.raises(PermissionDenied):
        services.update_user(
            actor=cast.customer_a_admin,
            user=cast.customer_a_user,
            organization=cast.operator,
            role=Role.ADMIN,
        )
    assert _snapshot(cast.customer_b_admin) == before
    assert User.objects.get(pk=cast.customer_a_user.pk).role == Role.CUSTOMER_USER


def test_only_a_superuser_grants_admin_site_access(cast):
    with pytest.raises(PermissionDenied):
        services.update_user(actor=cast.admin, user=cast.agent, is_staff=True)
    assert not User.objects.get(pk=cast.agent.pk).is_staff
    root = f.UserFactory(is_superuser=True, is_staff=True)
    services.update_user(actor=root, user=cast.agent, is_staff=True)
    assert User.objects.get(pk=cast.agent.pk).is_staff


def test_update_user_rereads_the_row_and_ignores_in_memory_edits(cast):
    target = User.objects.get(pk=cast.agent.pk)
    target.is_superuser = True  # a form could have done this in memory
    services.update_user(actor=cast.admin, user=target, display_name="客服A")
    fresh = User.objects.get(pk=cast.agent.pk)
    assert fresh.display_name == "客服A" and not fresh.is_superuser


def test_deactivate_user(cast):
    services.deactivate_user(actor=cast.customer_a_admin, user=cast.customer_a_user)
    assert not User.objects.get(pk=cast.customer_a_user.pk).is_active
    with pytest.raises(PermissionDenied):
        services.deactivate_user(actor=cast.customer_a_admin, user=cast.customer_a_admin)
    with pytest.raises(PermissionDenied):
        services.deactivate_user(actor=cast.partner_admin, user=cast.customer_b_admin)
    assert User.objects.get(pk=cast.customer_a_admin.pk).is_active
    assert User.objects.get(pk=cast.customer_b_admin.pk).is_active


# ---------------------------------------------------------------- memberships


def test_admin_gives_an_outsider_a_membership(cast):
    m = services.create_membership(
        actor=cast.admin, user=cast.outsider, organization=cast.supplier, role=Role.SUPPLIER_CONTACT
    )
    assert m.organization == cast.supplier
    with pytest.raises(ValidationFailed):
        services.create_membership(
            actor=cast.admin,
            user=cast.outsider,
            organization=cast.partner,
            role=Role.PARTNER_ENGINEER,
        )


def test_editing_ones_own_membership_is_refused(cast):
    for actor in (cast.admin, cast.partner_admin):
        with pytest.raises(PermissionDenied):
            services.update_membership(actor=actor, membership=actor.membership, role=actor.role)
    assert User.objects.get(pk=cast.partner_admin.pk).role == Role.PARTNER_ADMIN


def test_membership_role_changes_obey_the_ceiling(cast):
    membership = cast.partner_engineer.membership
    with pytest.raises(PermissionDenied):
        services.update_membership(actor=cast.partner_admin, membership=membership, role=Role.ADMIN)
    with pytest.raises(PermissionDenied):
        services.update_membership(
            actor=cast.partner_admin,
            membership=cast.customer_a_user.membership,
            role=Role.CUSTOMER_ADMIN,
        )
    assert Membership.objects.get(pk=membership.pk).role == Role.PARTNER_ENGINEER
    services.update_membership(
        actor=cast.partner_admin, membership=membership, role=Role.PARTNER_ADMIN
    )
    assert Membership.objects.get(pk=membership.pk).role == Role.PARTNER_ADMIN


# ---------------------------------------------------------------- teams


def test_manager_creates_a_team_with_members_of_its_org(cast):
    team = services.create_team(
        actor=cast.manager,
        organization=cast.operator,
        name="暖通一组",
        lead=cast.engineer,
        members=[cast.engineer, cast.dispatcher],
        dispatch_mode="grab",
    )
    assert set(team.members.all()) == {cast.engineer, cast.dispatcher}
    assert AuditEntry.objects.for_object(team).get().changes["members"][1] == sorted(
        [str(cast.engineer), str(cast.dispatcher)]
    )


def test_team_members_and_lead_must_belong_to_its_org(cast):
    with pytest.raises(ValidationFailed) as exc:
        services.create_team(
            actor=cast.manager,
            organization=cast.partner,
            name="混编",
            lead=cast.engineer,
            members=[cast.partner_engineer, cast.engineer],
        )
    assert set(exc.value.fields) == {"members", "lead"}
    assert not Team.objects.filter(name="混编").exists()


def test_partner_admin_manages_only_own_org_teams(cast):
    own = services.create_team(
        actor=cast.partner_admin,
        organization=cast.partner,
        name="苏州一队",
        members=[cast.partner_engineer],
    )
    assert own.organization == cast.partner
    operator_team = f.TeamFactory(name="总部组")
    with pytest.raises(PermissionDenied):
        services.create_team(actor=cast.partner_admin, organization=cast.operator, name="偷建")
    with pytest.raises(PermissionDenied):
        services.update_team(actor=cast.partner_admin, team=operator_team, name="改名")
    assert Team.objects.get(pk=operator_team.pk).name == "总部组"
    assert not Team.objects.filter(name="偷建").exists()


@pytest.mark.parametrize(
    "actor", ["agent", "dispatcher", "engineer", "partner_engineer", "customer_a_admin"]
)
def test_people_without_manage_teams_cannot_change_teams(cast, actor):
    team = f.TeamFactory(
        name="A组", organization=cast.partner if actor.startswith("partner") else cast.operator
    )
    with pytest.raises(PermissionDenied):
        services.update_team(actor=cast.by_role(actor), team=team, name="B组")
    assert Team.objects.get(pk=team.pk).name == "A组"


def test_team_name_is_unique_per_org_and_update_is_audited(cast):
    f.TeamFactory(name="A组")
    team = f.TeamFactory(name="B组")
    with pytest.raises(ValidationFailed) as exc:
        services.update_team(actor=cast.manager, team=team, name="a组")
    assert "name" in exc.value.fields
    services.update_team(
        actor=cast.manager, team=team, members=[cast.engineer], dispatch_mode="auto"
    )
    team.refresh_from_db()
    assert team.dispatch_mode == "auto" and list(team.members.all()) == [cast.engineer]
    entry = AuditEntry.objects.for_object(team).first()
    assert entry.changes["dispatch_mode"] == ["assign", "auto"]


# ---------------------------------------------------------------- preferences


def test_update_preferences_validates_language_and_time_zone(cast):
    with pytest.raises(ValidationFailed):
        services.update_preferences(actor=cast.agent, user=cast.agent, preferred_language="fr")
    with pytest.raises(ValidationFailed):
        services.update_preferences(actor=cast.agent, user=cast.agent, time_zone="Mars/Olympus")
    with pytest.raises(ValidationFailed):
        services.update_preferences(actor=cast.agent, user=cast.agent, is_staff=True)
    services.update_preferences(
        actor=cast.agent, user=cast.agent, preferred_language="zh-hans", time_zone="Europe/Berlin"
    )
    fresh = User.objects.get(pk=cast.agent.pk)
    assert (fresh.preferred_language, fresh.time_zone, fresh.is_staff) == (
        "zh-hans",
        "Europe/Berlin",
        False,
    )


def test_someone_else_cannot_change_my_preferences(cast):
    with pytest.raises(PermissionDenied):
        services.update_preferences(
            actor=cast.customer_b_admin, user=cast.customer_a_user, display_name="x"
        )
