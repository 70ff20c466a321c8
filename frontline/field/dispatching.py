"""Getting a work order to an engineer: assign, send to a partner outlet, offer and claim.

Every path ends in the same place (an assignee and status dispatched or accepted), writes
a public event so the customer sees who is coming, and notifies after commit.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import Organization, User
from frontline.accounts.roles import Cap, OrganizationKind
from frontline.core.errors import Conflict, ValidationFailed
from frontline.core.locks import lock
from frontline.field import access
from frontline.field.engineers import effective_skills, eligible_engineers, qualifies
from frontline.field.events import illegal, move, record
from frontline.field.models import GrabOffer, WorkOrder
from frontline.field.states import (
    ASSIGNED_STATUSES,
    QUEUE_STATUSES,
    DispatchVia,
    EventKind,
    OfferStatus,
    WorkOrderStatus,
)
from frontline.notifications.services import notify

W = WorkOrderStatus
DEFAULT_OFFER_MINUTES = 30
MAX_OFFER_MINUTES = 7 * 24 * 60


def _engineer_label(user) -> str:
    # Written into public events: never the email address.
    return user.display_name or ""


def _tell(recipients, kind: str, title, wo: WorkOrder, key: str) -> None:
    notify(
        recipients=recipients,
        kind=kind,
        title=title,
        body=wo.title,
        url=wo.get_absolute_url(),
        dedupe_key=key,
    )


def check_engineer(work_order: WorkOrder, engineer, *, day=None) -> None:
    """The engineer must be able to do field work, belong to the right organisation
    (the outlet the order was sent to, else the operator) and hold the required skills."""
    if engineer is None or not engineer.is_active or not engineer.has_capability(Cap.DO_FIELD_WORK):
        raise ValidationFailed(fields={"engineer": [_("Choose an active engineer.")]})
    org = engineer.organization
    expected = work_order.partner_id
    if expected is not None and (org is None or org.pk != expected):
        raise ValidationFailed(
            fields={
                "engineer": [_("This order is with a partner outlet: choose one of its engineers.")]
            }
        )
    if expected is None and (org is None or org.kind != OrganizationKind.OPERATOR):
        raise ValidationFailed(fields={"engineer": [_("Choose one of our own engineers.")]})
    day = day or timezone.localdate(work_order.window_start or timezone.now())
    needed = {r.skill_id: r.min_level for r in work_order.required_skills.all()}
    if not qualifies(effective_skills([engineer.pk], day)[engineer.pk], needed):
        raise ValidationFailed(
            _("%(name)s lacks a required skill (or its certification has expired).")
            % {"name": _engineer_label(engineer)},
            code="not_qualified",
            fields={"engineer": [_("Lacks a required skill or a valid certification.")]},
        )


def _close_open_offer(wo: WorkOrder, status: str) -> None:
    GrabOffer.objects.filter(work_order=wo, status=OfferStatus.OPEN).update(status=status)


def dispatch(
    *, actor, work_order, engineer, via=DispatchVia.ASSIGN, planned_start=None, route_position=None
) -> WorkOrder:
    """Give the order to an engineer at once (a dispatcher's decision, a rule or a plan).

    From the queue, an open offer, or another engineer (a reassignment: the previous
    engineer and the customer are told)."""
    with transaction.atomic():
        wo = lock(WorkOrder, work_order.pk)
        # Checked on the locked row: the order may have gone to an outlet since it was read.
        partner_admin = access.partner_admin_of(actor, wo)
        access.require(access.may_dispatch(actor) or partner_admin)
        check_engineer(wo, engineer)
        if wo.status not in QUEUE_STATUSES | ASSIGNED_STATUSES | {W.OFFERED, W.ON_HOLD}:
            raise illegal(wo, W.DISPATCHED)
        if wo.status == W.ON_SITE:
            raise Conflict(_("The engineer is on site; complete or hold the order first."))
        previous = wo.assignee
        if previous is not None and previous.pk == engineer.pk and wo.status in ASSIGNED_STATUSES:
            changes = {"planned_start": planned_start, "route_position": route_position}
            WorkOrder.objects.filter(pk=wo.pk).update(**changes, updated_at=timezone.now())
            return wo
        _close_open_offer(wo, OfferStatus.WITHDRAWN)
        now = timezone.now()
        move(
            wo,
            W.DISPATCHED,
            assignee=engineer,
            dispatched_via=DispatchVia.PARTNER if partner_admin else via,
            dispatched_at=now,
            accepted_at=None,
            planned_start=planned_start,
            route_position=route_position,
            eta=planned_start,
        )
        kind = EventKind.REASSIGNED if previous is not None else EventKind.DISPATCHED
        record(wo, kind, author=actor, public=True,
               data={"engineer": engineer.pk, "name": _engineer_label(engineer), "via": via,
                     "previous": previous.pk if previous else None})  # fmt: skip
        key = f"wo-dispatch:{wo.pk}:{engineer.pk}:{now.timestamp()}"
        _tell([engineer], "work_order_dispatched",
              _("Work order %(n)s is yours") % {"n": wo.number}, wo, key)  # fmt: skip
        if previous is not None and previous.pk != engineer.pk:
            _tell([previous], "work_order_reassigned",
                  _("Work order %(n)s went to someone else") % {"n": wo.number}, wo, key + ":prev")  # fmt: skip
    return wo


def send_to_partner(*, actor, work_order, partner) -> WorkOrder:
    """Hand the order to a partner outlet; its admin assigns one of its engineers."""
    access.require(access.may_dispatch(actor))
    if not isinstance(partner, Organization) or partner.kind != OrganizationKind.PARTNER:
        raise ValidationFailed(fields={"partner": [_("Choose a partner outlet.")]})
    if not partner.is_active:
        raise ValidationFailed(fields={"partner": [_("This outlet is not active.")]})
    with transaction.atomic():
        wo = lock(WorkOrder, work_order.pk)
        if wo.status not in QUEUE_STATUSES | {W.OFFERED, W.DISPATCHED}:
            raise illegal(wo, W.NEW)
        _close_open_offer(wo, OfferStatus.WITHDRAWN)
        changes = {"partner": partner, "assignee": None, "dispatched_via": DispatchVia.PARTNER}
        if wo.status == W.NEW:
            WorkOrder.objects.filter(pk=wo.pk).update(**changes, updated_at=timezone.now())
            for name, value in changes.items():
                setattr(wo, name, value)
        else:
            move(wo, W.NEW, **changes)  # back to a queue: the outlet's
        record(wo, EventKind.PARTNER, author=actor, public=True,
               data={"partner": partner.pk, "name": partner.name})  # fmt: skip
        admins = User.objects.filter(
            membership__organization=partner, membership__role="partner_admin", is_active=True
        )
        _tell(list(admins), "work_order_partner",
              _("New work order %(n)s for your outlet") % {"n": wo.number}, wo,
              f"wo-partner:{wo.pk}:{partner.pk}")  # fmt: skip
    return wo


def _offer_minutes(value) -> int:
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        minutes = 0
    if not 1 <= minutes <= MAX_OFFER_MINUTES:
        raise ValidationFailed(fields={"expires_in_minutes": [_("Between 1 minute and 7 days.")]})
    return minutes


def offer(*, actor, work_order, expires_in_minutes=DEFAULT_OFFER_MINUTES, radius_km=None,
          pool=None) -> GrabOffer:  # fmt: skip
    """Offer the order to every eligible engineer (skills, valid certification, within the
    radius, working that day). The first valid claim wins; unclaimed, it expires back to the
    dispatcher's queue."""
    minutes = _offer_minutes(expires_in_minutes)
    if radius_km is not None:
        try:
            radius_km = int(radius_km)
        except (TypeError, ValueError):
            radius_km = 0
        if not 1 <= radius_km <= 2000:
            raise ValidationFailed(fields={"radius_km": [_("Between 1 and 2000 km.")]})
    with transaction.atomic():
        wo = lock(WorkOrder, work_order.pk)
        access.require(access.may_dispatch(actor) or access.partner_admin_of(actor, wo))
        if wo.status not in QUEUE_STATUSES:
            raise illegal(wo, W.OFFERED)
        recipients = eligible_engineers(wo, radius_km=radius_km, pool=pool)
        if not recipients:
            raise ValidationFailed(
                _("No engineer is eligible for this order (skills, certification, distance or "
                  "working hours)."),
                code="no_eligible_engineer",
            )  # fmt: skip
        move(wo, W.OFFERED, assignee=None)
        now = timezone.now()
        grab = GrabOffer.objects.create(
            work_order=wo,
            radius_km=radius_km,
            expires_at=now + dt.timedelta(minutes=minutes),
            created_by=actor if access.is_user(actor) else None,
        )
        grab.recipients.set(recipients)
        record(wo, EventKind.OFFERED, author=actor,
               data={"offer": grab.pk, "recipients": len(recipients), "minutes": minutes})  # fmt: skip
        _tell(recipients, "work_order_offer",
              _("Work on offer: %(n)s") % {"n": wo.number}, wo, f"wo-offer:{grab.pk}")  # fmt: skip
    return grab


def claim_offer(*, actor, offer_id) -> WorkOrder:
    """The first valid claim wins, atomically; every later or ineligible claim is a 409
    that says why. Compare-and-set on the offer row (status open → claimed)."""
    access.require(access.may_do_field_work(actor))
    now = timezone.now()
    found = GrabOffer.objects.filter(pk=offer_id).values_list("work_order_id", flat=True).first()
    if found is None:
        raise Conflict(_("This offer was not made to you."), code="not_offered")
    with transaction.atomic():
        # The work order row first, as every other path that touches offers does: all
        # claims (and a dispatcher's reassignment) queue up on it, so there is no deadlock.
        wo = lock(WorkOrder, found)
        grab = GrabOffer.objects.select_for_update(of=("self",)).get(pk=offer_id)
        if not grab.recipients.filter(pk=actor.pk).exists():
            raise Conflict(_("This offer was not made to you."), code="not_offered")
        if grab.status == OfferStatus.CLAIMED:
            raise Conflict(_("Someone else already took this work."), code="offer_taken")
        if grab.status != OfferStatus.OPEN or grab.expires_at <= now:
            raise Conflict(_("This offer has expired."), code="offer_expired")
        if wo.status != W.OFFERED:
            raise Conflict(_("This work is no longer on offer."), code="offer_closed")
        try:
            check_engineer(wo, actor)
        except ValidationFailed as exc:
            raise Conflict(exc.message, code="not_eligible")
        won = GrabOffer.objects.filter(pk=grab.pk, status=OfferStatus.OPEN).update(
            status=OfferStatus.CLAIMED, claimed_by=actor, claimed_at=now
        )
        if won != 1:
            raise Conflict(_("Someone else already took this work."), code="offer_taken")
        move(wo, W.ACCEPTED, assignee=actor, dispatched_via=DispatchVia.GRAB, dispatched_at=now,
             accepted_at=now)  # fmt: skip
        record(wo, EventKind.CLAIMED, author=actor, public=True,
               data={"offer": grab.pk, "engineer": actor.pk, "name": _engineer_label(actor)})  # fmt: skip
        if grab.created_by_id:
            _tell([grab.created_by], "work_order_claimed",
                  _("%(name)s took %(n)s") % {"name": _engineer_label(actor), "n": wo.number},
                  wo, f"wo-claimed:{grab.pk}")  # fmt: skip
    return wo


def withdraw_offer(*, actor, work_order) -> WorkOrder:
    """Take an open offer back into the dispatcher's queue."""
    with transaction.atomic():
        wo = lock(WorkOrder, work_order.pk)
        access.require(access.may_dispatch(actor) or access.partner_admin_of(actor, wo))
        if wo.status != W.OFFERED:
            raise illegal(wo, W.NEW)
        _close_open_offer(wo, OfferStatus.WITHDRAWN)
        move(wo, W.NEW)
        record(wo, EventKind.OFFER_EXPIRED, author=actor, data={"withdrawn": True})
    return wo


def expire_offers(*, now=None) -> int:
    """Beat job: offers past their time go back to the queue and the dispatcher is told.
    Idempotent (compare-and-set on both rows)."""
    now = now or timezone.now()
    expired = 0
    due = list(
        GrabOffer.objects.filter(status=OfferStatus.OPEN, expires_at__lte=now).values_list(
            "pk", "work_order_id"
        )[:500]
    )
    for pk, wo_id in due:
        with transaction.atomic():
            wo = lock(WorkOrder, wo_id)  # work order first, as claim_offer does
            if not GrabOffer.objects.filter(pk=pk, status=OfferStatus.OPEN).update(
                status=OfferStatus.EXPIRED
            ):
                continue
            expired += 1
            if wo.status != W.OFFERED:
                continue
            move(wo, W.NEW)
            record(wo, EventKind.OFFER_EXPIRED, data={"offer": pk})
            creator = GrabOffer.objects.filter(pk=pk).values_list("created_by", flat=True).first()
            if creator is not None:
                _tell(User.objects.filter(pk=creator), "work_order_offer_expired",
                      _("Nobody took %(n)s: it is back in the queue") % {"n": wo.number},
                      wo, f"wo-offer-expired:{pk}")  # fmt: skip
    return expired
