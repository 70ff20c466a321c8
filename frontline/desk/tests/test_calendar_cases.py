"""Business calendars on the days people ask about: weekends, 国庆, 调休, night shifts, DST."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from frontline.desk.calendars import (
    Calendar,
    CalendarError,
    add_business_minutes,
    business_minutes_between,
    china_day_kind,
    day_periods,
    is_working_moment,
)
from frontline.desk.models import BusinessCalendar, ClosedDay, WorkingPeriod

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def office(**kwargs) -> Calendar:
    """Monday–Friday 09:00–18:00 in Shanghai."""
    kwargs.setdefault("time_zone", "Asia/Shanghai")
    return Calendar.weekly([(dt.time(9), dt.time(18))], **kwargs)


def sh(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def test_friday_evening_plus_an_hour_is_monday_morning():
    assert add_business_minutes(office(), sh(2026, 3, 13, 17, 30), 60) == sh(2026, 3, 16, 9, 30)


def test_results_are_utc_and_naive_input_is_refused():
    result = add_business_minutes(office(), sh(2026, 3, 16, 9), 30)
    assert result.tzinfo == dt.UTC and result == sh(2026, 3, 16, 9, 30)
    with pytest.raises(ValueError):
        add_business_minutes(office(), dt.datetime(2026, 3, 16, 9), 30)


def test_starting_before_opening_counts_from_opening():
    assert add_business_minutes(office(), sh(2026, 3, 16, 6), 60) == sh(2026, 3, 16, 10)


def test_a_deadline_may_end_exactly_at_closing_time():
    assert add_business_minutes(office(), sh(2026, 3, 16, 17), 60) == sh(2026, 3, 16, 18)
    assert not is_working_moment(office(), sh(2026, 3, 16, 18))


def test_national_day_holiday_is_skipped():
    calendar = office(use_china_holidays=True)
    # 2026-10-01..07 is the National Day holiday; work resumes on Thursday 10-08.
    assert add_business_minutes(calendar, sh(2026, 9, 30, 17), 120) == sh(2026, 10, 8, 10)
    assert business_minutes_between(calendar, sh(2026, 9, 30, 17), sh(2026, 10, 8, 10)) == 120
    # Without holidays the Thursday and Friday of that week would work.
    assert add_business_minutes(office(), sh(2026, 9, 30, 17), 120) == sh(2026, 10, 1, 10)


def test_make_up_saturday_works_with_weekday_hours():
    calendar = office(use_china_holidays=True)
    assert china_day_kind(dt.date(2026, 10, 10)) == "makeup"
    assert day_periods(calendar, dt.date(2026, 10, 10)) == ((540, 1080),)
    # Friday 10-09 17:00 + 2 h → Saturday 10-10 10:00 (调休), not Monday.
    assert add_business_minutes(calendar, sh(2026, 10, 9, 17), 120) == sh(2026, 10, 10, 10)
    assert add_business_minutes(office(), sh(2026, 10, 9, 17), 120) == sh(2026, 10, 12, 10)


def test_make_up_day_keeps_its_own_hours_when_the_calendar_has_them():
    weekday = (540, 1080)
    saturday = (600, 720)
    calendar = Calendar(
        time_zone="Asia/Shanghai",
        periods=(*(((weekday,),) * 5), (saturday,), ()),
        use_china_holidays=True,
    )
    assert day_periods(calendar, dt.date(2026, 10, 10)) == (saturday,)
    # Sunday 2026-09-20 is a make-up workday too; Sunday has no hours, so Monday's apply.
    assert day_periods(calendar, dt.date(2026, 9, 20)) == (weekday,)


def test_statutory_holidays_close_even_a_seven_day_calendar_but_plain_weekends_work():
    calendar = Calendar.weekly(
        [(dt.time(8), dt.time(20))],
        weekdays=range(7),
        time_zone="Asia/Shanghai",
        use_china_holidays=True,
    )
    assert day_periods(calendar, dt.date(2026, 10, 3)) == ()  # a Saturday inside 国庆
    assert day_periods(calendar, dt.date(2026, 10, 17)) == ((480, 1200),)  # a plain Saturday


def test_years_the_holiday_package_does_not_know_fall_back_to_weekdays():
    calendar = office(use_china_holidays=True)
    assert china_day_kind(dt.date(2035, 10, 1)) is None
    # 2035-10-01 is a Monday: without data it is an ordinary working day.
    assert add_business_minutes(calendar, sh(2035, 10, 1, 9), 60) == sh(2035, 10, 1, 10)


def test_custom_closed_days_do_not_work_even_on_make_up_days():
    calendar = office(
        use_china_holidays=True,
        closed_dates=frozenset({dt.date(2026, 3, 16), dt.date(2026, 10, 10)}),
    )
    assert add_business_minutes(calendar, sh(2026, 3, 13, 17, 30), 60) == sh(2026, 3, 17, 9, 30)
    assert day_periods(calendar, dt.date(2026, 10, 10)) == ()


def night_shift(time_zone="Asia/Shanghai") -> Calendar:
    """22:00–06:00 every night, written as two periods per day (22:00–23:59 means to midnight)."""
    return Calendar.weekly(
        [(dt.time(0), dt.time(6)), (dt.time(22), dt.time(23, 59))],
        weekdays=range(7),
        time_zone=time_zone,
    )


def test_night_shift_runs_through_midnight_without_a_gap():
    calendar = night_shift()
    assert add_business_minutes(calendar, sh(2026, 3, 13, 23), 120) == sh(2026, 3, 14, 1)
    assert business_minutes_between(calendar, sh(2026, 3, 13, 23, 30), sh(2026, 3, 14, 0, 30)) == 60
    # From noon: the shift starts at 22:00; 8 h 30 min later it is 06:00 + 30 min next night.
    assert add_business_minutes(calendar, sh(2026, 3, 13, 12), 8 * 60 + 30) == sh(
        2026, 3, 14, 22, 30
    )


def test_night_shift_across_the_spring_forward_night_counts_real_time():
    calendar = night_shift("Europe/Berlin")
    start = dt.datetime(2026, 3, 28, 22, tzinfo=BERLIN)  # clocks go 02:00 → 03:00 on the 29th
    end = dt.datetime(2026, 3, 29, 6, tzinfo=BERLIN)
    assert business_minutes_between(calendar, start, end) == 7 * 60
    assert add_business_minutes(calendar, start, 7 * 60) == end


def test_office_hours_across_a_dst_change_keep_local_opening_times():
    calendar = Calendar.weekly([(dt.time(9), dt.time(17))], time_zone="Europe/Berlin")
    friday = dt.datetime(2026, 3, 27, 16, tzinfo=BERLIN)
    monday_ten = dt.datetime(2026, 3, 30, 10, tzinfo=BERLIN)
    assert add_business_minutes(calendar, friday, 120) == monday_ten
    assert monday_ten.utcoffset() == dt.timedelta(hours=2)


def test_a_calendar_without_working_time_is_an_error():
    with pytest.raises(CalendarError):
        add_business_minutes(Calendar(time_zone="UTC"), sh(2026, 3, 13), 1)
    only_closed_days = Calendar.weekly(
        [(dt.time(9), dt.time(10))],
        weekdays=[0],
        time_zone="UTC",
        closed_dates=frozenset(dt.date(2026, 1, 5) + dt.timedelta(weeks=w) for w in range(5)),
    )
    assert add_business_minutes(only_closed_days, sh(2026, 1, 1), 60) == dt.datetime(
        2026, 2, 9, 10, tzinfo=dt.UTC
    )


def test_describe_reads_like_the_rule():
    assert office(use_china_holidays=True).describe() == ("9×5 Mon–Fri 09:00–18:00, China holidays")
    assert Calendar(is_24x7=True).describe().startswith("24×7")


@pytest.mark.django_db
def test_from_model_reads_rows_with_prefetched_parts(django_assert_num_queries):
    row = BusinessCalendar.objects.create(name="夜班", time_zone="Asia/Shanghai")
    for weekday in range(7):
        WorkingPeriod.objects.create(
            calendar=row, weekday=weekday, start=dt.time(0), end=dt.time(6)
        )
        WorkingPeriod.objects.create(
            calendar=row, weekday=weekday, start=dt.time(22), end=dt.time(23, 59)
        )
    ClosedDay.objects.create(calendar=row, date=dt.date(2026, 2, 17), reason="春节值班调整")
    with django_assert_num_queries(3):
        fetched = BusinessCalendar.objects.prefetch_related("periods", "closed_days").get(pk=row.pk)
        calendar = Calendar.from_model(fetched)
    assert calendar.periods == night_shift().periods
    assert calendar.use_china_holidays and calendar.name == "夜班"
    assert calendar.periods[0] == ((0, 360), (1320, 1440))
    assert calendar.closed_dates == frozenset({dt.date(2026, 2, 17)})
