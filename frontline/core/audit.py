"""Recording changes made through services.

Services call :func:`apply_changes` to set fields and learn what changed, then
:func:`record` to write one ``AuditEntry``. Nothing here uses signals, so writes
from jobs, imports and the shell are audited the same way as from pages and API.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from frontline.core.logging import request_id_var
from frontline.core.models import AuditAction, AuditEntry


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """A JSON-safe picture of some fields (used for create and delete entries)."""
    return {name: [None, _plain(getattr(instance, name))] for name in fields}


def apply_changes(instance: models.Model, changes: dict[str, Any]) -> dict[str, list[Any]]:
    """Set ``changes`` on ``instance`` and return ``{field: [old, new]}`` for those that differ."""
    diff: dict[str, list[Any]] = {}
    for name, new in changes.items():
        old = getattr(instance, name)
        if old != new:
            diff[name] = [_plain(old), _plain(new)]
            setattr(instance, name, new)
    return diff


def m2m_diff(name: str, old: list, new: list) -> dict[str, list[Any]]:
    old_labels = sorted(str(o) for o in old)
    new_labels = sorted(str(o) for o in new)
    return {name: [old_labels, new_labels]} if old_labels != new_labels else {}


def record(
    *,
    actor,
    instance: models.Model,
    action: str,
    changes: dict[str, Any] | None = None,
    verb: str = "",
) -> AuditEntry:
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEntry.objects.create(
        actor=actor if is_user else None,
        actor_label=(str(actor) if is_user else "system")[:200],
        action=action,
        verb=verb,
        content_type=ContentType.objects.get_for_model(type(instance)),
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        changes=changes or {},
        request_id=request_id_var.get(),
    )


__all__ = ["AuditAction", "apply_changes", "m2m_diff", "record", "snapshot"]
