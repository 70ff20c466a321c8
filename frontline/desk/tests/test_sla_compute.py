"""The pure SLA function: deadlines, pauses, warnings, states, next checks."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frontline.desk.calendars import Calendar, business_time_between
from frontline.desk.sla import PolicyTargets, compute, merge_pauses
from frontline.desk.states import SlaState

SH = ZoneInfo("Asia/Shanghai")
OFFICE = Calendar.weekly(
    [(dt.time(9), dt.time(12)), (dt.time(13), dt.time(18))],
    time_zone="Asia/Shanghai",
    use_china_holidays=True,
)
NIGHTS = Calendar.weekly(
    [(dt.time(0), dt.time(6)), (dt.time(22), dt.time(23, 59))],
    weekdays=range(7),
    time_zone="Asia/Shanghai",
)
ROUND_THE_CLOCK = Calendar(time_zone="Asia/Shanghai", is_24x7=True)
TARGETS = PolicyTargets(first_response_minutes=60, resolution_minutes=480, warning_percent=75)
PROPS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def sh(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def run(**kwargs):
    values = {
        "created_at": sh(2026, 3, 16, 9),
        "policy_targets": TARGETS,
        "calendar": OFFICE,
        "pauses": [],
        "first_responded_at": None,
        "resolved_at": None,
        "now": sh(2026, 3, 16, 9),
    }
    return compute(**(values | kwargs))


# ---------------------------------------------------------------- concrete stories


def test_no_policy_means_no_sla():
    result = run(policy_targets=None, calendar=None)
    assert result.state == SlaState.NONE
    assert result.first_response_due_at is result.resolution_due_at is result.next_check_at is None


def test_new_ticket_deadlines_warning_and_first_check():
    result = run()
    assert result.first_response_due_at == sh(2026, 3, 16, 10)
    # 480 business minutes of 9–12 + 13–18: the whole of Monday.
    assert result.resolution_due_at == sh(2026, 3, 16, 18)
    assert result.warning_at == sh(2026, 3, 16, 9, 45)  # 75 % of the first-response target
    assert result.state == SlaState.OK
    assert result.next_check_at == result.warning_at


def test_states_move_with_the_clock():
    assert run(now=sh(2026, 3, 16, 9, 50)).state == SlaState.WARNING
    late = run(now=sh(2026, 3, 16, 10, 1))
    assert late.state == SlaState.BREACHED
    assert late.warning_due and late.breach_due
    assert late.breach_due_at == sh(2026, 3, 16, 10)


def test_after_the_first_response_the_resolution_is_watched():
    result = run(first_responded_at=sh(2026, 3, 16, 9, 30), now=sh(2026, 3, 16, 9, 30))
    assert result.active_due_at == result.resolution_due_at
    # 75 % of 480 = 360 business minutes: 09:00 → 16:00 with the lunch break.
    assert result.warning_at == sh(2026, 3, 16, 16)
    assert result.next_check_at == sh(2026, 3, 16, 16)


def test_a_warning_for_the_first_response_is_cleared_when_the_resolution_takes_over():
    result = run(
        first_responded_at=sh(2026, 3, 16, 9, 50),
        now=sh(2026, 3, 16, 9, 50),
        warned_at=sh(2026, 3, 16, 9, 45),
    )
    assert result.warned_at is None
    assert result.next_check_at == result.warning_at == sh(2026, 3, 16, 16)


def test_a_warning_stays_while_its_moment_does_not_move():
    result = run(now=sh(2026, 3, 16, 9, 50), warned_at=sh(2026, 3, 16, 9, 46))
    assert result.warned_at == sh(2026, 3, 16, 9, 46)
    assert not result.warning_due
    assert result.next_check_at == sh(2026, 3, 16, 10)


def test_a_late_first_response_stays_a_breach_and_is_checked_once():
    result = run(first_responded_at=sh(2026, 3, 16, 11), now=sh(2026, 3, 16, 11))
    assert result.state == SlaState.BREACHED
    assert result.breach_due and result.breach_due_at == sh(2026, 3, 16, 10)
    stamped = run(
        first_responded_at=sh(2026, 3, 16, 11),
        now=sh(2026, 3, 16, 11),
        breached_at=sh(2026, 3, 16, 11),
        warned_at=sh(2026, 3, 16, 11),
    )
    assert not stamped.breach_due
    # The resolution is active now: its warning (at 16:00) is after the old stamp.
    assert stamped.warned_at is None
    assert stamped.next_check_at == stamped.warning_at == sh(2026, 3, 16, 16)


def test_paused_tickets_have_no_due_dates_after_the_pause_and_no_check():
    result = run(pauses=[(sh(2026, 3, 16, 9, 30), None)], now=sh(2026, 3, 16, 15))
    assert result.state == SlaState.PAUSED
    assert result.first_response_due_at is None and result.next_check_at is None
    assert result.warning_at is None


def test_a_closed_pause_pushes_deadlines_by_its_business_time():
    # Paused Monday 09:30 → 14:00: 30 minutes count before the pause, the rest after it.
    result = run(pauses=[(sh(2026, 3, 16, 9, 30), sh(2026, 3, 16, 14))], now=sh(2026, 3, 16, 14))
    assert result.first_response_due_at == sh(2026, 3, 16, 14, 30)
    # 480 = 30 + 240 (14–18) + 180 (Tue 9–12) + 30 (13:00–13:30).
    assert result.resolution_due_at == sh(2026, 3, 17, 13, 30)


def test_resolution_counts_as_first_response_and_settles_the_state():
    met = run(resolved_at=sh(2026, 3, 16, 9, 40), now=sh(2026, 3, 20))
    assert met.state == SlaState.MET and met.next_check_at is None and met.breached_at is None
    late = run(resolved_at=sh(2026, 3, 17, 10), now=sh(2026, 3, 20))
    assert late.state == SlaState.BREACHED
    assert late.breached_at == sh(2026, 3, 16, 10)  # the first missed deadline
    assert late.next_check_at is None


def test_pauses_after_resolution_do_not_hide_the_deadlines():
    result = run(
        first_responded_at=sh(2026, 3, 16, 9, 10),
        resolved_at=sh(2026, 3, 16, 11),
        pauses=[(sh(2026, 3, 16, 11), None)],
        now=sh(2026, 3, 18),
    )
    assert result.state == SlaState.MET
    assert result.resolution_due_at == sh(2026, 3, 16, 18)


def test_a_reopen_continues_where_the_resolution_stopped_the_clock():
    # Resolved Monday 11:00 (clock stopped), reopened Thursday 09:00.
    result = run(
        first_responded_at=sh(2026, 3, 16, 9, 10),
        pauses=[(sh(2026, 3, 16, 11), sh(2026, 3, 19, 9))],
        now=sh(2026, 3, 19, 9),
        warned_at=sh(2026, 3, 16, 16),
    )
    # 120 minutes used before resolution, 360 left from Thursday 09:00 → 16:00.
    assert result.resolution_due_at == sh(2026, 3, 19, 16)
    assert result.state == SlaState.OK
    # 75 % = 360 minutes: 240 after Thursday 09:00 → 14:00; the old stamp is before it.
    assert result.warning_at == sh(2026, 3, 19, 14)
    assert result.warned_at is None


def test_a_policy_change_mid_ticket_keeps_the_paused_time():
    pauses = [(sh(2026, 3, 16, 9, 30), sh(2026, 3, 16, 11, 30))]
    before = run(pauses=pauses, now=sh(2026, 3, 16, 12))
    after = run(
        pauses=pauses,
        policy_targets=PolicyTargets(30, 240, 80),
        now=sh(2026, 3, 16, 12),
    )
    # Both count from 09:00 without the two paused hours.
    assert before.first_response_due_at == sh(2026, 3, 16, 12)
    assert after.first_response_due_at == sh(2026, 3, 16, 9, 30)  # reached as the pause began
    assert after.resolution_due_at == sh(2026, 3, 16, 16)


def test_a_night_shift_ticket_runs_across_midnight():
    result = run(created_at=sh(2026, 3, 16, 23, 30), calendar=NIGHTS, now=sh(2026, 3, 16, 23, 30))
    assert result.first_response_due_at == sh(2026, 3, 17, 0, 30)
    # 480 minutes: 30 before midnight, 360 until 06:00, 90 from 22:00 the next night.
    assert result.resolution_due_at == sh(2026, 3, 17, 23, 30)


def test_explanation_rows_tell_the_story_in_order():
    result = run(
        pauses=[(sh(2026, 3, 16, 9, 30), sh(2026, 3, 16, 10))],
        first_responded_at=sh(2026, 3, 16, 10, 20),
        now=sh(2026, 3, 16, 10, 20),
    )
    keys = [row["key"] for row in result.rows]
    assert keys[0] == "created" and set(keys) == {
        "created",
        "pause",
        "first_response",
        "warning",
        "resolution",
    }
    pause = next(row for row in result.rows if row["key"] == "pause")
    assert pause["minutes"] == 30
    first = next(row for row in result.rows if row["key"] == "first_response")
    assert first["status"] == "met"
    ats = [row["at"] for row in result.rows]
    assert ats == sorted(ats)


# ---------------------------------------------------------------- properties

moments = st.datetimes(
    min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2026, 12, 1), timezones=st.just(SH)
)
calendars = st.sampled_from([OFFICE, NIGHTS, ROUND_THE_CLOCK])
targets = st.builds(
    PolicyTargets,
    st.integers(1, 600),
    st.integers(600, 5000),
    st.integers(1, 99),
)


@st.composite
def pause_lists(draw, created):
    out = []
    cursor = created
    for _ in range(draw(st.integers(0, 4))):
        start = cursor + dt.timedelta(minutes=draw(st.integers(0, 3000)))
        end = start + dt.timedelta(minutes=draw(st.integers(1, 3000)))
        out.append((start, end))
        cursor = end
    return out


@PROPS
@given(calendars, moments, targets, st.data())
def test_pauses_only_push_deadlines_later(calendar, created, policy, data):
    pauses = data.draw(pause_lists(created))
    now = created + dt.timedelta(days=400)
    bare = compute(
        created_at=created,
        policy_targets=policy,
        calendar=calendar,
        pauses=[],
        first_responded_at=None,
        resolved_at=None,
        now=now,
    )
    paused = compute(
        created_at=created,
        policy_targets=policy,
        calendar=calendar,
        pauses=pauses,
        first_responded_at=None,
        resolved_at=None,
        now=now,
    )
    assert paused.first_response_due_at >= bare.first_response_due_at
    assert paused.resolution_due_at >= bare.resolution_due_at
    assert paused.warning_at >= bare.warning_at
    # And the unpaused business time up to each deadline is exactly the target.
    for due, minutes in (
        (paused.first_response_due_at, policy.first_response_minutes),
        (paused.resolution_due_at, policy.resolution_minutes),
    ):
        used = business_time_between(calendar, created, due) - sum(
            (business_time_between(calendar, s, min(e, due)) for s, e in pauses if s < due),
            dt.timedelta(0),
        )
        assert used == dt.timedelta(minutes=minutes)


@PROPS
@given(calendars, moments, targets, st.data())
def test_splitting_a_pause_in_two_changes_nothing(calendar, created, policy, data):
    pauses = data.draw(pause_lists(created))
    if not pauses:
        pauses = [(created, created + dt.timedelta(hours=5))]
    index = data.draw(st.integers(0, len(pauses) - 1))
    start, end = pauses[index]
    cut = start + (end - start) * data.draw(st.floats(0.01, 0.99))
    split = [*pauses[:index], (start, cut), (cut, end), *pauses[index + 1 :]]
    now = data.draw(moments)
    common = {"created_at": created, "policy_targets": policy, "calendar": calendar, "now": now}
    a = compute(pauses=pauses, first_responded_at=None, resolved_at=None, **common)
    b = compute(pauses=split, first_responded_at=None, resolved_at=None, **common)
    assert (a.first_response_due_at, a.resolution_due_at, a.warning_at, a.state) == (
        b.first_response_due_at,
        b.resolution_due_at,
        b.warning_at,
        b.state,
    )


@PROPS
@given(moments, st.integers(1, 5000), st.integers(1, 99))
def test_24x7_deadlines_are_wall_clock_minutes(created, minutes, percent):
    result = compute(
        created_at=created,
        policy_targets=PolicyTargets(minutes, minutes, percent),
        calendar=ROUND_THE_CLOCK,
        pauses=[],
        first_responded_at=None,
        resolved_at=None,
        now=created,
    )
    assert result.first_response_due_at == created + dt.timedelta(minutes=minutes)


@PROPS
@given(calendars, moments, targets, st.data())
def test_a_policy_change_mid_ticket_keeps_paused_time(calendar, created, policy, data):
    """Recomputing with another policy equals computing that policy from the start."""
    pauses = data.draw(pause_lists(created))
    other = data.draw(targets)
    now = data.draw(moments)
    first = compute(
        created_at=created,
        policy_targets=policy,
        calendar=calendar,
        pauses=pauses,
        first_responded_at=None,
        resolved_at=None,
        now=now,
    )
    changed = compute(
        created_at=created,
        policy_targets=other,
        calendar=calendar,
        pauses=pauses,
        first_responded_at=None,
        resolved_at=None,
        now=now,
        warned_at=first.warning_at if first.warning_due else None,
    )
    merged = merge_pauses(pauses, created)
    paused_before_due = sum(
        (
            business_time_between(calendar, s, min(e, changed.resolution_due_at))
            for s, e in merged
            if s < changed.resolution_due_at
        ),
        dt.timedelta(0),
    )
    used = business_time_between(calendar, created, changed.resolution_due_at) - paused_before_due
    assert used == dt.timedelta(minutes=other.resolution_minutes)


@PROPS
@given(calendars, moments, targets, st.data())
def test_sweeping_at_every_check_fires_each_event_once_in_order(calendar, created, policy, data):
    """Follow next_check_at like the sweep: a warning, then one breach per missed deadline."""
    pauses = data.draw(pause_lists(created))
    responded = data.draw(st.none() | st.just(created))
    warned = breached = None
    fired = []
    now = created
    for _ in range(10):
        result = compute(
            created_at=created,
            policy_targets=policy,
            calendar=calendar,
            pauses=pauses,
            first_responded_at=responded,
            resolved_at=None,
            now=now,
            warned_at=warned,
            breached_at=breached,
        )
        warned = result.warned_at
        if result.warning_due:
            warned = now
            fired.append("warning")
        if result.breach_due:
            breached = now
            fired.append("breach")
        result = compute(
            created_at=created,
            policy_targets=policy,
            calendar=calendar,
            pauses=pauses,
            first_responded_at=responded,
            resolved_at=None,
            now=now,
            warned_at=warned,
            breached_at=breached,
        )
        if result.next_check_at is None:
            break
        assert result.next_check_at > now
        now = max(now, result.next_check_at) + dt.timedelta(seconds=data.draw(st.integers(0, 7200)))
    assert fired[0] == "warning"
    assert fired.count("warning") == 1
    assert 1 <= fired.count("breach") <= (2 if responded is None else 1)
