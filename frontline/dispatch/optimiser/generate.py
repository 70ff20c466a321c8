"""A made-up but plausible field-service day in central Shanghai, from a seed.

Used by the benchmark (1,000 orders, 100 engineers) and by tests; the demo data may
reuse it. Returns the JSON problem format (docs/plan-format.md), so the result can
be written to a file, loaded into models, or passed to ``parse_problem``.
"""

from __future__ import annotations

import random
from typing import Any

# Central Shanghai, roughly inside the outer ring road.
LAT_RANGE = (31.10, 31.35)
LON_RANGE = (121.33, 121.62)
# What engineers can do: a few trades, as service companies staff them.
ARCHETYPES = [
    {"hvac": 3, "electrical": 1},
    {"hvac": 2},
    {"electrical": 3, "fire": 2},
    {"plumbing": 3},
    {"lift": 4, "electrical": 2},
    {"hvac": 1, "electrical": 1, "plumbing": 1},
]
SHIFTS = [(480, 1020), (480, 1020), (480, 1020), (420, 960), (600, 1140)]
PRIORITY_WEIGHTS = {"low": 20, "normal": 60, "high": 15, "urgent": 5}


def _point(rng: random.Random) -> dict[str, float]:
    return {
        "lat": round(rng.uniform(*LAT_RANGE), 5),
        "lon": round(rng.uniform(*LON_RANGE), 5),
    }


def _engineer(rng: random.Random, number: int) -> dict[str, Any]:
    start, end = rng.choice(SHIFTS)
    engineer: dict[str, Any] = {
        "id": f"E{number:03d}",
        "skills": dict(ARCHETYPES[number % len(ARCHETYPES)]),
        "shift": {"start": start, "end": end},
        "start": _point(rng),
    }
    if number % 4 == 0:
        engineer["max_orders"] = 12
    if number % 5 == 0:
        engineer["max_work_minutes"] = 420
    return engineer


def _order(rng: random.Random, number: int, engineers: list[dict[str, Any]]) -> dict[str, Any]:
    # Ask for a skill somebody has, at a level drawn low: most jobs are routine.
    archetype = rng.choice(engineers)["skills"]
    code = rng.choice(sorted(archetype))
    level = min(archetype[code], rng.choice([1, 1, 1, 2, 2, 3]))
    if rng.random() < 0.4:
        window = {"start": 480, "end": 960}
    else:
        early = rng.choice([480, 540, 600, 720, 780, 840])
        window = {"start": early, "end": early + rng.choice([120, 180, 240])}
    return {
        "id": f"WO-{number:05d}",
        "location": _point(rng),
        "duration": rng.choice([20, 30, 30, 45, 45, 60]),
        "windows": [window],
        "skills": {code: level},
        "priority": rng.choices(list(PRIORITY_WEIGHTS), list(PRIORITY_WEIGHTS.values()))[0],
    }


def generate_day(n_orders: int, n_engineers: int, seed: int = 1) -> dict[str, Any]:
    """A problem in the JSON format: engineers from a few trades, some orders per site."""
    rng = random.Random(seed)
    engineers = [_engineer(rng, number) for number in range(1, n_engineers + 1)]
    orders: list[dict[str, Any]] = []
    while len(orders) < n_orders:
        order = _order(rng, len(orders) + 1, engineers)
        orders.append(order)
        if rng.random() < 0.08:
            # A second job at the same site, often a different trade.
            sibling = _order(rng, len(orders) + 1, engineers)
            site = f"S-{len(orders):05d}"
            sibling.update(location=order["location"], windows=order["windows"])
            sibling["priority"] = order["priority"]
            order["site_id"] = sibling["site_id"] = site
            if len(orders) < n_orders:
                orders.append(sibling)
    for engineer in engineers[:: max(n_engineers // 5, 1)][:5]:
        _commit_one(rng, engineer, orders)
    return {"day_start": "2026-11-23T00:00:00+08:00", "engineers": engineers, "orders": orders}


def _commit_one(rng: random.Random, engineer: dict[str, Any], orders: list[dict[str, Any]]) -> None:
    """Pin one order this engineer is qualified for, as a visit agreed the day before."""
    skills = engineer["skills"]
    for order in rng.sample(orders, len(orders)):
        fits = all(skills.get(code, 0) >= level for code, level in order["skills"].items())
        if fits and "site_id" not in order and "fixed_engineer" not in order:
            shift = engineer["shift"]
            order["windows"] = [{"start": shift["start"] + 60, "end": shift["start"] + 180}]
            order["fixed_engineer"] = engineer["id"]
            engineer["fixed"] = [order["id"]]
            return
