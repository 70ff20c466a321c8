"""When rounds happen: a schedule's time slots, the beat job that creates rounds ahead,
and ad hoc rounds.

Times are local to the route's site (``Site.time_zone``, else ``settings.TIME_ZONE``)
and stored in UTC. Daily, weekly and every-shift times are wall-clock times (an 08:00
round stays at 08:00 across a DST change; a time that does not exist that day moves
forward by the gap, an ambiguous one takes its first occurrence). Every-N-hours counts
elapsed hours from an anchor: ``times[0]`` (else 00:00) on ``starts_on``.

Generation is idempotent: the unique (schedule, window start) constraint and an
existence check mean a second run creates nothing. It continues from the schedule's
``generated_until`` up to now + ``INSPECTIONS_GENERATE_AHEAD_HOURS``. After downtime it
catches up at most ``CATCH_UP`` (one day) back: those windows are created and, being
closed already, the overdue sweep marks them missed. Older windows are not created —
nobody could have walked them, and a flood of missed rounds would only punish the
engineers for our outage.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from frontline.accounts.roles import Cap
from frontline.core.errors import PermissionDenied, ValidationFailed
from frontline.field import access as field_access
from frontline.inspections import access
from frontline.inspections.models import Round, Schedule
from frontline.inspections.states import RoundStatus, ScheduleKind
from frontline.notifications.services import Notice, notify_many

CATCH_UP = dt.timedelta(days=1)
DEFAULT_AHEAD_HOURS = 48


def _zone(schedule: Schedule) -> zoneinfo.ZoneInfo:
    name = getattr(schedule.route.site, "time_zone", "") or settings.TIME_ZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def parse_time(value) -> dt.time | None:
    """ "HH:MM" (or "HH:MM:SS") → time; anything else → None."""
    try:
        parts = [int(p) for p in str(value).strip().split(":")]
    except ValueError:
        return None
    if len(parts) not in (2, 3) or not 0 <= parts[0] <= 23 or not 0 <= parts[1] <= 59:
        return None
    return dt.time(parts[0], parts[1])


def _times(schedule: Schedule) -> list[dt.time]:
    parsed = {t for t in (parse_time(v) for v in (schedule.times or [])) if t is not None}
    return sorted(parsed)


def _local(day: dt.date, at: dt.time, tz) -> dt.datetime:
    """Wall-clock time on ``day`` in ``tz``, as UTC (normalising a non-existent time)."""
    naive = dt.datetime.combine(day, at)
    aware = naive.replace(tzinfo=tz)
    return aware.astimezone(dt.UTC)


def _in_term(schedule: Schedule, day: dt.date) -> bool:
    return schedule.starts_on <= day and (schedule.ends_on is None or day <= schedule.ends_on)


def _wall_clock_starts(schedule: Schedule, start: dt.datetime, end: dt.datetime, tz):
    first = start.astimezone(tz).date() - dt.timedelta(days=1)
    last = end.astimezone(tz).date()
    times = _times(schedule)
    weekdays = {d for d in (schedule.weekdays or []) if isinstance(d, int)}
    day = max(first, schedule.starts_on)
    while day <= last:
        if _in_term(schedule, day) and (
            schedule.kind != ScheduleKind.WEEKLY or day.weekday() in weekdays
        ):
            for at in times:
                yield _local(day, at, tz)
        day += dt.timedelta(days=1)


def _hourly_starts(schedule: Schedule, start: dt.datetime, end: dt.datetime, tz):
    step = dt.timedelta(hours=schedule.every_hours or 0)
    if step <= dt.timedelta(0):
        return
    times = _times(schedule)
    anchor = _local(schedule.starts_on, times[0] if times else dt.time(0, 0), tz)
    k = max(0, math.ceil((start - anchor) / step))
    at = anchor + k * step
    while at < end:
        if _in_term(schedule, at.astimezone(tz).date()):
            yield at
        elif schedule.ends_on is not None and at.astimezone(tz).date() > schedule.ends_on:
            return
        at += step


def slots(
    schedule: Schedule, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The schedule's windows ``(opens, closes)`` whose opening falls in [start, end), in UTC.
    Empty for an inactive schedule or route."""
    if not schedule.is_active or not schedule.route.is_active or end <= start:
        return []
    tz = _zone(schedule)
    if schedule.kind == ScheduleKind.EVERY_N_HOURS:
        starts = _hourly_starts(schedule, start, end, tz)
    else:
        starts = _wall_clock_starts(schedule, start, end, tz)
    length = dt.timedelta(minutes=schedule.window_minutes)
    return [(s, s + length) for s in sorted({s for s in starts if start <= s < end})]


# ---------------------------------------------------------------- generation


def _ahead(ahead_hours) -> dt.timedelta:
    hours = ahead_hours
    if hours is None:
        hours = getattr(settings, "INSPECTIONS_GENERATE_AHEAD_HOURS", DEFAULT_AHEAD_HOURS)
    return dt.timedelta(hours=max(1, int(hours)))


def _new_round(schedule: Schedule, opens, closes, planned: int) -> Round:
    route = schedule.route
    return Round(
        route=route,
        schedule=schedule,
        project_id=route.project_id,
        customer_id=route.project.customer_id,
        window_start=opens,
        window_end=closes,
        team_id=schedule.team_id,
        assignee_id=None if schedule.offer_for_grab else schedule.engineer_id,
        offered=schedule.offer_for_grab,
        points_planned=planned,
    )


def _generate_one(schedule: Schedule, now: dt.datetime, horizon: dt.datetime) -> list[Round]:
    frm = schedule.generated_until or (now - dt.timedelta(minutes=schedule.window_minutes))
    frm = max(frm, now - CATCH_UP)
    windows = slots(schedule, frm, horizon)
    with transaction.atomic():
        if windows:
            have = set(
                Round.objects.filter(
                    schedule=schedule,
                    window_start__gte=windows[0][0],
                    window_start__lte=windows[-1][0],
                ).values_list("window_start", flat=True)
            )
            planned = schedule.route.checkpoints.filter(is_active=True).count()
            fresh = [_new_round(schedule, o, c, planned) for o, c in windows if o not in have]
            # ignore_conflicts: a generator running at the same time inserts nothing twice.
            Round.objects.bulk_create(fresh, ignore_conflicts=True)
        else:
            fresh = []
        Schedule.objects.filter(pk=schedule.pk).update(generated_until=horizon)
    return fresh


def _due_schedules(now: dt.datetime, horizon: dt.datetime):
    return (
        Schedule.objects.filter(is_active=True, route__is_active=True)
        .filter(Q(generated_until__isnull=True) | Q(generated_until__lt=horizon))
        .filter(starts_on__lte=horizon.date() + dt.timedelta(days=1))
        .filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=(now - CATCH_UP).date() - dt.timedelta(days=1))
        )
        .select_related("route__site", "route__project")
        .order_by("pk")
    )


def generate_rounds(*, now=None, ahead_hours=None) -> int:
    """Create every active schedule's rounds up to ``ahead_hours`` ahead; returns how many
    were created. Running it again creates nothing new."""
    now = now or timezone.now()
    horizon = now + _ahead(ahead_hours)
    created = 0
    offered: list[tuple[int, dt.datetime]] = []
    for schedule in _due_schedules(now, horizon).iterator(chunk_size=200):
        fresh = _generate_one(schedule, now, horizon)
        created += len(fresh)
        offered.extend(
            (r.schedule_id, r.window_start) for r in fresh if r.offered and r.window_end > now
        )
    if offered:
        _announce_created(offered)
    return created


def _announce_created(keys: list[tuple[int, dt.datetime]]) -> None:
    """bulk_create with ignore_conflicts sets no ids: read the new offered rounds back."""
    schedules = {s for s, _w in keys}
    wanted = set(keys)
    found = Round.objects.filter(
        schedule_id__in=schedules, offered=True, window_start__in={w for _s, w in keys}
    ).select_related("route")
    with transaction.atomic():
        announce_offers([r for r in found if (r.schedule_id, r.window_start) in wanted])


# ---------------------------------------------------------------- offers


def _offer_pool(team_ids) -> dict[int, list]:
    """{team id: its active members who do field work}."""
    from frontline.accounts.models import Team

    pool: dict[int, list] = {}
    for team in Team.objects.filter(pk__in=team_ids, is_active=True).prefetch_related("members"):
        pool[team.pk] = [
            u for u in team.members.all() if u.is_active and u.has_capability(Cap.DO_FIELD_WORK)
        ]
    return pool


def _away(profiles, day: dt.date, cache: dict) -> set[int]:
    from frontline.field.engineers import availability

    if day not in cache:
        cache[day] = {pk for pk, period in availability(profiles, day).items() if period is None}
    return cache[day]


def _round_url(r: Round) -> str:
    try:
        return r.get_absolute_url()
    except NoReverseMatch:
        return ""


def announce_offers(rounds) -> int:
    """Tell each offered round's team (engineers not on leave or off that day) that it is
    up for grabs, as the field-service grab offers do; the first claim wins."""
    from frontline.field.models import EngineerProfile

    rounds = [r for r in rounds if r.team_id]
    pool = _offer_pool({r.team_id for r in rounds})
    people = {u.pk for members in pool.values() for u in members}
    profiles = list(EngineerProfile.objects.filter(user_id__in=people))
    cache: dict = {}
    notices = []
    for r in rounds:
        away = _away(profiles, timezone.localdate(r.window_start), cache)
        recipients = [u for u in pool.get(r.team_id, []) if u.pk not in away]
        if recipients:
            at = timezone.localtime(r.window_start).strftime("%m-%d %H:%M")
            title = _("Inspection round on offer: %(route)s %(at)s") % {
                "route": r.route.code,
                "at": at,
            }
            notices.append(
                Notice(
                    recipients,
                    "round_offer",
                    title,
                    r.route.name,
                    _round_url(r),
                    f"round-offer:{r.pk}",
                )  # fmt: skip
            )
    return notify_many(notices) if notices else 0


# ---------------------------------------------------------------- ad hoc


def create_round(*, actor, route, window_start, window_end, assignee=None, team=None) -> Round:
    """An ad hoc round outside the schedules (route managers and dispatchers)."""
    if not (access.may_manage_routes(actor) or field_access.may_dispatch(actor)):
        raise PermissionDenied()
    errors: dict = {}
    if window_start is None or window_end is None or window_end <= window_start:
        errors["window_end"] = [_("The window must end after it starts.")]
    elif window_end - window_start > dt.timedelta(days=7):
        errors["window_end"] = [_("A window lasts at most 7 days.")]
    if not route.is_active:
        errors["route"] = [_("This route is retired.")]
    if assignee is not None and not access.may_do_rounds(assignee):
        errors["assignee"] = [_("Choose an active engineer.")]
    if team is not None and not team.is_active:
        errors["team"] = [_("No such team.")]
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        return Round.objects.create(
            route=route,
            project_id=route.project_id,
            customer_id=route.project.customer_id,
            window_start=window_start,
            window_end=window_end,
            team=team,
            assignee=assignee,
            status=RoundStatus.SCHEDULED,
            points_planned=route.checkpoints.filter(is_active=True).count(),
        )
