"""The one place that writes export cells neutralises anything a spreadsheet would evaluate."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from frontline.desk.exports import Sheet, cell_value, csv_text, neutralize, xlsx_bytes

DANGEROUS = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("value", DANGEROUS)
def test_formula_looking_text_gets_a_quote(value):
    assert neutralize(value) == "'" + value
    assert cell_value(value) == "'" + value


@pytest.mark.parametrize("value", ["冷机报警", "A=B", "", "1-2", " =x"])
def test_harmless_text_is_unchanged(value):
    assert neutralize(value) == value


def test_joined_lists_are_neutralised_as_a_whole():
    assert cell_value(["=1+1", "ok"]) == "'=1+1, ok"


def test_numbers_and_dates_stay_typed():
    assert cell_value(3) == 3 and cell_value(Decimal("1.50")) == Decimal("1.50")
    assert cell_value(-5) == -5  # a negative number is a number, not a formula
    assert cell_value(dt.date(2026, 3, 10)) == dt.date(2026, 3, 10)
    assert cell_value(None) == ""


def test_control_characters_are_dropped():
    assert cell_value("a\x00b\x07c") == "abc"


def test_xlsx_cells_are_text_never_formulas():
    sheet = Sheet("=evil[]:*?/\\", ["=header"])
    for value in DANGEROUS:
        sheet.add([value, 1, dt.datetime(2026, 3, 10, 8, 0, tzinfo=dt.UTC)])
    workbook = load_workbook(io.BytesIO(xlsx_bytes([sheet])))
    ws = workbook.worksheets[0]
    assert ws.title == "=evil"  # sheet names are not evaluated; forbidden characters dropped
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert texts[0] == "'=header"
    assert all(t.startswith("'") for t in texts)
    # Datetimes are written as Asia/Shanghai wall-clock time
    assert ws.cell(row=2, column=3).value == dt.datetime(2026, 3, 10, 16, 0)


def test_csv_cells_are_neutralised():
    text = csv_text([["title", "n"], *[[v, 1] for v in DANGEROUS]])
    rows = list(csv.reader(io.StringIO(text)))
    assert [r[0] for r in rows[1:]] == ["'" + v for v in DANGEROUS]
