"""Appending to a work order's timeline and moving its status (compare-and-set)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.core.errors import Conflict
from frontline.core.richtext import to_text
from frontline.field.access import is_user
from frontline.field.models import WorkOrder, WorkOrderEvent
from frontline.field.states import allowed_next, can_move


def record(
    work_order: WorkOrder,
    kind: str,
    *,
    author=None,
    public: bool = False,
    body: str = "",
    data: dict[str, Any] | None = None,
    position: tuple | None = None,
    at=None,
) -> WorkOrderEvent:
    """Append one event (inside the service's transaction). ``body`` is kept as plain text.

    ``at``: the device's time for work done offline (``occurred_at``; ``created_at`` stays
    the receipt time). A device time more than a minute before the order's previous event
    is kept as given, and the event is flagged ``device_clock_behind`` in its (internal)
    data: the timeline keeps the order the server received it in."""
    lat, lon = position if position else (None, None)
    if at is not None:
        data = {**(data or {}), **_behind(work_order, at)}
    return WorkOrderEvent.objects.create(
        work_order=work_order,
        kind=kind,
        author=author if is_user(author) else None,
        public=public,
        body=to_text(body)[:5000] if body else "",
        data=data or {},
        latitude=lat,
        longitude=lon,
        occurred_at=at,
    )


CLOCK_TOLERANCE = dt.timedelta(minutes=1)


def _behind(work_order: WorkOrder, at) -> dict:
    last = (
        WorkOrderEvent.objects.filter(work_order=work_order)
        .order_by("-created_at", "-id")
        .values_list("occurred_at", "created_at")
        .first()
    )
    previous = (last[0] or last[1]) if last else None
    return {"device_clock_behind": True} if previous and at < previous - CLOCK_TOLERANCE else {}


def illegal(work_order: WorkOrder, new_status: str) -> Conflict:
    allowed = allowed_next(work_order.status)
    return Conflict(
        _("A work order that is “%(old)s” cannot become “%(new)s”. Allowed next: %(allowed)s.")
        % {
            "old": work_order.get_status_display(),
            "new": new_status,
            "allowed": ", ".join(allowed) or "—",
        },
        code="illegal_transition",
        fields={"status": allowed},
    )


def move(work_order: WorkOrder, new_status: str, **changes) -> None:
    """Change status by compare-and-set on the status read earlier; 409 when it moved
    underneath us or when the table forbids the move. Also saves ``changes``."""
    if not can_move(work_order.status, new_status):
        raise illegal(work_order, new_status)
    changes.setdefault("updated_at", timezone.now())
    updated = WorkOrder.objects.filter(pk=work_order.pk, status=work_order.status).update(
        status=new_status, **changes
    )
    if updated != 1:
        raise Conflict(code="stale")
    work_order.status = new_status
    for name, value in changes.items():
        setattr(work_order, name, value)
