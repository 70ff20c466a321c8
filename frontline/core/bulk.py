"""Set-based writes on PostgreSQL: one array parameter per column, whatever the row count.

Django's ``bulk_create``/``bulk_update`` send one parameter per value and build a model
instance per row; at 10,000 rows that costs more than the server's own work. These
helpers pass each column as one array (``unnest``). Callers keep an ORM path for SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model

_INSERT = "INSERT INTO {} ({}) SELECT * FROM unnest({}) ON CONFLICT DO NOTHING RETURNING {}"


def set_based() -> bool:
    """Whether the database takes one array parameter per column (PostgreSQL)."""
    return connection.vendor == "postgresql"


def array_element_type(field) -> str:
    """The SQL type of one element of ``field``'s array parameter."""
    # varchar(n)[] would check each length on the cast; the column checks it anyway.
    kind = field.db_type(connection)
    return "text" if kind.startswith("varchar") else kind


def insert_unnest(
    model: type[Model], names: Sequence[str], columns: Sequence[list], returning: Sequence[str]
) -> list[tuple]:
    """PostgreSQL: insert the rows given column by column (equal-length lists of plain
    Python values, in the order of ``names``); rows that conflict with a unique index
    are left out. Returns the ``returning`` columns of the rows inserted."""
    meta = model._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in names]
    arrays = ", ".join(f"%s::{array_element_type(f)}[]" for f in fields)
    # Only quoted names from the model's own metadata go into the text; values are parameters.
    sql = _INSERT.format(
        quote(meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        arrays,
        ", ".join(quote(meta.get_field(n).column) for n in returning),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(columns))
        return cursor.fetchall()
