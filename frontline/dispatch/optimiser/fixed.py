"""Committed visits: orders pinned to an engineer, in a fixed order.

A pin can be given from either side (``Engineer.fixed`` or ``Order.fixed_engineer``);
this module makes both sides agree and rejects pins that could never be kept, so
the solver can rely on "the committed visits alone always fit the day".
"""

from __future__ import annotations

from dataclasses import replace

from frontline.dispatch.optimiser.model import Problem, ProblemError


def pin_fixed_visits(problem: Problem) -> Problem:
    """Return the problem with every pin recorded on both the order and its engineer."""
    orders = problem.order_by_id
    pinned: dict[str, str] = {}
    for engineer in problem.engineers:
        for order_id in engineer.fixed:
            if order_id not in orders:
                raise ProblemError(
                    engineer.id, f"engineer {engineer.id!r}: fixed order {order_id!r} is unknown"
                )
            if order_id in pinned:
                raise ProblemError(order_id, f"order {order_id!r} is fixed to two engineers")
            pinned[order_id] = engineer.id
    extra: dict[str, list[str]] = {}
    for order in problem.orders:
        wanted = order.fixed_engineer
        if wanted is None:
            continue
        if wanted not in problem.engineer_by_id:
            raise ProblemError(
                order.id, f"order {order.id!r}: fixed engineer {wanted!r} is unknown"
            )
        if pinned.setdefault(order.id, wanted) != wanted:
            raise ProblemError(
                order.id, f"order {order.id!r} is fixed to {wanted!r} and to {pinned[order.id]!r}"
            )
        if order.id not in problem.engineer_by_id[wanted].fixed:
            extra.setdefault(wanted, []).append(order.id)
    engineers = [
        replace(e, fixed=e.fixed + tuple(sorted(extra.get(e.id, []), key=_window_key(problem))))
        for e in problem.engineers
    ]
    new_orders = [replace(o, fixed_engineer=pinned.get(o.id)) for o in problem.orders]
    result = Problem(engineers, new_orders, problem.travel_provider, problem.day_start)
    if "travel" in problem.__dict__:
        # Same points: keep the matrix already asked of the provider (OSRM is a request).
        result.__dict__["travel"] = problem.__dict__["travel"]
    _check_keepable(result)
    return result


def _window_key(problem: Problem):
    return lambda order_id: problem.order_by_id[order_id].windows[0]


def _check_keepable(problem: Problem) -> None:
    from frontline.dispatch.optimiser.schedule import simulate

    for engineer in problem.engineers:
        for order_id in engineer.fixed:
            if not engineer.qualifies(problem.order_by_id[order_id].skills):
                raise ProblemError(
                    order_id,
                    f"order {order_id!r} is fixed to {engineer.id!r}, who lacks its skills",
                )
        if engineer.fixed:
            timing = simulate(problem, engineer, list(engineer.fixed))
            if not timing.feasible:
                raise ProblemError(
                    engineer.id,
                    f"engineer {engineer.id!r}: the committed visits cannot all be kept "
                    f"({timing.problem})",
                )
