"""The one table of role → capabilities and grantable roles."""

from __future__ import annotations

import pytest

from frontline.accounts.roles import (
    CAPABILITIES,
    ROLES_BY_KIND,
    Cap,
    OrganizationKind,
    Role,
    capabilities_for,
    grantable_roles,
    role_fits_kind,
)

ALL_CAPS = {v for k, v in vars(Cap).items() if k.isupper()}

STAFF = {
    Cap.VIEW_ALL_CUSTOMERS,
    Cap.VIEW_DIRECTORY,
    Cap.VIEW_TEAMS,
    Cap.VIEW_AUDIT,
    Cap.USE_API_TOKENS,
    Cap.CALL_FIRE,
}

FIELD_LEAD = {Cap.VIEW_WORK_ORDERS, Cap.DISPATCH_WORK, Cap.MANAGE_ENGINEERS}
# Every operator role sees inspections and the leaderboard.
INSPECT = {Cap.VIEW_INSPECTIONS, Cap.VIEW_LEADERBOARD}
# Doing field work and assigning an outlet's work are the engineers' and outlets' own.
NOT_FOR_LEADERS = {Cap.SUBMIT_TICKETS, Cap.DO_FIELD_WORK, Cap.ASSIGN_PARTNER_WORK}

EXPECTED = {
    Role.ADMIN: ALL_CAPS - NOT_FOR_LEADERS,
    Role.MANAGER: ALL_CAPS
    - NOT_FOR_LEADERS
    - {Cap.MANAGE_ORGANIZATIONS, Cap.MANAGE_USERS, Cap.MANAGE_DESK_CONFIG},
    Role.DISPATCHER: STAFF
    | FIELD_LEAD
    | INSPECT
    | {
        Cap.MANAGE_SITES,
        Cap.MANAGE_ASSETS,
        Cap.WORK_TICKETS,
        Cap.REASSIGN_TICKETS,
        Cap.HANDLE_ANOMALIES,
    },
    Role.AGENT: STAFF | INSPECT | {Cap.WORK_TICKETS, Cap.MANAGE_PROBLEMS, Cap.VIEW_WORK_ORDERS},
    Role.ENGINEER: STAFF
    | INSPECT
    | {Cap.MANAGE_ASSETS, Cap.WORK_TICKETS, Cap.VIEW_WORK_ORDERS, Cap.DO_FIELD_WORK},
    # The analyst reviews quality: handles anomalies and adjusts scores, configures nothing.
    Role.QUALITY_ANALYST: STAFF
    | INSPECT
    | {Cap.VIEW_DESK_REPORTS, Cap.VIEW_WORK_ORDERS, Cap.HANDLE_ANOMALIES, Cap.REVIEW_QUALITY},
    Role.CUSTOMER_ADMIN: {
        Cap.MANAGE_USERS,
        Cap.USE_API_TOKENS,
        Cap.SUBMIT_TICKETS,
        Cap.VIEW_WORK_ORDERS,
        Cap.VIEW_INSPECTIONS,
    },
    Role.CUSTOMER_USER: {
        Cap.USE_API_TOKENS,
        Cap.SUBMIT_TICKETS,
        Cap.VIEW_WORK_ORDERS,
        Cap.VIEW_INSPECTIONS,
    },
    Role.PARTNER_ADMIN: {
        Cap.MANAGE_USERS,
        Cap.VIEW_TEAMS,
        Cap.MANAGE_TEAMS,
        Cap.USE_API_TOKENS,
        Cap.VIEW_WORK_ORDERS,
        Cap.ASSIGN_PARTNER_WORK,
        Cap.DO_FIELD_WORK,
        Cap.VIEW_LEADERBOARD,
    },
    Role.PARTNER_ENGINEER: {
        Cap.VIEW_TEAMS,
        Cap.USE_API_TOKENS,
        Cap.VIEW_WORK_ORDERS,
        Cap.DO_FIELD_WORK,
        Cap.VIEW_LEADERBOARD,
    },
    Role.SUPPLIER_CONTACT: {Cap.USE_API_TOKENS},
}


@pytest.mark.parametrize("role", Role.values)
def test_each_role_has_exactly_its_capabilities(role):
    # Given the table, when we ask for a role's capabilities, then they are exactly the expected set.
    assert set(capabilities_for(role)) == EXPECTED[role]


def test_every_role_is_in_the_table_and_no_role_is_unknown():
    assert set(CAPABILITIES) == set(Role.values)
    assert capabilities_for(None) == frozenset()
    assert capabilities_for("root") == frozenset()


def test_no_customer_partner_or_supplier_role_sees_other_customers():
    outside = [
        r
        for kind, roles in ROLES_BY_KIND.items()
        if kind != OrganizationKind.OPERATOR
        for r in roles
    ]
    for role in outside:
        assert Cap.VIEW_ALL_CUSTOMERS not in capabilities_for(role)
        assert Cap.VIEW_DIRECTORY not in capabilities_for(role)


@pytest.mark.parametrize(
    ("role", "grantable"),
    [
        (Role.ADMIN, set(Role.values)),
        (Role.MANAGER, set()),
        (Role.CUSTOMER_ADMIN, {Role.CUSTOMER_ADMIN, Role.CUSTOMER_USER}),
        (Role.CUSTOMER_USER, set()),
        (Role.PARTNER_ADMIN, {Role.PARTNER_ADMIN, Role.PARTNER_ENGINEER}),
        (Role.PARTNER_ENGINEER, set()),
        (None, set()),
    ],
)
def test_grantable_roles_ceiling(role, grantable):
    assert set(grantable_roles(role)) == grantable


def test_only_roles_with_manage_users_can_grant():
    for role in Role.values:
        if grantable_roles(role):
            assert Cap.MANAGE_USERS in capabilities_for(role)


@pytest.mark.parametrize(
    ("role", "kind", "fits"),
    [
        (Role.ADMIN, OrganizationKind.OPERATOR, True),
        (Role.ADMIN, OrganizationKind.CUSTOMER, False),
        (Role.CUSTOMER_USER, OrganizationKind.CUSTOMER, True),
        (Role.CUSTOMER_USER, OrganizationKind.PARTNER, False),
        (Role.PARTNER_ENGINEER, OrganizationKind.PARTNER, True),
        (Role.SUPPLIER_CONTACT, OrganizationKind.SUPPLIER, True),
        (Role.SUPPLIER_CONTACT, OrganizationKind.OPERATOR, False),
    ],
)
def test_role_fits_kind(role, kind, fits):
    assert role_fits_kind(role, kind) is fits


@pytest.mark.django_db
def test_inactive_user_has_no_capability(cast):
    cast.admin.is_active = False
    assert not cast.admin.has_capability(Cap.MANAGE_USERS)


@pytest.mark.django_db
def test_outsider_without_organisation_has_no_capability(cast):
    assert cast.outsider.capabilities == frozenset()
