"""Bad input is a ``ProblemError`` that names the order or engineer, never a crash."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontline.dispatch.optimiser import PRIORITIES, ProblemError, parse_problem

GOOD = {
    "day_start": "2026-11-23T00:00:00+08:00",
    "engineers": [
        {
            "id": "E1",
            "skills": {"hvac": 3},
            "shift": {"start": "08:00", "end": "17:00"},
            "start": {"lat": 31.23, "lon": 121.47},
        },
    ],
    "orders": [
        {
            "id": "WO-1",
            "location": {"lat": 31.24, "lon": 121.48},
            "duration": 30,
            "windows": [{"start": "2026-11-23T09:00:00+08:00", "end": "2026-11-23T11:00:00+08:00"}],
            "skills": {"hvac": 2},
            "priority": "high",
            "site_id": 7,
        },
    ],
}


def with_order(**changes) -> dict:
    data = copy.deepcopy(GOOD)
    data["orders"][0].update(changes)
    return data


def test_a_good_problem_parses_with_times_in_minutes():
    problem = parse_problem(GOOD)
    order = problem.orders[0]
    assert problem.engineers[0].shift_start == 480
    assert order.windows == ((540, 660),)
    assert order.priority == PRIORITIES["high"] and order.site_id == "7"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"windows": [{"start": 600, "end": 540}]}, "impossible window"),
        ({"windows": [{"start": 1200, "end": 1300}]}, "outside every shift"),
        ({"duration": -5}, "duration"),
        ({"location": {"lat": 95, "lon": 121}}, "out of range"),
        ({"location": {"lat": "x", "lon": 121}}, "not a number"),
        ({"location": None}, "location"),
        ({"skills": {"hv ac!": 2}}, "malformed"),
        ({"skills": {"hvac": 9}}, "level 1-5"),
        ({"priority": "whenever"}, "priority"),
        ({"fixed_engineer": "nobody"}, "fixed engineer 'nobody' is unknown"),
        ({"windows": [{"start": "soon", "end": 600}]}, "window start"),
    ],
)
def test_errors_name_the_order(changes, words):
    with pytest.raises(ProblemError) as caught:
        parse_problem(with_order(**changes))
    assert caught.value.subject == "WO-1"
    assert "order 'WO-1'" in str(caught.value)
    assert words in str(caught.value)


def test_duplicate_ids_are_named():
    data = copy.deepcopy(GOOD)
    data["orders"].append(copy.deepcopy(data["orders"][0]))
    with pytest.raises(ProblemError, match="order 'WO-1' appears twice"):
        parse_problem(data)


def test_engineer_errors_name_the_engineer():
    data = copy.deepcopy(GOOD)
    data["engineers"][0]["shift"] = {"start": 600, "end": 500}
    with pytest.raises(ProblemError, match="engineer 'E1': shift ends"):
        parse_problem(data)
    data = copy.deepcopy(GOOD)
    data["engineers"][0]["fixed"] = ["WO-404"]
    with pytest.raises(ProblemError, match="engineer 'E1': fixed order 'WO-404' is unknown"):
        parse_problem(data)


def test_a_committed_visit_the_engineer_cannot_do_is_an_error():
    data = with_order(fixed_engineer="E1", skills={"hvac": 4})
    with pytest.raises(ProblemError, match="lacks its skills"):
        parse_problem(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 2000) | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=50, deadline=None)
@given(
    st.sampled_from(
        [
            "id",
            "location",
            "duration",
            "windows",
            "skills",
            "priority",
            "site_id",
            "load",
            "fixed_engineer",
            "window",
        ]
    ),
    json_values,
)
def test_any_garbage_in_an_order_field_is_a_problem_error_or_fine(key, value):
    data = with_order(**{key: value})
    try:
        parse_problem(json.loads(json.dumps(data, allow_nan=True)))
    except ProblemError as exc:
        assert str(exc)


@settings(max_examples=30, deadline=None)
@given(json_values)
def test_any_garbage_as_the_whole_problem_is_a_problem_error_or_fine(value):
    try:
        parse_problem(value)
    except ProblemError:
        pass
