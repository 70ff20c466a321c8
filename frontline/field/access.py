"""Who may do what to a work order. Pure predicates shared by services, API and pages."""

from __future__ import annotations

from frontline.accounts.roles import Cap, OrganizationKind
from frontline.core.errors import PermissionDenied
from frontline.desk.handling import is_user
from frontline.field.models.scoping import is_field_staff, org_of_kind


def may_dispatch(user) -> bool:
    """Dispatchers, managers and admins: create, dispatch, offer, reassign, close, cancel."""
    return is_field_staff(user) and user.has_capability(Cap.DISPATCH_WORK)


def may_create_from_ticket(user, ticket) -> bool:
    """Whoever works tickets may send a technician for one (the ticket stays theirs)."""
    return ticket is not None and is_field_staff(user) and user.has_capability(Cap.WORK_TICKETS)


def may_manage_rules(user) -> bool:
    return is_field_staff(user) and user.has_capability(Cap.MANAGE_DISPATCH_RULES)


def may_manage_engineers(user) -> bool:
    return is_field_staff(user) and user.has_capability(Cap.MANAGE_ENGINEERS)


def may_do_field_work(user) -> bool:
    return is_user(user) and user.is_active and user.has_capability(Cap.DO_FIELD_WORK)


def partner_admin_of(user, work_order) -> bool:
    """The admin of the partner outlet the order was sent to."""
    return bool(
        is_user(user)
        and work_order.partner_id is not None
        and user.has_capability(Cap.ASSIGN_PARTNER_WORK)
        and org_of_kind(user, OrganizationKind.PARTNER) == work_order.partner_id
    )


def is_assignee(user, work_order) -> bool:
    return bool(is_user(user) and work_order.assignee_id == user.pk and may_do_field_work(user))


def require(condition: bool, message=None) -> None:
    if not condition:
        raise PermissionDenied(message)


__all__ = [
    "is_assignee",
    "is_field_staff",
    "is_user",
    "may_dispatch",
    "may_create_from_ticket",
    "may_do_field_work",
    "may_manage_engineers",
    "may_manage_rules",
    "partner_admin_of",
    "require",
]
