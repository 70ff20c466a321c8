"""Resumable photo uploads after the data: open, append chunks, finish once.

The contract (``frontline.sync.api_uploads``):

1. **Open** (``open_upload``): the phone names the upload by its own ``client_id`` and
   says what it will send (size, SHA-256, type, name, device time) and what the photo is
   for (``purpose`` and ``target``). The same body again returns the upload as it stands
   (``offset`` = bytes received so far), a different body under the same id is 409
   ``client_id_reused``, another engineer's id is 409 ``client_id_taken`` (saying nothing
   more). A size over the upload limit (``desk.uploads.max_bytes``) is 413 ``too_large``
   before any byte is stored. Work that is no longer the engineer's (not visible,
   reassigned, cancelled) is 409 ``taken_back`` with the reason the phone shows, as in a
   sync batch; a reading that has its photo already is 409 ``photo_already_there``.
2. **Append** (``append``): bytes at exactly the current ``offset`` (else 409
   ``offset_mismatch`` with the current offset), never past ``size`` (400). They wait in
   ``MEDIA_ROOT/sync-uploads/<key>``, a generated key; the row lock serialises appends.
3. **Finish**, when the last byte is in, in the same transaction: the SHA-256 must match
   (else ``failed``/``checksum_mismatch``: the phone starts again with a new id), then the
   photo is attached through the online services (``field.add_photo`` with
   ``taken_at`` = device time, idempotent by client id; ``rounds.attach_pending_photo``),
   which check the type by content. Their refusal makes the upload ``failed`` with their
   code (``file_type``, ``taken_back`` …); success makes it ``done`` with a ``result``.
   A retried last chunk after that is answered with the state, nothing done again.

Waiting bytes are removed when the upload ends and, for uploads left open, by
``remove_stale`` after ``STALE_AFTER`` (``manage.py sync_cleanup_uploads``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.core.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from frontline.desk import uploads as checks
from frontline.field import access as field_access
from frontline.field import services as field
from frontline.field.models import WorkOrder
from frontline.inspections import rounds
from frontline.inspections.models import Reading, Round
from frontline.sync import clock
from frontline.sync.apply import NOT_AVAILABLE, _taken_back_reason
from frontline.sync.models import SyncUpload
from frontline.sync.states import UploadPurpose, UploadStatus

CHUNK_MAX = 1024 * 1024
STALE_AFTER = dt.timedelta(days=7)
FOLDER = "sync-uploads"
U = UploadStatus


class UploadConflict(Conflict):
    """A 409 that may carry more than ``{code, detail, fields}`` (``extra``)."""

    def __init__(self, message=None, *, code=None, fields=None, extra=None):
        super().__init__(message, code=code, fields=fields)
        self.extra = extra or {}


def _reused() -> UploadConflict:
    return UploadConflict(_("This client id was already used for a different upload."),
                          code="client_id_reused",
                          fields={"client_id": [_("Generate a new id for each upload.")]})  # fmt: skip


def _taken() -> UploadConflict:
    return UploadConflict(_("This client id cannot be used."), code="client_id_taken",
                          fields={"client_id": [_("Generate a new id for each upload.")]})  # fmt: skip


def _taken_back(reason) -> UploadConflict:
    return UploadConflict(reason, code="taken_back")


def path_of(upload: SyncUpload) -> Path:
    return Path(settings.MEDIA_ROOT) / FOLDER / upload.key


def state(upload: SyncUpload) -> dict:
    """What the phone reads to resume: ``offset`` is where the next chunk starts."""
    failed = upload.status == U.FAILED
    return {"client_id": upload.client_id, "offset": upload.offset, "size": upload.size,
            "status": upload.status, "result": upload.result,
            "code": upload.result.get("code") if failed else None,
            "detail": upload.result.get("detail") if failed else None}  # fmt: skip


# ---------------------------------------------------------------- targets


def _work_order(actor, target: dict) -> WorkOrder:
    wo = WorkOrder.objects.visible_to(actor).filter(pk=target["work_order"]).first()
    if wo is None:
        raise _taken_back(NOT_AVAILABLE)
    reason = _taken_back_reason(actor, wo)
    if reason is not None:
        raise _taken_back(reason)
    return wo


def _round(actor, target: dict) -> Round:
    r = Round.objects.visible_to(actor).filter(pk=target["round"]).first()
    if r is None:
        raise _taken_back(NOT_AVAILABLE)
    reason = _taken_back_reason(actor, r)
    if reason is not None:
        raise _taken_back(reason)
    return r


def _pending_reading(r: Round, target: dict) -> Reading:
    reading = Reading.objects.filter(visit__round=r, visit__checkpoint_id=target["checkpoint"],
                                     item_id=target["item"]).first()  # fmt: skip
    if reading is None:
        raise ValidationFailed(fields={"target": [_("No reading here waits for a photo.")]})
    if not reading.photo_pending:
        raise UploadConflict(_("This reading has its photo already."), code="photo_already_there")
    return reading


def _check_target(actor, purpose: str, target: dict) -> None:
    if purpose == UploadPurpose.WORK_ORDER_PHOTO:
        _work_order(actor, target)
    else:
        _pending_reading(_round(actor, target), target)


def _device_time(at: dt.datetime) -> dt.datetime:
    now = timezone.now()
    if at > now + clock.FUTURE_SLACK:
        raise ValidationFailed(
            fields={"device_at": [_("This time is in the future: check the phone's clock.")]}
        )
    if at < now - clock.PAST_LIMIT:
        raise ValidationFailed(fields={"device_at": [_("This time is too long ago.")]})
    return at


# ---------------------------------------------------------------- open


def _fingerprint(fields: dict) -> str:
    body = {k: fields[k] for k in ("purpose", "target", "filename", "content_type", "size",
                                   "sha256")}  # fmt: skip
    body["device_at"] = fields["device_at"].isoformat()
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _existing(actor, client_id: uuid.UUID, fingerprint: str) -> SyncUpload | None:
    used = list(SyncUpload.objects.filter(client_id=client_id))
    own = next((row for row in used if row.user_id == actor.pk), None)
    if own is not None:
        if own.fingerprint != fingerprint:
            raise _reused()
        return own
    if used:
        raise _taken()
    return None


def open_upload(*, actor, client_id: uuid.UUID, purpose: str, target: dict, filename: str,
                content_type: str, size: int, sha256: str,
                device_at: dt.datetime) -> tuple[SyncUpload, bool]:  # fmt: skip
    """Open (or find again) an upload; ``(upload, created)``. See the module doc."""
    if not field_access.may_do_field_work(actor):
        raise PermissionDenied()
    fields = {"purpose": purpose, "target": target, "filename": filename,
              "content_type": content_type, "size": size, "sha256": sha256.lower(),
              "device_at": device_at}  # fmt: skip
    fingerprint = _fingerprint(fields)
    found = _existing(actor, client_id, fingerprint)
    if found is not None:
        return found, False
    limit = checks.max_bytes()
    if size > limit:
        raise checks.UploadTooLarge(
            _("A file may be at most %(mb).1f MB.") % {"mb": limit / (1024 * 1024)},
            fields={"size": [_("File too large.")]},
        )
    _device_time(device_at)
    _check_target(actor, purpose, target)
    try:
        with transaction.atomic():
            upload = SyncUpload.objects.create(
                user=actor, client_id=client_id, fingerprint=fingerprint, key=uuid.uuid4().hex,
                **{**fields, "filename": checks.normalise_name(filename)},
            )  # fmt: skip
    except IntegrityError:
        # The same open, sent twice at once: the first one's row answers.
        found = _existing(actor, client_id, fingerprint)
        if found is None:
            raise Conflict()
        return found, False
    return upload, True


# ---------------------------------------------------------------- append and finish


def _write(upload: SyncUpload, offset: int, chunk: bytes) -> None:
    path = path_of(upload)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "r+b" if path.exists() else "wb") as out:
        out.seek(offset)
        out.write(chunk)
        out.truncate()


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(64 * 1024), b""):
            h.update(block)
    return h.hexdigest()


def _attach(actor, upload: SyncUpload, file) -> dict:
    target = upload.target
    if upload.purpose == UploadPurpose.WORK_ORDER_PHOTO:
        wo = _work_order(actor, target)
        photo = field.add_photo(actor=actor, work_order=wo, file=file, client_id=upload.client_id,
                                taken_at=upload.device_at)  # fmt: skip
        return {"photo": photo.pk, "work_order": wo.pk}
    r = _round(actor, target)
    reading = rounds.attach_pending_photo(actor=actor, round=r, checkpoint_id=target["checkpoint"],
                                          item_id=target["item"], file=file)  # fmt: skip
    return {"reading": reading.pk, "round": r.pk}


def _finish(actor, upload: SyncUpload) -> None:
    """The last byte is in: check, attach, and end the upload (inside the caller's lock)."""
    path = path_of(upload)
    transaction.on_commit(lambda: path.unlink(missing_ok=True))
    if _digest(path) != upload.sha256:
        message = _("The file arrived damaged: upload it again with a new client id.")
        upload.status, upload.result = U.FAILED, {"code": "checksum_mismatch",
                                                  "detail": str(message), "fields": {}}  # fmt: skip
        return
    try:
        with transaction.atomic(), open(path, "rb") as handle:
            result = _attach(actor, upload, File(handle, name=upload.filename))
    except DomainError as exc:
        code, message = exc.code, exc.message
        if isinstance(exc, PermissionDenied):
            code, message = "taken_back", NOT_AVAILABLE
        upload.status = U.FAILED
        upload.result = {"code": code, "detail": str(message), "fields": exc.fields}
        return
    upload.status, upload.result = U.DONE, result


def _replayed_end(upload: SyncUpload, offset: int, length: int) -> bool:
    """A chunk that ended the upload, sent again because its answer was lost."""
    return offset == upload.size or (offset + length == upload.size and length > 0)


def append(*, actor, client_id: uuid.UUID, offset: int, chunk: bytes) -> SyncUpload:
    """Add ``chunk`` at ``offset``; the last one finishes the upload. See the module doc."""
    if len(chunk) > CHUNK_MAX:
        raise checks.UploadTooLarge(_("A chunk may be at most 1 MB."))
    with transaction.atomic():
        upload = (
            SyncUpload.objects.select_for_update().filter(user=actor, client_id=client_id).first()
        )
        if upload is None:
            raise NotFound()
        if upload.status != U.OPEN:
            if _replayed_end(upload, offset, len(chunk)):
                return upload
            raise UploadConflict(_("This upload has ended."), code="offset_mismatch",
                                 extra={"offset": upload.offset})  # fmt: skip
        if offset != upload.offset:
            raise UploadConflict(
                _("The upload continues at byte %(n)d.") % {"n": upload.offset},
                code="offset_mismatch",
                extra={"offset": upload.offset},
            )
        if offset + len(chunk) > upload.size:
            raise ValidationFailed(_("More bytes than the size given when the upload opened."),
                                   code="beyond_size")  # fmt: skip
        if chunk:
            _write(upload, offset, chunk)
            upload.offset = offset + len(chunk)
            if upload.offset == upload.size:
                _finish(actor, upload)
            upload.save(update_fields=["offset", "status", "result", "updated_at"])
    return upload


def get_upload(*, actor, client_id: uuid.UUID) -> SyncUpload:
    upload = SyncUpload.objects.filter(user=actor, client_id=client_id).first()
    if upload is None:
        raise NotFound()
    return upload


def remove_stale(*, now=None) -> int:
    """Uploads left open longer than ``STALE_AFTER`` end as ``failed``/``expired`` and their
    bytes are removed; how many."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    message = str(_("This upload was left unfinished too long: start it again."))
    count = 0
    for upload in SyncUpload.objects.filter(status=U.OPEN, updated_at__lt=cutoff).iterator():
        ended = SyncUpload.objects.filter(pk=upload.pk, status=U.OPEN).update(
            status=U.FAILED, result={"code": "expired", "detail": message, "fields": {}}
        )
        if ended:
            path_of(upload).unlink(missing_ok=True)
            count += ended
    return count
