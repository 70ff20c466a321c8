"""The field-service route optimiser: pure Python, no Django.

The stable API the Django side (and ``frontline plan``) uses::

    from frontline.dispatch.optimiser import (
        Problem, Engineer, Order, Plan, solve, validate, greedy,
        parse_problem, plan_to_dict, ProblemError,
    )
    problem = parse_problem(json_dict)        # ProblemError names the order or engineer
    plan = solve(problem, time_limit=30.0, seed=1, progress=callback)
    violations = validate(problem, plan)      # [] means feasible
    baseline = greedy(problem)                # nearest qualified engineer, in window order

A ``Problem`` built in code rather than parsed should go through
``check_problem(problem)`` (the cross-order checks ``parse_problem`` does, and pins
given on either side recorded on both). ``generate_day(n_orders, n_engineers, seed)``
makes a plausible day in the JSON format, for benchmarks, tests and demo data.

``callback(fraction, message)`` is called about twice a second while searching and
once with 1.0 at the end. Times are integer minutes from the day start, distances
metres; the JSON format is in docs/plan-format.md.
"""

from frontline.dispatch.optimiser.generate import generate_day
from frontline.dispatch.optimiser.greedy import greedy
from frontline.dispatch.optimiser.model import (
    PRIORITIES,
    Engineer,
    LeftOut,
    Order,
    Plan,
    Problem,
    ProblemError,
    Route,
    Stop,
)
from frontline.dispatch.optimiser.parse import check_problem, parse_problem, plan_to_dict
from frontline.dispatch.optimiser.solver import solve
from frontline.dispatch.optimiser.travel import (
    FunctionProvider,
    HaversineProvider,
    OsrmProvider,
    TravelProvider,
)
from frontline.dispatch.optimiser.validate import validate

__all__ = [
    "PRIORITIES",
    "Engineer",
    "FunctionProvider",
    "HaversineProvider",
    "LeftOut",
    "Order",
    "OsrmProvider",
    "Plan",
    "Problem",
    "ProblemError",
    "Route",
    "Stop",
    "TravelProvider",
    "check_problem",
    "generate_day",
    "greedy",
    "parse_problem",
    "plan_to_dict",
    "solve",
    "validate",
]
