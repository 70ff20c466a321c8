"""Who sees which inspection records: shared by every inspections queryset.

Operator staff who may view inspections see every project's; a customer sees only
its own projects' routes, rounds, anomalies and analysis; nobody else sees any."""

from __future__ import annotations

from django.db import models

from frontline.accounts.roles import Cap, OrganizationKind


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def is_inspection_staff(user) -> bool:
    return _active(user) and user.is_operator_staff and user.has_capability(Cap.VIEW_INSPECTIONS)


def customer_of(user) -> int | None:
    """The user's customer organisation id when active and allowed to view inspections."""
    if not _active(user) or not user.has_capability(Cap.VIEW_INSPECTIONS):
        return None
    org = user.organization
    if org is None or org.kind != OrganizationKind.CUSTOMER or not org.is_active:
        return None
    return org.pk


def scope_inspections(qs: models.QuerySet, user, customer_field: str) -> models.QuerySet:
    """Filter ``qs`` to what ``user`` may see; ``customer_field`` names the customer path
    (``"customer"`` on rounds and anomalies, ``"project__customer"`` on routes)."""
    if is_inspection_staff(user):
        return qs
    customer = customer_of(user)
    if customer is None:
        return qs.none()
    return qs.filter(**{f"{customer_field}_id": customer})
