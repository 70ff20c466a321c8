"""The engineer's verbs: accept or reject, travel, check in, checklist, photos, signature,
complete; and the dispatcher's close, cancel, hold and resume.

The engineer's verbs take ``at``: the device's time when the work was done offline and
synced later (``frontline.sync``); None (the online path) is now. A device time is kept
as the phone reported it on the order's fields (``accepted_at``, ``checked_in_at`` …) and
as the event's ``occurred_at`` (its ``created_at`` stays the receipt time), within the
same bounds rounds use: more than five minutes ahead of the server or more than 30 days
back is refused (``fields["at"]``). One earlier than the order's previous event is kept
and flagged (see ``events.record``), not clamped: field times are the engineer's record.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.core import files as stored_files
from frontline.core.errors import Conflict, ValidationFailed
from frontline.core.locks import lock
from frontline.desk import uploads
from frontline.field import access
from frontline.field.engineers import parse_position, site_point
from frontline.field.events import illegal, move, record
from frontline.field.geo import haversine_m
from frontline.field.models import ChecklistItem, WorkOrder, WorkOrderPhoto
from frontline.field.states import ChecklistResult, EventKind, WorkOrderStatus
from frontline.notifications.services import notify

W = WorkOrderStatus
IMAGE_TYPES = {uploads.PNG, uploads.JPEG, uploads.WEBP}
SIGNATURE_MAX_BYTES = 512 * 1024
MAX_PHOTOS = 30
FUTURE_SLACK = dt.timedelta(minutes=5)
PAST_LIMIT = dt.timedelta(days=30)


def check_in_radius_m() -> int:
    return int(getattr(settings, "FIELD_CHECK_IN_RADIUS_M", 500))


def _text(value, field: str, limit: int, *, required=False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationFailed(fields={field: [_("This is required.")]})
    if len(text) > limit:
        raise ValidationFailed(fields={field: [_("At most %(n)d characters.") % {"n": limit}]})
    return text


def _own(actor, work_order) -> WorkOrder:
    """Lock the order; only its engineer may act on it from the field."""
    wo = lock(WorkOrder, work_order.pk)
    access.require(access.is_assignee(actor, wo), _("Only the assigned engineer can do this."))
    return wo


def _stamp(at) -> tuple[dt.datetime, dt.datetime | None]:
    """(the time to store, the device time for the event or None): see the module doc."""
    now = timezone.now()
    if at is None:
        return now, None
    if not isinstance(at, dt.datetime):
        raise ValidationFailed(fields={"at": [_("Give a date and time (ISO 8601).")]})
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + FUTURE_SLACK:
        raise ValidationFailed(
            fields={"at": [_("This time is in the future: check the phone's clock.")]}
        )
    if at < now - PAST_LIMIT:
        raise ValidationFailed(fields={"at": [_("This time is too long ago.")]})
    return at, at


def _position(latitude, longitude, *, required: bool):
    if latitude in (None, "") and longitude in (None, ""):
        if required:
            raise ValidationFailed(fields={"latitude": [_("Your position is needed here.")]})
        return None
    return parse_position(latitude, longitude)


def accept(*, actor, work_order, at: dt.datetime | None = None) -> WorkOrder:
    when, device = _stamp(at)
    with transaction.atomic():
        wo = _own(actor, work_order)
        move(wo, W.ACCEPTED, accepted_at=when)
        record(wo, EventKind.ACCEPTED, author=actor, public=True, at=device)
    return wo


def reject(*, actor, work_order, reason, at: dt.datetime | None = None) -> WorkOrder:
    """Give the order back to the queue with a reason; the dispatcher is told."""
    reason = _text(reason, "reason", 500, required=True)
    _when, device = _stamp(at)
    with transaction.atomic():
        wo = _own(actor, work_order)
        dispatcher_id = wo.created_by_id
        move(wo, W.REJECTED, assignee=None, planned_start=None, route_position=None, eta=None)
        record(wo, EventKind.REJECTED, author=actor, body=reason, data={"engineer": actor.pk},
               at=device)  # fmt: skip
        if dispatcher_id:
            notify(recipients=[wo.created_by], kind="work_order_rejected",
                   title=_("%(n)s was rejected and is back in the queue") % {"n": wo.number},
                   body=reason, url=wo.get_absolute_url(),
                   dedupe_key=f"wo-rejected:{wo.pk}:{timezone.now().timestamp()}")  # fmt: skip
    return wo


def start_travel(*, actor, work_order, latitude=None, longitude=None,
                 at: dt.datetime | None = None) -> WorkOrder:  # fmt: skip
    """On the way: the customer's timeline shows it, with an ETA from the position."""
    position = _position(latitude, longitude, required=False)
    when, device = _stamp(at)
    with transaction.atomic():
        wo = _own(actor, work_order)
        move(wo, W.EN_ROUTE, started_travel_at=when)
        record(wo, EventKind.EN_ROUTE, author=actor, public=True, position=position, at=device)
    if position is not None:
        from frontline.field.engineers import record_position

        record_position(actor=actor, latitude=position[0], longitude=position[1])
    return wo


def check_in(*, actor, work_order, latitude, longitude,
             at: dt.datetime | None = None) -> WorkOrder:  # fmt: skip
    """Arrive on site with a GPS position. Far from the site is allowed but flagged."""
    lat, lon = _position(latitude, longitude, required=True)
    when, device = _stamp(at)
    with transaction.atomic():
        wo = _own(actor, work_order)
        target = site_point(wo.site)
        distance = round(haversine_m(lat, lon, *target)) if target else None
        flagged = distance is not None and distance > check_in_radius_m()
        move(wo, W.ON_SITE, checked_in_at=when, check_in_latitude=lat,
             check_in_longitude=lon, check_in_distance_m=distance, check_in_flagged=flagged,
             eta=None)  # fmt: skip
        record(wo, EventKind.CHECK_IN, author=actor, public=True, position=(lat, lon),
               data={"distance_m": distance, "flagged": flagged}, at=device)  # fmt: skip
    return wo


def set_checklist_item(*, actor, work_order, item_id, result, note="",
                       at: dt.datetime | None = None) -> ChecklistItem:  # fmt: skip
    if result not in ChecklistResult.values or result == ChecklistResult.PENDING:
        raise ValidationFailed(fields={"result": [_("Choose OK, not OK or not applicable.")]})
    note = _text(note, "note", 500)
    when, device = _stamp(at)
    with transaction.atomic():
        wo = _own(actor, work_order)
        if wo.status != W.ON_SITE:
            raise Conflict(_("Check in on site before working through the checklist."))
        item = ChecklistItem.objects.filter(work_order=wo, pk=item_id).first()
        if item is None:
            raise ValidationFailed(fields={"item": [_("No such checklist item.")]})
        ChecklistItem.objects.filter(pk=item.pk).update(
            result=result, note=note, checked_by=actor, checked_at=when
        )
        item.result, item.note, item.checked_at = result, note, when
        record(wo, EventKind.CHECKLIST, author=actor, at=device,
               data={"item": item.pk, "label": item.label, "result": result})  # fmt: skip
    return item


def add_photo(*, actor, work_order, file, caption="", client_id=None,
              taken_at: dt.datetime | None = None) -> WorkOrderPhoto:  # fmt: skip
    """A photo from the camera: an image by its content, size-limited; a repeated
    ``client_id`` (an offline retry) returns the first upload. ``taken_at``: the phone's
    time for a photo uploaded after an offline sync (bounded like ``at``)."""
    caption = _text(caption, "caption", 200)
    _when, taken_at = _stamp(taken_at)
    if client_id not in (None, ""):
        try:
            client_id = uuid.UUID(str(client_id))
        except ValueError:
            raise ValidationFailed(fields={"client_id": [_("Give a UUID.")]})
        existing = WorkOrderPhoto.objects.filter(client_id=client_id).first()
        if existing is not None:
            if existing.work_order_id != work_order.pk or existing.uploaded_by_id != actor.pk:
                raise ValidationFailed(
                    fields={"client_id": [_("This client id was used for another upload.")]}
                )
            return existing
    else:
        client_id = None
    checked = uploads.check_file(file)
    if checked.content_type not in IMAGE_TYPES:
        raise ValidationFailed(
            _("Photos must be PNG, JPEG or WebP images."),
            code="file_type",
            fields={"file": [_("Photos must be PNG, JPEG or WebP images.")]},
        )
    with stored_files.atomic():
        wo = _own(actor, work_order)
        if wo.status not in {W.EN_ROUTE, W.ON_SITE, W.COMPLETED}:
            raise Conflict(_("Photos are taken on the way or on site."))
        if WorkOrderPhoto.objects.filter(work_order=wo).count() >= MAX_PHOTOS:
            raise ValidationFailed(_("At most %(n)d photos per work order.") % {"n": MAX_PHOTOS})
        photo = WorkOrderPhoto(work_order=wo, name=checked.name, caption=caption,
                               content_type=checked.content_type, size=checked.size,
                               client_id=client_id, uploaded_by=actor,
                               taken_at=taken_at)  # fmt: skip
        stored_files.save(photo.file, "photo", checked.upload)
        try:
            with transaction.atomic():
                photo.save()
        except IntegrityError:
            photo.file.delete(save=False)
            existing = WorkOrderPhoto.objects.filter(
                client_id=client_id, work_order=wo, uploaded_by=actor
            ).first()
            if existing is None:
                raise ValidationFailed(
                    fields={"client_id": [_("This client id was used for another upload.")]}
                )
            return existing
        record(wo, EventKind.PHOTO, author=actor, data={"photo": photo.pk, "caption": caption},
               at=taken_at)  # fmt: skip
    return photo


def _signature_png(data_url) -> bytes:
    text = str(data_url or "")
    prefix = "data:image/png;base64,"
    if not text.startswith(prefix):
        raise ValidationFailed(fields={"signature": [_("Draw the signature on the pad.")]})
    try:
        data = base64.b64decode(text[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(fields={"signature": [_("The signature could not be read.")]})
    if len(data) > SIGNATURE_MAX_BYTES:
        raise ValidationFailed(fields={"signature": [_("The signature image is too large.")]})
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValidationFailed(fields={"signature": [_("The signature could not be read.")]})
    return data


def sign(*, actor, work_order, signature, signed_by, at: dt.datetime | None = None) -> WorkOrder:
    """The customer signs on the engineer's screen (a PNG drawn on a canvas)."""
    signed_by = _text(signed_by, "signed_by", 120, required=True)
    data = _signature_png(signature)
    when, device = _stamp(at)
    with stored_files.atomic():
        wo = _own(actor, work_order)
        if wo.status != W.ON_SITE:
            raise Conflict(_("The customer signs on site."))
        replaced = wo.signature.name
        stored_files.save(wo.signature, f"{uuid.uuid4().hex}.png", ContentFile(data))
        if replaced:  # signed again: the first drawing goes once this one is committed
            storage = wo.signature.storage
            transaction.on_commit(lambda: storage.delete(replaced))
        WorkOrder.objects.filter(pk=wo.pk).update(
            signature=wo.signature.name, signed_by=signed_by, signed_at=when,
            updated_at=timezone.now(),
        )  # fmt: skip
        wo.signed_by, wo.signed_at = signed_by, when
        record(wo, EventKind.SIGNATURE, author=actor, public=True, data={"signed_by": signed_by},
               at=device)  # fmt: skip
    return wo


def complete(*, actor, work_order, resolution_code, resolution_notes="", parts_used="",
             first_time_fix=None, latitude=None, longitude=None,
             at: dt.datetime | None = None) -> WorkOrder:  # fmt: skip
    """Done on site: every checklist item answered, a resolution code; checks out."""
    code = _text(resolution_code, "resolution_code", 40, required=True)
    notes = _text(resolution_notes, "resolution_notes", 5000)
    parts = _text(parts_used, "parts_used", 2000)
    position = _position(latitude, longitude, required=False)
    now, device = _stamp(at)
    with transaction.atomic():
        wo = _own(actor, work_order)
        if wo.status != W.ON_SITE:
            raise illegal(wo, W.COMPLETED)
        pending = ChecklistItem.objects.filter(work_order=wo, result=ChecklistResult.PENDING)
        if pending.exists():
            raise ValidationFailed(
                _("Answer every checklist item first (%(n)d open).") % {"n": pending.count()},
                code="checklist_open",
                fields={"checklist": [_("Answer every checklist item first.")]},
            )
        if first_time_fix is None:
            first_time_fix = wo.revisit_of_id is None
        lat, lon = position if position else (None, None)
        move(wo, W.COMPLETED, completed_at=now, checked_out_at=now, check_out_latitude=lat,
             check_out_longitude=lon, resolution_code=code, resolution_notes=notes,
             parts_used=parts, first_time_fix=bool(first_time_fix))  # fmt: skip
        record(wo, EventKind.CHECK_OUT, author=actor, position=position, at=device)
        record(wo, EventKind.COMPLETED, author=actor, public=True, at=device,
               data={"resolution_code": code, "first_time_fix": bool(first_time_fix)})  # fmt: skip
    return wo


def close(*, actor, work_order) -> WorkOrder:
    """The dispatcher closes completed work; the customer gets a survey link by email."""
    with transaction.atomic():
        wo = lock(WorkOrder, work_order.pk)
        access.require(access.may_dispatch(actor) or access.partner_admin_of(actor, wo))
        move(wo, W.CLOSED, closed_at=timezone.now())
        record(wo, EventKind.CLOSED, author=actor, public=True)
        from frontline.field.links import send_survey

        send_survey(wo)
    return wo


def cancel(*, actor, work_order, reason) -> WorkOrder:
    access.require(access.may_dispatch(actor))
    reason = _text(reason, "reason", 500, required=True)
    with transaction.atomic():
        wo = lock(WorkOrder, work_order.pk)
        from frontline.field.dispatching import _close_open_offer
        from frontline.field.states import OfferStatus

        move(wo, W.CANCELLED)
        _close_open_offer(wo, OfferStatus.WITHDRAWN)
        record(wo, EventKind.CANCELLED, author=actor, public=True, body=reason)
        if wo.assignee_id:
            notify(recipients=[wo.assignee], kind="work_order_cancelled",
                   title=_("%(n)s was cancelled") % {"n": wo.number}, body=reason,
                   url=wo.get_absolute_url(), dedupe_key=f"wo-cancelled:{wo.pk}")  # fmt: skip
    return wo


def hold(*, actor, work_order, reason) -> WorkOrder:
    """Pause the work (parts missing, customer not ready); the engineer may hold their own."""
    reason = _text(reason, "reason", 500, required=True)
    with transaction.atomic():
        wo = lock(WorkOrder, work_order.pk)
        access.require(access.may_dispatch(actor) or access.is_assignee(actor, wo))
        move(wo, W.ON_HOLD)
        record(wo, EventKind.ON_HOLD, author=actor, public=True, body=reason)
    return wo


def resume(*, actor, work_order) -> WorkOrder:
    """Back from hold: to its engineer when it has one, else to the queue."""
    with transaction.atomic():
        wo = lock(WorkOrder, work_order.pk)
        access.require(access.may_dispatch(actor) or access.partner_admin_of(actor, wo))
        if wo.status != W.ON_HOLD:
            raise illegal(wo, W.NEW)
        target = W.ACCEPTED if wo.assignee_id and wo.accepted_at else W.DISPATCHED
        move(wo, target if wo.assignee_id else W.NEW)
        record(wo, EventKind.STATUS, author=actor, public=True, data={"status": wo.status})
    return wo
