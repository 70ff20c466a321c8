"""Dispatch benchmark: the route optimiser against best-known solutions and baselines.

(a) The 56 Solomon VRPTW instances (shared/data/vrptw, DIMACS convention: distance
    only, coordinates x10 and truncated, as ``pyvrp.read(path, round_func="dimacs")``
    reads them). Three solvers side by side on each instance: our optimiser through
    its own model (vehicles as engineers with a skill, orders with a site, load and
    priority, the exact DIMACS matrix through a travel provider), plain PyVRP on the
    instance as read, and the greedy baseline. Gap to best known, feasibility.
(b) A generated field-service day (``generate_day``: 1,000 orders, 100 engineers in
    central Shanghai, skills, windows, shifts, committed visits): travel against the
    greedy baseline, and the validator's verdict.

    .venv/bin/python bench/dispatch.py                       # both, ~20 min on 2 cores
    .venv/bin/python bench/dispatch.py --instances C1 --skip-day   # quick
    .venv/bin/python bench/dispatch.py --skip-solomon        # the generated day only

Writes bench/results/dispatch.json and prints markdown tables.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pyvrp
from pyvrp.stop import MaxRuntime

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from frontline.dispatch.optimiser import (  # noqa: E402
    Engineer,
    Order,
    Problem,
    check_problem,
    generate_day,
    greedy,
    parse_problem,
    solve,
    validate,
)

DATA = ROOT.parent / "shared" / "data" / "vrptw"
RESULTS = ROOT / "bench" / "results" / "dispatch.json"
# Locations become distinct made-up points; the provider maps them back to indices.
STEP = 0.01


class IndexedMatrix:
    """A travel provider that returns an instance's own integer matrix."""

    def __init__(self, distance: np.ndarray) -> None:
        self.distance = distance

    def matrix(self, points):
        index = np.array([round(lat / STEP) for lat, _ in points])
        part = self.distance[np.ix_(index, index)]
        return part.copy(), part.copy()


def as_problem(data: pyvrp.ProblemData) -> Problem:
    """The Solomon instance in our model, with the field-service features switched on."""
    vehicle = data.vehicle_type(0)
    point = [(i * STEP, 0.0) for i in range(data.num_locations)]
    engineers = [
        Engineer(
            id=f"V{k + 1:02d}",
            start=point[data.depot(0).location],
            shift_start=vehicle.tw_early,
            shift_end=vehicle.tw_late,
            skills={"vrptw": 1},
            capacity=vehicle.capacity[0],
        )
        for k in range(vehicle.num_available)
    ]
    orders = [
        Order(
            id=f"C{i + 1}",
            location=point[client.location],
            duration=client.service_duration,
            windows=((client.tw_early, client.tw_late),),
            skills={"vrptw": 1},
            site_id=f"S{client.location}",
            load=client.delivery[0],
        )
        for i, client in enumerate(data.clients())
    ]
    problem = Problem(engineers, orders, IndexedMatrix(data.distance_matrix(0)))
    return check_problem(problem)


def best_known(name: str) -> float:
    for line in (DATA / "solutions" / f"{name}.sol").read_text().splitlines():
        if line.startswith("Cost"):
            return float(line.split()[1])
    raise ValueError(f"no cost in {name}.sol")


def plan_result(problem: Problem, plan, vehicles: int) -> dict:
    violations = validate(problem, plan)
    used = sum(1 for route in plan.routes if route.stops)
    return {
        "cost": sum(route.distance_m for route in plan.routes) / 10,
        "feasible": not violations and not plan.left_out and used <= vehicles,
        "left_out": len(plan.left_out),
        "violations": len(violations),
        "routes": used,
    }


def run_instance(path: Path, time_limit: float, seed: int) -> dict:
    data = pyvrp.read(path, round_func="dimacs")
    vehicles = data.vehicle_type(0).num_available
    problem = as_problem(data)
    began = time.perf_counter()
    ours = plan_result(problem, solve(problem, time_limit=time_limit, seed=seed), vehicles)
    ours["seconds"] = round(time.perf_counter() - began, 2)
    plain = pyvrp.solve(data, MaxRuntime(time_limit), seed=seed, display=False)
    baseline = plan_result(problem, greedy(problem), vehicles)
    bks = best_known(path.stem)
    row = {"instance": path.stem, "best_known": bks, "ours": ours, "greedy": baseline}
    row["pyvrp"] = {"cost": plain.cost() / 10, "feasible": plain.is_feasible()}
    for key in ("ours", "pyvrp", "greedy"):
        row[key]["gap"] = round(100 * (row[key]["cost"] - bks) / bks, 3)
    return row


def _run_instance(job) -> dict:
    return run_instance(*job)


def solomon(args: argparse.Namespace) -> dict:
    wanted = [p for p in args.instances.split(",") if p]
    paths = sorted(p for p in DATA.glob("*.vrp") if not wanted or p.stem.startswith(tuple(wanted)))
    rows = []
    print("| instance | best known | ours | gap % | plain PyVRP | gap % | greedy | gap % |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    jobs = [(path, args.time_limit, args.seed) for path in paths]
    # Each solver is single-threaded: --workers N runs N instances at once (at most one
    # per core, or the solvers get less than their time limit of CPU).
    with multiprocessing.get_context("spawn").Pool(max(1, args.workers)) as pool:
        done = pool.imap(_run_instance, jobs)
        for row in done:
            rows.append(row)
            cells = [row["instance"], f"{row['best_known']:.1f}"]
            for key in ("ours", "pyvrp", "greedy"):
                r = row[key]
                flag = "" if r["feasible"] else " (infeasible)"
                cells += [f"{r['cost']:.1f}{flag}", f"{r['gap']:.2f}"]
            print("| " + " | ".join(cells) + " |", flush=True)
    summary = {
        key: {
            "mean_gap": round(statistics.mean(r[key]["gap"] for r in rows), 3),
            "max_gap": round(max(r[key]["gap"] for r in rows), 3),
            "feasible": sum(r[key]["feasible"] for r in rows),
        }
        for key in ("ours", "pyvrp", "greedy")
    }
    print(f"\n{len(rows)} instances, {args.time_limit:g} s each: {json.dumps(summary)}")
    return {"time_limit": args.time_limit, "instances": rows, "summary": summary}


def field_day(args: argparse.Namespace) -> dict:
    problem = parse_problem(generate_day(args.orders, args.engineers, args.seed))
    began = time.perf_counter()
    baseline = greedy(problem)
    greedy_s = time.perf_counter() - began
    began = time.perf_counter()
    plan = solve(problem, time_limit=args.day_time_limit, seed=args.seed)
    solve_s = time.perf_counter() - began
    result = {
        "orders": args.orders,
        "engineers": args.engineers,
        "time_limit": args.day_time_limit,
        "greedy": {**baseline.kpis, "seconds": round(greedy_s, 2)},
        "ours": {**plan.kpis, "seconds": round(solve_s, 2), "solver": plan.solver},
        "violations": len(validate(problem, plan)),
        "greedy_violations": len(validate(problem, baseline)),
    }
    less = 1 - plan.kpis["travel_km"] / baseline.kpis["travel_km"]
    result["travel_reduction_pct"] = round(100 * less, 1)
    print(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance")
    parser.add_argument("--instances", default="", help="name prefixes, e.g. C1,R2")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--engineers", type=int, default=100)
    parser.add_argument("--day-time-limit", type=float, default=60.0)
    parser.add_argument("--skip-solomon", action="store_true")
    parser.add_argument("--skip-day", action="store_true")
    parser.add_argument(
        "--workers", type=int, default=1, help="Solomon instances solved at once (≤ cores)"
    )
    args = parser.parse_args()
    results: dict = {"machine": platform.processor() or platform.machine()}
    results["python"] = platform.python_version()
    results["load_before"] = os.getloadavg()
    if not args.skip_solomon:
        results["solomon"] = solomon(args)
    if not args.skip_day:
        results["day"] = field_day(args)
    results["load_after"] = os.getloadavg()
    print(f"load average before {results['load_before']}, after {results['load_after']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"written {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
