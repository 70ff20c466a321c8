"""The validator is a test that can fail: hand-made broken plans are caught.

Given a feasible plan made by the solver, when one rule at a time is broken by hand,
then ``validate`` names it.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from frontline.dispatch.optimiser import LeftOut, parse_problem, solve, validate
from frontline.dispatch.optimiser.schedule import build_plan

BASE = {
    "engineers": [
        {
            "id": "chen",
            "skills": {"hvac": 3},
            "shift": {"start": 480, "end": 1020},
            "start": {"lat": 31.23, "lon": 121.47},
            "max_orders": 3,
            "capacity": 5,
            "fixed": ["boiler"],
        },
        {
            "id": "zhao",
            "skills": {"lift": 2},
            "shift": {"start": 480, "end": 1020},
            "start": {"lat": 31.20, "lon": 121.44},
        },
    ],
    "orders": [
        {
            "id": "boiler",
            "location": {"lat": 31.24, "lon": 121.48},
            "duration": 60,
            "windows": [{"start": 540, "end": 600}],
            "skills": {"hvac": 2},
            "load": 2,
        },
        {
            "id": "chiller",
            "location": {"lat": 31.25, "lon": 121.49},
            "duration": 45,
            "windows": [{"start": 600, "end": 900}],
            "skills": {"hvac": 1},
            "load": 2,
        },
        {
            "id": "lift",
            "location": {"lat": 31.21, "lon": 121.45},
            "duration": 30,
            "windows": [{"start": 480, "end": 1000}],
            "skills": {"lift": 1},
        },
    ],
}


@pytest.fixture(scope="module")
def solved():
    problem = parse_problem(BASE)
    plan = solve(problem, time_limit=0.3)
    assert validate(problem, plan) == []
    assert plan.left_out == []
    return problem, plan


def broken(plan, engineer_id, index, **changes):
    plan = copy.deepcopy(plan)
    route = plan.route_of(engineer_id)
    route.stops[index] = replace(route.stops[index], **changes)
    return plan


def test_an_order_started_after_its_window_is_caught(solved):
    problem, plan = solved
    stop = plan.route_of("chen").stops[0]
    late = broken(plan, "chen", 0, start=601, end=661, arrival=stop.arrival)
    assert any("outside its windows" in v for v in validate(problem, late))


def test_teleporting_between_stops_is_caught(solved):
    problem, plan = solved
    quick = broken(plan, "chen", 0, arrival=480, start=540, end=600)
    assert any("earlier than travel allows" in v for v in validate(problem, quick))


def test_a_wrong_end_time_is_caught(solved):
    problem, plan = solved
    stop = plan.route_of("chen").stops[0]
    short = broken(plan, "chen", 0, end=stop.start + 10)
    assert any("not start + 60" in v for v in validate(problem, short))


def test_an_unqualified_engineer_is_caught():
    problem = parse_problem(BASE)
    # Zhao (lifts) gets the chiller: same times as a feasible sequence would have.
    plan = build_plan(
        problem,
        {"chen": ["boiler"], "zhao": ["chiller", "lift"]},
        {},
        solver="hand",
        runtime_s=0,
    )
    assert any("lacks required skills" in v for v in validate(problem, plan))


def test_working_past_the_shift_is_caught(solved):
    problem, plan = solved
    plan = copy.deepcopy(plan)
    plan.route_of("zhao").back = 1021
    assert any("after the shift ends" in v for v in validate(problem, plan))


def test_missing_and_duplicated_orders_are_caught(solved):
    problem, plan = solved
    plan = copy.deepcopy(plan)
    plan.left_out.append(LeftOut("lift", "twice"))
    plan.left_out.append(LeftOut("ghost", "not real"))
    found = validate(problem, plan)
    assert any("'lift' appears 2 times" in v for v in found)
    assert any("'ghost' is not in the problem" in v for v in found)
    plan.route_of("zhao").stops.clear()
    plan.left_out = []
    assert any("'lift' is neither planned nor left out" in v for v in validate(problem, plan))


def test_a_committed_visit_moved_or_dropped_is_caught():
    problem = parse_problem(BASE)
    moved = build_plan(
        problem,
        {"chen": ["chiller"], "zhao": ["lift"]},
        {"boiler": "dropped"},
        solver="hand",
        runtime_s=0,
    )
    found = validate(problem, moved)
    assert any("fixed order 'boiler' of 'chen' is left out" in v for v in found)
    assert any("not kept in order" in v for v in found)


def test_limits_are_caught():
    data = copy.deepcopy(BASE)
    data["engineers"][0].update(max_orders=1, capacity=3)
    problem = parse_problem(data)
    plan = build_plan(
        problem,
        {"chen": ["boiler", "chiller"], "zhao": ["lift"]},
        {},
        solver="hand",
        runtime_s=0,
    )
    found = validate(problem, plan)
    assert any("2 orders, more than 1" in v for v in found)
    assert any("load 4, more than capacity 3" in v for v in found)


def test_stated_distance_must_match_the_legs(solved):
    problem, plan = solved
    plan = copy.deepcopy(plan)
    plan.route_of("chen").distance_m -= 1
    assert any("the legs add up to" in v for v in validate(problem, plan))
