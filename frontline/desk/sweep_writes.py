"""The SLA sweep's writes for one batch: the tickets' new SLA values, their clocks, their events.

On PostgreSQL each is one statement whatever the batch size, with all its rows in one
JSON parameter (``jsonb_array_elements``): ``json.dumps`` builds it in C, where
psycopg's array parameters (one Python call per element) cost more than the server's
own work at 10,000 rows. Elsewhere (SQLite) the ORM's ``bulk_update`` and
``bulk_create`` do the same.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from django.db import connection
from django.utils import timezone

from frontline.core.bulk import set_based
from frontline.desk import sla
from frontline.desk.models import SlaClock, SlaPause, Ticket, TicketEvent

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

_EVENTS = (
    "INSERT INTO {table} (ticket_id, kind, public, author_id, body, data, created_at) "
    "SELECT (e->>0)::bigint, e->>1, false, NULL, '', e->2, %s "
    "FROM jsonb_array_elements(%s::jsonb) AS e"
)
# Each row is a JSON object with the id and only the columns that change.
_UPDATE = (
    "UPDATE {table} AS t SET {sets} FROM (SELECT (e->>'id')::bigint AS id, e "
    "FROM jsonb_array_elements(%s::jsonb) AS e) AS v WHERE t.id = v.id"
)
_SET = "{c} = CASE WHEN v.e ? '{c}' THEN (v.e->>'{c}')::{kind} ELSE t.{c} END"
_DONE = "DELETE FROM {table} WHERE ticket_id = ANY(%s::bigint[])"
_CLOCKS = (
    "UPDATE {table} AS c SET next_check_at = v.at "
    "FROM (SELECT (e->>0)::bigint AS id, (e->>1)::timestamptz AS at "
    "FROM jsonb_array_elements(%s::jsonb) AS e) AS v WHERE c.ticket_id = v.id"
)


def _iso(value):
    return value.isoformat() if value is not None else None


def _column_types(fields) -> list[str]:
    types = []
    for f in fields:
        kind = f.db_type(connection)
        types.append("text" if kind.startswith("varchar") else kind)
    return types


def relax_commit() -> None:
    """Let this transaction's commit return before its WAL is on disk (PostgreSQL).

    Safe for a sweep batch: everything it writes (stamps, events, clocks, the notice
    batch row) is in the one transaction, so a crash can lose the batch only whole,
    and the clocks it would have moved are still due: the next run does it all again.
    The one thing outside the database, the notice job, finds its batch row missing
    and does nothing. The batch's commit then does not wait for its WAL to reach the
    disk (its deferred foreign-key checks, most of the commit's time, still run)."""
    if set_based():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def fetch(queryset) -> list[tuple]:
    """The rows of a ``values_list`` queryset; on PostgreSQL in binary, so that
    timestamps are decoded in C (Django's text decoder for them costs ~10 µs a value).
    The statement is Django's own (``FOR UPDATE … SKIP LOCKED`` included)."""
    if not set_based():
        return list(queryset)
    import psycopg

    sql, params = queryset.query.sql_with_params()
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, binary=True)
        return cursor.fetchall()


_PAUSES = (
    "SELECT ticket_id, started_at, ended_at FROM {table} "
    "WHERE ticket_id = ANY(%s::bigint[]) ORDER BY started_at, id"
)


def pauses_of(ids: Sequence[int]) -> list[tuple]:
    """``(ticket id, started, ended)`` of every SLA pause of the tickets ``ids``."""
    if not set_based():
        return list(
            SlaPause.objects.filter(ticket_id__in=ids)
            .order_by("started_at", "pk")
            .values_list("ticket_id", "started_at", "ended_at")
        )
    # One array parameter (a text literal of the ids), not one parameter per id.
    with connection.cursor() as cursor:
        cursor.execute(
            _PAUSES.format(table=SlaPause._meta.db_table), ["{" + ",".join(map(str, ids)) + "}"]
        )
        return cursor.fetchall()


# A batch's tickets and clocks in one statement: the JSON is parsed once (``v``).
_BATCH = (
    "WITH v AS (SELECT (e->>'id')::bigint AS id, e FROM jsonb_array_elements(%s::jsonb) AS e), "
    "tickets AS (UPDATE {table} AS t SET {sets} FROM v WHERE t.id = v.id AND v.e ? 'set'), "
    "moved AS (UPDATE {clocks} AS c SET next_check_at = (v.e->>'clock')::timestamptz "
    "FROM v WHERE c.ticket_id = v.id AND v.e->>'clock' IS NOT NULL), "
    "done AS (DELETE FROM {clocks} AS c USING v "
    "WHERE c.ticket_id = v.id AND v.e ? 'clock' AND v.e->>'clock' IS NULL) "
    "SELECT 1"
)


def write_batch(
    rows: Sequence[tuple], *, tier: bool, stored: Sequence[tuple], clocks: dict[int, object]
) -> None:
    """Store ``(id, *FIELDS)`` per ticket (only what differs from ``stored``, the values
    as read) and move each clock of ``clocks`` (ticket id -> next check or None).

    On PostgreSQL one statement: a warning changes no indexed column of the ticket
    (``Ticket.Meta``), so its update is HOT. Elsewhere ``update_tickets`` and
    ``move_clocks``."""
    if not set_based():
        update_tickets(rows, tier=tier)
        move_clocks(list(clocks.items()))
        return
    meta = Ticket._meta
    fields = [meta.get_field(name) for name in FIELDS]
    columns = [f.column for f in fields]
    doc = []
    in_rows = set()
    for row, old in zip(rows, stored, strict=True):
        pk = row[0]
        in_rows.add(pk)
        entry: dict = {"id": pk}
        for column, value, was in zip(columns, row[1:], old, strict=True):
            if value != was:
                entry[column] = _iso(value) if isinstance(value, dt.datetime) else value
        if len(entry) > 1:
            entry["set"] = 1
        if pk in clocks:
            at = clocks[pk]
            # The clock holds the ticket's next check: the same text when both move.
            same = entry.get("sla_next_check_at") if at is row[6] else None
            entry["clock"] = same or _iso(at)
        if len(entry) > 1:
            doc.append(entry)
    # Clocks of tickets with nothing to store (put right: they lagged their ticket).
    doc.extend({"id": pk, "clock": _iso(at)} for pk, at in clocks.items() if pk not in in_rows)
    if not doc:
        return
    sets = ", ".join(
        _SET.format(c=column, kind=kind)
        for column, kind in zip(columns, _column_types(fields), strict=True)
    )
    # Only table and column names and types from the models' metadata go into the text.
    sql = _BATCH.format(table=meta.db_table, sets=sets, clocks=SlaClock._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(doc)])


def update_tickets(rows: Sequence[tuple], *, tier: bool, stored: Sequence[tuple] = ()) -> None:
    """Store ``(id, *FIELDS)`` per ticket; the tier only when ``tier`` (a breach raised one).

    ``stored`` (the same values as read, per row) lets PostgreSQL write only what
    changes: a warning changes no indexed column (``Ticket.Meta``), so it is HOT."""
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
    fields = [meta.get_field(name) for name in FIELDS]
    columns = [f.column for f in fields]
    sets = ", ".join(
        _SET.format(c=column, kind=kind)
        for column, kind in zip(columns, _column_types(fields), strict=True)
    )
    # Only column names and types from the model's metadata go into the text.
    sql = _UPDATE.format(table=meta.db_table, sets=sets)
    before = stored or [(None,) * len(FIELDS)] * len(rows)
    doc = []
    for row, old in zip(rows, before, strict=True):
        changes = {
            column: _iso(value) if isinstance(value, dt.datetime) else value
            for column, value, was in zip(columns, row[1:], old, strict=True)
            if value != was or not stored
        }
        if changes:
            changes["id"] = row[0]
            doc.append(changes)
    if doc:
        with connection.cursor() as cursor:
            cursor.execute(sql, [json.dumps(doc)])


def move_clocks(moves: Sequence[tuple[int, object]]) -> None:
    """Set each ``(ticket id, next check or None)`` on the sweep's clock (``sla.schedule``);
    a ticket with nothing pending leaves it."""
    if not moves:
        return
    if not set_based():
        sla.schedule(moves)
        return
    table = SlaClock._meta.db_table
    done = [pk for pk, at in moves if at is None]
    later = [[pk, at.isoformat()] for pk, at in moves if at is not None]
    with connection.cursor() as cursor:
        if done:
            cursor.execute(
                _DONE.format(table=table),
                ["{" + ",".join(map(str, done)) + "}"],
            )
        if later:
            cursor.execute(_CLOCKS.format(table=table), [json.dumps(later)])


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
    with connection.cursor() as cursor:
        cursor.execute(
            _EVENTS.format(table=TicketEvent._meta.db_table),
            [timezone.now(), json.dumps([list(event) for event in events])],
        )
