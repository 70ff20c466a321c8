"""Timing a sequence of orders for one engineer, and turning routes into a ``Plan``.

Every builder of plans (the PyVRP solver, the greedy baseline, the repair step) goes
through ``simulate`` so that all of them time a day the same way: leave at shift
start, start each order as early as its window allows, wait when early. The
validator does *not* use this module; it re-checks the times a plan states.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from frontline.dispatch.optimiser.model import (
    PRIORITIES,
    Engineer,
    LeftOut,
    Order,
    Plan,
    Problem,
    Route,
    Stop,
)

# How much leaving an order out costs, as a multiple of the day's longest leg: even the
# cheapest order is worth any detour, and one order of a priority outweighs ten of
# the priority below it.
PENALTY_STEP = {PRIORITIES["low"]: 1, PRIORITIES["normal"]: 10, PRIORITIES["high"]: 100}
PENALTY_STEP[PRIORITIES["urgent"]] = 1_000


def penalty_unit(problem: Problem) -> int:
    """Twice the longest leg bounds the detour any single order can cost."""
    return 2 * int(problem.travel.distance.max(initial=0)) + 1


def penalty(problem: Problem, order: Order) -> int:
    return PENALTY_STEP[order.priority] * penalty_unit(problem)


@dataclass
class Timing:
    """What ``simulate`` found: the stops, the route totals, and the first problem."""

    stops: list[Stop] = field(default_factory=list)
    back: int = 0
    distance_m: int = 0
    travel_minutes: int = 0
    work_minutes: int = 0
    wait_minutes: int = 0
    load: int = 0
    problem: str | None = None

    @property
    def feasible(self) -> bool:
        return self.problem is None


def start_in_windows(order: Order, arrival: int) -> int | None:
    """Earliest service start at or after ``arrival``, or None if every window is past."""
    for early, late in order.windows:
        if arrival <= late:
            return max(arrival, early)
    return None


def simulate(problem: Problem, engineer: Engineer, order_ids: list[str]) -> Timing:
    """Time the orders in this sequence and report the first hard rule it breaks."""
    timing = Timing()
    now, here, previous = engineer.shift_start, engineer.start, None
    for order_id in order_ids:
        order = problem.order_by_id[order_id]
        metres, minutes = problem.travel.leg(here, order.location)
        arrival = now + minutes
        start = start_in_windows(order, arrival)
        if not engineer.qualifies(order.skills):
            timing.problem = timing.problem or f"{order_id}: engineer lacks the skills"
        if start is None:
            timing.problem = timing.problem or f"{order_id}: arrives after the window"
            start = arrival
        same_visit = previous is not None and _same_site(previous, order)
        visit = timing.stops[-1].visit + (0 if same_visit else 1) if timing.stops else 0
        timing.stops.append(Stop(order_id, visit, arrival, start, start + order.duration))
        timing.distance_m += metres
        timing.travel_minutes += minutes
        timing.wait_minutes += start - arrival
        timing.work_minutes += order.duration
        timing.load += order.load
        now, here, previous = start + order.duration, order.location, order
    metres, minutes = problem.travel.leg(here, engineer.end_point)
    timing.back = now + minutes
    timing.distance_m += metres
    timing.travel_minutes += minutes
    if timing.back > engineer.shift_end:
        timing.problem = timing.problem or "back after the shift ends"
    timing.problem = timing.problem or _limit_problem(engineer, timing, len(order_ids))
    return timing


def _same_site(a: Order, b: Order) -> bool:
    return a.site_id is not None and a.site_id == b.site_id and a.location == b.location


def _limit_problem(engineer: Engineer, timing: Timing, count: int) -> str | None:
    if engineer.max_orders is not None and count > engineer.max_orders:
        return "more orders than the engineer's maximum"
    if engineer.max_work_minutes is not None and timing.work_minutes > engineer.max_work_minutes:
        return "more work than the engineer's daily minutes"
    if engineer.capacity is not None and timing.load > engineer.capacity:
        return "more load than the engineer's capacity"
    return None


def build_plan(
    problem: Problem,
    sequences: dict[str, list[str]],
    left_out: dict[str, str],
    *,
    solver: str,
    runtime_s: float,
) -> Plan:
    """A ``Plan`` with times and KPIs from each engineer's order sequence."""
    routes = []
    for engineer in problem.engineers:
        timing = simulate(problem, engineer, sequences.get(engineer.id, []))
        shift = max(engineer.shift_end - engineer.shift_start, 1)
        busy = timing.work_minutes + timing.travel_minutes if timing.stops else 0
        routes.append(
            Route(
                engineer_id=engineer.id,
                stops=timing.stops,
                depart=engineer.shift_start,
                back=timing.back if timing.stops else engineer.shift_start,
                distance_m=timing.distance_m if timing.stops else 0,
                travel_minutes=timing.travel_minutes if timing.stops else 0,
                work_minutes=timing.work_minutes,
                wait_minutes=timing.wait_minutes,
                utilisation=round(busy / shift, 4),
            )
        )
    missing = [LeftOut(order_id, reason) for order_id, reason in left_out.items()]
    plan = Plan(routes, missing, solver, round(runtime_s, 3), 0)
    plan.objective = objective(problem, plan)
    plan.kpis = kpis(problem, plan)
    return plan


def objective(problem: Problem, plan: Plan) -> int:
    """Metres driven plus the penalty of every order left out: what the solver minimises."""
    driven = sum(route.distance_m for route in plan.routes)
    return driven + sum(penalty(problem, problem.order_by_id[o.order_id]) for o in plan.left_out)


def kpis(problem: Problem, plan: Plan) -> dict[str, float]:
    """The numbers a dispatcher compares plans by."""
    shift_total = sum(max(e.shift_end - e.shift_start, 1) for e in problem.engineers)
    busy = sum(r.work_minutes + r.travel_minutes for r in plan.routes if r.stops)
    return {
        "orders_planned": sum(len(r.stops) for r in plan.routes),
        "orders_left_out": len(plan.left_out),
        "engineers_used": sum(1 for r in plan.routes if r.stops),
        "travel_km": round(sum(r.distance_m for r in plan.routes) / 1000, 3),
        "travel_minutes": sum(r.travel_minutes for r in plan.routes),
        "work_minutes": sum(r.work_minutes for r in plan.routes),
        "wait_minutes": sum(r.wait_minutes for r in plan.routes),
        # Windows are hard: nothing starts late, so lateness is zero by construction.
        "lateness_minutes": 0,
        "utilisation": round(busy / max(shift_total, 1), 4),
    }
