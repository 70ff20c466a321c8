"""The baseline a dispatcher would do by hand: nearest qualified engineer, in window order.

It is what the optimiser is measured against (bench/dispatch.py), and the solver's
safety net: ``solve`` never returns a plan worse than this one.
"""

from __future__ import annotations

import time

from frontline.dispatch.optimiser.model import Engineer, Order, Plan, Problem
from frontline.dispatch.optimiser.schedule import build_plan, simulate, start_in_windows


def greedy(problem: Problem) -> Plan:
    """Place orders by window start, each on the nearest engineer who can still make it."""
    began = time.perf_counter()
    sequences: dict[str, list[str]] = {e.id: [] for e in problem.engineers}
    remaining_fixed = {e.id: list(e.fixed) for e in problem.engineers}
    left_out: dict[str, str] = {}
    for order in sorted(problem.orders, key=lambda o: (o.windows[0], -o.priority, o.id)):
        if order.fixed_engineer is not None:
            # Committed visits go in their committed order; any still waiting before this
            # one go with it. Each step keeps "route + committed visits to come" feasible.
            waiting = remaining_fixed[order.fixed_engineer]
            if order.id in waiting:
                cut = waiting.index(order.id) + 1
                sequences[order.fixed_engineer] += waiting[:cut]
                del waiting[:cut]
            continue
        chosen = _nearest_engineer(problem, order, sequences, remaining_fixed)
        if chosen is None:
            left_out[order.id] = left_out_reason(problem, order)
        else:
            sequences[chosen.id].append(order.id)
    return build_plan(
        problem, sequences, left_out, solver="greedy", runtime_s=time.perf_counter() - began
    )


def _nearest_engineer(
    problem: Problem,
    order: Order,
    sequences: dict[str, list[str]],
    remaining_fixed: dict[str, list[str]],
) -> Engineer | None:
    candidates = []
    for engineer in problem.engineers:
        if not engineer.qualifies(order.skills):
            continue
        done = sequences[engineer.id]
        if done:
            last = problem.order_by_id[done[-1]]
            free, here = _end_of(problem, engineer, done), last.location
        else:
            free, here = engineer.shift_start, engineer.start
        metres, minutes = problem.travel.leg(here, order.location)
        if start_in_windows(order, free + minutes) is None:
            continue
        candidates.append((metres, engineer.id, engineer))
    for _, _, engineer in sorted(candidates, key=lambda c: (c[0], c[1])):
        # Committed visits still to come must fit after this one, in their order.
        trial = [*sequences[engineer.id], order.id, *remaining_fixed[engineer.id]]
        if simulate(problem, engineer, trial).feasible:
            return engineer
    return None


def _end_of(problem: Problem, engineer: Engineer, sequence: list[str]) -> int:
    return simulate(problem, engineer, sequence).stops[-1].end


def left_out_reason(problem: Problem, order: Order) -> str:
    """Why an order has no place, in words a dispatcher can act on."""
    qualified = [e for e in problem.engineers if e.qualifies(order.skills)]
    if order.fixed_engineer is not None:
        qualified = [e for e in qualified if e.id == order.fixed_engineer]
    if not qualified:
        return "no qualified engineer"
    if not any(simulate(problem, e, [order.id]).feasible for e in qualified):
        return "no qualified engineer can reach it within its window and shift"
    return "no room left in the day of any qualified engineer"
