"""The solver's promises: feasible always, never worse than the baseline, rules kept.

Given small random days (hypothesis), when solved, then ``validate`` finds nothing
and every high or urgent order the greedy baseline could place is placed too.
"""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from frontline.dispatch.optimiser import (
    ProblemError,
    greedy,
    parse_problem,
    solve,
    validate,
)

SHANGHAI = (31.23, 121.47)


def point(dlat: float = 0.0, dlon: float = 0.0) -> dict:
    return {"lat": SHANGHAI[0] + dlat, "lon": SHANGHAI[1] + dlon}


offsets = st.floats(min_value=-0.05, max_value=0.05, allow_nan=False)
skills = st.dictionaries(st.sampled_from(["hvac", "lift"]), st.integers(1, 3), max_size=2)


@st.composite
def engineers(draw, number: int) -> dict:
    start = draw(st.sampled_from([420, 480, 540]))
    return {
        "id": f"E{number}",
        "skills": draw(skills),
        "shift": {"start": start, "end": start + draw(st.sampled_from([240, 480]))},
        "start": point(draw(offsets), draw(offsets)),
        "max_orders": draw(st.none() | st.integers(1, 4)),
    }


@st.composite
def orders(draw, number: int) -> dict:
    early = draw(st.integers(420, 900))
    order = {
        "id": f"O{number}",
        "location": point(draw(offsets), draw(offsets)),
        "duration": draw(st.integers(0, 90)),
        "windows": [{"start": early, "end": early + draw(st.integers(0, 240))}],
        "skills": draw(skills),
        "priority": draw(st.sampled_from(["low", "normal", "high", "urgent"])),
    }
    if draw(st.booleans()):
        order["site_id"] = "S1"
        order["location"] = point(0.01, 0.01)
    return order


@st.composite
def days(draw) -> dict:
    crew = [draw(engineers(i)) for i in range(draw(st.integers(1, 3)))]
    work = [draw(orders(i)) for i in range(draw(st.integers(0, 8)))]
    if work and draw(st.booleans()):
        crew[0]["fixed"] = [work[0]["id"]]
    return {"engineers": crew, "orders": work}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days())
def test_solve_is_feasible_and_keeps_what_greedy_places(data):
    try:
        problem = parse_problem(data)
    except ProblemError:
        assume(False)  # a committed visit that cannot be kept, or a window outside shifts
    baseline = greedy(problem)
    plan = solve(problem, time_limit=0.3, seed=2)
    assert validate(problem, baseline) == []
    assert validate(problem, plan) == []
    placed = {s.order_id for r in plan.routes for s in r.stops}
    for route in baseline.routes:
        for stop in route.stops:
            if problem.order_by_id[stop.order_id].required:
                assert stop.order_id in placed
    assert plan.objective <= baseline.objective


def test_fixed_visits_stay_with_their_engineer_in_order():
    # Given two committed visits for Wang, the near one listed second,
    data = {
        "engineers": [
            {
                "id": "wang",
                "shift": {"start": 480, "end": 1020},
                "start": point(),
                "fixed": ["far", "near"],
            },
            {"id": "li", "shift": {"start": 480, "end": 1020}, "start": point(0.001)},
        ],
        "orders": [
            {
                "id": "far",
                "location": point(0.05),
                "duration": 30,
                "windows": [{"start": 480, "end": 1000}],
            },
            {
                "id": "near",
                "location": point(0.002),
                "duration": 30,
                "windows": [{"start": 480, "end": 1000}],
            },
            {
                "id": "other",
                "location": point(0.003),
                "duration": 30,
                "windows": [{"start": 480, "end": 1000}],
            },
        ],
    }
    problem = parse_problem(data)
    # When planned,
    plan = solve(problem, time_limit=0.5)
    # Then Wang does "far" before "near", whatever the detour, and Li may take the rest.
    wang = [o for o in plan.route_of("wang").order_ids if o in ("far", "near")]
    assert wang == ["far", "near"]
    assert validate(problem, plan) == []


def test_orders_at_one_site_are_one_visit_with_their_own_times():
    data = {
        "engineers": [
            {
                "id": "E1",
                "shift": {"start": 480, "end": 1020},
                "start": point(),
                "skills": {"hvac": 2, "lift": 2},
            },
            {
                "id": "E2",
                "shift": {"start": 480, "end": 1020},
                "start": point(0.04, 0.04),
                "skills": {"hvac": 2, "lift": 2},
            },
        ],
        "orders": [
            {
                "id": f"A{i}",
                "location": point(0.02, 0.02),
                "site_id": "tower-7",
                "duration": 40,
                "windows": [{"start": 540, "end": 720}],
                "skills": {"hvac": 1} if i % 2 else {"lift": 2},
            }
            for i in range(3)
        ],
    }
    problem = parse_problem(data)
    plan = solve(problem, time_limit=0.5)
    routes = [r for r in plan.routes if r.stops]
    assert len(routes) == 1  # one engineer does the whole site
    stops = routes[0].stops
    assert len({s.visit for s in stops}) == 1
    assert [s.start for s in stops] == [stops[0].start + 40 * k for k in range(3)]
    assert all(s.arrival == s.start or s is stops[0] for s in stops)
    assert validate(problem, plan) == []


def test_an_overfull_day_drops_low_priority_work_first():
    # Given one engineer with room for two one-hour jobs and three jobs to do,
    data = {
        "engineers": [{"id": "E1", "shift": {"start": 480, "end": 610}, "start": point()}],
        "orders": [
            {
                "id": p,
                "location": point(0.001 * i),
                "duration": 60,
                "windows": [{"start": 480, "end": 600}],
                "priority": p,
            }
            for i, p in enumerate(["low", "urgent", "high"])
        ],
    }
    problem = parse_problem(data)
    plan = solve(problem, time_limit=0.5)
    # Then the low-priority job is the one left out, with a reason.
    assert [o.order_id for o in plan.left_out] == ["low"]
    assert "room" in plan.left_out[0].reason
    assert validate(problem, plan) == []


def test_an_order_nobody_is_qualified_for_is_left_out_with_that_reason():
    data = {
        "engineers": [
            {
                "id": "E1",
                "shift": {"start": 480, "end": 1020},
                "start": point(),
                "skills": {"hvac": 2},
            }
        ],
        "orders": [
            {
                "id": "lift-job",
                "location": point(0.01),
                "duration": 30,
                "windows": [{"start": 480, "end": 900}],
                "skills": {"lift": 1},
            },
            {
                "id": "hvac-job",
                "location": point(0.01),
                "duration": 30,
                "windows": [{"start": 480, "end": 900}],
                "skills": {"hvac": 3},
            },
        ],
    }
    plan = solve(parse_problem(data), time_limit=0.3)
    assert {(o.order_id, o.reason) for o in plan.left_out} == {
        ("lift-job", "no qualified engineer"),
        ("hvac-job", "no qualified engineer"),
    }


def test_progress_is_reported_and_ends_at_one():
    data = {
        "engineers": [{"id": "E1", "shift": {"start": 480, "end": 1020}, "start": point()}],
        "orders": [
            {
                "id": f"O{i}",
                "location": point(0.01 * i),
                "duration": 20,
                "windows": [{"start": 480, "end": 900}],
            }
            for i in range(5)
        ],
    }
    seen = []
    solve(parse_problem(data), time_limit=1.2, progress=lambda f, m: seen.append((f, m)))
    assert seen[-1] == (1.0, "done")
    assert len(seen) >= 2
    assert all(0 <= f <= 1 for f, _ in seen)


def test_an_empty_day_plans_nothing():
    problem = parse_problem({"engineers": [], "orders": []})
    plan = solve(problem, time_limit=0.1)
    assert plan.routes == [] and plan.left_out == []
    assert validate(problem, plan) == []
