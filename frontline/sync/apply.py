"""Apply a phone's queued actions, in order, each exactly once.

Rules, per action (see ``apply_batch``):

1. **Replay.** ``(engineer, client_id)`` already decided → nothing is done again; the
   answer is ``replayed`` with the first decision's ``result`` (and ``original_status``).
   The same client id with a different body → ``rejected`` (``client_id_reused``).
2. **Another engineer's id.** A client id some other user already used → ``rejected``
   (``client_id_taken``), saying nothing about whose; no row is written.
3. **Skip after a failure.** Once an action on a work order or round was rejected or
   taken back in this batch, the batch's later actions on that target are ``skipped``
   and not tried (the phone keeps them and may send them again; no row is written).
4. **Server wins on assignment.** Work that is not visible to the engineer, cancelled, or
   assigned to someone else → ``taken_back`` with a reason; nothing applied.
5. **Apply** through the online verb's service, inside a savepoint. A domain error
   (validation, conflict, permission, not found) → ``rejected`` with
   ``{code, detail, fields}``; the batch goes on.

Concurrency: each action claims its ``(user, client_id)`` row first, in the same
transaction as the service call. The same batch posted twice at once therefore waits
on the unique index, and the second finds the first's decision (a replay).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass, field

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.core.errors import DomainError, PermissionDenied
from frontline.field import access as field_access
from frontline.field.models import WorkOrder
from frontline.field.states import WorkOrderStatus
from frontline.inspections.models import Round
from frontline.inspections.states import RoundStatus
from frontline.sync import clock, kinds
from frontline.sync.models import SyncAction
from frontline.sync.states import BLOCKING_STATUSES, SyncStatus, TargetType, target_type_of

S = SyncStatus


@dataclass(frozen=True)
class Action:
    """One queued action, its envelope already checked (by the API's serializer)."""

    client_id: uuid.UUID
    kind: str
    target: int
    device_at: dt.datetime
    data: dict = field(default_factory=dict)


@dataclass
class Outcome:
    client_id: uuid.UUID
    kind: str
    target: int
    status: str
    result: dict
    device_at: dt.datetime
    clock_flagged: bool = False
    original_status: str | None = None


@dataclass
class BatchResult:
    device_id: str
    received_at: dt.datetime
    results: list[Outcome]

    @property
    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(S.values, 0)
        for outcome in self.results:
            counts[outcome.status] += 1
        return counts


def _error(code: str, detail, fields: dict | None = None) -> dict:
    return {"code": code, "detail": str(detail), "fields": fields or {}}


def _fingerprint(action: Action) -> str:
    body = [action.kind, action.target, action.device_at.isoformat(), action.data]
    text = json.dumps(body, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _stored_payload(action: Action) -> dict:
    """The data kept on the row: a signature image is kept on the work order, so the row
    keeps only its digest and size."""
    if "signature" not in action.data:
        return action.data
    image = str(action.data["signature"]).encode()
    digest = {"sha256": hashlib.sha256(image).hexdigest(), "chars": len(image)}
    return {**action.data, "signature": digest}


# ---------------------------------------------------------------- targets


def _load(actor, target_type: str, pk: int):
    """The target as the engineer may see it, or None (whether or not it exists)."""
    model = Round if target_type == TargetType.ROUND else WorkOrder
    return model.objects.visible_to(actor).filter(pk=pk).first()


def _taken_back_reason(actor, target) -> str | None:
    """Why the server no longer lets this engineer act on ``target``, or None."""
    if isinstance(target, WorkOrder):
        if target.status == WorkOrderStatus.CANCELLED:
            return _("Work order %(n)s was cancelled: your actions on it were not applied.") % {
                "n": target.number
            }
        if target.assignee_id != actor.pk:
            return _(
                "Work order %(n)s is no longer assigned to you: your actions on it were not "
                "applied."
            ) % {"n": target.number}
        return None
    if target.status == RoundStatus.CANCELLED:
        return _("This round was cancelled: your readings on it were not applied.")
    if target.assignee_id is not None and target.assignee_id != actor.pk:
        return _("This round is no longer assigned to you: your readings on it were not applied.")
    return None


NOT_AVAILABLE = _("This work is not (or no longer) available to you: nothing was applied.")


def _decide(actor, action: Action, target_type: str) -> tuple[str, dict]:
    """Apply one action (the caller holds its claim row); its status and result."""
    target = _load(actor, target_type, action.target)
    if target is None:
        return S.TAKEN_BACK, _error("taken_back", NOT_AVAILABLE)
    reason = _taken_back_reason(actor, target)
    if reason is not None:
        return S.TAKEN_BACK, _error("taken_back", reason)
    ctx = kinds.Context(actor=actor, client_id=action.client_id, device_at=action.device_at)
    try:
        with transaction.atomic():
            return S.APPLIED, kinds.HANDLERS[action.kind](ctx, target, action.data)
    except DomainError as exc:
        if isinstance(exc, PermissionDenied):
            # Reassigned between our check and the service's lock: still the server's call.
            fresh = _load(actor, target_type, action.target)
            reason = NOT_AVAILABLE if fresh is None else _taken_back_reason(actor, fresh)
            if reason is not None:
                return S.TAKEN_BACK, _error("taken_back", reason)
        return S.REJECTED, _error(exc.code, exc.message, exc.fields)


# ---------------------------------------------------------------- one action


def _replay(action: Action, row: SyncAction, fingerprint: str, flagged: bool) -> Outcome:
    if row.fingerprint != fingerprint:
        result = _error(
            "client_id_reused",
            _("This client id was already used for a different action."),
            {"client_id": [_("Generate a new id for each action.")]},
        )
        return Outcome(action.client_id, action.kind, action.target, S.REJECTED, result,
                       action.device_at, flagged)  # fmt: skip
    return Outcome(action.client_id, action.kind, action.target, S.REPLAYED, row.result,
                   action.device_at, row.clock_flagged, original_status=row.status)  # fmt: skip


def _taken_id(action: Action, flagged: bool) -> Outcome:
    result = _error(
        "client_id_taken",
        _("This client id cannot be used."),
        {"client_id": [_("Generate a new id for each action.")]},
    )
    return Outcome(action.client_id, action.kind, action.target, S.REJECTED, result,
                   action.device_at, flagged)  # fmt: skip


def _apply_one(actor, device_id: str, action: Action, *, position: int, received_at,
               check: clock.ClockCheck, blocked: dict) -> Outcome:  # fmt: skip
    fingerprint = _fingerprint(action)
    target_type = target_type_of(action.kind)
    used = list(SyncAction.objects.filter(client_id=action.client_id))
    own = next((row for row in used if row.user_id == actor.pk), None)
    if own is not None:
        return _replay(action, own, fingerprint, check.flagged)
    if used:
        return _taken_id(action, check.flagged)
    first_failure = blocked.get((target_type, action.target))
    if first_failure is not None:
        result = _error(
            "earlier_not_applied",
            _("An earlier action on the same work was not applied, so this one was not tried."),
            {"client_id": [str(first_failure)]},
        )
        return Outcome(action.client_id, action.kind, action.target, S.SKIPPED, result,
                       action.device_at, check.flagged)  # fmt: skip
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = SyncAction.objects.create(
                    user=actor, device_id=device_id, client_id=action.client_id,
                    kind=action.kind, target_type=target_type, target_id=action.target,
                    payload=_stored_payload(action), fingerprint=fingerprint,
                    device_at=action.device_at, received_at=received_at,
                    clock_skew_seconds=check.skew_seconds, clock_flagged=check.flagged,
                    status=S.APPLIED, batch_position=position,
                )  # fmt: skip
        except IntegrityError:
            # The same action, sent again at the same moment, got there first.
            row = SyncAction.objects.filter(client_id=action.client_id).first()
            if row is None or row.user_id != actor.pk:
                return _taken_id(action, check.flagged)
            return _replay(action, row, fingerprint, check.flagged)
        status, result = _decide(actor, action, target_type)
        result = json.loads(json.dumps(result, cls=DjangoJSONEncoder))
        SyncAction.objects.filter(pk=row.pk).update(status=status, result=result)
    return Outcome(action.client_id, action.kind, action.target, status, result,
                   action.device_at, check.flagged)  # fmt: skip


# ---------------------------------------------------------------- the batch


def apply_batch(*, actor, device_id: str, actions: list[Action]) -> BatchResult:
    """Apply ``actions`` in order, each in its own transaction; one outcome per action.

    Only engineers (``DO_FIELD_WORK``) sync; anyone else is refused before anything is
    read. Each action commits on its own, so a batch cut off halfway keeps what was
    applied and its retry replays that part.
    """
    if not field_access.may_do_field_work(actor):
        raise PermissionDenied()
    received_at = timezone.now()
    previous = (
        SyncAction.objects.filter(user=actor, device_id=device_id)
        .order_by("-id")
        .values_list("device_at", flat=True)
        .first()
    )
    blocked: dict[tuple[str, int], uuid.UUID] = {}
    results = []
    for position, action in enumerate(actions):
        check = clock.check(action.device_at, received_at, previous)
        previous = action.device_at
        outcome = _apply_one(actor, device_id, action, position=position,
                             received_at=received_at, check=check, blocked=blocked)  # fmt: skip
        failed = outcome.status in BLOCKING_STATUSES or (
            outcome.status == S.REPLAYED and outcome.original_status in BLOCKING_STATUSES
        )
        key = (target_type_of(action.kind), action.target)
        if failed and key not in blocked:
            blocked[key] = action.client_id
        results.append(outcome)
    return BatchResult(device_id=device_id, received_at=received_at, results=results)
