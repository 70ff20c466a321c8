"""Who sees which field records: shared by every field queryset."""

from __future__ import annotations

from django.db import models

from frontline.accounts.roles import Cap, OrganizationKind


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def is_field_staff(user) -> bool:
    """Operator staff who may see work orders see every customer's."""
    return _active(user) and user.is_operator_staff and user.has_capability(Cap.VIEW_WORK_ORDERS)


def org_of_kind(user, kind: str) -> int | None:
    """The user's organisation id when it is active and of ``kind``, else None."""
    if not _active(user):
        return None
    org = user.organization
    if org is None or org.kind != kind or not org.is_active:
        return None
    return org.pk


def scope_work(qs: models.QuerySet, user, prefix: str = "") -> models.QuerySet:
    """Operator staff: all; a customer: its own; a partner outlet: what was sent to it."""
    if is_field_staff(user):
        return qs
    if not _active(user) or not user.has_capability(Cap.VIEW_WORK_ORDERS):
        return qs.none()
    customer = org_of_kind(user, OrganizationKind.CUSTOMER)
    if customer is not None:
        return qs.filter(**{f"{prefix}customer_id": customer})
    partner = org_of_kind(user, OrganizationKind.PARTNER)
    if partner is not None:
        return qs.filter(**{f"{prefix}partner_id": partner})
    return qs.none()


def is_customer(user) -> bool:
    return org_of_kind(user, OrganizationKind.CUSTOMER) is not None
