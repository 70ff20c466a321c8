"""Who may do what with routes, rounds and anomalies. Pure predicates shared by services,
API and pages."""

from __future__ import annotations

from frontline.accounts.roles import Cap
from frontline.core.errors import PermissionDenied
from frontline.desk.handling import is_user
from frontline.inspections.models.scoping import customer_of, is_inspection_staff


def may_view(user) -> bool:
    """Operator staff with the capability, or a customer for its own projects."""
    return is_inspection_staff(user) or customer_of(user) is not None


def may_manage_routes(user) -> bool:
    return is_inspection_staff(user) and user.has_capability(Cap.MANAGE_ROUTES)


def may_handle_anomalies(user) -> bool:
    return is_inspection_staff(user) and user.has_capability(Cap.HANDLE_ANOMALIES)


def may_review_quality(user) -> bool:
    return is_inspection_staff(user) and user.has_capability(Cap.REVIEW_QUALITY)


def may_do_rounds(user) -> bool:
    """Engineers walk rounds (the same capability as field work)."""
    return bool(
        is_inspection_staff(user) and user.is_active and user.has_capability(Cap.DO_FIELD_WORK)
    )


def is_round_assignee(user, round_) -> bool:
    return bool(is_user(user) and round_.assignee_id == user.pk and may_do_rounds(user))


def require(condition: bool, message=None) -> None:
    if not condition:
        raise PermissionDenied(message)


__all__ = [
    "is_inspection_staff",
    "is_round_assignee",
    "may_do_rounds",
    "may_handle_anomalies",
    "may_manage_routes",
    "may_review_quality",
    "may_view",
    "require",
]
