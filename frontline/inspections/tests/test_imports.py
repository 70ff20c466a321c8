"""Excel import of routes: types, formulas, limits, all-or-nothing, idempotence."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from frontline.core.errors import PermissionDenied
from frontline.core.models import AuditEntry
from frontline.inspections import imports
from frontline.inspections.models import CheckItem, Checkpoint, Route
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db

HEADER = [str(label) for _key, label in imports.COLUMNS]


def book(*rows, header=True) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    if header:
        ws.append(HEADER)
    for row in rows:
        ws.append(list(row))
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile("routes.xlsx", buffer.getvalue())


@pytest.fixture
def world(cast):
    project = f.ProjectFactory(customer=cast.customer_a, code="PRJ-A")
    site = f.SiteFactory(customer=cast.customer_a, name="一号楼")
    asset = f.AssetFactory(site=site, serial="SN-1")
    return project, site, asset


def rows_ok():
    return [
        ["PRJ-A", "CEA", "冷站巡检", "一号楼", "P01", "1# 冷机", "B1", "SN-1", "出水温度",
         "number", "°C", 5, 12, None, None, "no"],
        ["PRJ-A", "CEA", None, None, "P01", None, None, None, "声音", "choice", None, None,
         None, "正常, 异响", "异响", None],
        ["PRJ-A", "CEA", None, None, "P02", "冷却塔", "屋顶", None, "漏水", "yes_no", None,
         None, None, None, None, "yes"],
    ]  # fmt: skip


def test_import_creates_routes_checkpoints_and_items(cast, world):
    result = imports.import_routes(actor=cast.manager, upload=book(*rows_ok()))
    assert result.counts["routes_created"] == 1
    assert result.counts["checkpoints_created"] == 2 and result.counts["items_created"] == 3
    route = Route.objects.get(code="CEA")
    assert route.name == "冷站巡检" and route.site == world[1]
    p1 = route.checkpoints.get(code="P01")
    assert p1.asset == world[2] and p1.position == 1
    sound = CheckItem.objects.get(name="声音")
    assert sound.choices == ["正常", "异响"] and sound.abnormal_choices == ["异响"]
    assert CheckItem.objects.get(name="漏水").photo_required is True


def test_same_file_twice_changes_nothing(cast, world):
    imports.import_routes(actor=cast.manager, upload=book(*rows_ok()))
    audits = AuditEntry.objects.count()
    result = imports.import_routes(actor=cast.manager, upload=book(*rows_ok()))
    assert set(result.counts.values()) == {0}
    assert AuditEntry.objects.count() == audits
    assert CheckItem.objects.count() == 3 and Checkpoint.objects.count() == 2


def test_changed_values_update_and_order_follows_file(cast, world):
    imports.import_routes(actor=cast.manager, upload=book(*rows_ok()))
    rows = rows_ok()
    rows[0][12] = 14
    rows[0][2] = "冷站巡检（新）"
    result = imports.import_routes(actor=cast.manager, upload=book(rows[2], rows[0], rows[1]))
    assert result.counts["items_updated"] == 1 and result.counts["routes_updated"] == 1
    assert CheckItem.objects.get(name="出水温度").normal_max == Decimal("14")
    route = Route.objects.get()
    assert route.name == "冷站巡检（新）"
    assert list(route.checkpoints.order_by("position").values_list("code", flat=True)) == [
        "P02",
        "P01",
    ]


def test_formula_cell_is_rejected_with_row_and_column(cast, world):
    rows = rows_ok()
    rows[1][12] = "=1+1"
    with pytest.raises(imports.ImportFailed) as exc:
        imports.import_routes(actor=cast.manager, upload=book(*rows))
    assert any(p.startswith("Row 3, column M (normal max)") for p in exc.value.problems)
    assert not Route.objects.exists()


def test_wrong_types_are_reported_by_row_and_column(cast, world):
    rows = rows_ok()
    rows[0][11] = "warm"
    rows[2][9] = "guess"
    rows[2][15] = "maybe"
    with pytest.raises(imports.ImportFailed) as exc:
        imports.import_routes(actor=cast.manager, upload=book(*rows))
    text = "\n".join(exc.value.problems)
    assert "Row 2, column L (normal min)" in text
    assert "Row 4, column J (kind)" in text
    assert "Row 4, column P (photo required)" in text
    assert not Route.objects.exists()


def test_service_errors_roll_back_everything(cast, world):
    rows = rows_ok()
    rows[2][11] = 9
    rows[2][9] = "number"
    rows[2][12] = 1  # min above max on the last row only
    with pytest.raises(imports.ImportFailed) as exc:
        imports.import_routes(actor=cast.manager, upload=book(*rows))
    assert any(p.startswith("Row 4, column M (normal max)") for p in exc.value.problems)
    assert not Route.objects.exists() and not Checkpoint.objects.exists()
    assert not AuditEntry.objects.exists()


def test_other_customers_project_and_site_are_refused(cast, world):
    f.ProjectFactory(customer=cast.customer_b, code="PRJ-B")
    rows = rows_ok()
    for row in rows:
        row[0] = "PRJ-B"
    with pytest.raises(imports.ImportFailed) as exc:
        imports.import_routes(actor=cast.manager, upload=book(*rows))
    assert any("column D (site" in p for p in exc.value.problems)
    assert not Route.objects.exists()


def test_missing_required_and_duplicate_items(cast, world):
    rows = rows_ok()
    rows.append(list(rows[0]))
    rows[1][4] = None
    with pytest.raises(imports.ImportFailed) as exc:
        imports.import_routes(actor=cast.manager, upload=book(*rows))
    text = "\n".join(exc.value.problems)
    assert "Row 3, column E (checkpoint code)" in text


def test_duplicate_item_rows(cast, world):
    rows = rows_ok()
    rows.append(list(rows[0]))
    with pytest.raises(imports.ImportFailed) as exc:
        imports.import_routes(actor=cast.manager, upload=book(*rows))
    assert any(p.startswith("Row 5, column I (item name)") for p in exc.value.problems)


def test_not_a_workbook_and_too_large(cast, world, monkeypatch):
    with pytest.raises(imports.ImportFailed):
        imports.import_routes(
            actor=cast.manager, upload=SimpleUploadedFile("x.xlsx", b"<html>hi</html>")
        )
    with pytest.raises(imports.ImportFailed):
        imports.import_routes(
            actor=cast.manager, upload=SimpleUploadedFile("x.xlsx", b"PK\x03\x04junk")
        )
    monkeypatch.setattr(imports, "MAX_BYTES", 100)
    with pytest.raises(imports.ImportTooLarge):
        imports.import_routes(actor=cast.manager, upload=book(*rows_ok()))


def test_too_many_rows(cast, world, monkeypatch):
    monkeypatch.setattr(imports, "MAX_ROWS", 2)
    with pytest.raises(imports.ImportTooLarge):
        imports.import_routes(actor=cast.manager, upload=book(*rows_ok()))
    assert not Route.objects.exists()


def test_xml_entity_tricks_are_refused(cast, world):
    upload = book(*rows_ok())
    data = upload.read()
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(
                    b"<worksheet",
                    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><worksheet',
                    1,
                )
            dst.writestr(info, body)
    with pytest.raises(imports.ImportFailed):
        imports.import_routes(
            actor=cast.manager, upload=SimpleUploadedFile("x.xlsx", out.getvalue())
        )
    assert not Route.objects.exists()


@pytest.mark.parametrize("role", ["engineer", "dispatcher", "customer_a_admin"])
def test_only_route_managers_import(cast, world, role):
    with pytest.raises(PermissionDenied):
        imports.import_routes(actor=cast.by_role(role), upload=book(*rows_ok()))
    assert not Route.objects.exists()


def test_template_has_header_example_and_instructions():
    wb = load_workbook(io.BytesIO(imports.template_bytes()), read_only=True)
    names = wb.sheetnames
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert len(names) == 2 and len(rows[0]) == len(imports.COLUMNS) and len(rows) >= 2


def test_template_example_rows_parse(cast):
    rows = imports.read_rows(imports.template_bytes())
    assert [r.values["item_name"] for r in rows] == ["出水温度", "运行声音", "是否漏水"]
