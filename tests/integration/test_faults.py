"""Fault tests: Redis down, a worker killed mid-job, the database connection dropped
mid-request, and the beat jobs catching up after downtime (docs/reliability.md).

The first three need real servers (the integration marker: CI's PostgreSQL pass with
Redis); the catch-up story needs neither and runs on every pass.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from frontline import jobs
from frontline.dispatch.models import PlanRun, PlanStatus
from frontline.dispatch.tests.factories_planning import TOMORROW, small_day
from frontline.jobs.models import JobStatus, OutboxJob
from frontline.jobs.testing import CLOSED_BROKER, broker_at
from frontline.notifications import outbox
from frontline.notifications.models import EmailStatus, OutboundEmail
from tests.integration.conftest import require_url

ROOT = Path(__file__).resolve().parents[2]
CLOSED_REDIS = "redis://127.0.0.1:1/0"
# Far longer than any request takes; a broker client retrying for ever would hit it.
HANG = 20.0


@pytest.fixture
def queue(redis_url):
    """A queue of this test's own: parallel test processes share the Redis database."""
    name = f"frontline-faults-{uuid.uuid4().hex}"
    yield name
    import redis

    redis.Redis.from_url(redis_url).delete(name, f"_kombu.binding.{name}")


def require_postgres() -> None:
    url = require_url("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fl_faults")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://…)")


def drain(redis_url: str, queue: str) -> list[tuple[str, list]]:
    """Take every message off the queue: (task name, args), as a worker would."""
    from kombu import Connection

    messages = []
    with Connection(redis_url) as conn:
        simple = conn.SimpleQueue(queue)
        while True:
            try:
                message = simple.get(timeout=0.5)
            except simple.Empty:
                break
            messages.append((message.headers["task"], message.payload[0]))
            message.ack()
        simple.close()
    return messages


# ---------------------------------------------------------------- a. Redis down


@pytest.mark.integration
@pytest.mark.django_db
def test_redis_down_pages_and_api_work_and_jobs_wait_in_the_outbox(
    api, cast, redis_url, queue, settings, django_capture_on_commit_callbacks
):
    from frontline.desk.models import Ticket
    from frontline.desk.tests.factories import Places

    # Given Redis is down: the cache and the broker point at a closed port
    settings.CACHES = {
        "default": {
            "BACKEND": "frontline.core.cache.ResilientRedisCache",
            "LOCATION": CLOSED_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    places, _day = Places(cast), small_day(cast)
    started = time.monotonic()
    with broker_at(CLOSED_BROKER, queue=queue), django_capture_on_commit_callbacks(execute=True):
        # When a customer opens a ticket and a dispatcher starts a plan through the API
        created = api.as_user(cast.customer_a_user).post(
            "/api/v1/tickets/",
            {"title": "冷站漏水", "site": places.site_a.pk, "severity": "S3"},
            format="json",
        )
        plan = api.as_user(cast.dispatcher).post(
            "/api/v1/dispatch/plans/", {"day": TOMORROW.isoformat(), "time_limit_s": 1},
            format="json",
        )  # fmt: skip
        # and an agent reads lists and pages, and a stranger hits the throttled API
        listed = api.as_user(cast.agent).get("/api/v1/tickets/")
        browser = Client()
        browser.force_login(cast.agent)
        ticket = Ticket.objects.get(pk=created.json()["id"])
        pages = [browser.get(reverse("desk:ticket-list")), browser.get(ticket.get_absolute_url())]
        anonymous = APIClient().get("/api/v1/tickets/")
    elapsed = time.monotonic() - started
    # Then everything answered, none of it waiting on Redis
    assert (created.status_code, plan.status_code, listed.status_code) == (201, 202, 200)
    assert [p.status_code for p in pages] == [200, 200]
    assert anonymous.status_code in (401, 403)
    assert elapsed < HANG
    # and the jobs wait: the plan run in the job outbox, the emails in theirs
    job = OutboxJob.objects.get()
    assert job.status == JobStatus.PENDING and job.task == "frontline.dispatch.tasks.run_plan"
    assert PlanRun.objects.get().status == PlanStatus.QUEUED
    emails = OutboundEmail.objects.filter(status=EmailStatus.PENDING).count()
    assert emails >= 1 and mail.outbox == []

    # When Redis is back, the relay publishes the job and a worker runs it
    with broker_at(redis_url, queue=queue):
        assert jobs.relay_pending(now=timezone.now() + dt.timedelta(minutes=1)) == 1
    messages = drain(redis_url, queue)
    assert messages == [("frontline.jobs.tasks.run_job", [job.pk])]
    from frontline.celery import app

    for name, args in messages * 2:  # the second time: as if the broker redelivered it
        app.tasks[name].apply(args=args)
    outbox.send_pending()
    outbox.send_pending()
    # Then each side effect happened once: the plan ran, each email went out once
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.DONE, 1)
    assert PlanRun.objects.get().status == PlanStatus.DONE
    assert len(mail.outbox) == emails
    assert not OutboundEmail.objects.exclude(status=EmailStatus.SENT).exists()


@pytest.mark.integration
def test_clearing_the_cache_keeps_the_queued_jobs(redis_url, queue):
    from django.core.cache import caches

    from frontline.celery import app
    from frontline.core.cache import ResilientRedisCache

    # Given the cache on Redis (REDIS_URL's server) and a job waiting in the broker
    cache = caches["default"]
    assert isinstance(cache, ResilientRedisCache)
    with broker_at(redis_url, queue=queue):
        app.send_task("frontline.ping")
    cache.set("memo", 1)
    # When the cache is cleared (FLUSHDB on its database)
    cache.clear()
    # Then the cache is empty but the job is still queued: they live in other databases
    assert cache.get("memo") is None
    assert drain(redis_url, queue) == [("frontline.ping", [])]


# ---------------------------------------------------------------- b. worker killed


def _worker(redis_url: str, queue: str) -> subprocess.Popen:
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}"
        f":{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = {
        **os.environ,
        "FRONTLINE_ENV": "test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # An unacknowledged message comes back after 2 s, checked every second.
        "CELERY_VISIBILITY_TIMEOUT": "2",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        # The victim may die holding the restore lock: let it lapse quickly.
        "CELERY_UNACKED_MUTEX_EXPIRE": "3",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "frontline.celery", "worker",
        "--pool=solo", "-Q", queue, "-I", "tests.integration.fault_tasks",
        "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "WARNING",
    ]  # fmt: skip
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _wait_for(condition, *, seconds: float, what: str, workers=()) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        for worker in workers:
            if worker.poll() is not None:
                pytest.fail(f"the worker exited: {worker.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def _stop(worker: subprocess.Popen) -> None:
    # The job is over (or the test failed): no shutdown ceremony; its connections close.
    if worker.poll() is None:
        worker.kill()
    worker.wait(timeout=10)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_job_is_redelivered_and_the_side_effect_happens_once(
    redis_url, queue, tmp_path
):
    require_postgres()
    pid_file = tmp_path / "pid"
    # Given two workers, and a job that queues an email and then takes a while
    workers = {}
    try:
        for _ in range(2):
            worker = _worker(redis_url, queue)
            workers[worker.pid] = worker
        with broker_at(redis_url, queue=queue):
            job = jobs.enqueue(
                "tests.integration.fault_tasks.queue_email_slowly",
                args=["crash-once", 2, str(pid_file)],
                key="faults:crash-once",
                atomic=True,
            )
        assert OutboxJob.objects.get(pk=job.pk).status == JobStatus.SENT
        # When the worker running it is killed mid-job (SIGKILL: no goodbye at all)
        _wait_for(pid_file.exists, seconds=60, what="a worker to start the job",
                  workers=workers.values())  # fmt: skip
        victim = workers.pop(int(pid_file.read_text()))
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        assert OutboxJob.objects.get(pk=job.pk).status == JobStatus.SENT
        assert not OutboundEmail.objects.filter(dedupe_key="crash-once").exists()
        # Then the broker hands the message to the other worker, which finishes the job
        _wait_for(
            lambda: OutboxJob.objects.get(pk=job.pk).status == JobStatus.DONE,
            seconds=60, what="the redelivered job to finish", workers=workers.values(),
        )  # fmt: skip
    finally:
        for worker in workers.values():
            _stop(worker)
    # and its side effect exists exactly once
    assert OutboundEmail.objects.filter(dedupe_key="crash-once").count() == 1
    assert OutboxJob.objects.get(pk=job.pk).attempts == 2


# ---------------------------------------------------------------- c. connection dropped


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_connection_dropped_mid_request_writes_nothing_and_the_next_request_works(
    api, cast, monkeypatch
):
    require_postgres()
    import psycopg

    from frontline.desk import tickets
    from frontline.desk.models import Ticket, TicketEvent
    from frontline.desk.tests.factories import Places

    places = Places(cast)
    db = connection.settings_dict
    record_event = tickets.record_event

    def drop_the_connection_then_record(**kwargs):
        # The ticket row is written; the database goes away before its first event.
        pid = connection.connection.info.backend_pid
        with psycopg.connect(
            host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
            password=db["PASSWORD"] or None, dbname=db["NAME"], autocommit=True,
        ) as other:  # fmt: skip
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
        return record_event(**kwargs)

    payload = {"title": "断线", "site": places.site_a.pk, "severity": "S3"}
    client = api.as_user(cast.customer_a_user)
    client.raise_request_exception = False
    monkeypatch.setattr(tickets, "record_event", drop_the_connection_then_record)
    # When the connection drops between the ticket's writes
    failed = client.post("/api/v1/tickets/", payload, format="json")
    # Then the request fails cleanly, without a traceback, and nothing of it is stored
    assert failed.status_code in (500, 503)
    assert not settings.DEBUG and b"Traceback" not in failed.content
    assert not Ticket.objects.exists() and not TicketEvent.objects.exists()
    # And the next request works on a fresh connection
    monkeypatch.setattr(tickets, "record_event", record_event)
    again = client.post("/api/v1/tickets/", payload, format="json")
    assert again.status_code == 201, again.content
    assert Ticket.objects.count() == 1


# ---------------------------------------------------------------- d. catch-up


def test_after_downtime_the_beat_jobs_catch_up_once(
    cast, monkeypatch, settings, django_capture_on_commit_callbacks
):
    """Workers and beat were down from Monday 09:00 to Wednesday 12:00 (the pieces have
    their own tests in desk and inspections; this is the whole story, through the real
    beat tasks, notices and emails)."""
    import zoneinfo

    from frontline.desk import sla
    from frontline.desk import tasks as desk_tasks
    from frontline.desk.models import TicketEvent
    from frontline.desk.states import EventKind
    from frontline.desk.tests.test_sla_support import office_policy, ticket_at
    from frontline.inspections import tasks as inspection_tasks
    from frontline.inspections.models import Round
    from frontline.inspections.states import RoundStatus, ScheduleKind
    from frontline.inspections.tests import factories as fi
    from frontline.notifications import tasks as notification_tasks
    from frontline.notifications.models import Notification
    from frontline.testing import factories as f

    sh = zoneinfo.ZoneInfo("Asia/Shanghai")

    def at(*args) -> dt.datetime:
        return dt.datetime(*args, tzinfo=sh)

    clock = {"now": at(2026, 3, 16, 6)}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    settings.INSPECTIONS_GENERATE_AHEAD_HOURS = 12

    def beat() -> dict[str, object]:
        """One tick of every beat job this story touches, as the scheduler runs them."""
        with django_capture_on_commit_callbacks(execute=True):
            report = {
                "rounds": inspection_tasks.generate_rounds(),
                "missed": inspection_tasks.close_overdue_rounds(),
                "sla": desk_tasks.sweep_sla(),
                "jobs": jobs.relay_pending(),
            }
        report["emails"] = notification_tasks.send_pending_emails()
        return report

    # Given a daily 08:00 / 20:00 round, generated on Monday morning,
    fi.ScheduleFactory(
        route=fi.route(customer=cast.customer_a), kind=ScheduleKind.DAILY,
        times=["08:00", "20:00"], starts_on=dt.date(2026, 3, 1),
    )  # fmt: skip
    beat()
    assert list(Round.objects.values_list("window_start", flat=True)) == [at(2026, 3, 16, 8)]
    # and an S2 ticket at 09:00 (warning 09:48, first response 10:00, resolution 17:00)
    clock["now"] = at(2026, 3, 16, 9)
    policy = office_policy(f.ProjectFactory(customer=cast.customer_a))
    team = f.TeamFactory(lead=f.member("agent", cast.operator, email="lead@t.example"))
    ticket = ticket_at(policy, clock["now"], owner=cast.agent, team=team)
    sla.recompute(ticket, now=clock["now"])
    mail.outbox.clear()

    # When the workers and the scheduler come back on Wednesday at noon
    clock["now"] = at(2026, 3, 18, 12)
    first = beat()

    # Then each SLA moment fired once, with one notice and one email per person
    events = list(
        TicketEvent.objects.filter(
            ticket=ticket, kind__in=[EventKind.SLA_WARNING, EventKind.SLA_BREACH]
        ).values_list("kind", flat=True)
    )
    assert events.count(EventKind.SLA_WARNING) == 1 and EventKind.SLA_BREACH in events
    notices = list(
        Notification.objects.filter(kind__startswith="desk.sla").values_list(
            "recipient_id", "dedupe_key"
        )
    )
    assert notices and len(notices) == len(set(notices))
    assert (cast.agent.pk, "desk.sla_warning") in {
        (r, k) for r, k in Notification.objects.values_list("recipient_id", "kind")
    }
    sent = sorted((m.to[0], m.subject) for m in mail.outbox)
    assert sent and len(sent) == len(set(sent))
    # and the rounds of the last day were created (and, their windows closed, missed);
    # older windows were not: nobody could have walked them
    rounds = dict(Round.objects.values_list("window_start", "status"))
    assert rounds == {
        at(2026, 3, 16, 8): RoundStatus.MISSED,
        at(2026, 3, 17, 20): RoundStatus.MISSED,
        at(2026, 3, 18, 8): RoundStatus.MISSED,
        at(2026, 3, 18, 20): RoundStatus.SCHEDULED,
    }
    assert first["rounds"] == 3 and first["missed"] == 3
    assert first["sla"]["warned"] == 1 and first["sla"]["breached"] >= 1
    timeline = TicketEvent.objects.filter(ticket=ticket).count()

    # When the beat runs again a few minutes later, nothing more happens
    clock["now"] = at(2026, 3, 18, 12, 5)
    again = beat()
    assert (again["rounds"], again["missed"], again["jobs"]) == (0, 0, 0)
    assert again["sla"]["warned"] == again["sla"]["breached"] == 0
    assert TicketEvent.objects.filter(ticket=ticket).count() == timeline
    assert sorted(Notification.objects.filter(kind__startswith="desk.sla").values_list(
        "recipient_id", "dedupe_key"
    )) == sorted(notices)  # fmt: skip
    assert sorted((m.to[0], m.subject) for m in mail.outbox) == sent
    assert dict(Round.objects.values_list("window_start", "status")) == rounds
