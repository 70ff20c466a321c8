"""Making a solver's routes safe to hand out, then filling gaps it left.

PyVRP's best solution is feasible in PyVRP's terms; these steps make sure it is in
ours too (committed visits in their committed order, every rule ``simulate``
checks), cutting back any route that is not, and then try to place each order left
out at its cheapest feasible position.
"""

from __future__ import annotations

import time

from frontline.dispatch.optimiser.model import Engineer, Order, Problem
from frontline.dispatch.optimiser.schedule import simulate


def repair(
    problem: Problem, sequences: dict[str, list[str]], deadline: float
) -> dict[str, list[str]]:
    """Feasible routes for every engineer, plus what could be inserted before ``deadline``."""
    fixed = {e.id: list(e.fixed) for e in problem.engineers}
    result = {}
    for engineer in problem.engineers:
        sequence = _fixed_in_order(sequences.get(engineer.id, []), fixed[engineer.id])
        if not simulate(problem, engineer, sequence).feasible:
            sequence = _cut_back(problem, engineer, sequence)
        result[engineer.id] = sequence
    placed = {order_id for sequence in result.values() for order_id in sequence}
    missing = [o for o in problem.orders if o.id not in placed]
    for order in sorted(missing, key=lambda o: (-o.priority, o.windows[0], o.id)):
        if time.perf_counter() > deadline:
            break
        _insert_cheapest(problem, result, order)
    return result


def _fixed_in_order(sequence: list[str], fixed: list[str]) -> list[str]:
    """Committed visits take the slots committed visits hold, in the committed order."""
    if sorted(o for o in sequence if o in fixed) != sorted(fixed):
        # Some were dropped: start from the committed visits alone; the rest is re-inserted.
        return list(fixed)
    queue = iter(fixed)
    return [next(queue) if order_id in fixed else order_id for order_id in sequence]


def _cut_back(problem: Problem, engineer: Engineer, sequence: list[str]) -> list[str]:
    """Keep orders in sequence while the committed visits still to come fit after them."""
    kept: list[str] = []
    to_come = list(engineer.fixed)
    for order_id in sequence:
        if order_id in engineer.fixed:
            kept.append(order_id)
            to_come.remove(order_id)
        elif simulate(problem, engineer, [*kept, order_id, *to_come]).feasible:
            kept.append(order_id)
    return kept


def _insert_cheapest(problem: Problem, routes: dict[str, list[str]], order: Order) -> None:
    best: tuple[int, str, int] | None = None
    for engineer in problem.engineers:
        if not engineer.qualifies(order.skills):
            continue
        sequence = routes[engineer.id]
        before = simulate(problem, engineer, sequence).distance_m
        for position in range(len(sequence) + 1):
            trial = [*sequence[:position], order.id, *sequence[position:]]
            timing = simulate(problem, engineer, trial)
            if timing.feasible:
                extra = timing.distance_m - before
                if best is None or extra < best[0]:
                    best = (extra, engineer.id, position)
    if best is not None:
        routes[best[1]].insert(best[2], order.id)
