"""Set-based writes on PostgreSQL: one JSON parameter for all the rows of a statement.

Django's ``bulk_create``/``bulk_update`` send one parameter per value and build a model
instance per row; psycopg's array parameters cost one Python call per element. At
10,000 rows either costs more than the server's own work. These helpers pass all the
rows as one JSON document (``json.dumps`` builds it in C) that the statement unpacks
with ``jsonb_array_elements``. Callers keep an ORM path for SQLite.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from django.db import connection
from django.db.models import Model

_INSERT = (
    "INSERT INTO {} ({}) SELECT {} FROM jsonb_array_elements(%s::jsonb) AS e "
    "ON CONFLICT DO NOTHING RETURNING {}"
)


def set_based() -> bool:
    """Whether the database takes one array parameter per column (PostgreSQL)."""
    return connection.vendor == "postgresql"


def array_element_type(field) -> str:
    """The SQL type one value of ``field`` is cast to (varchar(n) as text: the column
    checks the length anyway)."""
    kind = field.db_type(connection)
    return "text" if kind.startswith("varchar") else kind


def _plain(value):
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else value


def insert_rows(
    model: type[Model], names: Sequence[str], columns: Sequence[list], returning: Sequence[str]
) -> list[tuple]:
    """PostgreSQL: insert the rows given column by column (equal-length lists of plain
    Python values, in the order of ``names``); rows that conflict with a unique index
    are left out. Returns the ``returning`` columns of the rows inserted."""
    meta = model._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in names]
    picks = ", ".join(f"(e->>{i})::{array_element_type(f)}" for i, f in enumerate(fields))
    # Only quoted names and types from the model's own metadata go into the text;
    # values are the one parameter.
    sql = _INSERT.format(
        quote(meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        picks,
        ", ".join(quote(meta.get_field(n).column) for n in returning),
    )
    rows = [[_plain(value) for value in row] for row in zip(*columns, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(rows)])
        return cursor.fetchall()
