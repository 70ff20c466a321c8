"""Who may change which people, memberships and teams.

Pure predicates shared by services (which enforce them), the API and the pages
(which use them to answer 403 early and to show or hide buttons), so all three
agree. What a user may *see* is decided by the ``visible_to`` querysets.
"""

from __future__ import annotations

from frontline.accounts.roles import Cap, Role, grantable_roles


def is_operator_admin(user) -> bool:
    """The operator's administrators (and superusers) administer every organisation."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or (user.is_operator_staff and user.role == Role.ADMIN)


def may_manage_users_in(user, organization_id: int | None) -> bool:
    """May ``user`` manage people of this organisation at all (the role ceiling comes on top)?"""
    if not user.has_capability(Cap.MANAGE_USERS):
        return False
    if is_operator_admin(user):
        return True
    return organization_id is not None and organization_id == user.organization_id


def may_manage_user(user, target) -> bool:
    """May ``user`` change ``target``'s account? Never their own role or access (see services)."""
    if not may_manage_users_in(user, target.organization_id):
        return False
    if is_operator_admin(user):
        return user.is_superuser or not target.is_superuser
    return target.role in grantable_roles(user.role)


def may_grant(user, organization_id: int | None, role: str) -> bool:
    """May ``user`` give ``role`` in that organisation (the role ceiling)?"""
    if not may_manage_users_in(user, organization_id):
        return False
    return is_operator_admin(user) or role in grantable_roles(user.role)


def may_manage_teams_of(user, organization_id: int | None) -> bool:
    """Operator staff with the capability manage every team; a partner admin only their own org's."""
    if not user.has_capability(Cap.MANAGE_TEAMS):
        return False
    if user.is_operator_staff:
        return True
    return organization_id is not None and organization_id == user.organization_id
