"""Business calendars as plain values, and business-time arithmetic on them. No database.

A :class:`Calendar` says when the SLA clock runs, in the calendar's own time zone:
working periods per weekday, or round the clock (24×7); optionally the public holidays
and make-up workdays of mainland China (``chinese-calendar``); plus custom closed days.
Times come in and go out as aware datetimes (UTC in the database); days, weekdays and
periods are read in local time, so the arithmetic is right across midnight, weekends,
holidays and daylight-saving changes.

Rules, decided once here:

* A period is ``(start, end)`` in minutes after local midnight, ``0 <= start < end <= 1440``.
  The models cannot store 24:00, so an end of 23:59 or later read from a row means
  "until midnight": a night shift 22:00–06:00 is two periods, 22:00–23:59 on one day
  and 00:00–06:00 on the next, and the clock runs through midnight without a gap.
* 24×7 means every wall-clock minute counts: holidays and closed days do not apply.
* A custom closed day never works, not even when it is a make-up workday.
* With China holidays on, a statutory holiday (weekend days inside the holiday
  included) does not work; an ordinary weekend keeps the calendar's own weekday
  periods (a 7-day calendar still works on plain Saturdays). A make-up workday (调休,
  a Saturday or Sunday officially worked) uses its own weekday's periods when the
  calendar has any, otherwise Monday's (or the first of Monday–Friday that has any).
* ``chinese-calendar`` knows only the years it shipped with and raises
  ``NotImplementedError`` for others: such days fall back to the plain weekday rules,
  so a deadline in an unknown year ignores holidays instead of failing.
* A wall time that does not exist (inside a spring-forward gap) is read with the offset
  before the change (PEP 495 ``fold=0``); periods that become empty are skipped.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple
from zoneinfo import ZoneInfo

import chinese_calendar
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _

UTC = dt.UTC
DAY_MINUTES = 24 * 60
# An end time read from a row at or after this many minutes means "until midnight".
MIDNIGHT_END = 23 * 60 + 59
# Searching further than this for working time means the calendar has none.
MAX_SEARCH_DAYS = 366 * 60

Period = tuple[int, int]


class CalendarError(ValueError):
    """The calendar has no working time at all (so no deadline can ever be reached)."""


def _normalise(periods: Iterable[Period]) -> tuple[Period, ...]:
    """Sorted, clipped to the day, with overlapping or touching periods merged."""
    spans = sorted((max(0, int(s)), min(DAY_MINUTES, int(e))) for s, e in periods)
    merged: list[list[int]] = []
    for start, end in spans:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


def _minutes(value: dt.time, *, is_end: bool = False) -> int:
    minutes = value.hour * 60 + value.minute
    return DAY_MINUTES if is_end and minutes >= MIDNIGHT_END else minutes


@dataclass(frozen=True)
class Calendar:
    """When the clock runs. ``periods[w]`` holds weekday ``w``'s periods (0 = Monday)."""

    time_zone: str = "UTC"
    is_24x7: bool = False
    periods: tuple[tuple[Period, ...], ...] = ((),) * 7
    closed_dates: frozenset[dt.date] = field(default_factory=frozenset)
    use_china_holidays: bool = False
    name: str = ""
    # Its working time laid out over a span of days, built on first use (see _span_of).
    _span: _Span | None = field(default=None, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self):
        days = tuple(self.periods) + ((),) * (7 - len(self.periods))
        object.__setattr__(self, "periods", tuple(_normalise(p) for p in days[:7]))
        object.__setattr__(self, "closed_dates", frozenset(self.closed_dates))
        ZoneInfo(self.time_zone)  # an unknown zone fails here, not deep in a computation

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def has_working_time(self) -> bool:
        return self.is_24x7 or any(self.periods)

    @classmethod
    def weekly(
        cls,
        spans: Iterable[tuple[dt.time, dt.time]],
        *,
        weekdays: Iterable[int] = range(5),
        **kwargs,
    ) -> Calendar:
        """The same periods on each of ``weekdays`` (default Monday–Friday)."""
        day = tuple((_minutes(s), _minutes(e, is_end=True)) for s, e in spans)
        chosen = set(weekdays)
        return cls(periods=tuple(day if w in chosen else () for w in range(7)), **kwargs)

    @classmethod
    def from_model(cls, calendar) -> Calendar:
        """Build from a ``BusinessCalendar`` (prefetch ``periods`` and ``closed_days``)."""
        days: list[list[Period]] = [[] for _ in range(7)]
        for period in calendar.periods.all():
            days[period.weekday].append((_minutes(period.start), _minutes(period.end, is_end=True)))
        return cls(
            time_zone=calendar.time_zone,
            is_24x7=calendar.is_24x7,
            periods=tuple(tuple(d) for d in days),
            closed_dates=frozenset(c.date for c in calendar.closed_days.all()),
            use_china_holidays=calendar.use_china_holidays,
            name=calendar.name,
        )

    def describe(self) -> str:
        """The rule in words, e.g. "9×5 Mon–Fri 09:00–18:00, China holidays"."""
        if self.is_24x7:
            return _("24×7, every minute counts")
        groups: list[tuple[list[int], tuple[Period, ...]]] = []
        for weekday, day in enumerate(self.periods):
            if not day:
                continue
            if groups and groups[-1][1] == day and groups[-1][0][-1] == weekday - 1:
                groups[-1][0].append(weekday)
            else:
                groups.append(([weekday], day))
        if not groups:
            return _("no working time")
        parts = []
        for weekdays, day in groups:
            names = str(WEEKDAYS_ABBR[weekdays[0]])
            if len(weekdays) > 1:
                names += "–" + str(WEEKDAYS_ABBR[weekdays[-1]])
            parts.append(f"{names} {', '.join(_span(s, e) for s, e in day)}")
        totals = Counter(sum(e - s for s, e in day) for day in self.periods if day)
        hours = totals.most_common(1)[0][0] / 60
        text = f"{hours:g}×{sum(1 for d in self.periods if d)} " + "; ".join(parts)
        if self.use_china_holidays:
            text += ", " + _("China holidays")
        if self.closed_dates:
            text += ", " + _("%(count)d closed days") % {"count": len(self.closed_dates)}
        return text


def _span(start: int, end: int) -> str:
    return f"{start // 60:02d}:{start % 60:02d}–{end // 60:02d}:{end % 60:02d}"


# ---------------------------------------------------------------- which days work


def china_day_kind(day: dt.date) -> str | None:
    """ "holiday", "makeup" (调休 workday) or None (ordinary day, or a year the package lacks)."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    if name is None:
        return None
    return "holiday" if on_holiday else "makeup"


def day_periods(calendar: Calendar, day: dt.date) -> tuple[Period, ...]:
    """The local working periods of one date (not for 24×7 calendars)."""
    if day in calendar.closed_dates:
        return ()
    own = calendar.periods[day.weekday()]
    if not calendar.use_china_holidays:
        return own
    kind = china_day_kind(day)
    if kind == "holiday":
        return ()
    if kind == "makeup" and not own:
        return next((calendar.periods[w] for w in range(5) if calendar.periods[w]), ())
    return own


def _instant(calendar: Calendar, day: dt.date, minute: int) -> dt.datetime:
    day = day + dt.timedelta(days=minute // DAY_MINUTES)
    minute %= DAY_MINUTES
    local = dt.datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=calendar.tz)
    return local.astimezone(UTC)


@functools.lru_cache(maxsize=65536)
def working_intervals(
    calendar: Calendar, day: dt.date
) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
    """The working time of one local date as UTC ``[start, end)`` intervals (cached)."""
    out = []
    for start, end in day_periods(calendar, day):
        a, b = _instant(calendar, day, start), _instant(calendar, day, end)
        if b > a:
            out.append((a, b))
    return tuple(out)


def _local_day(calendar: Calendar, moment: dt.datetime) -> dt.date:
    return moment.astimezone(calendar.tz).date()


def _require_aware(*moments: dt.datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None:
            raise ValueError("business-time arithmetic needs aware datetimes")


# ---------------------------------------------------------------- the timeline


class _Span(NamedTuple):
    """A calendar's working time over the local days ``[first, last)`` as one sorted list
    of disjoint UTC intervals, with the working time before each: the working time up
    to any moment in the span is one bisection, not a walk day by day."""

    first: dt.date
    last: dt.date
    starts: list[dt.datetime]
    ends: list[dt.datetime]
    before: list[dt.timedelta]  # working time in the span before interval k
    through: list[dt.timedelta]  # ... up to its end

    def elapsed(self, moment: dt.datetime) -> dt.timedelta:
        """Working time from the span's start until ``moment`` (inside the span)."""
        k = bisect.bisect_right(self.starts, moment) - 1
        if k < 0:
            return _ZERO
        return self.before[k] + (min(self.ends[k], moment) - self.starts[k])

    def moment_after(self, elapsed: dt.timedelta) -> dt.datetime | None:
        """The first moment by which ``elapsed`` working time has run (an interval's end
        when it runs out exactly there); None past the span's end."""
        k = bisect.bisect_left(self.through, elapsed)
        if k == len(self.through):
            return None
        return self.starts[k] + (elapsed - self.before[k])


_ZERO = dt.timedelta(0)
_ONE_DAY = dt.timedelta(days=1)
# A new span reaches this far around the days asked for; a longer one doubles.
_SPAN_BEFORE = dt.timedelta(days=7)
_SPAN_AFTER = dt.timedelta(days=62)


def _build_span(calendar: Calendar, first: dt.date, last: dt.date) -> _Span:
    starts: list[dt.datetime] = []
    ends: list[dt.datetime] = []
    before: list[dt.timedelta] = []
    through: list[dt.timedelta] = []
    total = _ZERO
    day = first
    while day < last:
        for a, b in working_intervals(calendar, day):
            if ends and a <= ends[-1]:
                # Touching or overlapping in UTC (a period ending in a spring-forward
                # gap): one interval, so no time is counted twice.
                if b > ends[-1]:
                    total += b - ends[-1]
                    ends[-1] = b
                    through[-1] = total
                continue
            starts.append(a)
            ends.append(b)
            before.append(total)
            total += b - a
            through.append(total)
        day += _ONE_DAY
    return _Span(first, last, starts, ends, before, through)


def _span_of(calendar: Calendar, first: dt.date, last: dt.date) -> _Span:
    """The calendar's span covering the local days ``[first, last)`` (built once and
    widened by doubling; a widened span replaces the old one whole, so a reader holding
    the old one is never disturbed)."""
    span = calendar._span
    if span is not None and span.first <= first and last <= span.last:
        return span
    if span is None:
        new_first, new_last = first - _SPAN_BEFORE, last + _SPAN_AFTER
    else:
        width = span.last - span.first
        new_first = min(span.first, first - _SPAN_BEFORE)
        new_last = max(span.last, last, span.last + width)
    span = _build_span(calendar, new_first, new_last)
    object.__setattr__(calendar, "_span", span)
    return span


# ---------------------------------------------------------------- arithmetic


def add_business_time(calendar: Calendar, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
    """The moment when ``amount`` of working time has passed after ``start`` (UTC).

    A result can be exactly a period's end (the last working minute just finished),
    never otherwise outside working time. A bisection in the calendar's span of days
    (widened when a deadline lies beyond it), whatever the amount.
    """
    _require_aware(start)
    if amount <= _ZERO:
        return start.astimezone(UTC)
    if calendar.is_24x7:
        end = start + amount
        return end if end.tzinfo is UTC else end.astimezone(UTC)
    if not calendar.has_working_time:
        raise CalendarError(_("The calendar has no working time."))
    # From the local day before: its periods never reach past its midnight, but a
    # fall-back hour can put the start's UTC instant inside the previous local date.
    first = _local_day(calendar, start) - _ONE_DAY
    last = first + 2 * _ONE_DAY
    while True:
        span = _span_of(calendar, first, last)
        found = span.moment_after(span.elapsed(start) + amount)
        if found is not None:
            return found
        if span.last - first > dt.timedelta(days=MAX_SEARCH_DAYS):
            raise CalendarError(_("The calendar has no working time."))
        last = span.last + _ONE_DAY


def business_time_between(calendar: Calendar, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Working time in ``[start, end)``; zero when ``end`` is not after ``start``."""
    _require_aware(start, end)
    if end <= start:
        return _ZERO
    if calendar.is_24x7:
        return end - start
    span = _span_of(
        calendar, _local_day(calendar, start) - _ONE_DAY, _local_day(calendar, end) + _ONE_DAY
    )
    return span.elapsed(end) - span.elapsed(start)


def add_business_minutes(calendar: Calendar, start: dt.datetime, minutes: int) -> dt.datetime:
    """``start`` plus ``minutes`` of working time, in UTC."""
    return add_business_time(calendar, start, dt.timedelta(minutes=minutes))


def business_minutes_between(calendar: Calendar, start: dt.datetime, end: dt.datetime) -> int:
    """Whole working minutes in ``[start, end)`` (rounded down)."""
    return int(business_time_between(calendar, start, end).total_seconds() // 60)


def is_working_moment(calendar: Calendar, moment: dt.datetime) -> bool:
    """Whether the clock runs at ``moment``."""
    _require_aware(moment)
    if calendar.is_24x7:
        return True
    local_day = moment.astimezone(calendar.tz).date()
    for day in (local_day - dt.timedelta(days=1), local_day):
        if any(a <= moment < b for a, b in working_intervals(calendar, day)):
            return True
    return False


__all__ = [
    "Calendar",
    "CalendarError",
    "add_business_minutes",
    "add_business_time",
    "business_minutes_between",
    "business_time_between",
    "china_day_kind",
    "day_periods",
    "is_working_moment",
    "working_intervals",
]
