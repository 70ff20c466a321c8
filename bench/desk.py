"""Service desk benchmark on PostgreSQL: 1,000,000 tickets.

Measures, against a database filled with realistic tickets by set-based INSERTs:

- the SLA sweep when 1 % of the tickets are due (target < 1 s), as the beat task runs
  it (``defer_notices``: the notices of each batch are delivered after commit by their
  own job), and that job (the inbox rows and email digests) timed on its own;
- ``GET /api/v1/tickets/`` first page, unfiltered and filtered by team + status +
  breached, p50/p95 over 200 requests each (target p95 < 150 ms), with the number
  of queries per request.

Needs PostgreSQL: ``BENCH_DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/frontline_bench;
the database is created when missing; its desk and notification tables are emptied and
refilled each run). ``--skip-unreachable`` (used by ``make bench``) exits 0 with a
message when no server answers.
Times are reported, never asserted; compare runs on the same machine.

    .venv/bin/python bench/desk.py [--tickets 1000000] [--requests 200]
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

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "desk.json"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/frontline_bench"


def reachable(url: str) -> bool:
    """Whether the PostgreSQL server of ``url`` answers (its maintenance database)."""
    import psycopg

    try:
        psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def configure(url: str) -> None:
    os.environ.update(
        {
            "DATABASE_URL": url,
            "FRONTLINE_ENV": "test",
            "DEBUG": "false",
            "AXES_ENABLED": "false",
            "DJANGO_SETTINGS_MODULE": "frontline.settings",
            "LOG_LEVEL": "WARNING",
            # Emails are sent by workers after commit, not inside the measured sweep.
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_URL": "locmem://",
        }
    )
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    # FRONTLINE_ENV=test closes the connection after each request; a deployment keeps it
    # (CONN_MAX_AGE=60, see frontline/env.py). A fresh connection per request would
    # measure connecting and PostgreSQL's cold catalog caches (30 ms of planning for the
    # list's nine-table join), not the request.
    connection.settings_dict["CONN_MAX_AGE"] = 60


def seed_world():
    """Operator, customers, projects, teams, owners and one SLA policy per project × severity."""
    from frontline.accounts.models import Organization, Team, User
    from frontline.accounts.roles import OrganizationKind, Role
    from frontline.desk.models import BusinessCalendar, SlaPolicy, WorkingPeriod
    from frontline.sites.models import Project
    from frontline.testing import factories as f

    op = f.operator()
    customers = list(Organization.objects.filter(kind=OrganizationKind.CUSTOMER)[:3])
    while len(customers) < 3:
        customers.append(f.OrganizationFactory(name=f"基准客户 {len(customers)}"))
    owners = [
        f.member(Role.AGENT, op, email=f"bench-agent-{i}@example.com")
        for i in range(20)
        if not op.memberships.filter(user__email=f"bench-agent-{i}@example.com").exists()
    ] or [m.user for m in op.memberships.filter(user__email__startswith="bench-agent-")]
    teams = list(Team.objects.filter(organization=op)[:4])
    while len(teams) < 4:
        teams.append(
            Team.objects.create(organization=op, name=f"基准{len(teams)}组", lead=owners[0])
        )
    projects = list(Project.objects.filter(customer__in=customers)[:5])
    while len(projects) < 5:
        projects.append(
            Project.objects.create(
                customer=customers[len(projects) % 3],
                code=f"BENCH-{len(projects)}",
                name="基准项目",
            )
        )
    round_the_clock, _ = BusinessCalendar.objects.get_or_create(
        name="基准 7×24", defaults={"is_24x7": True}
    )
    office, created = BusinessCalendar.objects.get_or_create(
        name="基准 工作日 9:00–18:00（法定节假日休）",
        defaults={"time_zone": "Asia/Shanghai", "use_china_holidays": True},
    )
    if created:
        WorkingPeriod.objects.bulk_create(
            WorkingPeriod(calendar=office, weekday=w, start=dt.time(9), end=dt.time(18))
            for w in range(5)
        )
    # S1 round the clock; the others on working hours with China's holidays and make-up
    # workdays, as most desks run them (the sweep then does business-time arithmetic).
    for project in projects:
        for sev, (fr, res, calendar) in {
            "S1": (15, 240, round_the_clock),
            "S2": (30, 480, office),
            "S3": (120, 1440, office),
            "S4": (480, 4320, office),
        }.items():
            SlaPolicy.objects.update_or_create(
                project=project,
                severity=sev,
                defaults={
                    "calendar": calendar,
                    "first_response_minutes": fr,
                    "resolution_minutes": res,
                },
            )
    # One manager, who reads the lists and hears of every breach (the sweep notifies
    # every active manager: earlier versions of this script left one per run behind).
    User.objects.filter(email__startswith="bench-manager-").update(is_active=False)
    viewer = User.objects.filter(email="bench-manager@example.com").first() or f.member(
        Role.MANAGER, op, email="bench-manager@example.com"
    )
    return customers, projects, teams, owners, viewer


def fill_tickets(n: int, customers, projects, teams, owners, now: dt.datetime) -> float:
    """INSERT … SELECT generate_series: n tickets, 1 % of them due for the sweep at ``now``."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE desk_ticketevent, desk_ticket_tags, desk_ticket_watchers, desk_slapause, desk_attachment, desk_handoff, desk_firesummons, desk_firecall, desk_bugbrief, desk_retrospectiveaction, desk_retrospective, desk_slaclock, desk_slanoticebatch, desk_ticket RESTART IDENTITY CASCADE"
        )
        # The sweep's inbox rows and emails of earlier runs would only slow its dedupe look-up.
        cur.execute("TRUNCATE notifications_notification, notifications_outboundemail")
        cur.execute(
            """
            INSERT INTO desk_ticket (
                number, title, description, customer_id, project_id, channel, severity, status,
                team_id, tier, owner_id, created_by_id, external_ref, sla_policy_id, sla_state,
                first_response_due_at, resolution_due_at, sla_warning_at, sla_next_check_at,
                sla_warned_at, sla_breached_at, first_handled_at, fire_open, had_fire_call,
                rating_comment, created_at, updated_at)
            SELECT
                'T-' || lpad(g::text, 7, '0'),
                '冷机故障报修 #' || g,
                '<p>冷冻水出水温度偏高</p>',
                (%(customers)s)[1 + g %% 3],
                (%(projects)s)[1 + g %% 5],
                (ARRAY['portal','api','email','phone','iot','chat'])[1 + g %% 6],
                (ARRAY['S1','S2','S3','S3','S4','S4'])[1 + g %% 6],
                CASE WHEN g %% 10 < 7 THEN 'closed' WHEN g %% 10 = 7 THEN 'in_progress'
                     WHEN g %% 10 = 8 THEN 'waiting_customer' ELSE 'new' END,
                (%(teams)s)[1 + g %% 4],
                'l1',
                (%(owners)s)[1 + g %% array_length(%(owners)s, 1)],
                NULL, '',
                (SELECT p.id FROM desk_slapolicy p
                 WHERE p.project_id = (%(projects)s)[1 + g %% 5]
                   AND p.severity = (ARRAY['S1','S2','S3','S3','S4','S4'])[1 + g %% 6]),
                CASE WHEN g %% 10 < 7 THEN 'met' WHEN g %% 100 = 7 THEN 'breached' ELSE 'ok' END,
                %(now)s + (g %% 1440) * interval '1 minute',
                %(now)s + (g %% 7200) * interval '1 minute',
                %(now)s + (g %% 5000) * interval '1 minute',
                CASE WHEN g %% 10 < 7 THEN NULL
                     WHEN g %% 100 = 8 THEN %(now)s - interval '1 minute'
                     ELSE %(now)s + (1 + g %% 5000) * interval '1 minute' END,
                NULL,
                CASE WHEN g %% 100 = 7 THEN %(now)s - interval '1 hour' ELSE NULL END,
                %(now)s - interval '1 day',
                false, false, '',
                %(now)s - (g %% 86400) * interval '1 minute',
                %(now)s
            FROM generate_series(1, %(n)s) AS g
            """,
            {
                "n": n,
                "now": now,
                "customers": [c.pk for c in customers],
                "projects": [p.pk for p in projects],
                "teams": [t.pk for t in teams],
                "owners": [o.pk for o in owners],
            },
        )
        # The sweep's clock: the moment each ticket stores, as sla.recompute writes it.
        cur.execute(
            "INSERT INTO desk_slaclock (ticket_id, next_check_at) "
            "SELECT id, sla_next_check_at FROM desk_ticket WHERE sla_next_check_at IS NOT NULL"
        )
        # The steady state of a live table: statistics and the visibility map (which
        # index-only scans, COUNT(*) among them, rely on) are autovacuum's work.
        cur.execute("VACUUM ANALYZE desk_ticket")
        cur.execute("VACUUM ANALYZE desk_slaclock")
    return time.perf_counter() - started


def prepare_steady_state(now: dt.datetime) -> int:
    """Make 1 % of the tickets (open, not paused) due for one resolution warning at ``now``.

    Per policy, in its calendar: each ticket was created when 85 % of its resolution
    target (in business time) lies between then and ``now``, and answered a minute
    later, so the warning (at 80 %) is due and the breach is not. Its stored deadlines,
    next check and clock are what ``sla.recompute`` wrote when it was answered.
    """
    from django.db import connection

    from frontline.desk import sla
    from frontline.desk.calendars import Calendar
    from frontline.desk.models import SlaPolicy

    moments = []
    policies = SlaPolicy.objects.select_related("calendar").prefetch_related(
        "calendar__periods", "calendar__closed_days"
    )
    for policy in policies:
        calendar = Calendar.from_model(policy.calendar)
        created = _business_time_before(calendar, now, policy.resolution_minutes * 0.85)
        responded = created + dt.timedelta(minutes=1)
        result = sla.compute(
            created_at=created,
            policy_targets=sla.PolicyTargets.from_policy(policy),
            calendar=calendar,
            pauses=[],
            first_responded_at=responded,
            resolved_at=None,
            now=responded,
            explain=False,
        )
        assert result.warning_at <= now < result.resolution_due_at, policy
        moments.append(
            {
                "policy": policy.pk,
                "created": created.isoformat(),
                "responded": responded.isoformat(),
                "fr": result.first_response_due_at.isoformat(),
                "r": result.resolution_due_at.isoformat(),
                "w": result.warning_at.isoformat(),
            }
        )
    with connection.cursor() as cur:
        cur.execute(
            """
            UPDATE desk_ticket t SET
                created_at = v.created, first_responded_at = v.responded,
                first_response_due_at = v.fr, resolution_due_at = v.r,
                sla_warning_at = v.w, sla_next_check_at = v.w,
                sla_warned_at = NULL, sla_breached_at = NULL, sla_state = 'ok'
            FROM jsonb_to_recordset(%s::jsonb) AS v(
                policy bigint, created timestamptz, responded timestamptz,
                fr timestamptz, r timestamptz, w timestamptz)
            WHERE v.policy = t.sla_policy_id AND t.status IN ('new', 'in_progress')
              AND t.id %% 200 IN (9, 19)
            """,
            [json.dumps(moments)],
        )
        count = cur.rowcount
        cur.execute(
            """
            INSERT INTO desk_slaclock (ticket_id, next_check_at)
            SELECT id, sla_next_check_at FROM desk_ticket
            WHERE status IN ('new', 'in_progress') AND id % 200 IN (9, 19)
            ON CONFLICT (ticket_id) DO UPDATE SET next_check_at = EXCLUDED.next_check_at
            """
        )
        cur.execute("ANALYZE desk_ticket")
        cur.execute("ANALYZE desk_slaclock")
    return count


def _business_time_before(calendar, end: dt.datetime, minutes: float) -> dt.datetime:
    """The latest moment from which ``minutes`` of the calendar's working time have run
    by ``end`` (to the second; business time grows with the span, so bisect on it)."""
    from frontline.desk.calendars import business_time_between

    wanted = dt.timedelta(minutes=minutes)
    low, high = 0, 1
    while business_time_between(calendar, end - dt.timedelta(days=high), end) < wanted:
        high *= 2
    low_s, high_s = low * 86400, high * 86400
    while high_s - low_s > 1:
        mid = (low_s + high_s) // 2
        if business_time_between(calendar, end - dt.timedelta(seconds=mid), end) >= wanted:
            high_s = mid
        else:
            low_s = mid
    return end - dt.timedelta(seconds=high_s)


def timed_sweep(now: dt.datetime, workers: int | None = None) -> dict:
    """The sweep as the beat task runs it (notices deferred, ``DESK_SLA_SWEEP_WORKERS``
    threads unless ``workers``), then the notice jobs it queued, each timed: a worker
    runs each ``deliver_sla_notices`` job (the batches it was handed) after commit."""
    from django.conf import settings

    from frontline.desk import tasks
    from frontline.desk.sweep import deliver_notices, sweep

    workers = workers or settings.DESK_SLA_SWEEP_WORKERS
    queued: list = []  # the jobs' arguments, as the broker would receive them
    delay = tasks.deliver_sla_notices.delay
    tasks.deliver_sla_notices.delay = queued.append
    try:
        started = time.perf_counter()
        report = sweep(now=now, defer_notices=True, workers=workers)
        sweep_s = time.perf_counter() - started
    finally:
        tasks.deliver_sla_notices.delay = delay
    started = time.perf_counter()
    inbox_rows = sum(deliver_notices(ids) for ids in queued)
    notices_s = time.perf_counter() - started
    return {
        "workers": workers,
        "seconds": round(sweep_s, 3),
        "report": str(report),
        "notice_jobs": len(queued),
        "notice_batches": sum(len(ids) for ids in queued),
        "notice_inbox_rows": inbox_rows,
        "notices_seconds": round(notices_s, 3),
    }


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def time_requests(client, url: str, n: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(5):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(
                f"GET {url} answered {response.status_code}: {response.content[:300]!r}"
            )
    timings, queries = [], set()
    for _ in range(n):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        queries.add(len(captured))
    timings.sort()
    return {
        "url": url,
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
        "queries": sorted(queries),
        "count": response.json().get("count"),
        "count_capped": response.json().get("count_capped", False),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--skip-unreachable",
        action="store_true",
        help="exit 0 with a message when PostgreSQL cannot be reached (make bench)",
    )
    args = parser.parse_args(argv)

    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
    if not url.startswith(("postgres://", "postgresql://")):
        print("bench/desk.py needs PostgreSQL (BENCH_DATABASE_URL=postgres://…)")
        return 2
    if args.skip_unreachable and not reachable(url):
        host = url.split("@")[-1].rsplit("/", 1)[0]
        print(f"desk benchmark skipped: no PostgreSQL at {host} (set BENCH_DATABASE_URL)")
        return 0
    ensure_database(url)
    configure(url)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from frontline.desk.models import SlaClock, TicketEvent
    from frontline.notifications.models import Notification, OutboundEmail

    load_before = load_average()

    call_command("migrate", verbosity=0)
    customers, projects, teams, owners, viewer = seed_world()
    now = timezone.now().replace(microsecond=0)
    fill_s = fill_tickets(args.tickets, customers, projects, teams, owners, now)
    due = SlaClock.objects.filter(next_check_at__lte=now).count()
    # A worker loads the URL configuration once, not per sweep: not part of the timing.
    reverse("desk:ticket-detail", args=[1])
    reverse("notifications:inbox")

    catch_up = timed_sweep(now)
    second = timed_sweep(now)
    left = SlaClock.objects.filter(next_check_at__lte=now).count()
    written = {
        "events": TicketEvent.objects.count(),
        "inbox_rows": Notification.objects.count(),
        "emails": OutboundEmail.objects.count(),
    }

    # Steady state: 1 % of the tickets each due for exactly one thing (a resolution warning).
    # First on one thread (for comparison), then again as the beat task runs it.
    later = now + dt.timedelta(minutes=5)
    prepare_steady_state(later)
    steady_one = timed_sweep(later, workers=1)
    later += dt.timedelta(minutes=5)
    steady_due = prepare_steady_state(later)
    steady = timed_sweep(later)

    client = Client()
    client.force_login(viewer)
    team = teams[3].pk  # the team of the breached in-progress tickets (g % 100 == 7)
    lists = [
        time_requests(client, "/api/v1/tickets/", args.requests),
        time_requests(
            client, f"/api/v1/tickets/?team={team}&status=in_progress&breached=true", args.requests
        ),
        # Not a target: the SLA-state filter lost its index (a warning's update is HOT
        # only when no index covers sla_state); measured to show what that costs.
        time_requests(client, "/api/v1/tickets/?sla_state=warning", args.requests),
    ]
    with connection.cursor() as cur:
        cur.execute("SELECT pg_size_pretty(pg_total_relation_size('desk_ticket'))")
        size = cur.fetchone()[0]

    result = {
        "benchmark": "desk",
        "tickets": args.tickets,
        "fill_seconds": round(fill_s, 1),
        "ticket_table_size": size,
        "due_at_sweep": due,
        "sweep": catch_up,
        "sweep_wrote": written,
        "second_sweep": second,
        "due_after_sweep": left,
        "steady_due": steady_due,
        "steady_sweep": steady,
        "steady_sweep_one_worker": steady_one,
        "lists": lists,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "python": platform.python_version(),
        "postgres": connection.pg_version,
    }
    print(f"{args.tickets:,} tickets filled in {fill_s:.1f} s ({size})")
    print(f"load average before {load_before}, after {result['load_average_after']}")
    print(
        f"SLA sweep: {due:,} due → {catch_up['seconds']:.3f} s on {catch_up['workers']} workers, then its notice jobs "
        f"({catch_up['notice_jobs']} jobs) {catch_up['notices_seconds']:.3f} s "
        f"(second run {second['seconds']:.3f} s, {left} still due)"
    )
    print(
        f"  it wrote {written['events']:,} events, {written['inbox_rows']:,} inbox rows, "
        f"{written['emails']:,} emails"
    )
    print(
        f"SLA sweep, steady state: {steady_due:,} due, one warning each → "
        f"{steady['seconds']:.3f} s on {steady['workers']} workers "
        f"({steady_one['seconds']:.3f} s on one), "
        f"then its notice jobs {steady['notices_seconds']:.3f} s"
    )
    for row in lists:
        print(
            f"GET {row['url']}: p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, queries {row['queries']}, count {row['count']}{'+' if row['count_capped'] else ''}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
