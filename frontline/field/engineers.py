"""Engineers as dispatch sees them: effective skills, availability, eligibility, positions."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.accounts.models import EngineerSkill, User
from frontline.core.errors import ValidationFailed
from frontline.field import access
from frontline.field.geo import haversine_m, travel_minutes
from frontline.field.models import (
    Certification,
    EngineerProfile,
    Leave,
    PositionPing,
    Shift,
    WorkOrder,
    WorkOrderEvent,
)
from frontline.field.states import EventKind, WorkOrderStatus

# An ETA moves the customer's timeline only when it changes by at least this much.
ETA_EVENT_MINUTES = 10


def effective_skills(user_ids, day: dt.date) -> dict[int, dict[int, int]]:
    """{user id: {skill id: level}} as of ``day``: a skill that needs a certification
    counts only while one of the engineer's certifications for it is valid. Two queries."""
    user_ids = list(user_ids)
    held: dict[int, dict[int, int]] = defaultdict(dict)
    needs_cert: set[tuple[int, int]] = set()
    for uid, skill_id, level, requires in EngineerSkill.objects.filter(
        user_id__in=user_ids
    ).values_list("user_id", "skill_id", "level", "skill__requires_certification"):
        held[uid][skill_id] = level
        if requires:
            needs_cert.add((uid, skill_id))
    if needs_cert:
        valid = set(
            Certification.objects.filter(user_id__in=user_ids)
            .valid_on(day)
            .values_list("user_id", "skill_id")
        )
        for uid, skill_id in needs_cert - valid:
            held[uid].pop(skill_id, None)
    return {uid: held.get(uid, {}) for uid in user_ids}


def required_skills(work_orders) -> dict[int, dict[int, int]]:
    """{work order id: {skill id: min level}} for prefetched or plain work orders."""
    out: dict[int, dict[int, int]] = {}
    for wo in work_orders:
        out[wo.pk] = {r.skill_id: r.min_level for r in wo.required_skills.all()}
    return out


def qualifies(held: dict[int, int], needed: dict[int, int]) -> bool:
    return all(held.get(skill, 0) >= level for skill, level in needed.items())


@dataclass(frozen=True)
class Availability:
    start: dt.datetime
    end: dt.datetime


def availability(profiles, day: dt.date) -> dict[int, Availability | None]:
    """{user id: working period on ``day`` or None (leave, day off)}. Two queries."""
    profiles = list(profiles)
    ids = [p.user_id for p in profiles]
    shifts = {s.user_id: s for s in Shift.objects.filter(user_id__in=ids, date=day)}
    away = set(
        Leave.objects.filter(user_id__in=ids, first_day__lte=day, last_day__gte=day).values_list(
            "user_id", flat=True
        )
    )
    tz = timezone.get_current_timezone()
    out: dict[int, Availability | None] = {}
    for p in profiles:
        if p.user_id in away or not p.is_active:
            out[p.user_id] = None
            continue
        shift = shifts.get(p.user_id)
        if shift is not None:
            start, end = shift.start, shift.end
        elif day.weekday() >= 5 and not p.works_weekends:
            out[p.user_id] = None
            continue
        else:
            start, end = p.workday_start, p.workday_end
        out[p.user_id] = Availability(
            dt.datetime.combine(day, start, tzinfo=tz), dt.datetime.combine(day, end, tzinfo=tz)
        )
    return out


def position_of(profile) -> tuple[float, float]:
    """Last known position, else the home base."""
    if profile.last_latitude is not None and profile.last_longitude is not None:
        return float(profile.last_latitude), float(profile.last_longitude)
    return float(profile.home_latitude), float(profile.home_longitude)


def site_point(site) -> tuple[float, float] | None:
    if site is None or site.latitude is None or site.longitude is None:
        return None
    return float(site.latitude), float(site.longitude)


def eligible_engineers(work_order, *, now=None, radius_km=None, pool=None) -> list[User]:
    """Engineers who may take ``work_order`` now: active, qualified (valid certifications),
    working that day, within their (or the offer's) radius of the site, and — for an
    order sent to a partner outlet — of that outlet."""
    now = now or timezone.now()
    day = timezone.localdate(work_order.window_start or now)
    profiles = EngineerProfile.objects.filter(is_active=True, user__is_active=True).select_related(
        "user"
    )
    if pool is not None:
        profiles = profiles.filter(user__in=pool)
    if work_order.partner_id:
        profiles = profiles.filter(user__membership__organization_id=work_order.partner_id)
    else:
        profiles = profiles.filter(user__membership__organization__kind="operator")
    profiles = list(profiles)
    skills = effective_skills([p.user_id for p in profiles], day)
    needed = {r.skill_id: r.min_level for r in work_order.required_skills.all()}
    hours = availability(profiles, day)
    target = site_point(work_order.site)
    out = []
    for p in profiles:
        if not qualifies(skills[p.user_id], needed) or hours[p.user_id] is None:
            continue
        if target is not None:
            limit = (radius_km or p.offer_radius_km) * 1000
            if haversine_m(*position_of(p), *target) > limit:
                continue
        out.append(p.user)
    return out


def _coordinate(value, low: int, high: int, name: str, errors: dict):
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        errors[name] = [_("Give a number.")]
        return None
    if not number.is_finite() or not low <= number <= high:
        errors[name] = [_("Must be between %(low)s and %(high)s.") % {"low": low, "high": high}]
        return None
    return number.quantize(Decimal("0.000001"))


def parse_position(latitude, longitude) -> tuple[Decimal, Decimal]:
    errors: dict = {}
    lat = _coordinate(latitude, -90, 90, "latitude", errors)
    lon = _coordinate(longitude, -180, 180, "longitude", errors)
    if errors:
        raise ValidationFailed(fields=errors)
    return lat, lon


def record_position(
    *, actor, latitude, longitude, accuracy_m=None, recorded_at=None, client_id=None
) -> PositionPing:
    """Store a position ping from the engineer's phone and move their open orders' ETAs.

    A repeated ``client_id`` returns the first ping (a retry from a flaky network)."""
    access.require(access.may_do_field_work(actor))
    lat, lon = parse_position(latitude, longitude)
    now = timezone.now()
    recorded_at = recorded_at or now
    if recorded_at > now + dt.timedelta(minutes=5):
        raise ValidationFailed(fields={"recorded_at": [_("This time is in the future.")]})
    if client_id is not None:
        try:
            client_id = uuid.UUID(str(client_id))
        except ValueError:
            raise ValidationFailed(fields={"client_id": [_("Give a UUID.")]})
        existing = PositionPing.objects.filter(client_id=client_id).first()
        if existing is not None:
            if existing.user_id != actor.pk:
                raise ValidationFailed(
                    fields={"client_id": [_("This client id was already used.")]}
                )
            return existing
    profile = EngineerProfile.objects.filter(user=actor).first()
    if profile is None:
        raise ValidationFailed(_("You have no engineer profile yet; ask your dispatcher."))
    with transaction.atomic():
        try:
            with transaction.atomic():
                ping = PositionPing.objects.create(
                    user=actor,
                    latitude=lat,
                    longitude=lon,
                    accuracy_m=accuracy_m,
                    recorded_at=recorded_at,
                    client_id=client_id,
                )
        except IntegrityError:
            existing = PositionPing.objects.filter(client_id=client_id, user=actor).first()
            if existing is None:
                raise ValidationFailed(
                    fields={"client_id": [_("This client id was already used.")]}
                )
            return existing
        if profile.last_position_at is None or recorded_at >= profile.last_position_at:
            EngineerProfile.objects.filter(pk=profile.pk).update(
                last_latitude=lat, last_longitude=lon, last_position_at=recorded_at
            )
            refresh_etas(actor, (float(lat), float(lon)), recorded_at)
    return ping


def refresh_etas(engineer, position, at) -> int:
    """Recompute the ETA of the engineer's order on the way (or next in line) from a
    position. A public ETA event is written when the ETA moves by ETA_EVENT_MINUTES."""
    order = (
        WorkOrder.objects.filter(
            assignee=engineer,
            status__in=[WorkOrderStatus.EN_ROUTE, WorkOrderStatus.ACCEPTED],
        )
        .select_related("site")
        .order_by("-status", "planned_start", "window_start", "id")  # en_route sorts first
        .first()
    )
    if order is None or site_point(order.site) is None:
        return 0
    minutes = travel_minutes(haversine_m(*position, *site_point(order.site)))
    eta = at + dt.timedelta(minutes=minutes)
    if order.status == WorkOrderStatus.ACCEPTED and order.planned_start:
        eta = max(eta, order.planned_start)
    moved = order.eta is None or abs((eta - order.eta).total_seconds()) >= ETA_EVENT_MINUTES * 60
    WorkOrder.objects.filter(pk=order.pk).update(eta=eta)
    if moved:
        WorkOrderEvent.objects.create(
            work_order=order,
            kind=EventKind.ETA,
            public=True,
            author=engineer,
            data={"eta": eta.isoformat()},
        )
    return 1
