"""Checking what an engineer recorded at a checkpoint, item by item.

Each reading is ``{"item": <CheckItem id>, "value": ...}``; the value's type follows the
item's kind and a wrong type or an absurd magnitude is refused with the item named
(``fields["readings.<item id>"]``). Numbers are kept to four decimal places (rounded half
to even), the precision of ``Reading.number``. Photos are images by their content
(PNG, JPEG, WebP), size-limited like every upload.

A visit synced from offline may name ``to_follow`` items (``photos_to_follow``): photo
items and photo-required items whose file uploads after the data
(``frontline.sync.uploads``). Their reading is stored without the photo and marked
``photo_pending`` until the upload fills it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from frontline.core.errors import ValidationFailed
from frontline.core.rest import parse_id
from frontline.desk import uploads
from frontline.inspections.models import CheckItem
from frontline.inspections.states import ItemKind

NUMBER_LIMIT = Decimal("1e9")
TEXT_LIMIT = 500
MAX_READINGS = 100
IMAGE_TYPES = {uploads.PNG, uploads.JPEG, uploads.WEBP}
_PLACES = Decimal("0.0001")


@dataclass
class CleanReading:
    """A checked value for one item, ready to store."""

    item: CheckItem
    number: Decimal | None = None
    answer: bool | None = None
    text: str = ""
    photo: object = None
    is_abnormal: bool = False
    content_type: str = field(default="")
    photo_pending: bool = False


def _key(item_id) -> str:
    return f"readings.{item_id}"


def clean_number(item: CheckItem, value) -> Decimal:
    """A finite number below 1e9 in magnitude, kept to four decimal places."""
    bad = ValidationFailed(
        fields={_key(item.pk): [_("“%(name)s” needs a number.") % {"name": item.name}]}
    )
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise bad
    if isinstance(value, float) and not math.isfinite(value):
        raise bad
    try:
        number = (
            Decimal(str(value).strip().replace(",", "."))
            if isinstance(value, str)
            else (Decimal(str(value)))
        )
    except (InvalidOperation, ValueError):
        raise bad
    if not number.is_finite():
        raise bad
    if abs(number) >= NUMBER_LIMIT:
        raise ValidationFailed(
            fields={
                _key(item.pk): [
                    _("“%(name)s”: %(value)s is not a plausible reading.")
                    % {"name": item.name, "value": str(value)[:20]}
                ]
            }
        )
    return number.quantize(_PLACES, rounding=ROUND_HALF_EVEN)


def is_abnormal_number(item: CheckItem, number: Decimal) -> bool:
    return (item.normal_min is not None and number < item.normal_min) or (
        item.normal_max is not None and number > item.normal_max
    )


def _clean_value(item: CheckItem, value, out: CleanReading) -> None:
    name = {"name": item.name}
    if item.kind == ItemKind.NUMBER:
        out.number = clean_number(item, value)
        out.is_abnormal = is_abnormal_number(item, out.number)
    elif item.kind == ItemKind.YES_NO:
        if not isinstance(value, bool):
            raise ValidationFailed(
                fields={_key(item.pk): [_("“%(name)s” needs yes or no.") % name]}
            )
        out.answer = value
        out.is_abnormal = value != item.normal_answer
    elif item.kind == ItemKind.CHOICE:
        if not isinstance(value, str) or value not in (item.choices or []):
            raise ValidationFailed(
                fields={_key(item.pk): [_("“%(name)s”: choose one of the offered answers.") % name]}
            )
        out.text = value
        out.is_abnormal = value in (item.abnormal_choices or [])
    elif item.kind == ItemKind.TEXT:
        if not isinstance(value, str):
            raise ValidationFailed(fields={_key(item.pk): [_("“%(name)s” needs text.") % name]})
        text = value.strip()
        if len(text) > TEXT_LIMIT:
            raise ValidationFailed(
                fields={
                    _key(item.pk): [
                        _("“%(name)s”: at most %(n)d characters.") % {**name, "n": TEXT_LIMIT}
                    ]
                }
            )
        out.text = text
    elif item.kind == ItemKind.PHOTO:
        raise ValidationFailed(
            fields={_key(item.pk): [_("“%(name)s” is a photo: send it as a file.") % name]}
        )


def clean_photo(item: CheckItem, upload) -> str:
    try:
        checked = uploads.check_file(upload)
    except ValidationFailed:
        checked = None
    if checked is None or checked.content_type not in IMAGE_TYPES:
        raise ValidationFailed(
            _("Photos must be PNG, JPEG or WebP images."),
            code="file_type",
            fields={
                _key(item.pk): [
                    _("“%(name)s”: photos must be PNG, JPEG or WebP images.") % {"name": item.name}
                ]
            },
        )
    return checked.content_type


def _parse_entries(readings, items: dict[int, CheckItem]) -> dict[int, object]:
    """[{"item": id, "value": v}] → {item id: raw value}; unknown or repeated items refused."""
    if readings is None:
        readings = []
    if not isinstance(readings, list | tuple) or len(readings) > MAX_READINGS:
        raise ValidationFailed(fields={"readings": [_("Give a list of readings.")]})
    values: dict[int, object] = {}
    for entry in readings:
        if not isinstance(entry, dict) or "item" not in entry:
            raise ValidationFailed(
                fields={"readings": [_("Each reading names its item and value.")]}
            )
        raw = entry.get("item")
        item_id = None if isinstance(raw, bool) else parse_id(raw)
        if item_id is None or item_id not in items:
            raise ValidationFailed(
                fields={_key(str(raw)[:20]): [_("This item is not checked at this checkpoint.")]}
            )
        if item_id in values:
            raise ValidationFailed(
                fields={
                    _key(item_id): [_("“%(name)s” appears twice.") % {"name": items[item_id].name}]
                }
            )
        values[item_id] = entry.get("value")
    return values


def _photo_item(raw, items: dict[int, CheckItem]) -> CheckItem:
    """The item ``raw`` names at this checkpoint, when it takes a photo."""
    item_id = None if isinstance(raw, bool) else parse_id(raw)
    item = items.get(item_id) if item_id is not None else None
    if item is None:
        raise ValidationFailed(
            fields={_key(str(raw)[:20]): [_("This item is not checked at this checkpoint.")]}
        )
    if item.kind != ItemKind.PHOTO and not item.photo_required:
        raise ValidationFailed(
            fields={_key(item.pk): [_("“%(name)s” takes no photo.") % {"name": item.name}]}
        )
    return item


def _parse_photos(photos, items: dict[int, CheckItem]) -> dict[int, object]:
    out: dict[int, object] = {}
    for raw, upload in (photos or {}).items():
        out[_photo_item(raw, items).pk] = upload
    if len(out) > uploads.MAX_FILES:
        raise ValidationFailed(
            fields={"photos": [_("At most %(n)d photos at a time.") % {"n": uploads.MAX_FILES}]}
        )
    return out


def _parse_to_follow(to_follow, items: dict[int, CheckItem]) -> set[int]:
    """Item ids whose photo uploads later: each a photo or photo-required item here."""
    if to_follow is None:
        return set()
    if not isinstance(to_follow, list | tuple) or len(to_follow) > MAX_READINGS:
        raise ValidationFailed(fields={"photos_to_follow": [_("Give a list of item ids.")]})
    out: set[int] = set()
    for raw in to_follow:
        item = _photo_item(raw, items)
        out.add(item.pk)
    return out


def clean_readings(items: list[CheckItem], readings, photos=None,
                   to_follow=None) -> list[CleanReading]:  # fmt: skip
    """Check a visit's readings against the checkpoint's active items (all or nothing)."""
    by_id = {i.pk: i for i in items}
    values = _parse_entries(readings, by_id)
    files = _parse_photos(photos, by_id)
    later = _parse_to_follow(to_follow, by_id)
    out: list[CleanReading] = []
    missing: dict[str, list] = {}
    for item in items:
        value = values.get(item.pk)
        photo = files.get(item.pk)
        pending = photo is None and item.pk in later
        has_value = item.pk in values and value is not None and value != ""
        if item.kind == ItemKind.PHOTO:
            has_value = photo is not None or pending
        if not has_value:
            if item.required:
                missing[_key(item.pk)] = [_("“%(name)s” is required.") % {"name": item.name}]
            continue
        if item.photo_required and photo is None and not pending:
            missing[_key(item.pk)] = [_("“%(name)s” needs a photo.") % {"name": item.name}]
            continue
        clean = CleanReading(item=item, photo_pending=pending)
        if item.kind != ItemKind.PHOTO:
            _clean_value(item, value, clean)
        if photo is not None:
            clean.content_type = clean_photo(item, photo)
            clean.photo = photo
        out.append(clean)
    if missing:
        raise ValidationFailed(_("Some checks are missing."), fields=missing)
    return out


def display(clean: CleanReading) -> str:
    """The value as text, for an anomaly's "value found"."""
    if clean.number is not None:
        unit = f" {clean.item.unit}" if clean.item.unit else ""
        return format(clean.number.normalize(), "f") + unit
    if clean.answer is not None:
        return str(_("Yes") if clean.answer else _("No"))
    return clean.text
