"""SECURITY.md 14: every CSV and XLSX cell is neutralised at the one place cells are
written (``frontline.desk.exports``).

The desk report, the route analysis and the payroll export each have a formula test in
their app; this adds the field-service report, which had none, and a guard that no other
module writes spreadsheets or CSV by itself (where a new export would skip the one place).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from frontline.field.tests.factories import engineer
from frontline.field.tests.test_reports import _done

ROOT = Path(__file__).resolve().parents[2] / "frontline"
WRITERS = re.compile(
    r"\bWorkbook\(|csv\.writer\(|csv\.DictWriter\(|xlsxwriter|\.to_excel\(|\.to_csv\("
)
THE_ONE_PLACE = ROOT / "desk" / "exports.py"


def test_no_module_but_desk_exports_writes_a_spreadsheet_or_csv():
    offenders = [
        str(path.relative_to(ROOT.parent))
        for path in ROOT.rglob("*.py")
        if path != THE_ONE_PLACE
        and "tests" not in path.parts
        and WRITERS.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], f"write cells through frontline.desk.exports, not in {offenders}"


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://evil.example","点我")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]
)
def test_field_report_xlsx_keeps_a_formula_named_engineer_as_text(cast, client, name):
    # Given an engineer whose display name is a formula, with work done in the period
    cast.engineer.display_name = name
    cast.engineer.save(update_fields=["display_name"])
    _done(cast, engineer(user=cast.engineer), csat=5, nps=10)
    # When a manager downloads the field-service report
    client.force_login(cast.manager)
    response = client.get(reverse("field:report-xlsx"))
    # Then no cell is a formula and the name is kept as quoted text
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    cells = [c for ws in workbook.worksheets for row in ws.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert "'" + name in [c.value for c in cells]
