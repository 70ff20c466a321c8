"""Who may see and do what with point rules, the ledger, wallets and redemptions.

Pure predicates shared by querysets, services, API and pages. Incentive managers
(admins and managers: they set the rules or approve redemptions) see everyone's
entries; anyone else who takes part (operator staff, partner engineers) sees only
their own; customers and suppliers see nothing.
"""

from __future__ import annotations

from django.db import models

from frontline.accounts.roles import Cap, OrganizationKind
from frontline.core.errors import PermissionDenied


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def takes_part(user) -> bool:
    """Earns points and sees the leaderboard: operator staff and partner engineers."""
    return _active(user) and user.has_capability(Cap.VIEW_LEADERBOARD)


def may_manage_rules(user) -> bool:
    return _active(user) and user.is_operator_staff and user.has_capability(Cap.MANAGE_POINT_RULES)


def may_approve(user) -> bool:
    return _active(user) and user.is_operator_staff and user.has_capability(Cap.APPROVE_REDEMPTIONS)


def is_incentive_manager(user) -> bool:
    return may_manage_rules(user) or may_approve(user)


def may_view_rules(user) -> bool:
    """The rule book is the operator's: its staff read it (it names customers' projects)."""
    return takes_part(user) and user.is_operator_staff


def partner_of(user) -> int | None:
    """The user's partner organisation id, when the user belongs to an active outlet."""
    if not _active(user):
        return None
    org = user.organization
    if org is None or org.kind != OrganizationKind.PARTNER or not org.is_active:
        return None
    return org.pk


def scope_own(qs: models.QuerySet, user, user_field: str = "user") -> models.QuerySet:
    """Managers: all; a participant: only their own rows; anyone else: nothing."""
    if is_incentive_manager(user):
        return qs
    if takes_part(user):
        return qs.filter(**{f"{user_field}_id": user.pk})
    return qs.none()


def require(condition: bool, message=None) -> None:
    if not condition:
        raise PermissionDenied(message)
