"""The SLA sweep's writes for one batch: the tickets' new SLA values and their events.

On PostgreSQL each is one statement with one array parameter per column
(``UPDATE … FROM unnest(…)``, ``INSERT … SELECT FROM unnest(…)``): 10,000 tickets
make ten parameters, not 110,000, and no model instances. Elsewhere (SQLite) the ORM's
``bulk_update`` and ``bulk_create`` do the same.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.db import connection
from django.utils import timezone

from frontline.core.bulk import array_element_type, set_based
from frontline.desk.models import Ticket, TicketEvent

# What the sweep stores per ticket, in this order after the id (sla.write_result's fields,
# and the tier a breach may raise).
FIELDS = (
    "sla_policy_id",
    "sla_state",
    "first_response_due_at",
    "resolution_due_at",
    "sla_warning_at",
    "sla_next_check_at",
    "sla_warned_at",
    "sla_breached_at",
    "tier",
)

_UPDATE = "UPDATE {table} AS t SET {sets} FROM unnest({arrays}) AS v ({names}) WHERE t.id = v.id"
_EVENTS = (
    "INSERT INTO {table} (ticket_id, kind, public, author_id, body, data, created_at) "
    "SELECT v.ticket_id, v.kind, false, NULL, '', v.data, %s "
    "FROM unnest(%s::bigint[], %s::text[], %s::jsonb[]) AS v (ticket_id, kind, data)"
)


def update_tickets(rows: Sequence[tuple], *, tier: bool) -> None:
    """Store ``(id, *FIELDS)`` per ticket; the tier only when ``tier`` (a breach raised one)."""
    if not rows:
        return
    names = list(FIELDS if tier else FIELDS[:-1])
    if not set_based():
        Ticket.objects.bulk_update(
            [Ticket(pk=row[0], **dict(zip(names, row[1:], strict=False))) for row in rows],
            names,
        )
        return
    meta = Ticket._meta
    fields = [meta.get_field(name) for name in names]
    columns = [f.column for f in fields]
    types = ["bigint"] + [array_element_type(f) for f in fields]
    sql = _UPDATE.format(
        table=meta.db_table,
        sets=", ".join(f"{c} = v.{c}" for c in columns),
        arrays=", ".join(f"%s::{kind}[]" for kind in types),
        names=", ".join(["id", *columns]),
    )
    params = [list(column) for column in zip(*rows, strict=False)][: len(types)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def insert_events(events: Sequence[tuple]) -> None:
    """Append ``(ticket_id, kind, data)`` system events (no author, no text, not public),
    as ``record_event`` writes them."""
    if not events:
        return
    if not set_based():
        TicketEvent.objects.bulk_create(
            TicketEvent(ticket_id=pk, kind=kind, public=False, body="", data=data)
            for pk, kind, data in events
        )
        return
    ids, kinds, data = zip(*events, strict=True)
    with connection.cursor() as cursor:
        cursor.execute(
            _EVENTS.format(table=TicketEvent._meta.db_table),
            [timezone.now(), list(ids), list(kinds), [json.dumps(d) for d in data]],
        )
