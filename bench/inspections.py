"""Inspections benchmark on PostgreSQL: 1,000 routes × 90 days of rounds.

Fills, by set-based ``INSERT … SELECT generate_series``, 1,000 routes of 37 checkpoints
with 3 check items each, 90 days of rounds (one a day by default: 90,000 rounds,
3.3 million checkpoint visits, about 10 million readings, as in the issue; ``--per-day 3``
for a round every shift), about 1 anomaly per 30 rounds, then ``VACUUM ANALYZE``, and
times, several runs each (median and p95, with the number of queries):

- the daily route analysis for one day across all routes (target < 1 s);
- the 30-day quality trend of every project (target < 2 s);
- the same through ``GET /api/v1/inspections/analysis/`` and the two pages.

Needs PostgreSQL: ``BENCH_DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/frontline_bench_insp;
created when missing; its inspections tables are emptied and refilled each run).
``--skip-unreachable`` (for ``make bench``) exits 0 with a message when no server answers.
Times are reported, never asserted; compare runs on the same machine.

    .venv/bin/python bench/inspections.py [--routes 1000] [--days 90] [--per-day 1] [--runs 15]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from desk import configure, ensure_database, reachable  # noqa: E402  (bench/ is not a package)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "inspections.json"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/frontline_bench_insp"
PROJECTS = 5


def seed_world():
    """Operator, a manager who reads the reports, 3 customers, 5 projects with a site each."""
    from frontline.accounts.models import Organization
    from frontline.accounts.roles import OrganizationKind, Role
    from frontline.sites.models import Project, Site
    from frontline.testing import factories as f

    op = f.operator()
    customers = list(Organization.objects.filter(kind=OrganizationKind.CUSTOMER)[:3])
    while len(customers) < 3:
        customers.append(f.OrganizationFactory(name=f"巡检基准客户 {len(customers)}"))
    projects = []
    for i in range(PROJECTS):
        customer = customers[i % 3]
        project, _ = Project.objects.get_or_create(
            code=f"INSP-BENCH-{i}", defaults={"customer": customer, "name": f"巡检基准项目 {i}"}
        )
        site = Site.objects.filter(customer=project.customer, name=f"巡检基准站点 {i}").first()
        site = site or Site.objects.create(
            customer=project.customer, name=f"巡检基准站点 {i}", city="上海"
        )
        projects.append((project, site))
    from frontline.accounts.models import User

    viewer = User.objects.filter(email="bench-insp-manager@example.com").first() or f.member(
        Role.MANAGER, op, email="bench-insp-manager@example.com"
    )
    return projects, viewer


FILL = [
    (
        "routes",
        """
        INSERT INTO inspections_route (project_id, site_id, code, name, description,
            expected_minutes, anomaly_action, anomaly_priority, is_active, created_at, updated_at)
        SELECT (%(projects)s)[1 + g %% %(np)s], (%(sites)s)[1 + g %% %(np)s],
               'R' || lpad(g::text, 5, '0'), '冷站巡检路线 ' || g, '', 120, 'work_order',
               'normal', true, %(now)s, %(now)s
        FROM generate_series(1, %(routes)s) AS g
        """,
    ),
    (
        "checkpoints",
        """
        INSERT INTO inspections_checkpoint (route_id, position, code, name, location,
            qr_value, is_active)
        SELECT r.id, n, 'P' || lpad(n::text, 2, '0'), n || '# 冷水机组', 'B1',
               'BQ-' || r.id || '-' || n, true
        FROM inspections_route r CROSS JOIN generate_series(1, %(points)s) AS n
        """,
    ),
    (
        "check items",
        """
        INSERT INTO inspections_checkitem (checkpoint_id, position, name, kind, unit,
            normal_min, normal_max, choices, abnormal_choices, normal_answer,
            anomaly_when_abnormal, photo_required, required, is_active)
        SELECT c.id, i, (ARRAY['出水温度','冷却水压力','是否漏水'])[i],
               CASE WHEN i = 3 THEN 'yes_no' ELSE 'number' END,
               (ARRAY['°C','MPa',''])[i],
               CASE i WHEN 1 THEN 5 WHEN 2 THEN 0.2 END, CASE i WHEN 1 THEN 12 WHEN 2 THEN 0.6 END,
               '[]', '[]', i <> 3, true, false, true, true
        FROM inspections_checkpoint c CROSS JOIN generate_series(1, 3) AS i
        """,
    ),
    (
        "rounds",
        # Window every 24/per_day hours from midnight plus a per-route offset. Outcome by a
        # hash of (route, slot): 85 % completed (70 % on time), 6 % missed, 3 % cancelled,
        # the rest of the last day still scheduled. Durations 60–150 minutes.
        """
        INSERT INTO inspections_round (route_id, project_id, customer_id, status,
            window_start, window_end, offered, started_at, finished_at, points_planned,
            points_visited, points_skipped, quality_computed, quality_score, quality_parts,
            quality_adjust_reason, created_at)
        SELECT r.id, r.project_id, p.customer_id, x.status, x.ws, x.ws + interval '2 hours',
               false,
               CASE WHEN x.status = 'completed' THEN x.ws + (x.h %% 40 - 5) * interval '1 minute' END,
               CASE WHEN x.status = 'completed'
                    THEN x.ws + (x.h %% 40 - 5 + 60 + x.h %% 91) * interval '1 minute' END,
               %(points)s,
               CASE WHEN x.status = 'completed' THEN %(points)s - (x.h %% 7) ELSE 0 END,
               CASE WHEN x.status = 'completed' THEN x.h %% 7 ELSE 0 END,
               CASE WHEN x.status = 'completed' THEN 55 + x.h %% 46 END,
               CASE WHEN x.status = 'completed' THEN 55 + x.h %% 46 END,
               '{}', '', x.ws
        FROM inspections_route r
        JOIN sites_project p ON p.id = r.project_id
        CROSS JOIN generate_series(0, %(days)s * %(per_day)s - 1) AS s
        CROSS JOIN LATERAL (
            SELECT %(start)s + (s * 24 / %(per_day)s) * interval '1 hour'
                       + (r.id %% 60) * interval '1 minute' AS ws,
                   abs(hashint8(r.id * 100003 + s)::bigint) AS h
        ) AS w
        CROSS JOIN LATERAL (
            SELECT w.ws, w.h, CASE WHEN w.h %% 100 < 85 THEN 'completed'
                                   WHEN w.h %% 100 < 91 THEN 'missed'
                                   WHEN w.h %% 100 < 94 THEN 'cancelled'
                                   ELSE 'missed' END AS status
        ) AS x
        ORDER BY x.ws, r.id  -- in time order, as the generator creates them
        """,
    ),
    (
        "visits",
        """
        INSERT INTO inspections_pointvisit (round_id, checkpoint_id, status, skip_reason,
            note, scanned, started_at, recorded_at, received_at)
        SELECT o.id, c.id, 'visited', '', '', true,
               o.started_at + (c.position * 3 - 1) * interval '1 minute',
               o.started_at + c.position * 3 * interval '1 minute', o.finished_at
        FROM inspections_round o
        JOIN inspections_checkpoint c ON c.route_id = o.route_id AND c.position <= o.points_visited
        WHERE o.status = 'completed'
        """,
    ),
    (
        "readings",
        """
        INSERT INTO inspections_reading (visit_id, item_id, number, answer, text, photo,
            is_abnormal)
        SELECT v.id, i.id,
               CASE i.position WHEN 1 THEN 7 + (v.id %% 60) / 10.0 WHEN 2 THEN 0.4 END,
               CASE WHEN i.position = 3 THEN false END, '', '',
               i.position = 1 AND v.id %% 60 >= 50
        FROM inspections_pointvisit v
        JOIN inspections_checkitem i ON i.checkpoint_id = v.checkpoint_id
        """,
    ),
    (
        "anomalies",
        # One reported anomaly in about one completed round in 30, at its first checkpoint
        # (item NULL: no clash with the one-unhandled-per-item rule); 70 % handled.
        """
        INSERT INTO inspections_anomaly (route_id, project_id, customer_id, checkpoint_id,
            round_id, source, status, priority, description, value, occurrences, raised_at,
            last_seen_at, resolution)
        SELECT o.route_id, o.project_id, o.customer_id, c.id, o.id, 'reported',
               CASE WHEN o.id %% 10 < 7 THEN 'handled' WHEN o.id %% 10 < 9 THEN 'open'
                    ELSE 'dismissed' END,
               'normal', '异响', '', 1, o.started_at, o.started_at, ''
        FROM inspections_round o
        JOIN inspections_checkpoint c ON c.route_id = o.route_id AND c.position = 1
        WHERE o.status = 'completed' AND o.id %% 30 = 0
        """,
    ),
]

TABLES = ("route", "checkpoint", "checkitem", "round", "pointvisit", "reading", "anomaly")


def fill(args, projects, today: dt.date) -> dict:
    from django.db import connection

    from frontline.inspections.analysis import tz

    start = dt.datetime.combine(today - dt.timedelta(days=args.days - 1), dt.time.min, tzinfo=tz())
    params = {
        "projects": [p.pk for p, _ in projects],
        "sites": [s.pk for _, s in projects],
        "np": len(projects),
        "routes": args.routes,
        "points": args.points,
        "days": args.days,
        "per_day": args.per_day,
        "start": start,
        "now": dt.datetime.now(tz=dt.UTC),
    }
    seconds = {}
    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE inspections_reading, inspections_pointvisit, inspections_anomaly, "
            "inspections_round, inspections_checkitem, inspections_checkpoint, "
            "inspections_schedule, inspections_route RESTART IDENTITY CASCADE"
        )
        for name, sql in FILL:
            started = time.perf_counter()
            cur.execute(sql, params)
            seconds[name] = round(time.perf_counter() - started, 1)
            print(f"  {name}: {cur.rowcount:,} rows in {seconds[name]} s", flush=True)
        started = time.perf_counter()
        for table in TABLES:
            cur.execute(f"VACUUM ANALYZE inspections_{table}")
        seconds["vacuum_analyze"] = round(time.perf_counter() - started, 1)
    return seconds


def counts() -> dict:
    from django.db import connection

    out = {}
    with connection.cursor() as cur:
        for table in TABLES:
            cur.execute(f"SELECT count(*) FROM inspections_{table}")
            out[table] = cur.fetchone()[0]
        cur.execute(
            "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c "
            "WHERE c.relname LIKE 'inspections_%%' AND c.relkind = 'r'"
        )
        out["size"] = cur.fetchone()[0]
    return out


def measure(name: str, fn, runs: int, target_s: float | None = None) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fn()  # warm: plans and caches, as in a running server
    timings, queries = [], set()
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            result = fn()
            timings.append((time.perf_counter() - started) * 1000)
        queries.add(len(captured))
    timings.sort()
    p95 = timings[max(0, int(round(len(timings) * 0.95)) - 1)]
    return {
        "name": name,
        "runs": runs,
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(timings[-1], 1),
        "queries": sorted(queries),
        "rows": result,
        "target_ms": target_s * 1000 if target_s else None,
    }


def explain(sql_fn) -> list[str]:
    """EXPLAIN ANALYZE of each query one call of ``sql_fn`` runs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        sql_fn()
    plans = []
    with connection.cursor() as cur:
        for q in captured.captured_queries:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
            plans.append("\n".join(r[0] for r in cur.fetchall()))
    return plans


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--routes", type=int, default=1000)
    parser.add_argument("--points", type=int, default=37, help="checkpoints per route")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--per-day", type=int, default=1, choices=[1, 2, 3, 4, 6, 8, 12, 24])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-fill", action="store_true", help="measure the data already there")
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    parser.add_argument(
        "--skip-unreachable",
        action="store_true",
        help="exit 0 with a message when PostgreSQL cannot be reached (make bench)",
    )
    args = parser.parse_args(argv)

    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    if not url.startswith(("postgres://", "postgresql://")):
        print("bench/inspections.py needs PostgreSQL (BENCH_DATABASE_URL=postgres://…)")
        return 2
    if not reachable(url):
        host = url.split("@")[-1].rsplit("/", 1)[0]
        print(f"inspections benchmark skipped: no PostgreSQL at {host} (set BENCH_DATABASE_URL)")
        return 0 if args.skip_unreachable else 2
    ensure_database(url)
    configure(url)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from frontline.inspections import analysis

    call_command("migrate", verbosity=0)
    projects, viewer = seed_world()
    today = timezone.localdate()
    if args.no_fill:
        fill_s = {}
        print("measuring the data already in the database (--no-fill)", flush=True)
    else:
        print(f"filling {args.routes:,} routes × {args.points} checkpoints × 3 items, "
              f"{args.days} days × {args.per_day} rounds/day", flush=True)  # fmt: skip
        fill_s = fill(args, projects, today)
    sizes = counts()
    print(f"  {sizes}", flush=True)

    day = today - dt.timedelta(days=1)
    ids = [p.pk for p, _ in projects]
    results = [
        measure(
            "analysis, one day, all routes (selector)",
            lambda: len(analysis.route_analysis(user=viewer, date_from=day, date_to=day)),
            args.runs,
            1.0,
        ),
        measure(
            "analysis, 30 days, all routes (selector)",
            lambda: len(
                analysis.route_analysis(
                    user=viewer, date_from=day - dt.timedelta(days=29), date_to=day
                )
            ),
            args.runs,
        ),
        measure(
            "quality trend, 30 days, every project (selector)",
            lambda: sum(
                d["rounds"]
                for series in analysis.quality_trends(user=viewer, projects=ids, days=30).values()
                for d in series
            ),
            args.runs,
            2.0,
        ),
    ]
    client = Client()
    client.force_login(viewer)
    q = f"date_from={day}&date_to={day}"
    for name, path, target in [
        ("GET /api/v1/inspections/analysis/ one day", f"/api/v1/inspections/analysis/?{q}", 1.0),
        ("GET /inspections/analysis/ one day (page)", f"/inspections/analysis/?{q}", 1.0),
        ("GET /inspections/quality/ (page, 30 days)", "/inspections/quality/", 2.0),
    ]:
        results.append(measure(name, lambda p=path: client.get(p).status_code, args.runs, target))

    if args.explain:
        for plan in explain(
            lambda: analysis.route_analysis(user=viewer, date_from=day, date_to=day)
        ) + explain(lambda: analysis.quality_trends(user=viewer, projects=ids, days=30)):
            print(plan, "\n")

    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    result = {
        "benchmark": "inspections",
        "routes": args.routes,
        "checkpoints_per_route": args.points,
        "days": args.days,
        "rounds_per_day": args.per_day,
        "fill_seconds": fill_s,
        "rows": sizes,
        "results": results,
        "load_average_after": load,
        "python": platform.python_version(),
        "postgres": connection.pg_version,
        "cpus": os.cpu_count(),
    }
    print(f"\n{'measure':<52} {'median ms':>10} {'p95 ms':>9} {'target':>8}  queries  rows")
    for r in results:
        target = f"< {r['target_ms']:.0f}" if r["target_ms"] else ""
        print(f"{r['name']:<52} {r['median_ms']:>10} {r['p95_ms']:>9} {target:>8}  "
              f"{','.join(map(str, r['queries'])):>7}  {r['rows']}")  # fmt: skip
    print(f"load average after: {' '.join(load)}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
