"""Schedules: slots per kind in the site's time zone, idempotent generation, catch-up,
offers to the team, ad hoc rounds."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from frontline.core.errors import PermissionDenied, ValidationFailed
from frontline.inspections import rounds, schedules
from frontline.inspections.models import Round
from frontline.inspections.states import RoundStatus, ScheduleKind
from frontline.inspections.tests import factories as fi
from frontline.notifications.models import Notification
from frontline.testing import factories as f

pytestmark = pytest.mark.django_db

SH = zoneinfo.ZoneInfo("Asia/Shanghai")
NY = zoneinfo.ZoneInfo("America/New_York")


def at(tz, *args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz).astimezone(dt.UTC)


@pytest.fixture
def route(cast):
    return fi.route(customer=cast.customer_a)


def sched(route, **kw):
    kw.setdefault("starts_on", dt.date(2026, 3, 1))
    return fi.ScheduleFactory(route=route, **kw)


def test_daily_slots_are_local_times(route):
    s = sched(route, kind=ScheduleKind.DAILY, times=["20:00", "08:00"], window_minutes=90)
    got = schedules.slots(s, at(SH, 2026, 3, 10, 0, 0), at(SH, 2026, 3, 11, 0, 0))
    assert got == [
        (at(SH, 2026, 3, 10, 8), at(SH, 2026, 3, 10, 9, 30)),
        (at(SH, 2026, 3, 10, 20), at(SH, 2026, 3, 10, 21, 30)),
    ]


def test_every_shift_uses_shift_starts(route):
    s = sched(route, kind=ScheduleKind.EVERY_SHIFT, times=["00:00", "08:00", "16:00"])
    got = schedules.slots(s, at(SH, 2026, 3, 10), at(SH, 2026, 3, 11))
    assert [o for o, _c in got] == [at(SH, 2026, 3, 10, h) for h in (0, 8, 16)]


def test_weekly_only_on_its_weekdays(route):
    # 2026-03-09 is a Monday
    s = sched(route, kind=ScheduleKind.WEEKLY, weekdays=[0, 3], times=["09:00"])
    got = schedules.slots(s, at(SH, 2026, 3, 9), at(SH, 2026, 3, 16))
    assert [o for o, _c in got] == [at(SH, 2026, 3, 9, 9), at(SH, 2026, 3, 12, 9)]


def test_every_n_hours_from_the_anchor(route):
    s = sched(route, kind=ScheduleKind.EVERY_N_HOURS, every_hours=6, times=["02:00"])
    got = schedules.slots(s, at(SH, 2026, 3, 10, 5), at(SH, 2026, 3, 11, 5))
    assert [o for o, _c in got] == [at(SH, 2026, 3, 10, h) for h in (8, 14, 20)] + [
        at(SH, 2026, 3, 11, 2)
    ]


def test_site_time_zone_and_dst(route):
    # Given a site in New York: clocks go forward on 2026-03-08
    route.site.time_zone = "America/New_York"
    route.site.save()
    s = sched(route, kind=ScheduleKind.DAILY, times=["08:00"])
    got = schedules.slots(s, at(NY, 2026, 3, 7), at(NY, 2026, 3, 10))
    # Then 08:00 local every day, which is 13:00 UTC before and 12:00 UTC after
    assert [o.hour for o, _c in got] == [13, 12, 12]


def test_term_and_active_flags(route):
    s = sched(
        route,
        kind=ScheduleKind.DAILY,
        times=["08:00"],
        starts_on=dt.date(2026, 3, 10),
        ends_on=dt.date(2026, 3, 11),
    )
    got = schedules.slots(s, at(SH, 2026, 3, 8), at(SH, 2026, 3, 14))
    assert [o for o, _c in got] == [at(SH, 2026, 3, 10, 8), at(SH, 2026, 3, 11, 8)]
    s.is_active = False
    assert schedules.slots(s, at(SH, 2026, 3, 8), at(SH, 2026, 3, 14)) == []
    s.is_active = True
    route.is_active = False
    assert schedules.slots(s, at(SH, 2026, 3, 8), at(SH, 2026, 3, 14)) == []


def test_generation_is_idempotent(cast, route):
    # Given a daily schedule of two rounds for the engineer
    team = f.TeamFactory()
    sched(
        route, kind=ScheduleKind.DAILY, times=["08:00", "20:00"], engineer=cast.engineer, team=team
    )
    now = at(SH, 2026, 3, 10, 6)
    # When the generator runs twice
    created = schedules.generate_rounds(now=now, ahead_hours=48)
    again = schedules.generate_rounds(now=now, ahead_hours=48)
    # Then four rounds the first time, none the second
    assert created == 4 and again == 0
    r = Round.objects.order_by("window_start").first()
    assert r.assignee_id == cast.engineer.pk and r.team_id == team.pk and not r.offered
    assert r.points_planned == 3 and r.project_id == route.project_id
    assert r.customer_id == route.project.customer_id
    # And a later run only adds the next windows
    assert schedules.generate_rounds(now=now + dt.timedelta(hours=12), ahead_hours=48) == 1
    assert Round.objects.count() == 5


def test_concurrent_generation_inserts_nothing_twice(route):
    s = sched(route, kind=ScheduleKind.DAILY, times=["08:00"])
    now = at(SH, 2026, 3, 10, 6)
    schedules.generate_rounds(now=now, ahead_hours=48)
    # A second generator that still believes nothing was generated
    s.refresh_from_db()
    s.generated_until = None
    s.save()
    schedules.generate_rounds(now=now, ahead_hours=48)
    assert Round.objects.count() == 2


def test_catch_up_after_downtime_and_sweep(route):
    s = sched(route, kind=ScheduleKind.DAILY, times=["08:00", "20:00"])
    schedules.generate_rounds(now=at(SH, 2026, 3, 10, 6), ahead_hours=12)
    # When the generator was down for three days
    later = at(SH, 2026, 3, 13, 22)
    schedules.generate_rounds(now=later, ahead_hours=12)
    s.refresh_from_db()
    starts = sorted(Round.objects.values_list("window_start", flat=True))
    # Then windows older than one day are not created; the last day's are, and missed
    assert at(SH, 2026, 3, 11, 8) not in starts
    assert at(SH, 2026, 3, 13, 8) in starts and at(SH, 2026, 3, 14, 8) in starts
    rounds.close_overdue_rounds(now=later)
    assert Round.objects.get(window_start=at(SH, 2026, 3, 13, 8)).status == RoundStatus.MISSED
    assert Round.objects.get(window_start=at(SH, 2026, 3, 14, 8)).status == RoundStatus.SCHEDULED


def test_offered_rounds_notify_the_team(cast, route, django_assert_max_num_queries):
    team = f.TeamFactory()
    team.members.add(cast.engineer, cast.dispatcher)
    sched(
        route,
        kind=ScheduleKind.DAILY,
        times=["08:00", "20:00"],
        team=team,
        offer_for_grab=True,
        engineer=cast.engineer,
    )
    with django_assert_max_num_queries(40):
        assert schedules.generate_rounds(now=at(SH, 2026, 3, 10, 6), ahead_hours=48) == 4
    assert Round.objects.filter(offered=True, assignee__isnull=True).count() == 4
    # Only the engineer (field work) is told, once per round
    assert Notification.objects.filter(recipient=cast.engineer, kind="round_offer").count() == 4
    assert not Notification.objects.filter(recipient=cast.dispatcher).exists()


def test_create_round_ad_hoc(cast, route):
    opens = at(SH, 2026, 3, 10, 9)
    with pytest.raises(PermissionDenied):
        schedules.create_round(
            actor=cast.engineer,
            route=route,
            window_start=opens,
            window_end=opens + dt.timedelta(hours=1),
        )
    with pytest.raises(ValidationFailed):
        schedules.create_round(
            actor=cast.manager, route=route, window_start=opens, window_end=opens
        )
    r = schedules.create_round(
        actor=cast.manager,
        route=route,
        window_start=opens,
        window_end=opens + dt.timedelta(hours=1),
        assignee=cast.engineer,
    )
    assert r.schedule_id is None and r.points_planned == 3 and r.assignee_id == cast.engineer.pk
