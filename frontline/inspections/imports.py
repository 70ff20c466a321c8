"""Excel import of routes, checkpoints and check items (one row per check item).

The workbook's first sheet has a header row and then one row per item; route and
checkpoint columns repeat on each row (their names may be left empty after the first
row that gives them). Everything goes through :mod:`frontline.inspections.config`, so
the same validation and audit apply as on the pages.

Safety (SECURITY.md #12, #13): the file is refused early when it is larger than
``MAX_BYTES``, unpacks to more than ``MAX_UNPACKED_BYTES`` or has more than ``MAX_ROWS``
rows; openpyxl parses with defusedxml; formula cells are refused (never evaluated);
every wrong value is reported as "Row 7, column L (normal min): …". The import is
all-or-nothing (one transaction; any error writes nothing) and idempotent on
project code + route code + checkpoint code + item name: the same file twice changes
nothing, a changed value updates. Nothing is deleted by an import.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from frontline.core.errors import DomainError, PermissionDenied, ValidationFailed
from frontline.desk.exports import Sheet, xlsx_bytes
from frontline.inspections import access, config
from frontline.inspections.models import CheckItem, Checkpoint, Route
from frontline.inspections.states import ItemKind
from frontline.sites.models import Asset, Project, Site

MAX_BYTES = 2 * 1024 * 1024
MAX_UNPACKED_BYTES = 40 * 1024 * 1024
MAX_ROWS = 5000
MAX_REPORTED = 200
MAX_TEXT = 200

# (key, label); the position is the column (A, B, …).
COLUMNS: tuple[tuple[str, Any], ...] = (
    ("project_code", _("project code")),
    ("route_code", _("route code")),
    ("route_name", _("route name")),
    ("site", _("site (name or id)")),
    ("checkpoint_code", _("checkpoint code")),
    ("checkpoint_name", _("checkpoint name")),
    ("location", _("location")),
    ("asset_serial", _("asset serial")),
    ("item_name", _("item name")),
    ("kind", _("kind")),
    ("unit", _("unit")),
    ("normal_min", _("normal min")),
    ("normal_max", _("normal max")),
    ("choices", _("choices")),
    ("abnormal_choices", _("abnormal choices")),
    ("photo_required", _("photo required")),
)
INDEX = {key: i for i, (key, _label) in enumerate(COLUMNS)}
REQUIRED = ("project_code", "route_code", "checkpoint_code", "item_name", "kind")
TEXT_KEYS = ("project_code", "route_code", "route_name", "checkpoint_code", "checkpoint_name",
             "location", "asset_serial", "item_name", "unit")  # fmt: skip
SPLIT_RE = re.compile(r"[,，;；|\n]")
TRUE = {"1", "true", "yes", "y", "是", "需要", "√", "x"}
FALSE = {"", "0", "false", "no", "n", "否", "不需要"}
# Service field → column, per level of the row.
ROUTE_COLUMNS = {"project": "project_code", "site": "site", "code": "route_code",
                 "name": "route_name"}  # fmt: skip
CHECKPOINT_COLUMNS = {"code": "checkpoint_code", "name": "checkpoint_name",
                      "location": "location", "asset": "asset_serial"}  # fmt: skip
ITEM_COLUMNS = {"name": "item_name", "kind": "kind", "unit": "unit", "normal_min": "normal_min",
                "normal_max": "normal_max", "choices": "choices",
                "abnormal_choices": "abnormal_choices",
                "photo_required": "photo_required"}  # fmt: skip


class ImportTooLarge(DomainError):
    status = 413
    code = "too_large"
    default_message = _("The file is too large.")


class ImportFailed(ValidationFailed):
    """The file was refused; ``problems`` lists each row/column message (also in fields["file"])."""

    def __init__(self, problems: list[str]):
        shown = problems[:MAX_REPORTED]
        if len(problems) > MAX_REPORTED:
            shown.append(_t("… and %(n)d more.") % {"n": len(problems) - MAX_REPORTED})
        self.problems = shown
        super().__init__(_("The file was not imported; nothing was changed."),
                         fields={"file": shown})  # fmt: skip


@dataclass
class ImportResult:
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def bump(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1


@dataclass
class Row:
    number: int
    values: dict[str, Any]


def where(row: int, key: str | None) -> str:
    if key is None:
        return _t("Row %(row)d") % {"row": row}
    return _t("Row %(row)d, column %(col)s (%(label)s)") % {
        "row": row,
        "col": get_column_letter(INDEX[key] + 1),
        "label": COLUMNS[INDEX[key]][1],
    }


# ---------------------------------------------------------------- template


def template_bytes() -> bytes:
    """The import template: the header, two example rows, and an instructions sheet."""
    items = Sheet(_t("Routes"), [str(label) for _key, label in COLUMNS])
    items.add(["PRJ-0001", "CEA", "冷站巡检", "张江园区 1 号楼", "P01", "1# 冷水机组", "B1 冷站",
               "", "出水温度", "number", "°C", 5, 12, "", "", "no"])  # fmt: skip
    items.add(["PRJ-0001", "CEA", "", "", "P01", "", "", "", "运行声音", "choice", "", "", "",
               "正常, 异响", "异响", "no"])  # fmt: skip
    items.add(["PRJ-0001", "CEA", "", "", "P02", "2# 冷却塔", "屋顶", "", "是否漏水", "yes_no",
               "", "", "", "", "", "yes"])  # fmt: skip
    help_ = Sheet(_t("Instructions"), [_t("Column"), _t("What to enter")])
    notes = {
        "project_code": _t("The project's code (required)."),
        "route_code": _t("Letters, digits, - _ . (required); unique within the project."),
        "route_name": _t("Required on the route's first row; later rows may leave it empty."),
        "site": _t("The site's name or id; it must belong to the project's customer."),
        "checkpoint_code": _t("Required; unique within the route. Order follows the file."),
        "checkpoint_name": _t("Required on the checkpoint's first row."),
        "asset_serial": _t("Optional: the serial number of an asset at the route's site."),
        "item_name": _t("Required; unique within the checkpoint."),
        "kind": _t("number, yes_no, choice, text or photo."),
        "normal_min": _t("Numbers only, for kind number; a value outside is an anomaly."),
        "choices": _t("For kind choice: the choices, separated by commas."),
        "abnormal_choices": _t("Choices that mean an anomaly (a subset of the choices)."),
        "photo_required": _t("yes or no."),
    }
    for i, (key, label) in enumerate(COLUMNS):
        help_.add([f"{get_column_letter(i + 1)} · {label}", notes.get(key, "")])
    help_.blank()
    for text in (
        _t("One row per check item. Formulas are not accepted: type values."),
        _t("Importing the same file again changes nothing; changed values are updated."),
        _t("Any error rejects the whole file; nothing is deleted by an import."),
        _t("At most %(rows)d rows and %(mb)d MB.") % {"rows": MAX_ROWS, "mb": MAX_BYTES >> 20},
    ):
        help_.add([text])
    return xlsx_bytes([items, help_])


# ---------------------------------------------------------------- reading


def _read_bytes(upload) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise ImportTooLarge()
    data = upload.read(MAX_BYTES + 1) if hasattr(upload, "read") else bytes(upload)
    if len(data) > MAX_BYTES:
        raise ImportTooLarge()
    return data


def _open_workbook(data: bytes):
    bad = ImportFailed([_t("This is not an Excel workbook (.xlsx).")])
    if not data.startswith(b"PK\x03\x04"):
        raise bad
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
        if len(infos) > 1000 or sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
            raise ImportTooLarge(_("The workbook unpacks to too much data."))
        return load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise bad
    except Exception as exc:  # openpyxl and defusedxml raise their own exception kinds
        if isinstance(exc, DomainError):
            raise
        raise bad


def _text(value, row: int, key: str, problems: list[str]) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        problems.append(f"{where(row, key)}: {_t('expected text, not true/false.')}")
        return ""
    if isinstance(value, int | float | Decimal):
        value = int(value) if float(value).is_integer() else value
        return str(value)
    if not isinstance(value, str):
        problems.append(f"{where(row, key)}: {_t('expected text, not a date or time.')}")
        return ""
    text = value.strip()
    if len(text) > MAX_TEXT:
        problems.append(f"{where(row, key)}: {_t('too long (at most 200 characters).')}")
    return text


def _number(value, row: int, key: str, problems: list[str]) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        problems.append(f"{where(row, key)}: {_t('expected a number.')}")
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        problems.append(
            f"{where(row, key)}: " + _t("expected a number, not “%(v)s”.") % {"v": str(value)[:40]}
        )
        return None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 10:
        problems.append(f"{where(row, key)}: {_t('the number is out of range.')}")
        return None
    return number.quantize(Decimal("0.0001")) if number.as_tuple().exponent < -4 else number


def _kinds() -> dict[str, str]:
    names = {value: value for value in ItemKind.values}
    for language in ("en", "zh-hans"):
        with translation.override(language):
            names.update({str(label).lower(): value for value, label in ItemKind.choices})
    return names


def _bool(value, row: int, problems: list[str]) -> bool:
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in TRUE:
        return True
    if text not in FALSE:
        problems.append(f"{where(row, 'photo_required')}: {_t('expected yes or no.')}")
    return False


def _parse_row(number: int, cells, kinds: dict[str, str], problems: list[str]) -> Row | None:
    raw = [None] * len(COLUMNS)
    for i, cell in enumerate(cells[: len(COLUMNS)]):
        value = getattr(cell, "value", None)
        if getattr(cell, "data_type", None) == "f":
            problems.append(f"{where(number, COLUMNS[i][0])}: {_t('formulas are not accepted.')}")
            continue
        raw[i] = value
    if all(v is None or (isinstance(v, str) and not v.strip()) for v in raw):
        return None
    values: dict[str, Any] = {}
    for key in TEXT_KEYS:
        values[key] = _text(raw[INDEX[key]], number, key, problems)
    site = raw[INDEX["site"]]
    values["site"] = site if isinstance(site, int) else _text(site, number, "site", problems)
    for key in ("normal_min", "normal_max"):
        values[key] = _number(raw[INDEX[key]], number, key, problems)
    for key in ("choices", "abnormal_choices"):
        text = _text(raw[INDEX[key]], number, key, problems)
        values[key] = [c.strip() for c in SPLIT_RE.split(text) if c.strip()]
    kind = _text(raw[INDEX["kind"]], number, "kind", problems).lower()
    values["kind"] = kinds.get(kind, "")
    if kind and not values["kind"]:
        problems.append(
            f"{where(number, 'kind')}: "
            + _t("unknown kind “%(v)s”; use number, yes_no, choice, text or photo.")
            % {"v": kind[:40]}
        )
    values["photo_required"] = _bool(raw[INDEX["photo_required"]], number, problems)
    for key in REQUIRED:
        if not values[key] and not (key == "kind" and kind):
            problems.append(f"{where(number, key)}: {_t('required.')}")
    return Row(number, values)


def read_rows(data: bytes) -> list[Row]:
    """Parse and type-check every row; raise ImportFailed naming each bad cell."""
    workbook = _open_workbook(data)
    try:
        if not workbook.worksheets:
            raise ImportFailed([_t("The workbook has no sheet.")])
        sheet = workbook.worksheets[0]
        rows, problems, kinds = [], [], _kinds()
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            if number == 1:
                continue  # the header
            if number > MAX_ROWS + 1:
                raise ImportTooLarge(_("Too many rows (at most %(n)d).") % {"n": MAX_ROWS})
            row = _parse_row(number, cells, kinds, problems)
            if row is not None:
                rows.append(row)
    finally:
        workbook.close()
    if problems:
        raise ImportFailed(problems)
    if not rows:
        raise ImportFailed([_t("The sheet has no rows below the header.")])
    return rows


# ---------------------------------------------------------------- applying


@dataclass
class _Group:
    first: Row
    name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)


def _group(rows: list[Row], problems: list[str]):
    """Routes → checkpoints → items in file order; names come from the first row giving one."""
    routes: dict[tuple, _Group] = {}
    points: dict[tuple, _Group] = {}
    seen_items: dict[tuple, int] = {}
    for row in rows:
        v = row.values
        rkey = (v["project_code"].lower(), v["route_code"].lower())
        route = routes.setdefault(rkey, _Group(row))
        route.name = route.name or v["route_name"]
        if v["site"] != "" and "site" not in route.extra:
            route.extra["site"] = (v["site"], row.number)
        pkey = (*rkey, v["checkpoint_code"].lower())
        point = points.setdefault(pkey, _Group(row))
        if point.first is row:
            route.rows.append(row)
        point.name = point.name or v["checkpoint_name"]
        for key in ("location", "asset_serial"):
            point.extra[key] = point.extra.get(key) or v[key]
        point.rows.append(row)
        ikey = (*pkey, v["item_name"])
        if ikey in seen_items:
            problems.append(
                f"{where(row.number, 'item_name')}: "
                + _t("the same item as row %(n)d.") % {"n": seen_items[ikey]}
            )
        seen_items[ikey] = row.number
    for group, key in [(g, "route_name") for g in routes.values()] + [
        (g, "checkpoint_name") for g in points.values()
    ]:
        if not group.name:
            problems.append(f"{where(group.first.number, key)}: {_t('required.')}")
    return routes, points


def _report(problems: list[str], row: int, columns: dict[str, str], exc: DomainError) -> None:
    if not exc.fields:
        problems.append(f"{where(row, None)}: {exc.message}")
    for name, messages in exc.fields.items():
        for message in messages:
            problems.append(f"{where(row, columns.get(name))}: {message}")


def _differs(obj, changes: dict[str, Any]) -> bool:
    return any(getattr(obj, name) != value for name, value in changes.items())


class _Importer:
    def __init__(self, actor, result: ImportResult, problems: list[str]):
        self.actor = actor
        self.result = result
        self.problems = problems

    def call(self, row: int, columns: dict[str, str], fn, **kwargs):
        try:
            return fn(actor=self.actor, **kwargs)
        except PermissionDenied:
            raise
        except DomainError as exc:
            _report(self.problems, row, columns, exc)
            return None

    def site(self, project: Project, ref, row: int) -> Site | None:
        sites = Site.objects.visible_to(self.actor).filter(customer_id=project.customer_id)
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            found = sites.filter(pk=int(ref)).first() or sites.filter(name=str(ref)).first()
        else:
            found = sites.filter(name=ref).first()
        if found is None:
            self.problems.append(f"{where(row, 'site')}: {_t('no such site of this customer.')}")
        return found

    def route(self, group: _Group) -> Route | None:
        v, row = group.first.values, group.first.number
        project = Project.objects.visible_to(self.actor).filter(code=v["project_code"]).first()
        if project is None:
            self.problems.append(f"{where(row, 'project_code')}: {_t('no such project.')}")
            return None
        existing = Route.objects.filter(project=project, code__iexact=v["route_code"]).first()
        site_ref = group.extra.get("site")
        site = self.site(project, site_ref[0], site_ref[1]) if site_ref else None
        if site_ref and site is None:
            return None
        if existing is None:
            if site is None:
                self.problems.append(f"{where(row, 'site')}: {_t('required for a new route.')}")
                return None
            self.result.bump("routes_created")
            return self.call(row, ROUTE_COLUMNS, config.create_route, project=project,
                             site=site, code=v["route_code"], name=group.name)  # fmt: skip
        changes = {"name": group.name, "site": site or existing.site}
        if not _differs(existing, changes):
            return existing
        self.result.bump("routes_updated")
        return self.call(row, ROUTE_COLUMNS, config.update_route, route=existing, **changes)

    def asset(self, route: Route, serial: str, row: int) -> Asset | None:
        found = list(
            Asset.objects.visible_to(self.actor).filter(site=route.site, serial=serial)[:2]
        )
        if len(found) != 1:
            message = (
                _t("no asset with this serial at the route's site.")
                if not found
                else _t("several assets at the site have this serial.")
            )
            self.problems.append(f"{where(row, 'asset_serial')}: {message}")
            return None
        return found[0]

    def checkpoint(self, route: Route, group: _Group, position: int) -> Checkpoint | None:
        v, row = group.first.values, group.first.number
        serial = group.extra.get("asset_serial")
        asset = self.asset(route, serial, row) if serial else None
        if serial and asset is None:
            return None
        fields = {"name": group.name, "location": group.extra.get("location") or "",
                  "asset": asset}  # fmt: skip
        existing = Checkpoint.objects.filter(route=route, code__iexact=v["checkpoint_code"]).first()
        if existing is None:
            self.result.bump("checkpoints_created")
            return self.call(row, CHECKPOINT_COLUMNS, config.add_checkpoint, route=route,
                             code=v["checkpoint_code"], position=position, **fields)  # fmt: skip
        if _differs(existing, fields):
            self.result.bump("checkpoints_updated")
            existing = self.call(row, CHECKPOINT_COLUMNS, config.update_checkpoint,
                                 checkpoint=existing, **fields)  # fmt: skip
        if existing is not None and existing.position != position:
            existing = self.call(row, CHECKPOINT_COLUMNS, config.move_checkpoint,
                                 checkpoint=existing, position=position)  # fmt: skip
        return existing

    def item(self, checkpoint: Checkpoint, row: Row) -> None:
        v = row.values
        fields = {key: v[key] for key in ("kind", "unit", "normal_min", "normal_max", "choices",
                                          "abnormal_choices", "photo_required")}  # fmt: skip
        if fields["kind"] == ItemKind.PHOTO:
            fields["photo_required"] = True
        existing = CheckItem.objects.filter(checkpoint=checkpoint, name=v["item_name"]).first()
        if existing is None:
            self.result.bump("items_created")
            self.call(row.number, ITEM_COLUMNS, config.add_check_item, checkpoint=checkpoint,
                      name=v["item_name"], **fields)  # fmt: skip
        elif _differs(existing, fields):
            self.result.bump("items_updated")
            self.call(row.number, ITEM_COLUMNS, config.update_check_item, item=existing,
                      **fields)  # fmt: skip


def import_routes(*, actor, upload) -> ImportResult:
    """Import routes, checkpoints and items from an .xlsx upload (all or nothing)."""
    if not access.may_manage_routes(actor):
        raise PermissionDenied()
    rows = read_rows(_read_bytes(upload))
    problems: list[str] = []
    routes, points = _group(rows, problems)
    if problems:
        raise ImportFailed(problems)
    result = ImportResult(rows=len(rows))
    importer = _Importer(actor, result, problems)
    with transaction.atomic():
        for rkey, group in routes.items():
            route = importer.route(group)
            if route is None:
                continue
            for position, first in enumerate(group.rows, start=1):
                v = first.values
                pkey = (*rkey, v["checkpoint_code"].lower())
                checkpoint = importer.checkpoint(route, points[pkey], position)
                if checkpoint is None:
                    continue
                for row in points[pkey].rows:
                    importer.item(checkpoint, row)
            if len(problems) >= MAX_REPORTED:
                break
        if problems:
            # Leaving the block with an exception rolls every row back.
            raise ImportFailed(problems)
    result.counts = {k: result.counts.get(k, 0) for k in COUNT_NAMES}
    return result


COUNT_NAMES = ("routes_created", "routes_updated", "checkpoints_created", "checkpoints_updated",
               "items_created", "items_updated")  # fmt: skip

__all__ = ["COLUMNS", "ImportFailed", "ImportResult", "ImportTooLarge", "import_routes",
           "template_bytes"]  # fmt: skip
