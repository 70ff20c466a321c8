"""The one place where desk exports write CSV and XLSX cells.

A spreadsheet treats a cell starting with ``= + - @`` (or a tab or carriage return
that hides one) as a formula: ``=HYPERLINK("http://evil", "click")`` in a ticket
title would become a live link, ``=cmd|…`` worse. Every text value goes through
:func:`neutralize` before it is written, here and nowhere else, so a title comes out
as the text it is (SECURITY.md #14). Lists are joined first and then neutralised,
so a formula hidden as the first item of a joined list is caught too.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, TYPE_STRING
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_CELL_LENGTH = 32_767  # Excel's limit for one cell
MAX_COLUMN_WIDTH = 60


def neutralize(text: str) -> str:
    """Text that a spreadsheet shows as text: a leading formula character gets a ``'`` before it."""
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def cell_value(value: Any) -> Any:
    """What to put in a cell: numbers and dates stay typed, everything else is neutralised text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, dt.datetime):
        # Spreadsheets know no time zones: write the local wall-clock time.
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, dt.date):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        value = ", ".join(force_str(v) for v in value)
    if isinstance(value, Promise):
        value = force_str(value)
    # Control characters are not allowed in a workbook (and mean nothing in a report).
    return neutralize(ILLEGAL_CHARACTERS_RE.sub("", str(value))[:MAX_CELL_LENGTH])


class Sheet:
    """Rows for one worksheet: a title, an optional header row, then data rows."""

    def __init__(self, title: str, header: Sequence[Any] = ()):
        self.title = title
        self.rows: list[list[Any]] = []
        self.bold_rows: set[int] = set()
        if header:
            self.add_header(header)

    def add_header(self, header: Sequence[Any]) -> None:
        self.bold_rows.add(len(self.rows))
        self.rows.append(list(header))

    def add(self, row: Sequence[Any]) -> None:
        self.rows.append(list(row))

    def blank(self) -> None:
        self.rows.append([])


def _sheet_title(title: Any) -> str:
    # Sheet titles may not contain []:*?/\ and are at most 31 characters.
    text = "".join(c for c in force_str(title) if c not in "[]:*?/\\")
    return text[:31] or "Sheet"


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    """An .xlsx workbook of ``sheets``; every cell written through :func:`cell_value`."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for sheet in sheets:
        ws = workbook.create_sheet(_sheet_title(sheet.title))
        widths: dict[int, int] = {}
        for r, row in enumerate(sheet.rows, start=1):
            for c, raw in enumerate(row, start=1):
                value = cell_value(raw)
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, str):
                    # Never let openpyxl guess that a string is a formula.
                    cell.data_type = TYPE_STRING
                if r - 1 in sheet.bold_rows:
                    cell.font = bold
                if isinstance(value, dt.datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
                elif isinstance(value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
                widths[c] = max(widths.get(c, 0), min(len(str(value)) + 2, MAX_COLUMN_WIDTH))
        for c, width in widths.items():
            ws.column_dimensions[get_column_letter(c)].width = max(width, 8)
    if not workbook.worksheets:
        workbook.create_sheet("Sheet")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """CSV of ``rows``; every cell written through :func:`cell_value`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(
            [
                v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v
                for v in (cell_value(raw) for raw in row)
            ]
        )
    return buffer.getvalue()
