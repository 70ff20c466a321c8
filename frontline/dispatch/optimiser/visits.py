"""Grouping orders into visits: what the solver routes between.

Orders at one site (same ``site_id`` and point, same priority, none of them a
committed visit) are done in one stop when their windows allow: one after another,
without travel. The stop's window is the set of arrival times that lets *every*
order start inside its own window given the orders done before it, so the per-order
times stay valid; an order that would make that empty starts a new stop.
"""

from __future__ import annotations

from dataclasses import dataclass

from frontline.dispatch.optimiser.model import Order, Point, Problem


@dataclass
class Visit:
    """One stop: its orders in service order, where, how long, and when it may start."""

    order_ids: list[str]
    location: Point
    duration: int
    windows: list[tuple[int, int]]
    skills: dict[str, int]
    load: int
    fixed_engineer: str | None


def build_visits(problem: Problem) -> list[Visit]:
    """Every order in exactly one visit; single orders are visits of one."""
    visits: list[Visit] = []
    sites: dict[tuple, list[Order]] = {}
    for order in problem.orders:
        if order.site_id is None or order.fixed_engineer or len(order.windows) != 1:
            visits.append(_single(order))
        else:
            sites.setdefault((order.site_id, order.location, order.priority), []).append(order)
    for orders in sites.values():
        visits += _group_site(problem, sorted(orders, key=lambda o: (o.windows[0][1], o.id)))
    return visits


def _single(order: Order) -> Visit:
    return Visit(
        [order.id],
        order.location,
        order.duration,
        list(order.windows),
        dict(order.skills),
        order.load,
        order.fixed_engineer,
    )


def _group_site(problem: Problem, orders: list[Order]) -> list[Visit]:
    groups: list[Visit] = []
    current: Visit | None = None
    for order in orders:
        if current is not None and _extend(problem, current, order):
            continue
        current = _single(order)
        groups.append(current)
    return groups


def _extend(problem: Problem, visit: Visit, order: Order) -> bool:
    """Add the order at the end of the visit if some start time still suits every order."""
    early, late = order.windows[0]
    offset = visit.duration
    (v_early, v_late) = visit.windows[0]
    window = (max(v_early, early - offset), min(v_late, late - offset))
    if window[0] > window[1]:
        return False
    skills = dict(visit.skills)
    for code, level in order.skills.items():
        skills[code] = max(level, skills.get(code, 0))
    if not any(engineer.qualifies(skills) for engineer in problem.engineers):
        return False
    visit.order_ids.append(order.id)
    visit.duration += order.duration
    visit.windows = [window]
    visit.skills = skills
    visit.load += order.load
    return True
