"""An independent check of a plan against the hard rules of its problem.

Written apart from the solver and from ``schedule.simulate`` on purpose: it reads the
times the plan *states* and checks each against the rules (skills, windows, shifts,
travel time between stops, committed visits, limits), so a bug in how plans are
built shows up here instead of being repeated here.
"""

from __future__ import annotations

from collections import Counter

from frontline.dispatch.optimiser.model import Engineer, Plan, Problem, Route


def validate(problem: Problem, plan: Plan) -> list[str]:
    """Every broken rule, one sentence each; an empty list means the plan is feasible."""
    violations: list[str] = []
    seen = Counter(stop.order_id for route in plan.routes for stop in route.stops)
    seen.update(o.order_id for o in plan.left_out)
    for order_id, count in seen.items():
        if order_id not in problem.order_by_id:
            violations.append(f"order {order_id!r} is not in the problem")
        elif count > 1:
            violations.append(f"order {order_id!r} appears {count} times in the plan")
    for order in problem.orders:
        if order.id not in seen:
            violations.append(f"order {order.id!r} is neither planned nor left out")
    left_out = {o.order_id for o in plan.left_out}
    for engineer in problem.engineers:
        for order_id in engineer.fixed:
            if order_id in left_out:
                violations.append(f"fixed order {order_id!r} of {engineer.id!r} is left out")
    engineers = Counter(route.engineer_id for route in plan.routes)
    for engineer_id, count in engineers.items():
        engineer = problem.engineer_by_id.get(engineer_id)
        if engineer is None:
            violations.append(f"route for unknown engineer {engineer_id!r}")
        elif count > 1:
            violations.append(f"engineer {engineer_id!r} has {count} routes")
    for route in plan.routes:
        if route.engineer_id in problem.engineer_by_id:
            engineer = problem.engineer_by_id[route.engineer_id]
            violations += _check_route(problem, engineer, route)
    return violations


def _check_route(problem: Problem, engineer: Engineer, route: Route) -> list[str]:
    who = f"engineer {engineer.id!r}"
    found: list[str] = []
    if not route.stops:
        return found
    if route.depart < engineer.shift_start:
        found.append(f"{who} leaves at {route.depart}, before the shift starts")
    free, here, metres = route.depart, engineer.start, 0
    for stop in route.stops:
        order = problem.order_by_id.get(stop.order_id)
        if order is None:
            continue
        what = f"order {order.id!r} ({who})"
        leg_m, leg_min = problem.travel.leg(here, order.location)
        metres += leg_m
        if stop.arrival < free + leg_min:
            found.append(f"{what}: arrives at {stop.arrival}, earlier than travel allows")
        if stop.start < stop.arrival:
            found.append(f"{what}: starts before arriving")
        if not any(early <= stop.start <= late for early, late in order.windows):
            found.append(f"{what}: starts at {stop.start}, outside its windows {order.windows}")
        if stop.end != stop.start + order.duration:
            found.append(f"{what}: ends at {stop.end}, not start + {order.duration}")
        if not engineer.qualifies(order.skills):
            found.append(f"{what}: engineer lacks required skills {order.skills}")
        if order.fixed_engineer not in (None, engineer.id):
            found.append(f"{what}: order is fixed to {order.fixed_engineer!r}")
        free, here = stop.end, order.location
    leg_m, leg_min = problem.travel.leg(here, engineer.end_point)
    metres += leg_m
    if route.back < free + leg_min:
        found.append(f"{who}: back at {route.back}, earlier than travel allows")
    if route.back > engineer.shift_end:
        found.append(f"{who}: back at {route.back}, after the shift ends ({engineer.shift_end})")
    if route.distance_m != metres:
        found.append(f"{who}: route states {route.distance_m} m, the legs add up to {metres} m")
    return found + _check_limits(problem, engineer, route)


def _check_limits(problem: Problem, engineer: Engineer, route: Route) -> list[str]:
    who = f"engineer {engineer.id!r}"
    found = []
    orders = [
        problem.order_by_id[s.order_id] for s in route.stops if s.order_id in problem.order_by_id
    ]
    ids = [order.id for order in orders]
    fixed_in_route = [order_id for order_id in ids if order_id in engineer.fixed]
    if fixed_in_route != list(engineer.fixed):
        found.append(f"{who}: fixed visits {list(engineer.fixed)} are not kept in order")
    if engineer.max_orders is not None and len(orders) > engineer.max_orders:
        found.append(f"{who}: {len(orders)} orders, more than {engineer.max_orders}")
    work = sum(order.duration for order in orders)
    if engineer.max_work_minutes is not None and work > engineer.max_work_minutes:
        found.append(f"{who}: {work} minutes of work, more than {engineer.max_work_minutes}")
    load = sum(order.load for order in orders)
    if engineer.capacity is not None and load > engineer.capacity:
        found.append(f"{who}: load {load}, more than capacity {engineer.capacity}")
    return found
