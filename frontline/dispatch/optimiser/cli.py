"""``frontline plan``: plan a day from a JSON file, without Django.

    frontline plan --input problem.json [--time-limit 30] [--seed 1] [--output plan.json]

Exit codes: 0 planned (and the plan passed ``validate``), 2 invalid input (the
message names the order or engineer), 1 the plan failed validation (a bug: please
report it with the input).
"""

from __future__ import annotations

import argparse
import json
import sys

from frontline.dispatch.optimiser.model import ProblemError
from frontline.dispatch.optimiser.parse import parse_problem, plan_to_dict
from frontline.dispatch.optimiser.solver import solve
from frontline.dispatch.optimiser.validate import validate


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="frontline plan", description="Plan a field-service day (docs/plan-format.md)."
    )
    parser.add_argument("--input", required=True, help="problem JSON file, or - for stdin")
    parser.add_argument("--output", default="-", help="plan JSON file (default: stdout)")
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds (default 30)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser.parse_args(argv)


def _read(path: str) -> object:
    try:
        if path == "-":
            return json.load(sys.stdin)
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as exc:
        raise ProblemError("", f"cannot read {path}: {exc.strerror or exc}")
    except ValueError as exc:
        raise ProblemError("", f"{path} is not valid JSON: {exc}")


def main(argv: list[str] | None = None) -> int:
    args = _arguments(sys.argv[1:] if argv is None else argv)
    if args.time_limit <= 0:
        print("error: --time-limit must be positive", file=sys.stderr)
        return 2
    try:
        problem = parse_problem(_read(args.input))
    except ProblemError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    def progress(fraction: float, message: str) -> None:
        if not args.quiet:
            print(f"{fraction:4.0%} {message}", file=sys.stderr)

    plan = solve(problem, time_limit=args.time_limit, seed=args.seed, progress=progress)
    text = json.dumps(plan_to_dict(plan, problem.day_start), indent=2, ensure_ascii=False)
    if args.output == "-":
        print(text)
    else:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    violations = validate(problem, plan)
    for violation in violations:
        print(f"violation: {violation}", file=sys.stderr)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
