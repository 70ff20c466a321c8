"""Business-time arithmetic, property-tested over random calendars, zones and holidays."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frontline.desk.calendars import (
    Calendar,
    add_business_minutes,
    add_business_time,
    business_minutes_between,
    business_time_between,
    is_working_moment,
    working_intervals,
)

ZONES = ["UTC", "Asia/Shanghai", "Europe/Berlin", "America/New_York"]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def day_periods(draw):
    cuts = sorted(draw(st.sets(st.integers(0, 24 * 4), max_size=6)))
    # Pairs of quarter-hour cuts become periods (sometimes none: a day off).
    pairs = list(zip(cuts[::2], cuts[1::2], strict=False))
    return tuple((a * 15, b * 15) for a, b in pairs if b > a)


@st.composite
def calendars(draw, allow_24x7=True):
    periods = tuple(draw(day_periods()) for _ in range(7))
    if not any(periods):
        periods = (((540, 1080),), *periods[1:])
    closed = draw(st.frozensets(st.dates(dt.date(2025, 12, 1), dt.date(2027, 2, 1)), max_size=20))
    return Calendar(
        time_zone=draw(st.sampled_from(ZONES)),
        is_24x7=draw(st.booleans()) if allow_24x7 else False,
        periods=periods,
        closed_dates=closed,
        use_china_holidays=draw(st.booleans()),
    )


moments = st.datetimes(
    min_value=dt.datetime(2025, 12, 1),
    max_value=dt.datetime(2027, 1, 31),
    timezones=st.just(dt.UTC),
)
minutes = st.integers(min_value=0, max_value=30_000)


@FAST
@given(calendars(), moments, minutes)
def test_adding_then_measuring_gives_the_same_minutes(calendar, start, amount):
    end = add_business_minutes(calendar, start, amount)
    assert business_minutes_between(calendar, start, end) == amount
    assert business_time_between(calendar, start, end) == dt.timedelta(minutes=amount)


@FAST
@given(calendars(), moments, minutes, minutes)
def test_more_minutes_never_end_earlier(calendar, start, a, b):
    low, high = sorted((a, b))
    assert add_business_minutes(calendar, start, low) <= add_business_minutes(calendar, start, high)


@FAST
@given(calendars(), moments, moments, minutes)
def test_a_later_start_never_ends_earlier(calendar, s1, s2, amount):
    early, late = sorted((s1, s2))
    assert add_business_minutes(calendar, early, amount) <= add_business_minutes(
        calendar, late, amount
    )


@FAST
@given(calendars(allow_24x7=False), moments, st.integers(1, 30_000))
def test_a_deadline_lies_in_working_time_or_exactly_at_a_period_end(calendar, start, amount):
    end = add_business_minutes(calendar, start, amount)
    local_day = end.astimezone(calendar.tz).date()
    ends = {
        b
        for day in (local_day - dt.timedelta(days=1), local_day)
        for _a, b in working_intervals(calendar, day)
    }
    assert is_working_moment(calendar, end) or end in ends


@FAST
@given(calendars(), moments, moments, moments)
def test_measuring_is_additive(calendar, a, b, c):
    a, b, c = sorted((a, b, c))
    whole = business_time_between(calendar, a, c)
    assert whole == business_time_between(calendar, a, b) + business_time_between(calendar, b, c)
    assert whole <= c - a


@FAST
@given(st.sampled_from(ZONES), moments, minutes)
def test_24x7_counts_wall_clock_minutes(zone, start, amount):
    calendar = Calendar(time_zone=zone, is_24x7=True, closed_dates=frozenset({start.date()}))
    assert add_business_minutes(calendar, start, amount) == start + dt.timedelta(minutes=amount)
    assert business_minutes_between(calendar, start, start + dt.timedelta(minutes=amount)) == amount


@FAST
@given(calendars(allow_24x7=False), moments, st.integers(0, 5000), st.integers(0, 5000))
def test_adding_in_two_steps_equals_adding_once(calendar, start, a, b):
    halfway = add_business_time(calendar, start, dt.timedelta(minutes=a))
    once = add_business_time(calendar, start, dt.timedelta(minutes=a + b))
    if b:
        assert add_business_time(calendar, halfway, dt.timedelta(minutes=b)) == once


def test_a_year_of_business_minutes_is_fast():
    calendar = Calendar.weekly(
        [(dt.time(9), dt.time(12)), (dt.time(13), dt.time(18))],
        time_zone="Asia/Shanghai",
        use_china_holidays=True,
    )
    start = dt.datetime(2026, 1, 5, 1, tzinfo=dt.UTC)
    end = add_business_minutes(calendar, start, 365 * 24 * 60)
    # Eight hours a working day: a year of business minutes is about four calendar years.
    assert dt.datetime(2030, 1, 1, tzinfo=dt.UTC) < end < dt.datetime(2031, 6, 1, tzinfo=dt.UTC)
    assert business_minutes_between(calendar, start, end) == 365 * 24 * 60


# ---------------------------------------------------------------- against a plain walk


def walk_add(calendar: Calendar, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
    """Adding by walking day by day through the working intervals: the obvious way,
    kept here as the oracle the bisection in the calendar's span must agree with."""
    if amount <= dt.timedelta(0):
        return start
    if calendar.is_24x7:
        return start + amount
    remaining, cursor = amount, start
    day = start.astimezone(calendar.tz).date() - dt.timedelta(days=1)
    while True:
        for a, b in working_intervals(calendar, day):
            if b <= cursor:
                continue
            begin = max(a, cursor)
            if remaining <= b - begin:
                return begin + remaining
            remaining -= b - begin
            cursor = b
        day += dt.timedelta(days=1)


def walk_between(calendar: Calendar, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    if end <= start:
        return dt.timedelta(0)
    if calendar.is_24x7:
        return end - start
    total, cursor = dt.timedelta(0), start
    day = start.astimezone(calendar.tz).date() - dt.timedelta(days=1)
    while day <= end.astimezone(calendar.tz).date():
        for a, b in working_intervals(calendar, day):
            overlap = min(b, end) - max(a, cursor)
            if overlap > dt.timedelta(0):
                total += overlap
                cursor = min(b, end)
        day += dt.timedelta(days=1)
    return total


@FAST
@given(calendars(), st.lists(st.tuples(moments, minutes, moments), min_size=1, max_size=6))
def test_one_calendar_answers_like_a_walk_whatever_it_was_asked_before(calendar, questions):
    # The same calendar object is asked several things in a row (its span of days is
    # built for the first and widened, earlier and later, by the others)
    for start, amount, other in questions:
        assert add_business_minutes(calendar, start, amount) == walk_add(
            calendar, start, dt.timedelta(minutes=amount)
        )
        early, late = sorted((start, other))
        assert business_time_between(calendar, early, late) == walk_between(calendar, early, late)


def test_a_deadline_years_ahead_widens_the_span_and_agrees_with_a_walk():
    calendar = Calendar.weekly(
        [(dt.time(9), dt.time(18))], time_zone="Asia/Shanghai", use_china_holidays=True
    )
    start = dt.datetime(2026, 9, 30, 8, tzinfo=dt.UTC)  # the eve of the National Day week
    near = add_business_minutes(calendar, start, 60)
    far = add_business_minutes(calendar, start, 200 * 9 * 60)  # 200 working days
    assert near == walk_add(calendar, start, dt.timedelta(minutes=60))
    assert far == walk_add(calendar, start, dt.timedelta(minutes=200 * 9 * 60))
    assert business_minutes_between(calendar, start, far) == 200 * 9 * 60
