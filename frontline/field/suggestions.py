"""Ranked engineers for one work order, each with the reasons a dispatcher reads.

For every engineer who could be sent (the outlet's own for an order with a partner
outlet, else the operator's) this works out, in a fixed number of queries whatever
the number of engineers: distance from the last known position (or home base), skill
match and level, the day's load (minutes already assigned against capacity), whether
the working day fits the appointment window, and the certifications behind the
skills. Qualified, working engineers are ranked by a score (lower is better); the
others are listed apart with what stops them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from frontline.accounts.roles import OrganizationKind
from frontline.field.engineers import availability, effective_skills, position_of, site_point
from frontline.field.geo import haversine_m, travel_minutes
from frontline.field.models import Certification, EngineerProfile, WorkOrder
from frontline.field.states import ASSIGNED_STATUSES

# Score weights: a kilometre costs 1; a fully loaded day 30; surplus skill level is a
# small bonus (keep the experts for the hard jobs by *not* weighting it much).
LOAD_WEIGHT = 30.0
LEVEL_BONUS = 1.0
UNKNOWN_DISTANCE_KM = 50.0


@dataclass
class Suggestion:
    engineer: object
    profile: EngineerProfile
    distance_km: float | None
    travel_minutes: int | None
    load_minutes: int
    capacity_minutes: int
    window_fit: bool
    skills: list[dict] = field(default_factory=list)
    certifications: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    score: float = 0.0
    working: tuple[dt.datetime, dt.datetime] | None = None

    @property
    def eligible(self) -> bool:
        return not self.blockers

    @property
    def load_percent(self) -> int:
        return round(100 * self.load_minutes / max(self.capacity_minutes, 1))

    @property
    def reasons(self) -> list[str]:
        out = []
        if self.distance_km is not None:
            out.append(
                _("%(km).1f km away (about %(min)d min)")
                % {"km": self.distance_km, "min": self.travel_minutes}
            )
        for s in self.skills:
            out.append(
                _("%(skill)s level %(level)d (needs %(need)d)")
                % {"skill": s["name"], "level": s["level"], "need": s["needed"]}
            )
        out.append(
            _("%(load)d of %(cap)d minutes booked that day")
            % {"load": self.load_minutes, "cap": self.capacity_minutes}
        )
        if self.working is not None:
            start, end = self.working
            text = _("works %(start)s–%(end)s") % {
                "start": timezone.localtime(start).strftime("%H:%M"),
                "end": timezone.localtime(end).strftime("%H:%M"),
            }
            out.append(text + ("" if self.window_fit else " — " + _("outside the window")))
        out += self.certifications
        return out

    def as_dict(self) -> dict:
        return {
            "engineer": self.engineer.pk,
            "name": self.engineer.display_name or self.engineer.email,
            "eligible": self.eligible,
            "score": round(self.score, 2),
            "distance_km": None if self.distance_km is None else round(self.distance_km, 2),
            "travel_minutes": self.travel_minutes,
            "load_minutes": self.load_minutes,
            "capacity_minutes": self.capacity_minutes,
            "window_fit": self.window_fit,
            "reasons": self.reasons,
            "blockers": self.blockers,
        }


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return start, start + dt.timedelta(days=1)


def booked_minutes(user_ids, day: dt.date, *, exclude=None) -> dict[int, int]:
    """{engineer id: minutes of work already dispatched to them on ``day``}. One query."""
    start, end = day_bounds(day)
    on_day = Q(planned_start__gte=start, planned_start__lt=end) | Q(
        planned_start__isnull=True, window_start__gte=start, window_start__lt=end
    )
    qs = WorkOrder.objects.filter(on_day, assignee_id__in=list(user_ids),
                                  status__in=ASSIGNED_STATUSES)  # fmt: skip
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    rows = qs.values("assignee_id").annotate(minutes=Sum("estimated_minutes")).order_by()
    return {row["assignee_id"]: row["minutes"] or 0 for row in rows}


def jobs_on(day: dt.date, user_ids) -> dict[int, list[WorkOrder]]:
    """{engineer id: their dispatched-or-later orders of ``day`` in time order}. One query."""
    start, end = day_bounds(day)
    on_day = Q(planned_start__gte=start, planned_start__lt=end) | Q(
        planned_start__isnull=True, window_start__gte=start, window_start__lt=end
    )
    out: dict[int, list[WorkOrder]] = {}
    qs = (
        WorkOrder.objects.filter(on_day, assignee_id__in=user_ids, status__in=ASSIGNED_STATUSES)
        .select_related("site")
        .order_by("planned_start", "window_start", "pk")
    )
    for wo in qs:
        out.setdefault(wo.assignee_id, []).append(wo)
    return out


def candidate_profiles(work_order, pool=None):
    profiles = EngineerProfile.objects.filter(is_active=True, user__is_active=True).select_related(
        "user"
    )
    if pool:
        profiles = profiles.filter(user__in=list(pool))
    if work_order.partner_id:
        return profiles.filter(user__membership__organization_id=work_order.partner_id)
    return profiles.filter(user__membership__organization__kind=OrganizationKind.OPERATOR)


def _window_fit(wo, hours) -> bool:
    if hours is None:
        return False
    if wo.window_start is None or wo.window_end is None:
        return True
    latest = hours.end - dt.timedelta(minutes=wo.estimated_minutes)
    return wo.window_start <= latest and wo.window_end >= hours.start


def _certificates(user_ids, skill_ids, day) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if not skill_ids:
        return out
    certs = (
        Certification.objects.filter(user_id__in=user_ids, skill_id__in=skill_ids)
        .valid_on(day)
        .order_by("expires_on")
    )
    for cert in certs:
        until = cert.expires_on.isoformat() if cert.expires_on else _("no expiry")
        out.setdefault(cert.user_id, []).append(
            _("certified: %(name)s (until %(until)s)") % {"name": cert.name, "until": until}
        )
    return out


def _score(s: Suggestion) -> float:
    km = UNKNOWN_DISTANCE_KM if s.distance_km is None else s.distance_km
    surplus = sum(x["level"] - x["needed"] for x in s.skills)
    return km + LOAD_WEIGHT * s.load_minutes / max(s.capacity_minutes, 1) - LEVEL_BONUS * surplus


def suggest(work_order, *, pool=None, now=None, limit: int | None = None) -> list[Suggestion]:
    """Engineers for ``work_order``, best first; those who cannot take it come last with
    their blockers (missing skill or certification, day off, fully booked, too far)."""
    now = now or timezone.now()
    day = timezone.localdate(work_order.window_start or now)
    profiles = list(candidate_profiles(work_order, pool))
    ids = [p.user_id for p in profiles]
    needed = {r.skill_id: (r.min_level, r.skill.name) for r in _required(work_order)}
    held = effective_skills(ids, day)
    hours = availability(profiles, day)
    booked = booked_minutes(ids, day, exclude=work_order.pk)
    certs = _certificates(ids, list(needed), day)
    target = site_point(work_order.site)
    out = []
    for p in profiles:
        s = _one(work_order, p, needed, held[p.user_id], hours[p.user_id], booked, target)
        s.certifications = certs.get(p.user_id, [])
        s.score = _score(s)
        out.append(s)
    out.sort(key=lambda s: (not s.eligible, s.score, s.engineer.pk))
    return out[:limit] if limit else out


def _required(work_order):
    return work_order.required_skills.select_related("skill").order_by("skill__name")


def _one(wo, profile, needed, held, hours, booked, target) -> Suggestion:
    distance_km = minutes = None
    if target is not None:
        metres = haversine_m(*position_of(profile), *target)
        distance_km, minutes = metres / 1000.0, travel_minutes(metres)
    s = Suggestion(
        engineer=profile.user,
        profile=profile,
        distance_km=distance_km,
        travel_minutes=minutes,
        load_minutes=booked.get(profile.user_id, 0),
        capacity_minutes=profile.daily_capacity_minutes,
        window_fit=_window_fit(wo, hours),
        working=None if hours is None else (hours.start, hours.end),
    )
    for skill_id, (level, name) in needed.items():
        has = held.get(skill_id, 0)
        s.skills.append({"name": name, "level": has, "needed": level})
        if has < level:
            s.blockers.append(
                _("lacks %(skill)s level %(level)d (or a valid certification)")
                % {"skill": name, "level": level}
            )
    if hours is None:
        s.blockers.append(_("not working that day"))
    elif not s.window_fit:
        s.blockers.append(_("working hours miss the appointment window"))
    if s.load_minutes + wo.estimated_minutes > s.capacity_minutes:
        s.blockers.append(_("the day is fully booked"))
    return s
