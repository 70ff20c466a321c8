"""The optimiser's data model: what a planning day is made of, and what a plan says.

Pure dataclasses, no Django: the Django side builds a ``Problem`` from its rows, and
reads a ``Plan`` back. Every time is an integer number of minutes from the plan's
day start (``Problem.day_start``, an optional ISO datetime used only to print wall
clock times), because the solver works on integers and minutes are the unit a
dispatcher thinks in. Distances are metres.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from frontline.dispatch.optimiser.travel import TravelMatrix, TravelProvider

# Priorities, lowest first. Low and normal orders may be left out when the day cannot
# hold them all; high and urgent are left out only when no engineer can reach them.
PRIORITIES = {"low": 1, "normal": 2, "high": 3, "urgent": 4}
PRIORITY_NAMES = {value: name for name, value in PRIORITIES.items()}

Point = tuple[float, float]


class ProblemError(ValueError):
    """Input that cannot be planned, naming the order or engineer at fault.

    ``code`` is stable for callers (the API maps it to a 400); ``subject`` is the id
    of the order or engineer, or ``""`` when the problem as a whole is wrong; the
    message names it too (``order 'A-17': window ends before it starts``) so that it
    can be shown as it is.
    """

    code = "invalid_plan_input"

    def __init__(self, subject: str, message: str) -> None:
        self.subject = subject
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Engineer:
    """One engineer's day: where they start and end, when, and what they can do.

    ``fixed`` lists orders already committed to this engineer, in the order they
    must be visited; the solver may put other work between them but never reorders
    or moves them. ``capacity`` bounds the summed ``Order.load`` (parts, van space);
    ``max_orders`` and ``max_work_minutes`` (summed service time) bound the day.
    """

    id: str
    start: Point
    shift_start: int
    shift_end: int
    skills: dict[str, int] = field(default_factory=dict)
    end: Point | None = None
    max_orders: int | None = None
    max_work_minutes: int | None = None
    capacity: int | None = None
    fixed: tuple[str, ...] = ()

    @property
    def end_point(self) -> Point:
        return self.start if self.end is None else self.end

    def qualifies(self, required: dict[str, int]) -> bool:
        """Skills are hard: every required skill at at least the required level."""
        return all(self.skills.get(code, 0) >= level for code, level in required.items())


@dataclass(frozen=True)
class Order:
    """A work order to place on someone's day.

    ``windows`` are (earliest start, latest start) pairs, sorted: service must *start*
    inside one of them and may run past its end. Orders sharing a ``site_id`` are
    visited together when their windows allow (one stop, one after another).
    ``fixed_engineer`` pins an already-committed visit to its engineer.
    """

    id: str
    location: Point
    duration: int
    windows: tuple[tuple[int, int], ...]
    skills: dict[str, int] = field(default_factory=dict)
    priority: int = PRIORITIES["normal"]
    site_id: str | None = None
    load: int = 0
    fixed_engineer: str | None = None

    @property
    def required(self) -> bool:
        """High and urgent orders carry a penalty large enough to outweigh any travel."""
        return self.priority >= PRIORITIES["high"]


@dataclass
class Problem:
    """A planning day. Build with ``parse_problem`` to get every check done."""

    engineers: list[Engineer]
    orders: list[Order]
    travel_provider: TravelProvider | None = None
    day_start: str | None = None

    @cached_property
    def order_by_id(self) -> dict[str, Order]:
        return {order.id: order for order in self.orders}

    @cached_property
    def engineer_by_id(self) -> dict[str, Engineer]:
        return {engineer.id: engineer for engineer in self.engineers}

    @cached_property
    def travel(self) -> TravelMatrix:
        """Travel between every point of the day, asked of the provider once."""
        from frontline.dispatch.optimiser.travel import HaversineProvider, TravelMatrix

        points: list[Point] = []
        for engineer in self.engineers:
            points += [engineer.start, engineer.end_point]
        points += [order.location for order in self.orders]
        return TravelMatrix.build(points, self.travel_provider or HaversineProvider())


@dataclass(frozen=True)
class Stop:
    """One order on a route: when the engineer arrives, starts and finishes.

    Orders of one site visit share ``visit`` (their position among the route's
    stops) and follow each other without travel.
    """

    order_id: str
    visit: int
    arrival: int
    start: int
    end: int


@dataclass
class Route:
    """One engineer's day: the stops in order, and what the day costs."""

    engineer_id: str
    stops: list[Stop]
    depart: int
    back: int
    distance_m: int
    travel_minutes: int
    work_minutes: int
    wait_minutes: int
    utilisation: float

    @property
    def order_ids(self) -> list[str]:
        return [stop.order_id for stop in self.stops]


@dataclass(frozen=True)
class LeftOut:
    """An order the plan does not place, and the reason a dispatcher can act on."""

    order_id: str
    reason: str


@dataclass
class Plan:
    """The answer: a route per engineer (possibly empty), what was left out, KPIs."""

    routes: list[Route]
    left_out: list[LeftOut]
    solver: str
    runtime_s: float
    objective: int
    kpis: dict[str, float] = field(default_factory=dict)

    def route_of(self, engineer_id: str) -> Route | None:
        return next((r for r in self.routes if r.engineer_id == engineer_id), None)
