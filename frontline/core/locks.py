"""Row locks in one place.

``select_for_update(of=("self",))`` locks only the model's own row: managers that
join nullable relations by default (the user manager joins the membership) would
otherwise fail on PostgreSQL ("FOR UPDATE cannot be applied to the nullable side
of an outer join").
"""

from __future__ import annotations

from django.db import models


def lock(model_or_queryset, pk):
    """Fetch one row under a row lock (call inside transaction.atomic())."""
    qs = (
        model_or_queryset
        if isinstance(model_or_queryset, models.QuerySet)
        else model_or_queryset._default_manager
    )
    return qs.select_for_update(of=("self",)).get(pk=pk)


def lock_for_delete(queryset: models.QuerySet, pk):
    """Fetch one row of ``queryset`` (a scoped one) under a full row lock, or None.

    A delete takes FOR UPDATE, not FOR NO KEY UPDATE: rows that would start pointing
    at this one (a new asset at a site, a new part of an asset) need a key-share lock
    on it, so they wait until the delete is over instead of slipping in after the
    "is anything still using it?" check.
    """
    visible = queryset.filter(pk=pk).values("pk")
    return (
        queryset.model._default_manager.select_for_update(of=("self",))
        .filter(pk__in=visible)
        .first()
    )
