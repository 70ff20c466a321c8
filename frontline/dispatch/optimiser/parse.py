"""JSON in and out (format: docs/plan-format.md).

``parse_problem`` is the one gate for input from outside (the CLI, the Django side,
an API payload): anything it lets through can be planned, and anything it rejects is
a ``ProblemError`` whose message names the order or engineer, never a traceback.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from typing import Any

from frontline.dispatch.optimiser.model import (
    PRIORITIES,
    PRIORITY_NAMES,
    Engineer,
    Order,
    Plan,
    Point,
    Problem,
    ProblemError,
)
from frontline.dispatch.optimiser.travel import HaversineProvider, OsrmProvider, TravelProvider

SKILL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
MAX_MINUTES = 7 * 24 * 60


class _Reader:
    """Reads fields of one JSON object, raising errors that name its subject."""

    def __init__(self, kind: str, subject: str, data: Any, day_start: datetime | None) -> None:
        self.kind, self.subject, self.data, self.day_start = kind, subject, data, day_start

    def fail(self, message: str) -> ProblemError:
        return ProblemError(self.subject, f"{self.kind} {self.subject!r}: {message}")

    def get(self, key: str, default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise self.fail(f"{key} is missing")
            return default
        return self.data[key]

    def integer(self, key: str, default: Any = ..., *, low: int = 0) -> Any:
        value = self.get(key, default)
        if value is None or value is default:
            return value
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.fail(f"{key} must be a whole number of at least {low}, not {value!r}")
        return value

    def time(self, value: Any, what: str) -> int:
        """Minutes from the day start: an integer, "HH:MM", or an ISO datetime."""
        if isinstance(value, int) and not isinstance(value, bool):
            minutes = value
        elif isinstance(value, str) and (match := HHMM.match(value)):
            minutes = int(match[1]) * 60 + int(match[2])
        elif isinstance(value, str) and self.day_start is not None:
            try:
                moment = datetime.fromisoformat(value)
                minutes = int((moment - self.day_start) // timedelta(minutes=1))
            except (ValueError, TypeError):
                raise self.fail(f"{what} {value!r} is not minutes, HH:MM or an ISO datetime")
        else:
            raise self.fail(f"{what} {value!r} is not minutes or HH:MM (ISO needs day_start)")
        if not 0 <= minutes <= MAX_MINUTES:
            raise self.fail(f"{what} {value!r} is outside the planning week")
        return minutes

    def point(self, key: str, default: Any = ...) -> Point | None:
        value = self.get(key, default)
        if value is None and default is None:
            return None
        if isinstance(value, dict):
            value = (value.get("lat"), value.get("lon"))
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise self.fail(f"{key} must be {{'lat': …, 'lon': …}}, not {value!r}")
        lat, lon = value
        for coordinate, limit in ((lat, 90), (lon, 180)):
            if not isinstance(coordinate, int | float) or isinstance(coordinate, bool):
                raise self.fail(f"{key} has a coordinate that is not a number: {value!r}")
            if not math.isfinite(coordinate) or abs(coordinate) > limit:
                raise self.fail(f"{key} has a coordinate out of range: {value!r}")
        return (float(lat), float(lon))

    def skills(self, key: str) -> dict[str, int]:
        value = self.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(f"{key} must map skill codes to levels 1-5")
        for code, level in value.items():
            if not isinstance(code, str) or not SKILL_CODE.match(code):
                raise self.fail(f"skill code {code!r} is malformed")
            if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5:
                raise self.fail(f"skill {code!r} needs a level 1-5, not {level!r}")
        return dict(value)


def parse_problem(data: Any, *, travel_provider: TravelProvider | None = None) -> Problem:
    """Check and convert a JSON problem; ``travel_provider`` overrides the JSON's choice."""
    if not isinstance(data, dict):
        raise ProblemError("", "the problem must be a JSON object")
    day_start = _day_start(data.get("day_start"))
    engineers = _list(data, "engineers")
    orders = _list(data, "orders")
    parsed_engineers = [_engineer(item, day_start) for item in engineers]
    parsed_orders = [_order(item, day_start) for item in orders]
    _unique("engineer", [e.id for e in parsed_engineers])
    _unique("order", [o.id for o in parsed_orders])
    provider = travel_provider or _provider(data.get("travel"))
    problem = Problem(parsed_engineers, parsed_orders, provider, data.get("day_start"))
    return check_problem(problem)


def check_problem(problem: Problem) -> Problem:
    """Rules across orders and engineers; also for problems built in code."""
    from frontline.dispatch.optimiser.fixed import pin_fixed_visits

    for order in problem.orders:
        _check_windows(problem, order)
    return pin_fixed_visits(problem)


def _list(data: dict, key: str) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ProblemError("", f"{key} must be a list")
    return value


def _day_start(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ProblemError("", f"day_start {value!r} is not an ISO datetime")


def _subject(kind: str, item: Any) -> str:
    if not isinstance(item, dict):
        raise ProblemError("", f"each {kind} must be a JSON object, not {item!r}")
    subject = item.get("id")
    if not isinstance(subject, str | int) or isinstance(subject, bool) or str(subject) == "":
        raise ProblemError("", f"an {kind} has no usable id: {item!r}"[:200])
    return str(subject)


def _engineer(item: Any, day_start: datetime | None) -> Engineer:
    r = _Reader("engineer", _subject("engineer", item), item, day_start)
    shift = r.get("shift")
    if not isinstance(shift, dict):
        raise r.fail("shift must be {'start': …, 'end': …}")
    start, end = r.time(shift.get("start"), "shift start"), r.time(shift.get("end"), "shift end")
    if end <= start:
        raise r.fail(f"shift ends ({end}) before it starts ({start})")
    fixed = r.get("fixed", [])
    if not isinstance(fixed, list) or not all(isinstance(f, str | int) for f in fixed):
        raise r.fail("fixed must be a list of order ids")
    return Engineer(
        id=r.subject,
        start=r.point("start"),  # type: ignore[arg-type]
        end=r.point("end", None),
        shift_start=start,
        shift_end=end,
        skills=r.skills("skills"),
        max_orders=r.integer("max_orders", None),
        max_work_minutes=r.integer("max_work_minutes", None),
        capacity=r.integer("capacity", None),
        fixed=tuple(str(f) for f in fixed),
    )


def _order(item: Any, day_start: datetime | None) -> Order:
    r = _Reader("order", _subject("order", item), item, day_start)
    duration = r.get("duration")
    if isinstance(duration, bool) or not isinstance(duration, int) or duration < 0:
        raise r.fail(f"duration must be a whole number of minutes >= 0, not {duration!r}")
    site = r.get("site_id", None)
    fixed = r.get("fixed_engineer", None)
    return Order(
        id=r.subject,
        location=r.point("location"),  # type: ignore[arg-type]
        duration=duration,
        windows=_windows(r),
        skills=r.skills("skills"),
        priority=_priority(r),
        site_id=None if site is None else str(site),
        load=r.integer("load", 0),
        fixed_engineer=None if fixed is None else str(fixed),
    )


def _windows(r: _Reader) -> tuple[tuple[int, int], ...]:
    raw = r.get("windows", None)
    if raw is None:
        raw = [r.get("window")]
    if not isinstance(raw, list) or not raw:
        raise r.fail("windows must be a non-empty list of {'start': …, 'end': …}")
    windows = []
    for window in raw:
        if isinstance(window, dict):
            window = (window.get("start"), window.get("end"))
        if not isinstance(window, list | tuple) or len(window) != 2:
            raise r.fail(f"window {window!r} must be {{'start': …, 'end': …}}")
        early, late = r.time(window[0], "window start"), r.time(window[1], "window end")
        if late < early:
            raise r.fail(f"impossible window: it ends ({late}) before it starts ({early})")
        windows.append((early, late))
    return tuple(sorted(windows))


def _priority(r: _Reader) -> int:
    value = r.get("priority", "normal")
    if isinstance(value, str) and value in PRIORITIES:
        return PRIORITIES[value]
    if isinstance(value, int) and not isinstance(value, bool) and value in PRIORITY_NAMES:
        return value
    raise r.fail(f"priority must be one of low, normal, high, urgent (or 1-4), not {value!r}")


def _unique(kind: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for subject in ids:
        if subject in seen:
            raise ProblemError(subject, f"{kind} {subject!r} appears twice")
        seen.add(subject)


def _provider(value: Any) -> TravelProvider:
    if value is None:
        return HaversineProvider()
    if not isinstance(value, dict):
        raise ProblemError("", "travel must be an object")
    kind = value.get("provider", "haversine")
    try:
        if kind == "haversine":
            return HaversineProvider(
                float(value.get("road_factor", 1.3)), float(value.get("speed_kmh", 30))
            )
        if kind == "osrm":
            return OsrmProvider(str(value["base_url"]), float(value.get("timeout", 30)))
    except (KeyError, TypeError, ValueError) as exc:
        raise ProblemError("", f"travel settings are invalid: {exc}")
    raise ProblemError("", f"unknown travel provider {kind!r} (haversine or osrm)")


def _check_windows(problem: Problem, order: Order) -> None:
    """A window no shift overlaps can never be served: say so rather than leave it out."""
    if not problem.engineers:
        return
    for early, late in order.windows:
        for engineer in problem.engineers:
            if early <= engineer.shift_end - order.duration and late >= engineer.shift_start:
                return
    raise ProblemError(order.id, f"order {order.id!r}: its window lies outside every shift")


def plan_to_dict(plan: Plan, day_start: str | None = None) -> dict[str, Any]:
    """The JSON form of a plan; with ``day_start``, stop times also come as ISO datetimes."""
    origin = datetime.fromisoformat(day_start) if day_start else None
    routes = []
    for route in plan.routes:
        stops = []
        for stop in route.stops:
            item: dict[str, Any] = {
                "order_id": stop.order_id,
                "visit": stop.visit,
                "arrival": stop.arrival,
                "start": stop.start,
                "end": stop.end,
            }
            if origin is not None:
                for key in ("arrival", "start", "end"):
                    item[f"{key}_at"] = (origin + timedelta(minutes=item[key])).isoformat()
            stops.append(item)
        routes.append(
            {
                "engineer_id": route.engineer_id,
                "depart": route.depart,
                "back": route.back,
                "distance_m": route.distance_m,
                "travel_minutes": route.travel_minutes,
                "work_minutes": route.work_minutes,
                "wait_minutes": route.wait_minutes,
                "utilisation": route.utilisation,
                "stops": stops,
            }
        )
    return {
        "solver": plan.solver,
        "runtime_s": plan.runtime_s,
        "objective": plan.objective,
        "kpis": plan.kpis,
        "routes": routes,
        "left_out": [{"order_id": o.order_id, "reason": o.reason} for o in plan.left_out],
    }
