"""Who sees which desk records: shared by every desk queryset."""

from __future__ import annotations

from django.db import models

from frontline.accounts.roles import OrganizationKind


def is_desk_staff(user) -> bool:
    """Operator staff work tickets of every customer."""
    return bool(
        getattr(user, "is_authenticated", False) and user.is_active and user.is_operator_staff
    )


def customer_org_id(user) -> int | None:
    """The customer organisation a portal user belongs to, or None."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    org = user.organization
    # A deactivated customer organisation sees nothing until it is active again.
    if org is None or org.kind != OrganizationKind.CUSTOMER or not org.is_active:
        return None
    return org.pk


def scope_by_customer(qs: models.QuerySet, user, customer_path: str) -> models.QuerySet:
    if is_desk_staff(user):
        return qs
    org_id = customer_org_id(user)
    if org_id is None:
        # Partners will see tickets dispatched to them once field service exists.
        return qs.none()
    return qs.filter(**{customer_path: org_id})


def staff_only(qs: models.QuerySet, user) -> models.QuerySet:
    return qs if is_desk_staff(user) else qs.none()
