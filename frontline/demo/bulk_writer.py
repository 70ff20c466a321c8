"""Fast row writer for the data generator: PostgreSQL ``COPY``, multi-row INSERTs elsewhere.

Rows are plain tuples in the column order given; every other concrete column of the
model gets its default (computed once). Ids are given by the caller (``next_id``), so
child rows can point at parents without reading them back; on PostgreSQL the id
sequence is moved past them afterwards (``fix_sequence``).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import connection, models
from django.utils import timezone

BATCH = 20_000


def next_id(model: type[models.Model]) -> int:
    """The first free id of ``model``'s table."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608
        return int(cur.fetchone()[0])


def fix_sequence(model: type[models.Model]) -> None:
    """Move PostgreSQL's id sequence past the ids written explicitly (SQLite needs nothing)."""
    if connection.vendor != "postgresql":
        return
    table = model._meta.db_table
    sql = f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT COALESCE(MAX(id), 1) FROM \"{table}\"))"  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql, [table])


def _default(field: models.Field):
    if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
        return timezone.now()
    if field.has_default() or not field.null:
        value = field.get_default()
        return "" if value is None and not field.null else value
    return None


class Table:
    """One model's table with a fixed column order; ``write(rows)`` inserts tuples."""

    def __init__(self, model: type[models.Model], columns: Sequence[str]):
        self.model = model
        self.name = model._meta.db_table
        given = set(columns)
        rest = [
            f for f in model._meta.concrete_fields if f.attname not in given and not f.primary_key
        ]
        self.columns = [*columns, *(f.column for f in rest)]
        self.tail = tuple(_default(f) for f in rest)
        self.written = 0

    def write(self, rows: Iterable[tuple]) -> int:
        """Insert ``rows`` (tuples in the column order); return how many were written."""
        count = 0
        batch: list[tuple] = []
        for row in rows:
            batch.append(row + self.tail)
            if len(batch) >= BATCH:
                count += self._flush(batch)
                batch = []
        if batch:
            count += self._flush(batch)
        self.written += count
        return count

    def _flush(self, batch: list[tuple]) -> int:
        if connection.vendor == "postgresql":
            return self._copy(batch)
        return self._insert(batch)

    def _copy(self, batch: list[tuple]) -> int:
        columns = ", ".join(f'"{c}"' for c in self.columns)
        with connection.cursor() as cur:
            raw = cur.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f'COPY "{self.name}" ({columns}) FROM STDIN') as copy:
                for row in batch:
                    copy.write_row(tuple(_pg(v) for v in row))
        return len(batch)

    def _insert(self, batch: list[tuple]) -> int:
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        marks = ", ".join(["%s"] * len(self.columns))
        sql = f"INSERT INTO {connection.ops.quote_name(self.name)} ({columns}) VALUES ({marks})"  # noqa: S608
        ops = connection.ops
        with connection.cursor() as cur:
            cur.executemany(sql, [tuple(_sqlite(v, ops) for v in row) for row in batch])
        return len(batch)


def _pg(value):
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _sqlite(value, ops):
    if isinstance(value, dt.datetime):
        return ops.adapt_datetimefield_value(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
