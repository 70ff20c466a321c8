"""Offline sync benchmark on PostgreSQL, against a real server (gunicorn).

(a) **One device, one batch**: an engineer's day queued offline, 500 actions
    (``--orders`` work orders × accept, travel, check in, ``--checklist`` checklist
    answers, signature, complete; plus rounds of ``--points`` checkpoints: start, a visit
    with three readings per checkpoint, finish) posted in one ``POST /api/v1/sync/``:
    time and actions/s; then the same batch again: every action ``replayed``, nothing new.
(b) **50 devices at once**: 50 engineers × 100 actions each, every batch posted twice at
    the same moment (a phone retrying while its first request is still running): 100
    requests from 100 threads. Total time, p50/p95 per batch, and the proof: 5,000
    ``SyncAction`` rows, exactly one ``applied`` answer per client id across the two
    posts (the other ``replayed``), every work-order event and every visit and reading
    exactly once (counted per natural key against what the actions imply), nothing lost.

Needs PostgreSQL: ``BENCH_DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/fl_syncbench;
created when missing; each run adds its own engineers and work, counted on their own).
The server is ``gunicorn frontline.wsgi`` on ``--port`` (default 8160) with ``--workers``
(default 4), started and stopped here. ``--skip-unreachable`` (for ``make bench``) exits
0 with a message when no PostgreSQL answers. Times are reported, never asserted.

    .venv/bin/python bench/sync.py [--devices 50] [--per-device 100] [--port 8160]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from desk import configure, ensure_database, reachable  # noqa: E402  (bench/ is not a package)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "sync.json"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fl_syncbench"
PNG = (
    "data:image/png;base64,"
    + base64.b64encode(
        base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
        )
    ).decode()
)
ON_SITE = {"latitude": "31.2034", "longitude": "121.587"}


# ---------------------------------------------------------------- the world


def seed_device(tag: str, n: int, *, orders: int, checklist: int, rounds: int, points: int):
    """An engineer (with a bearer token) and their queued day: ``orders`` dispatched work
    orders with ``checklist`` items each, ``rounds`` rounds of ``points`` checkpoints.
    Returns (token, actions, expected)."""
    from frontline.accounts import tokens
    from frontline.field import services
    from frontline.field.models import ChecklistItem
    from frontline.field.tests.factories import engineer
    from frontline.inspections.states import AnomalyAction
    from frontline.inspections.tests import factories as fi
    from frontline.testing import factories as f

    op = f.operator()
    dispatcher = seed_device.dispatcher
    user = engineer(user=f.member("engineer", op, email=f"sync-{tag}-{n}@bench.example"))
    _token, secret = tokens.create_token(actor=user, user=user, name="bench")
    site = seed_device.site
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=8)
    clock = iter(start + dt.timedelta(seconds=20 * i) for i in range(100_000))
    actions = []

    def act(kind, target, data=None):
        actions.append({"client_id": str(uuid.uuid4()), "kind": kind, "target": target,
                        "device_at": next(clock).isoformat(), "data": data or {}})  # fmt: skip

    order_ids = []
    for i in range(orders):
        wo = services.create_work_order(actor=dispatcher, title=f"基准工单 {i}", site=site)
        wo = services.dispatch(actor=dispatcher, work_order=wo, engineer=user)
        items = ChecklistItem.objects.bulk_create(
            [
                ChecklistItem(work_order=wo, position=j, label=f"检查项 {j}")
                for j in range(checklist)
            ]
        )
        order_ids.append(wo.pk)
        act("accept", wo.pk)
        act("start_travel", wo.pk)
        act("check_in", wo.pk, ON_SITE)
        for item in items:
            act("checklist", wo.pk, {"item": item.pk, "result": "ok"})
        act("sign", wo.pk, {"signature": PNG, "signed_by": "王工"})
        act("complete", wo.pk, {"resolution_code": "fixed"})
    round_ids = []
    for _ in range(rounds):
        route = fi.route(project=seed_device.project, points=points,
                         anomaly_action=AnomalyAction.NONE)  # fmt: skip
        rnd = fi.round_for(route, user, opens=start - dt.timedelta(minutes=30), minutes=24 * 60)
        round_ids.append(rnd.pk)
        act("start_round", rnd.pk)
        for cp in route.checkpoints.order_by("position"):
            temp, pressure, leak = cp.items.order_by("position")
            act("record_visit", rnd.pk, {"checkpoint": cp.pk, "scanned": True, "readings": [
                {"item": temp.pk, "value": 7.5}, {"item": pressure.pk, "value": "0.4"},
                {"item": leak.pk, "value": False}]})  # fmt: skip
        act("finish_round", rnd.pk)
    expected = {"user": user.pk, "orders": order_ids, "rounds": round_ids,
                "checklist": checklist, "points": points}  # fmt: skip
    return secret, actions, expected


def seed(devices: int, per_device: int, day_actions: int, checklist: int, points: int, tag: str):
    from frontline.field.models import WorkOrder  # noqa: F401  (app registry ready)
    from frontline.testing import factories as f

    op = f.operator()
    seed_device.dispatcher = f.member(
        "dispatcher", op, email=f"sync-{tag}-dispatcher@bench.example"
    )
    customer = f.OrganizationFactory(name=f"同步基准客户 {tag}", code=f"sync-{tag}")
    seed_device.site = f.SiteFactory(customer=customer, name=f"同步基准站点 {tag}")
    seed_device.project = f.ProjectFactory(customer=customer, code=f"SYNC-{tag}")
    per_order = 5 + checklist
    per_round = points + 2

    def shape(total):
        """Work orders and rounds adding up to ``total`` actions (about 60 % orders)."""
        rounds = max(1, round(total * 0.4 / per_round))
        orders = (total - rounds * per_round) // per_order
        rest = total - rounds * per_round - orders * per_order
        return orders, rounds, rest

    day = shape(day_actions)
    one = seed_device(tag, 0, orders=day[0], checklist=checklist, rounds=day[1], points=points)
    one = _pad(one, day[2])
    many = []
    shape_b = shape(per_device)
    for n in range(1, devices + 1):
        d = seed_device(tag, n, orders=shape_b[0], checklist=checklist, rounds=shape_b[1],
                        points=points)  # fmt: skip
        many.append(_pad(d, shape_b[2]))
    return one, many


def _pad(device, missing: int):
    """Top a device's batch up to its size with checklist answers given again (a changed
    answer is an action of its own: a new event each time)."""
    secret, actions, expected = device
    answers = [a for a in actions if a["kind"] == "checklist"]
    # Inserted before the order's signature, where a second answer is still allowed.
    for i in range(missing):
        extra = dict(answers[i % len(answers)], client_id=str(uuid.uuid4()))
        at = actions.index(answers[i % len(answers)])
        actions.insert(at + 1, extra)
    expected["extra_answers"] = Counter(a["target"] for a in actions if a["kind"] == "checklist")
    return secret, actions, expected


# ---------------------------------------------------------------- the server


def start_server(port: int, workers: int):
    env = dict(os.environ)
    cmd = [str(ROOT / ".venv" / "bin" / "gunicorn"), "frontline.wsgi", "-b", f"127.0.0.1:{port}",
           "-w", str(workers), "--timeout", "300", "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    for _ in range(240):
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited ({proc.returncode})")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.25)
    proc.terminate()
    raise SystemExit(f"gunicorn did not answer on port {port}")


def post(port: int, secret: str, actions: list, device: str) -> tuple[float, dict]:
    body = json.dumps({"device_id": device, "actions": actions})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t0 = time.perf_counter()
    conn.request("POST", "/api/v1/sync/", body=body,
                 headers={"Content-Type": "application/json",
                          "Authorization": f"Bearer {secret}"})  # fmt: skip
    response = conn.getresponse()
    data = response.read()
    took = time.perf_counter() - t0
    if response.status != 200:
        raise SystemExit(f"sync answered {response.status}: {data[:300]!r}")
    return took, json.loads(data)


# ---------------------------------------------------------------- the proof


def expected_events(expected) -> Counter:
    from frontline.field.states import EventKind as K

    out = Counter()
    for wo in expected["orders"]:
        for kind in (K.ACCEPTED, K.EN_ROUTE, K.CHECK_IN, K.SIGNATURE, K.CHECK_OUT, K.COMPLETED):
            out[(wo, kind)] += 1
        out[(wo, K.CHECKLIST)] += expected["extra_answers"].get(wo, 0)
    return out


def prove(devices, answers) -> dict:
    """What is in the database for these devices' engineers against what their actions
    imply; and how each client id was answered across every post of it."""
    from django.db.models import Count

    from frontline.field.models import WorkOrderEvent
    from frontline.field.states import EventKind as K
    from frontline.inspections.models import PointVisit, Reading
    from frontline.sync.models import SyncAction

    users = [e["user"] for _s, _a, e in devices]
    client_ids = [a["client_id"] for _s, actions, _e in devices for a in actions]
    rows = SyncAction.objects.filter(user_id__in=users)
    statuses = Counter(rows.values_list("status", flat=True))
    applied_per_id = Counter(r["client_id"] for r in answers if r["status"] == "applied")
    answered = Counter(r["client_id"] for r in answers)
    want = Counter()
    for _s, _a, e in devices:
        want.update(expected_events(e))
    orders = [wo for _s, _a, e in devices for wo in e["orders"]]
    kinds = [K.ACCEPTED, K.EN_ROUTE, K.CHECK_IN, K.CHECKLIST, K.SIGNATURE, K.CHECK_OUT,
             K.COMPLETED]  # fmt: skip
    got = Counter({(r["work_order"], r["kind"]): r["n"] for r in WorkOrderEvent.objects.filter(
        work_order_id__in=orders, kind__in=kinds).values("work_order", "kind").annotate(
        n=Count("id"))})  # fmt: skip
    rounds = [r for _s, _a, e in devices for r in e["rounds"]]
    visits = PointVisit.objects.filter(round_id__in=rounds)
    want_visits = sum(len(e["rounds"]) * e["points"] for _s, _a, e in devices)
    visit_ids = set(map(str, visits.values_list("client_id", flat=True)))
    visit_actions = {a["client_id"] for _s, actions, _e in devices for a in actions
                     if a["kind"] == "record_visit"}  # fmt: skip
    return {
        "actions": len(client_ids),
        "sync_action_rows": rows.count(),
        "row_statuses": dict(statuses),
        "client_ids_applied_once": sum(1 for c in client_ids if applied_per_id[c] == 1),
        "client_ids_applied_twice_or_more": sum(1 for c in client_ids if applied_per_id[c] > 1),
        "client_ids_never_applied": sum(1 for c in client_ids if applied_per_id[c] == 0),
        "answers": len(answers),
        "answers_per_id": dict(Counter(answered.values())),
        "events_expected": sum(want.values()),
        "events_found": sum(got.values()),
        "event_keys_duplicated": sum(1 for k, n in got.items() if n > want[k]),
        "event_keys_missing": sum(1 for k, n in want.items() if got[k] < n),
        "visits_expected": want_visits,
        "visits_found": visits.count(),
        "visits_matching_client_ids": len(visit_ids & visit_actions),
        "readings_found": Reading.objects.filter(visit__round_id__in=rounds).count(),
        "readings_expected": want_visits * 3,
    }


def ok(proof: dict) -> bool:
    return (
        proof["sync_action_rows"] == proof["actions"]
        and proof["client_ids_applied_once"] == proof["actions"]
        and proof["events_found"] == proof["events_expected"]
        and not proof["event_keys_duplicated"]
        and not proof["event_keys_missing"]
        and proof["visits_found"] == proof["visits_expected"] == proof["visits_matching_client_ids"]
        and proof["readings_found"] == proof["readings_expected"]
    )


# ---------------------------------------------------------------- runs


def run_one(port, device) -> dict:
    secret, actions, _e = device
    took, first = post(port, secret, actions, "bench-phone-0")
    replay_took, second = post(port, secret, actions, "bench-phone-0")
    answers = first["results"]
    return {
        "actions": len(actions),
        "seconds": round(took, 3),
        "actions_per_second": round(len(actions) / took, 1),
        "summary": first["summary"],
        "replay_seconds": round(replay_took, 3),
        "replay_summary": second["summary"],
        "proof": prove([device], answers),
    }


def run_many(port, devices) -> dict:
    times: list[float] = []
    answers: list[dict] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2 * len(devices))

    def worker(n, device):
        secret, actions, _e = device
        barrier.wait()
        took, body = post(port, secret, actions, f"bench-phone-{n}")
        with lock:
            times.append(took)
            answers.extend(body["results"])

    threads = [threading.Thread(target=worker, args=(n, d)) for n, d in enumerate(devices)
               for _twice in range(2)]  # fmt: skip
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = time.perf_counter() - t0
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return {
        "devices": len(devices),
        "requests": len(times),
        "actions_per_device": len(devices[0][1]),
        "seconds": round(total, 3),
        "actions_per_second": round(sum(len(d[1]) for d in devices) / total, 1),
        "batch_p50_s": round(statistics.median(times), 3),
        "batch_p95_s": round(p95, 3),
        "batch_max_s": round(times[-1], 3),
        "answers": dict(Counter(r["status"] for r in answers)),
        "proof": prove(devices, answers),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--day-actions", type=int, default=500)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--per-device", type=int, default=100)
    parser.add_argument("--checklist", type=int, default=5)
    parser.add_argument("--points", type=int, default=18)
    parser.add_argument("--port", type=int, default=8160)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--skip-unreachable", action="store_true",
                        help="exit 0 with a message when PostgreSQL cannot be reached (make bench)")  # fmt: skip
    args = parser.parse_args(argv)

    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    if not url.startswith(("postgres://", "postgresql://")):
        print("bench/sync.py needs PostgreSQL (BENCH_DATABASE_URL=postgres://…)")
        return 2
    if not reachable(url):
        host = url.split("@")[-1].rsplit("/", 1)[0]
        print(f"sync benchmark skipped: no PostgreSQL at {host} (set BENCH_DATABASE_URL)")
        return 0 if args.skip_unreachable else 2
    ensure_database(url)
    configure(url)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    tag = uuid.uuid4().hex[:8]
    t0 = time.perf_counter()
    one, many = seed(args.devices, args.per_device, args.day_actions, args.checklist,
                     args.points, tag)  # fmt: skip
    seed_s = time.perf_counter() - t0
    print(
        f"seeded {args.devices + 1} engineers and their queued work in {seed_s:.1f} s", flush=True
    )
    connection.close()
    server = start_server(args.port, args.workers)
    try:
        single = run_one(args.port, one)
        concurrent = run_many(args.port, many)
    finally:
        server.terminate()
        server.wait(timeout=30)

    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    result = {
        "benchmark": "sync",
        "one_device": single,
        "many_devices": concurrent,
        "server": f"gunicorn, {args.workers} sync workers, port {args.port}",
        "seed_seconds": round(seed_s, 1),
        "load_average_after": load,
        "python": platform.python_version(),
        "postgres": connection.pg_version,
        "cpus": os.cpu_count(),
    }
    print(f"\n{'measure':<48} {'value':>12}")
    rows = [
        ("(a) one batch: actions", single["actions"]),
        ("(a) one batch: seconds", single["seconds"]),
        ("(a) one batch: actions/s", single["actions_per_second"]),
        ("(a) replay: seconds", single["replay_seconds"]),
        ("(a) replay: all replayed", single["replay_summary"]["replayed"] == single["actions"]),
        ("(a) proof: nothing lost or duplicated", ok(single["proof"])),
        ("(b) devices × actions, each batch posted twice",
         f"{concurrent['devices']}×{concurrent['actions_per_device']}"),
        ("(b) total seconds", concurrent["seconds"]),
        ("(b) actions/s", concurrent["actions_per_second"]),
        ("(b) batch p50 / p95 s", f"{concurrent['batch_p50_s']} / {concurrent['batch_p95_s']}"),
        ("(b) SyncAction rows", concurrent["proof"]["sync_action_rows"]),
        ("(b) client ids applied exactly once", concurrent["proof"]["client_ids_applied_once"]),
        ("(b) events found / expected", f"{concurrent['proof']['events_found']} / "
                                        f"{concurrent['proof']['events_expected']}"),
        ("(b) visits found / expected", f"{concurrent['proof']['visits_found']} / "
                                        f"{concurrent['proof']['visits_expected']}"),
        ("(b) proof: nothing lost or duplicated", ok(concurrent["proof"])),
    ]  # fmt: skip
    for name, value in rows:
        print(f"{name:<48} {value!s:>12}")
    print(f"load average after: {' '.join(load)}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0 if ok(single["proof"]) and ok(concurrent["proof"]) else 1


if __name__ == "__main__":
    sys.exit(main())
