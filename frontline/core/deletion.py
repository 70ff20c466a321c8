"""Erasing a record through a service: audit first, then delete, and never a 500.

Services decide *whether* a record may go (who asks, what still depends on it) and
lock its row with :func:`frontline.core.locks.lock_for_delete`; :func:`erase` then
writes the audit entry before the row goes, so the trail keeps its last values
(``AuditEntry`` names the object by content type and id, not by a foreign key). A row
that something the service did not check still points at (``on_delete=PROTECT`` or
a database foreign key) is a 409 Conflict, not a server error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, models, transaction

from frontline.core import audit
from frontline.core.errors import Conflict


def erase(
    *,
    actor,
    instance: models.Model,
    fields: Iterable[str],
    in_use_message,
    in_use_code: str = "in_use",
    extra_changes: dict[str, Any] | None = None,
) -> None:
    """Record the last values of ``fields`` and delete ``instance`` (call inside atomic())."""
    last = audit.snapshot(instance, list(fields)) | (extra_changes or {})
    # A deletion reads old → nothing: [last value, None].
    changes = {name: [new if old is None else old, None] for name, (old, new) in last.items()}
    audit.record(actor=actor, instance=instance, action=audit.AuditAction.DELETE, changes=changes)
    try:
        with transaction.atomic():
            instance.delete()
    except (models.ProtectedError, models.RestrictedError, IntegrityError):
        raise Conflict(in_use_message, code=in_use_code)
