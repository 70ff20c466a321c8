"""Writing a ticket's timeline: every desk service records what it did through here."""

from __future__ import annotations

from typing import Any

from frontline.core.richtext import sanitize
from frontline.desk.models import Ticket, TicketEvent


def record_event(
    *,
    ticket: Ticket,
    kind: str,
    author=None,
    public: bool = False,
    body: str = "",
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    """Append one event (call inside the service's transaction). ``body`` is sanitised here."""
    is_user = author is not None and getattr(author, "is_authenticated", False)
    return TicketEvent.objects.create(
        ticket=ticket,
        kind=kind,
        author=author if is_user else None,
        public=public,
        body=sanitize(body),
        data=data or {},
    )
