"""``solve``: the day as a PyVRP problem, solved, checked and repaired.

How field-service rules map onto PyVRP:

- each engineer is a vehicle (identical engineers share one vehicle type) with its
  own start and end depot and the shift as the vehicle's time window;
- skills are hard, through routing profiles: one profile per distinct set of visits
  an engineer may do, in which every edge *into* a visit the engineer may not do is
  prohibitively long, so no feasible route contains it; committed visits are
  restricted to their engineer the same way and are required;
- the greedy baseline runs first and is the starting solution: what it placed is
  required (it fits), so the search only improves on it; every other visit is
  optional with a prize from its priority (``schedule.penalty``), so a day that
  cannot hold everything drops low-priority work first;
- load, number of orders and work minutes are capacity dimensions;
- an order with several windows is a mutually exclusive group, one client per window.

Whatever PyVRP returns is re-timed by ``schedule.simulate``; routes that break a rule
are cut back, left-out orders are re-inserted where they fit, and the greedy plan is
returned instead if it is better, so the answer is always feasible.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning

from frontline.dispatch.optimiser.greedy import greedy, left_out_reason
from frontline.dispatch.optimiser.model import Engineer, Plan, Problem
from frontline.dispatch.optimiser.repair import repair
from frontline.dispatch.optimiser.schedule import build_plan, penalty
from frontline.dispatch.optimiser.visits import Visit, build_visits

Progress = Callable[[float, str], None]
# A day is at most a week of minutes: an edge this long can never be on a route.
PROHIBITIVE_MINUTES = 10**7
UNLIMITED = 10**12


@dataclass
class _Model:
    """The PyVRP data and the way back from its indices to our ids."""

    data: pyvrp.ProblemData
    client_visit: list[int]
    type_engineers: list[list[str]]


class _Clock:
    """PyVRP's stopping criterion, reporting progress every half second on the way."""

    def __init__(self, seconds: float, progress: Progress | None) -> None:
        self.seconds, self.progress = seconds, progress
        self.began = time.perf_counter()
        self.reported = self.began

    def __call__(self, best_cost: float) -> bool:
        now = time.perf_counter()
        if self.progress is not None and now - self.reported >= 0.5:
            self.reported = now
            fraction = min((now - self.began) / max(self.seconds, 1e-9), 1.0)
            self.progress(fraction, f"searching, best cost {best_cost}")
        return now - self.began >= self.seconds


def solve(
    problem: Problem,
    time_limit: float = 30.0,
    seed: int = 1,
    progress: Progress | None = None,
) -> Plan:
    """The best plan found within about ``time_limit`` seconds; always feasible."""
    began = time.perf_counter()
    baseline = greedy(problem)
    visits = build_visits(problem)
    servable = [i for i, v in enumerate(visits) if _eligible(problem, v)]
    sequences: dict[str, list[str]] = {e.id: [] for e in problem.engineers}
    if servable:
        chosen = [visits[i] for i in servable]
        placed = {stop.order_id for route in baseline.routes for stop in route.stops}
        model = _build(problem, chosen, placed)
        start = _initial(problem, model, chosen, baseline)
        budget = max(time_limit - (time.perf_counter() - began) - 0.05 * time_limit, 0.05)
        clock = _Clock(budget, progress)
        with warnings.catch_warnings():
            # The search starts feasible and the answer is re-checked: a penalty bound
            # reached along the way is not news for the caller's log.
            warnings.simplefilter("ignore", PenaltyBoundWarning)
            result = pyvrp.solve(
                model.data, clock, seed=seed, display=False, initial_solution=start
            )
        sequences = _sequences(model, chosen, result.best, sequences)
    deadline = began + time_limit * 1.05 + 1.0
    sequences = repair(problem, sequences, deadline)
    placed = {order_id for seq in sequences.values() for order_id in seq}
    left_out = {o.id: left_out_reason(problem, o) for o in problem.orders if o.id not in placed}
    plan = build_plan(
        problem, sequences, left_out, solver="pyvrp", runtime_s=time.perf_counter() - began
    )
    if baseline.objective < plan.objective:
        baseline.solver = "greedy (better than the search)"
        baseline.runtime_s = round(time.perf_counter() - began, 3)
        plan = baseline
    if progress is not None:
        progress(1.0, "done")
    return plan


def _eligible(problem: Problem, visit: Visit) -> bool:
    return any(_may_serve(engineer, visit) for engineer in problem.engineers)


def _may_serve(engineer: Engineer, visit: Visit) -> bool:
    if visit.fixed_engineer is not None and visit.fixed_engineer != engineer.id:
        return False
    return engineer.qualifies(visit.skills)


def _build(problem: Problem, visits: list[Visit], placed: set[str]) -> _Model:
    depot_points = list(dict.fromkeys(p for e in problem.engineers for p in (e.start, e.end_point)))
    depot_of = {point: i for i, point in enumerate(depot_points)}
    # One location per client: a profile blocks a location, and two orders at one
    # point may need different skills.
    client_visit = [i for i, visit in enumerate(visits) for _ in visit.windows]
    points = depot_points + [visits[i].location for i in client_visit]
    index = np.array([problem.travel.index[p] for p in points])
    distance = problem.travel.distance[np.ix_(index, index)]
    duration = problem.travel.duration[np.ix_(index, index)]
    prohibitive = int(distance.max(initial=0)) * 10 + 100 * _max_prize(problem, visits)
    profiles: dict[frozenset[int], int] = {}
    distances, durations = [], []
    engineer_profile = {}
    for engineer in problem.engineers:
        allowed = frozenset(i for i, v in enumerate(visits) if _may_serve(engineer, v))
        if allowed not in profiles:
            profiles[allowed] = len(profiles)
            blocked = [
                len(depot_points) + c for c, v in enumerate(client_visit) if v not in allowed
            ]
            d, t = distance.copy(), duration.copy()
            d[:, blocked], t[:, blocked] = prohibitive, PROHIBITIVE_MINUTES
            np.fill_diagonal(d, 0)
            np.fill_diagonal(t, 0)
            distances.append(d)
            durations.append(t)
        engineer_profile[engineer.id] = profiles[allowed]
    dims = _dimensions(problem)
    clients, groups = _clients(problem, visits, len(depot_points), dims, placed)
    vehicle_types, type_engineers = _vehicle_types(problem, depot_of, engineer_profile, dims)
    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(x=p[1], y=p[0]) for p in points],
        clients=clients,
        depots=[pyvrp.Depot(location=i) for i in range(len(depot_points))],
        vehicle_types=vehicle_types,
        distance_matrices=distances,
        duration_matrices=durations,
        groups=groups,
    )
    return _Model(data, client_visit, type_engineers)


def _max_prize(problem: Problem, visits: list[Visit]) -> int:
    orders = problem.order_by_id
    return max(sum(penalty(problem, orders[o]) for o in v.order_ids) for v in visits)


def _dimensions(problem: Problem) -> list[str]:
    """Capacity dimensions some engineer actually limits; the others cost nothing."""
    limits = {"load": "capacity", "count": "max_orders", "work": "max_work_minutes"}
    return [
        dim
        for dim, attr in limits.items()
        if any(getattr(e, attr) is not None for e in problem.engineers)
    ]


def _clients(
    problem: Problem, visits: list[Visit], first: int, dims: list[str], placed: set[str]
) -> tuple[list[pyvrp.Client], list[pyvrp.ClientGroup]]:
    clients, groups = [], []
    for visit in visits:
        amounts = {"load": visit.load, "count": len(visit.order_ids), "work": visit.duration}
        delivery = [amounts[d] for d in dims]
        prize = sum(penalty(problem, problem.order_by_id[o]) for o in visit.order_ids)
        required = visit.fixed_engineer is not None or placed.issuperset(visit.order_ids)
        several = len(visit.windows) > 1
        members = []
        for early, late in visit.windows:
            members.append(len(clients))
            clients.append(
                pyvrp.Client(
                    location=first + len(clients),
                    delivery=delivery,
                    service_duration=visit.duration,
                    tw_early=early,
                    tw_late=late,
                    prize=0 if required else prize,
                    required=required and not several,
                    group=len(groups) if several else None,
                )
            )
        if several:
            groups.append(pyvrp.ClientGroup(members, required=required))
    return clients, groups


def _vehicle_types(
    problem: Problem,
    depot_of: dict,
    engineer_profile: dict[str, int],
    dims: list[str],
) -> tuple[list[pyvrp.VehicleType], list[list[str]]]:
    """Engineers alike in every respect share a vehicle type: a smaller search space."""
    kinds: dict[tuple, list[str]] = {}
    for e in problem.engineers:
        limits = {"load": e.capacity, "count": e.max_orders, "work": e.max_work_minutes}
        capacity = tuple(UNLIMITED if limits[d] is None else limits[d] for d in dims)
        key = (
            depot_of[e.start],
            depot_of[e.end_point],
            e.shift_start,
            e.shift_end,
            engineer_profile[e.id],
            capacity,
        )
        kinds.setdefault(key, []).append(e.id)
    types = [
        pyvrp.VehicleType(
            num_available=len(ids),
            capacity=list(key[5]),
            start_depot=key[0],
            end_depot=key[1],
            tw_early=key[2],
            tw_late=key[3],
            profile=key[4],
            name=",".join(ids)[:200],
        )
        for key, ids in kinds.items()
    ]
    return types, list(kinds.values())


def _sequences(
    model: _Model,
    visits: list[Visit],
    solution: pyvrp.Solution,
    sequences: dict[str, list[str]],
) -> dict[str, list[str]]:
    free = [list(ids) for ids in model.type_engineers]
    for route in solution.routes():
        engineer_id = free[route.vehicle_type()].pop(0)
        for activity in route.schedule():
            if activity.type == pyvrp.ActivityType.CLIENT:
                sequences[engineer_id] += visits[model.client_visit[activity.idx]].order_ids
    return sequences


def _initial(
    problem: Problem, model: _Model, visits: list[Visit], baseline: Plan
) -> pyvrp.Solution:
    """The greedy plan in PyVRP's terms: a feasible start for the search."""
    first_client: dict[int, int] = {}
    for client, visit in enumerate(model.client_visit):
        first_client.setdefault(visit, client)
    visit_of = {o: i for i, v in enumerate(visits) for o in v.order_ids}
    type_of = {e: t for t, ids in enumerate(model.type_engineers) for e in ids}
    routes, used = [], set()
    for route in baseline.routes:
        # A site visit the baseline split between engineers goes with the first of them.
        order = dict.fromkeys(visit_of[s.order_id] for s in route.stops if s.order_id in visit_of)
        order = [v for v in order if v not in used]
        used.update(order)
        if order:
            clients = [first_client[v] for v in order]
            routes.append(pyvrp.Route(model.data, clients, type_of[route.engineer_id]))
    return pyvrp.Solution(model.data, routes)
