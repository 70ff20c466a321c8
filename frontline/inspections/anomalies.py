"""Anomalies: raised from abnormal readings or reported, never duplicated, followed up by
the route's rule, and handled.

One unhandled (open or confirmed) anomaly per checkpoint and item: seeing it again adds
an occurrence, moves ``last_seen_at`` and links the latest round and visit. A database
constraint backs this; a concurrent insert that loses becomes an update.

The route's rule (``Route.anomaly_action``) opens a follow-up for a new anomaly:
- a work order (``field.orders.create_work_order``) of type inspection follow-up at the
  route's site, for the checkpoint's asset, at the anomaly's priority, for the route's
  anomaly team; the engineer who found the anomaly may open it without dispatch rights
  (``follow_up_of``), and it is routed by the dispatch rules when a dispatcher opens it;
- or a ticket (``desk.tickets.create_ticket``), raised by the system (like IoT intake,
  so the anomaly team's lead or the intake person owns it, not the engineer) on channel
  ``api`` — it comes from another part of Frontline, not a person on the phone or
  portal — with the severity mapped from the priority (urgent S1, high S2, normal S3,
  low S4) and ``external_ref`` ``inspection-anomaly:<id>`` so a retry finds the same
  ticket.
A follow-up that cannot be opened (say, no ticket owner configured) leaves the anomaly
open without one and is logged; the visit that found it is still recorded.

``sync_anomaly_outcomes`` marks anomalies handled once their work order is completed or
closed, or their ticket resolved or closed.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from frontline.core import audit
from frontline.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from frontline.core.locks import lock
from frontline.field.states import Priority, WorkOrderStatus, WorkOrderType
from frontline.inspections import access
from frontline.inspections.models import Anomaly, CheckItem, PointVisit
from frontline.inspections.readings import CleanReading, display
from frontline.inspections.states import (
    UNHANDLED_ANOMALY_STATUSES,
    AnomalyAction,
    AnomalySource,
    AnomalyStatus,
    ItemKind,
    anomaly_can_move,
)

logger = logging.getLogger(__name__)

A = AnomalyStatus
TEXT_LIMIT = 2000
SYNC_BATCH = 5000
SEVERITY_FOR = {
    Priority.URGENT: "S1",
    Priority.HIGH: "S2",
    Priority.NORMAL: "S3",
    Priority.LOW: "S4",
}


# ---------------------------------------------------------------- raising


def _upsert(*, actor, round, checkpoint, item, visit, source, priority, description, value, at):
    """Create the anomaly, or add an occurrence to the unhandled one for this checkpoint
    and item. Returns (anomaly, created)."""
    unhandled = Anomaly.objects.filter(
        checkpoint=checkpoint, item=item, status__in=UNHANDLED_ANOMALY_STATUSES
    )
    for _attempt in range(3):
        existing = unhandled.select_for_update(of=("self",)).first() if item is not None else None
        if existing is not None:
            Anomaly.objects.filter(pk=existing.pk).update(
                occurrences=F("occurrences") + 1, last_seen_at=at, round=round, visit=visit,
                value=value[:500] or existing.value,
            )  # fmt: skip
            existing.refresh_from_db()
            return existing, False
        try:
            with transaction.atomic():
                route = round.route
                anomaly = Anomaly.objects.create(
                    route=route, project_id=route.project_id, customer_id=round.customer_id,
                    checkpoint=checkpoint, item=item, round=round, visit=visit, source=source,
                    priority=priority, description=description, value=value[:500],
                    raised_at=at, last_seen_at=at, raised_by=actor if _is_user(actor) else None,
                )  # fmt: skip
            return anomaly, True
        except IntegrityError:
            continue  # another visit raised it at the same moment: add to theirs
    raise Conflict()


def _is_user(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def _reading_text(item: CheckItem, clean: CleanReading) -> str:
    if item.kind == ItemKind.NUMBER and (
        item.normal_min is not None or item.normal_max is not None
    ):
        low = "" if item.normal_min is None else format(item.normal_min.normalize(), "f")
        high = "" if item.normal_max is None else format(item.normal_max.normalize(), "f")
        return gettext("%(item)s: %(value)s (normal %(low)s–%(high)s)") % {
            "item": item.name, "value": display(clean), "low": low, "high": high,
        }  # fmt: skip
    return gettext("%(item)s: %(value)s") % {"item": item.name, "value": display(clean)}


def raise_for_visit(
    *, actor, round, visit: PointVisit, readings: list[CleanReading]
) -> list[Anomaly]:
    """Anomalies for a visit's abnormal readings (items that raise one), with follow-ups
    for the new ones by the route's rule. Called by ``rounds.record_visit``."""
    out = []
    for clean in readings:
        item = clean.item
        if not clean.is_abnormal or not item.anomaly_when_abnormal:
            continue
        source = (
            AnomalySource.OUT_OF_RANGE
            if item.kind == ItemKind.NUMBER
            else AnomalySource.FAILED_CHECK
        )
        anomaly, created = _upsert(
            actor=actor, round=round, checkpoint=visit.checkpoint, item=item, visit=visit,
            source=source, priority=round.route.anomaly_priority,
            description=_reading_text(item, clean), value=display(clean), at=visit.recorded_at,
        )  # fmt: skip
        if created:
            _auto_follow_up(actor, anomaly)
        out.append(anomaly)
    return out


def _auto_follow_up(actor, anomaly: Anomaly) -> None:
    if anomaly.route.anomaly_action == AnomalyAction.NONE:
        return
    try:
        with transaction.atomic():
            open_follow_up(actor=actor, anomaly=anomaly)
    except DomainError as exc:
        logger.warning("Anomaly %s: follow-up not opened (%s: %s)", anomaly.pk, exc.code, exc)


def report_anomaly(*, actor, round, checkpoint, description, item=None, priority=None) -> Anomaly:
    """An engineer (on their round) or an anomaly handler reports something found wrong."""
    if not (access.is_round_assignee(actor, round) or access.may_handle_anomalies(actor)):
        raise PermissionDenied()
    description = str(description or "").strip()
    errors: dict = {}
    if not description:
        errors["description"] = [_("Describe what is wrong.")]
    elif len(description) > TEXT_LIMIT:
        errors["description"] = [_("At most %(n)d characters.") % {"n": TEXT_LIMIT}]
    if checkpoint is None or checkpoint.route_id != round.route_id:
        errors["checkpoint"] = [_("This checkpoint is not on the round's route.")]
    elif item is not None and item.checkpoint_id != checkpoint.pk:
        errors["item"] = [_("This item is not checked at this checkpoint.")]
    route = round.route
    priority = priority or route.anomaly_priority
    if priority not in Priority.values:
        errors["priority"] = [_("Choose a priority.")]
    if errors:
        raise ValidationFailed(fields=errors)
    if round.status == "cancelled":
        raise Conflict(_("This round was cancelled."), code="round_closed")
    now = timezone.now()
    with transaction.atomic():
        visit = PointVisit.objects.filter(round=round, checkpoint=checkpoint).first()
        anomaly, created = _upsert(
            actor=actor, round=round, checkpoint=checkpoint, item=item, visit=visit,
            source=AnomalySource.REPORTED, priority=priority, description=description,
            value="", at=now,
        )  # fmt: skip
        if created:
            audit.record(actor=actor, instance=anomaly, action=audit.AuditAction.CREATE,
                         changes=audit.snapshot(anomaly, ["status", "priority", "description"]))  # fmt: skip
            _auto_follow_up(actor, anomaly)
    return Anomaly.objects.get(pk=anomaly.pk)


# ---------------------------------------------------------------- follow-up


def _title(anomaly: Anomaly) -> str:
    route, point = anomaly.route, anomaly.checkpoint
    parts = [f"{route.code} {route.name}", f"{point.code} {point.name}"]
    if anomaly.item_id:
        parts.append(f"{anomaly.item.name} {anomaly.value}".strip())
    title = gettext("Inspection anomaly: %(where)s") % {"where": " / ".join(parts)}
    return title[:200]


def _asset(anomaly: Anomaly):
    asset = anomaly.checkpoint.asset
    return asset if asset is not None and asset.site_id == anomaly.route.site_id else None


def _open_work_order(actor, anomaly: Anomaly):
    from frontline.field.orders import create_work_order

    route = anomaly.route
    return create_work_order(
        actor=actor, title=_title(anomaly), site=route.site, customer=route.project.customer,
        type=WorkOrderType.INSPECTION_FOLLOW_UP, description=escape(anomaly.description),
        project=route.project, asset=_asset(anomaly), priority=anomaly.priority,
        team=route.anomaly_team, follow_up_of=anomaly, route=True,
    )  # fmt: skip


def _open_ticket(anomaly: Anomaly):
    from frontline.desk.states import Channel
    from frontline.desk.tickets import create_ticket

    route = anomaly.route
    return create_ticket(
        actor=None, title=_title(anomaly), description=escape(anomaly.description),
        customer=route.project.customer, project=route.project, site=route.site,
        asset=_asset(anomaly), channel=Channel.API,
        severity=SEVERITY_FOR.get(anomaly.priority, "S3"), team=route.anomaly_team,
        external_ref=f"inspection-anomaly:{anomaly.pk}",
    )  # fmt: skip


def open_follow_up(*, actor, anomaly, action=None) -> Anomaly:
    """Open the work order or ticket the route's rule (or ``action``) asks for and link it.
    Anomaly handlers may; so may the engineer who found it. Idempotent per kind."""
    if not (
        access.may_handle_anomalies(actor)
        or (_is_user(actor) and anomaly.raised_by_id == actor.pk and access.may_do_rounds(actor))
    ):
        raise PermissionDenied()
    action = action or anomaly.route.anomaly_action
    if action not in (AnomalyAction.WORK_ORDER, AnomalyAction.TICKET):
        raise ValidationFailed(fields={"action": [_("Choose a work order or a ticket.")]})
    with transaction.atomic():
        a = lock(Anomaly.objects.select_related("route__project__customer", "route__site",
                                                "checkpoint__asset", "item"), anomaly.pk)  # fmt: skip
        if a.status not in UNHANDLED_ANOMALY_STATUSES:
            raise Conflict(_("This anomaly is closed."), code="anomaly_closed",
                           fields={"status": [a.status]})  # fmt: skip
        linked = a.work_order_id if action == AnomalyAction.WORK_ORDER else a.ticket_id
        if linked:
            return a
        if action == AnomalyAction.WORK_ORDER:
            wo = _open_work_order(actor, a)
            Anomaly.objects.filter(pk=a.pk).update(work_order=wo)
            changes = {"work_order": [None, wo.number]}
        else:
            ticket = _open_ticket(a)
            Anomaly.objects.filter(pk=a.pk).update(ticket=ticket)
            changes = {"ticket": [None, ticket.number]}
        audit.record(actor=actor, instance=a, action=audit.AuditAction.ACTION, verb="follow_up",
                     changes=changes)  # fmt: skip
    return Anomaly.objects.get(pk=a.pk)


# ---------------------------------------------------------------- handling


def _move(*, actor, anomaly, new: str, verb: str, **fields) -> Anomaly:
    if not access.may_handle_anomalies(actor):
        raise PermissionDenied()
    with transaction.atomic():
        a = lock(Anomaly, anomaly.pk)
        old = a.status
        if not anomaly_can_move(old, new):
            raise Conflict(
                _("This anomaly is %(status)s: it cannot become %(new)s.")
                % {"status": a.get_status_display(), "new": AnomalyStatus(new).label},
                code="illegal_transition",
                fields={"status": [old]},
            )
        if not Anomaly.objects.filter(pk=a.pk, status=old).update(status=new, **fields):
            raise Conflict()
        changes = {"status": [old, new]}
        changes.update({k: [None, str(v)] for k, v in fields.items() if isinstance(v, str)})
        audit.record(actor=actor, instance=a, action=audit.AuditAction.ACTION, verb=verb,
                     changes=changes)  # fmt: skip
    return Anomaly.objects.get(pk=a.pk)


def _required_text(value, name: str, message) -> str:
    text = str(value or "").strip()
    if not text:
        raise ValidationFailed(fields={name: [message]})
    if len(text) > TEXT_LIMIT:
        raise ValidationFailed(fields={name: [_("At most %(n)d characters.") % {"n": TEXT_LIMIT}]})
    return text


def confirm_anomaly(*, actor, anomaly) -> Anomaly:
    """open → confirmed: a handler agrees something is wrong."""
    return _move(actor=actor, anomaly=anomaly, new=A.CONFIRMED, verb="confirm",
                 confirmed_at=timezone.now(), confirmed_by=actor)  # fmt: skip


def dismiss_anomaly(*, actor, anomaly, reason) -> Anomaly:
    """open/confirmed → dismissed (a false alarm), with the reason."""
    reason = _required_text(reason, "reason", _("Say why this is not an anomaly."))
    return _move(actor=actor, anomaly=anomaly, new=A.DISMISSED, verb="dismiss", resolution=reason)


def handle_anomaly(*, actor, anomaly, resolution) -> Anomaly:
    """open/confirmed → handled, saying what was done."""
    resolution = _required_text(resolution, "resolution", _("Say what was done."))
    return _move(actor=actor, anomaly=anomaly, new=A.HANDLED, verb="handle",
                 resolution=resolution, handled_at=timezone.now(), handled_by=actor)  # fmt: skip


def sync_anomaly_outcomes(*, now=None) -> int:
    """Beat job: unhandled anomalies whose work order is completed or closed, or whose
    ticket is resolved or closed, become handled. Set-based; returns how many."""
    now = now or timezone.now()
    done_wo = [WorkOrderStatus.COMPLETED, WorkOrderStatus.CLOSED]
    done_ticket = ["resolved", "closed"]
    total = 0
    for condition in (
        {"work_order__status__in": done_wo},
        {"ticket__status__in": done_ticket},
    ):
        while True:
            ids = list(
                Anomaly.objects.filter(
                    status__in=UNHANDLED_ANOMALY_STATUSES, **condition
                ).values_list("pk", flat=True)[:SYNC_BATCH]
            )
            if not ids:
                break
            total += Anomaly.objects.filter(
                pk__in=ids, status__in=UNHANDLED_ANOMALY_STATUSES
            ).update(status=A.HANDLED, handled_at=now)
            if len(ids) < SYNC_BATCH:
                break
    return total
