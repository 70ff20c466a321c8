"""Load benchmark: Frontline's production profile under a mixed workload, and
django-helpdesk side by side on the equivalent desk operations.

1. Data: ``frontline generate`` fills ``BENCH_DATABASE_URL`` (default
   postgres://postgres@127.0.0.1:5432/fl_load) with ``--tickets`` / ``--work-orders`` /
   ``--readings`` × ``--scale``; kept when it already holds them (``--regenerate``
   forces a fresh fill). django-helpdesk (PyPI, pinned) gets its own virtualenv
   (var/bench/helpdesk-venv), a minimal project (var/bench/helpdesk-site) on the same
   PostgreSQL server (``hd_load``) and the same number of tickets, 3 follow-ups each.
2. Servers: gunicorn with ``--workers`` each, on loopback (ports ``--port`` and
   ``--port`` + 1): Frontline through ``frontline serve`` with FRONTLINE_ENV=production
   (Redis ``BENCH_REDIS_URL``, default db 6), django-helpdesk with DEBUG off.
3. Load: locust, headless, ``--users`` concurrent users without think time
   (bench/load_users.py). First Frontline's mixed API workload: customers submit, list
   and read tickets; agents list, open and reply; engineers list their work, accept →
   check in → complete work orders and record round visits; devices post offline-sync
   batches (the telemetry-like writes: Frontline has no IoT intake endpoint). Then the
   comparison, pages against pages (django-helpdesk's REST API loads every ticket it
   may see on each request, see bench/README.md): create ticket, list tickets, view
   ticket, add follow-up, same users, workers, server and data volume, both warmed
   up, runs alternated ``--rounds`` times.

Writes bench/results/load.json and prints per operation: requests, throughput,
p50/p95/p99 and errors. Times are reported, never asserted.

    .venv/bin/python bench/load.py [--scale 0.1] [--users 16] [--duration 60] [--workers 2]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from desk import ensure_database, reachable  # noqa: E402  (bench/ is not a package)
from load_prepare import prepare_frontline  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "load.json"
VAR = ROOT / "var" / "bench"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fl_load"
DEFAULT_HD_URL = "postgres://postgres@127.0.0.1:5432/hd_load"
DEFAULT_REDIS = "redis://127.0.0.1:6379/6"
PY = sys.executable


def _count(url: str, table: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        exists = conn.execute("SELECT to_regclass(%s)", [table]).fetchone()[0]
        if not exists:
            return 0
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608


def _recreate(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def frontline_env(url: str, secret: str, redis: str) -> dict:
    return {
        **os.environ,
        "FRONTLINE_ENV": "production",
        "SECRET_KEY": secret,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": url,
        "REDIS_URL": redis,
        "FRONTLINE_VAR_DIR": str(VAR / "frontline-var"),
        "AXES_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "frontline.settings",
    }


def fill_frontline(url: str, counts: dict, regenerate: bool) -> dict:
    env = {**os.environ, "DATABASE_URL": url, "FRONTLINE_ENV": "test"}
    manage = [PY, str(ROOT / "manage.py")]
    have = _count(url, "desk_ticket")
    if have >= counts["tickets"] and not regenerate:
        print(f"Frontline: {have:,} tickets already in {url.rsplit('/', 1)[1]}", flush=True)
        subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)  # noqa: S603
        return {"generated": False, "tickets": have,
                "work_orders": _count(url, "field_workorder"),
                "readings": _count(url, "inspections_reading")}  # fmt: skip
    _recreate(url)
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)  # noqa: S603
    started = time.perf_counter()
    subprocess.run(  # noqa: S603
        [*manage, "generate", "--tickets", str(counts["tickets"]), "--work-orders",
         str(counts["work_orders"]), "--readings", str(counts["readings"])],
        env=env, check=True,
    )  # fmt: skip
    return {"generated": True, "seconds": round(time.perf_counter() - started, 1), **counts}


# ---------------------------------------------------------------- servers


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server behind {url} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=5)  # noqa: S310
            return
        except OSError as exc:
            if getattr(exc, "code", None):  # an HTTP answer, even 4xx: it serves
                return
            time.sleep(1)
    raise SystemExit(f"no answer from {url} after {timeout} s")


def start_frontline(env: dict, port: int, workers: int) -> subprocess.Popen:
    log = open(VAR / "frontline-server.log", "w")  # noqa: SIM115
    # The pages need the static manifest; collecting (and compressing) takes minutes here,
    # so it is done once per var folder.
    if not (VAR / "frontline-var" / "static" / "staticfiles.json").exists():
        subprocess.run([PY, "-m", "frontline.cli", "collectstatic", "--noinput", "-v0"],
                       env=env, cwd=ROOT, check=True, timeout=1800)  # noqa: S603  # fmt: skip
    proc = subprocess.Popen(  # noqa: S603
        [PY, "-m", "frontline.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    wait_for(f"http://127.0.0.1:{port}/healthz", proc, timeout=300)
    return proc


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, 15)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)


# ---------------------------------------------------------------- locust


def run_locust(name: str, target: str, host: str, fixtures: Path, args) -> dict:
    prefix = VAR / f"locust-{name}"
    part = {"warmup-mixed": "0", "mixed": "1"}.get(name, "0")
    env = {**os.environ, "LOAD_FIXTURES": str(fixtures), "LOAD_SET": target,
           "LOAD_PART": part, "LOAD_PARTS": "2"}  # fmt: skip
    duration = args.warmup if name.startswith("warmup") else args.duration
    subprocess.run(  # noqa: S603
        [PY, "-m", "locust", "-f", str(ROOT / "bench" / "load_users.py"), "--headless",
         "-u", str(args.users), "-r", str(args.users), "-t", f"{duration}s", "--host", host,
         "--csv", str(prefix), "--only-summary", "--stop-timeout", "10",
         "--loglevel", "WARNING", "--exit-code-on-error", "0"],
        env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return read_stats(Path(f"{prefix}_stats.csv"), duration)


def read_stats(path: Path, duration: int) -> dict:
    ops = {}
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            requests = int(row["Request Count"])
            ops[row["Name"]] = {
                "requests": requests,
                "failures": int(row["Failure Count"]),
                "rps": round(float(row["Requests/s"]), 2),
                "p50_ms": _ms(row["50%"]),
                "p95_ms": _ms(row["95%"]),
                "p99_ms": _ms(row["99%"]),
                "error_rate": round(int(row["Failure Count"]) / requests, 4) if requests else 0,
            }
    failures = path.with_name(path.name.replace("_stats.csv", "_failures.csv"))
    errors = []
    if failures.exists():
        with failures.open(encoding="utf-8") as fh:
            errors = [
                {"name": r["Name"], "error": r["Error"][:300], "count": int(r["Occurrences"])}
                for r in csv.DictReader(fh)
            ]
    return {"duration_s": duration, "ops": ops, "errors": errors[:20]}


def _ms(value: str) -> float | None:
    return None if value in ("", "N/A") else float(value)


def print_table(title: str, run: dict) -> None:
    print(f"\n{title} ({run['duration_s']} s)")
    print(f"{'operation':<34} {'requests':>9} {'req/s':>8} {'p50':>7} {'p95':>7} {'p99':>7} "
          f"{'errors':>7}")  # fmt: skip
    for name, op in run["ops"].items():
        print(f"{name:<34} {op['requests']:>9} {op['rps']:>8} {op['p50_ms'] or 0:>7.0f} "
              f"{op['p95_ms'] or 0:>7.0f} {op['p99_ms'] or 0:>7.0f} {op['error_rate']:>7.2%}")  # fmt: skip
    for err in run["errors"][:5]:
        print(f"  error: {err['name']}: {err['count']}× {err['error'][:160]}")


EQUIVALENT = ["create ticket", "list tickets", "view ticket", "add follow-up"]


def compare(runs: list[tuple[str, dict]]) -> dict:
    """Throughput per equivalent operation, summed over the alternated runs, and the
    ratio Frontline / django-helpdesk (a helpdesk list = its page and its data request)."""
    totals: dict[str, dict[str, dict]] = {"frontline": {}, "helpdesk": {}}
    for system, run in runs:
        for op in EQUIVALENT:
            stats = run["ops"].get(op)
            if stats is None:
                continue
            t = totals[system].setdefault(op, {"requests": 0, "seconds": 0, "failures": 0,
                                               "p50_ms": [], "p95_ms": [], "p99_ms": []})  # fmt: skip
            t["requests"] += stats["requests"]
            t["failures"] += stats["failures"]
            t["seconds"] += run["duration_s"]
            for q in ("p50_ms", "p95_ms", "p99_ms"):
                t[q].append(stats[q])
            if system == "helpdesk" and op == "list tickets":
                data = run["ops"].get("list tickets (data)", {})
                t.setdefault("data_p95_ms", []).append(data.get("p95_ms"))
    out = {}
    for op in EQUIVALENT:
        row = {}
        for system in ("frontline", "helpdesk"):
            t = totals[system].get(op)
            if t:
                row[system] = {
                    "ops_per_s": round(t["requests"] / t["seconds"], 2),
                    "requests": t["requests"],
                    "failures": t["failures"],
                    **{q: max(v for v in t[q] if v is not None) for q in
                       ("p50_ms", "p95_ms", "p99_ms") if any(v is not None for v in t[q])},
                }  # fmt: skip
                if "data_p95_ms" in t:
                    row[system]["data_request_p95_ms"] = max(
                        (v for v in t["data_p95_ms"] if v is not None), default=None
                    )
        if "frontline" in row and "helpdesk" in row and row["helpdesk"]["ops_per_s"]:
            row["ratio"] = round(row["frontline"]["ops_per_s"] / row["helpdesk"]["ops_per_s"], 2)
        out[op] = row
    return out


def print_comparison(rows: dict) -> None:
    print(f"\n{'equivalent operation':<22} {'Frontline op/s':>15} {'helpdesk op/s':>14} "
          f"{'ratio':>7} {'FL p95':>8} {'HD p95':>8}")  # fmt: skip
    for op, row in rows.items():
        fl, hd = row.get("frontline", {}), row.get("helpdesk", {})
        print(f"{op:<22} {fl.get('ops_per_s', 0):>15} {hd.get('ops_per_s', 0):>14} "
              f"{row.get('ratio', 0):>7} {fl.get('p95_ms', 0) or 0:>8.0f} "
              f"{hd.get('p95_ms', 0) or 0:>8.0f}")  # fmt: skip


# ---------------------------------------------------------------- main


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--work-orders", type=int, default=200_000)
    parser.add_argument("--readings", type=int, default=10_000_000)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the three counts")
    parser.add_argument("--users", type=int, default=16, help="concurrent locust users")
    parser.add_argument("--duration", type=int, default=60, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=15, help="seconds of warm-up per system")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per system")
    parser.add_argument("--rounds", type=int, default=2, help="alternated comparison runs")
    parser.add_argument("--port", type=int, default=8120, help="Frontline's; helpdesk +1")
    parser.add_argument("--regenerate", action="store_true", help="refill the databases")
    parser.add_argument("--skip-helpdesk", action="store_true")
    parser.add_argument("--skip-unreachable", action="store_true",
                        help="exit 0 with a message when PostgreSQL cannot be reached")  # fmt: skip
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    hd_url = os.environ.get("BENCH_HELPDESK_DATABASE_URL") or DEFAULT_HD_URL
    redis = os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS
    if not reachable(url):
        print(f"load benchmark skipped: no PostgreSQL behind {url.split('@')[-1]}")
        return 0 if args.skip_unreachable else 2
    VAR.mkdir(parents=True, exist_ok=True)
    counts = {k: int(getattr(args, k) * args.scale) for k in ("tickets", "work_orders", "readings")}
    ensure_database(url)
    fill = fill_frontline(url, counts, args.regenerate)
    secret = secrets.token_urlsafe(48)
    env = frontline_env(url, secret, redis)
    fixtures = VAR / "load-fixtures.json"
    data = prepare_frontline(env, users=args.users)
    helpdesk = None
    if not args.skip_helpdesk:
        from load_helpdesk import prepare_helpdesk

        helpdesk = prepare_helpdesk(hd_url, tickets=fill["tickets"], regenerate=args.regenerate)
        data["pages"]["helpdesk"] = helpdesk["pages"]
    fixtures.write_text(json.dumps(data, ensure_ascii=False))

    fl_host, hd_host = f"http://127.0.0.1:{args.port}", f"http://127.0.0.1:{args.port + 1}"
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    fl_proc = hd_proc = None
    try:
        fl_proc = start_frontline(env, args.port, args.workers)
        if helpdesk:
            from load_helpdesk import start_helpdesk

            hd_proc = start_helpdesk(hd_url, args.port + 1, args.workers, VAR)
        run_locust("warmup-mixed", "mixed", fl_host, fixtures, args)
        mixed = run_locust("mixed", "mixed", fl_host, fixtures, args)
        print_table(f"Frontline mixed workload, {args.users} users, {args.workers} workers", mixed)
        pages: list[tuple[str, dict]] = []
        if helpdesk:
            run_locust("warmup-fl-pages", "fl-pages", fl_host, fixtures, args)
            run_locust("warmup-hd-pages", "hd-pages", hd_host, fixtures, args)
            for n in range(args.rounds):
                order = [("frontline", "fl-pages", fl_host), ("helpdesk", "hd-pages", hd_host)]
                for system, target, host in order if n % 2 == 0 else order[::-1]:
                    run = run_locust(f"{target}-{n}", target, host, fixtures, args)
                    print_table(f"{system} pages, run {n + 1}", run)
                    pages.append((system, run))
    finally:
        stop(fl_proc)
        stop(hd_proc)
    comparison = compare(pages) if pages else {}
    if comparison:
        print_comparison(comparison)
    result = {
        "benchmark": "load",
        "data": fill,
        "helpdesk": {k: v for k, v in (helpdesk or {}).items() if k != "pages"},
        "users": args.users,
        "workers": args.workers,
        "duration_s": args.duration,
        "mixed": mixed,
        "pages_runs": [{"system": s, **r} for s, r in pages],
        "comparison": comparison,
        "load_average_before": load_before,
        "load_average_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
