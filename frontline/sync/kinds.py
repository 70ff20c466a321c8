"""Each kind of queued action, applied through the same service as its online verb.

An action's ``data`` is checked by the same request serializer the online verb uses,
then the service is called with the engineer as actor. Where the service takes a time,
it gets the device's (``device_at``): a round's start and finish, a visit's or a skip's
``recorded_at``, and the work-order verbs' ``at`` (kept on the order's fields and as the
event's ``occurred_at``). The ``SyncAction`` row keeps it beside the receipt time too.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from frontline.core.errors import ValidationFailed
from frontline.field import serializers as field_s
from frontline.field import services as field
from frontline.field.models import WorkOrder
from frontline.inspections import rounds
from frontline.inspections import serializers_rounds as round_s
from frontline.inspections.models import Checkpoint, Round
from frontline.sync.states import SyncKind

K = SyncKind


@dataclass(frozen=True)
class Context:
    """What a handler needs beyond the target: who, which action, when on the device."""

    actor: object
    client_id: uuid.UUID
    device_at: dt.datetime


def _messages(value) -> list[str]:
    if isinstance(value, Mapping):
        return [f"{k}: {m}" for k, v in value.items() for m in _messages(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _messages(v)]
    return [str(value)]


def clean(serializer_class, data: Mapping, *, refuse: tuple[str, ...] = ()) -> dict:
    """``data`` as the online verb's serializer reads it; a problem is a ValidationFailed.
    ``refuse``: fields the online body has but an action carries in its envelope."""
    given = {k: [_("Given by the action itself, not in its data.")] for k in refuse if k in data}
    if given:
        raise ValidationFailed(fields=given)
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise ValidationFailed(fields={str(k): _messages(v) for k, v in serializer.errors.items()})
    return dict(serializer.validated_data)


def no_data(data: Mapping) -> None:
    if data:
        raise ValidationFailed(fields={str(k): [_("Unknown field.")] for k in data})


# ---------------------------------------------------------------- work orders


def _order(wo: WorkOrder, **extra) -> dict:
    return {"work_order": wo.pk, "number": wo.number, "status": wo.status, **extra}


def accept(ctx: Context, wo: WorkOrder, data) -> dict:
    no_data(data)
    return _order(field.accept(actor=ctx.actor, work_order=wo, at=ctx.device_at))


def reject(ctx: Context, wo: WorkOrder, data) -> dict:
    body = clean(field_s.ReasonSerializer, data)
    return _order(field.reject(actor=ctx.actor, work_order=wo, at=ctx.device_at, **body))


def start_travel(ctx: Context, wo: WorkOrder, data) -> dict:
    body = clean(field_s.OptionalPositionSerializer, data)
    return _order(field.start_travel(actor=ctx.actor, work_order=wo, at=ctx.device_at, **body))


def check_in(ctx: Context, wo: WorkOrder, data) -> dict:
    body = clean(field_s.PositionSerializer, data)
    done = field.check_in(actor=ctx.actor, work_order=wo, at=ctx.device_at, **body)
    return _order(done, check_in_flagged=bool(done.check_in_flagged))


def checklist(ctx: Context, wo: WorkOrder, data) -> dict:
    body = clean(field_s.ChecklistAnswerSerializer, data)
    item = field.set_checklist_item(actor=ctx.actor, work_order=wo, item_id=body["item"],
                                    result=body["result"], note=body.get("note", ""),
                                    at=ctx.device_at)  # fmt: skip
    return _order(wo, item=item.pk, result=item.result)


def sign(ctx: Context, wo: WorkOrder, data) -> dict:
    body = clean(field_s.SignSerializer, data)
    return _order(field.sign(actor=ctx.actor, work_order=wo, at=ctx.device_at, **body))


def complete(ctx: Context, wo: WorkOrder, data) -> dict:
    body = clean(field_s.CompleteSerializer, data)
    return _order(field.complete(actor=ctx.actor, work_order=wo, at=ctx.device_at, **body))


# ---------------------------------------------------------------- rounds

# A visit's client id and time are the action's own.
_ENVELOPE = ("client_id", "recorded_at")


def _checkpoint(r: Round, body: dict) -> Checkpoint:
    """By id, code or scanned QR value, on the round's route (as the online verb finds it)."""
    on_route = Checkpoint.objects.filter(route_id=r.route_id)
    if body.get("checkpoint"):
        found = on_route.filter(pk=body["checkpoint"]).first()
    elif body.get("checkpoint_code"):
        found = on_route.filter(code=body["checkpoint_code"].strip()).first()
    else:
        found = on_route.filter(qr_value=body["qr"].strip()).first()
    if found is None:
        raise ValidationFailed(
            fields={"checkpoint": [_("This checkpoint is not on the round's route.")]}
        )
    return found


def _round(r: Round) -> dict:
    return {"round": r.pk, "status": r.status}


def _visit(r: Round, visit, created: bool) -> dict:
    return {"round": r.pk, "visit": visit.pk, "checkpoint": visit.checkpoint_id,
            "status": visit.status, "created": created}  # fmt: skip


def start_round(ctx: Context, r: Round, data) -> dict:
    no_data(data)
    return _round(rounds.start_round(actor=ctx.actor, round=r, at=ctx.device_at))


def record_visit(ctx: Context, r: Round, data) -> dict:
    """``photos_to_follow`` (sync only): item ids whose photos upload after the data
    (``POST /api/v1/sync/uploads/``, purpose ``reading_photo``)."""
    data = dict(data)
    to_follow = data.pop("photos_to_follow", None)
    body = clean(round_s.RoundVisitRequestSerializer, data, refuse=_ENVELOPE)
    visit, created = rounds.record_visit(
        actor=ctx.actor, round=r, checkpoint=_checkpoint(r, body),
        readings=body.get("readings"), client_id=ctx.client_id,
        started_at=body.get("started_at"), recorded_at=ctx.device_at,
        scanned=body.get("scanned", False), note=body.get("note", ""),
        photos_to_follow=to_follow,
    )  # fmt: skip
    return _visit(r, visit, created)


def skip_point(ctx: Context, r: Round, data) -> dict:
    body = clean(round_s.RoundSkipRequestSerializer, data, refuse=_ENVELOPE)
    visit, created = rounds.skip_point(
        actor=ctx.actor, round=r, checkpoint=_checkpoint(r, body), reason=body["reason"],
        note=body.get("note", ""), client_id=ctx.client_id, recorded_at=ctx.device_at,
    )  # fmt: skip
    return _visit(r, visit, created)


def finish_round(ctx: Context, r: Round, data) -> dict:
    no_data(data)
    return _round(rounds.finish_round(actor=ctx.actor, round=r, at=ctx.device_at))


HANDLERS: dict[str, Callable[[Context, object, Mapping], dict]] = {
    K.ACCEPT: accept,
    K.REJECT: reject,
    K.START_TRAVEL: start_travel,
    K.CHECK_IN: check_in,
    K.CHECKLIST: checklist,
    K.SIGN: sign,
    K.COMPLETE: complete,
    K.START_ROUND: start_round,
    K.RECORD_VISIT: record_visit,
    K.SKIP_POINT: skip_point,
    K.FINISH_ROUND: finish_round,
}
