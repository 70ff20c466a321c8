"""Enqueue, publish, relay and run background jobs through the job outbox.

- ``enqueue`` writes the row in the caller's transaction and publishes after commit,
  with a short, bounded attempt: a web request never waits on a broker that is down.
  A row that could not be published stays pending.
- ``relay_pending`` (beat, every 30 s, and once when a worker starts) publishes the
  pending rows the commit hook could not, oldest first, under
  ``SELECT … FOR UPDATE SKIP LOCKED`` so two relays never publish the same row; it
  also republishes a row sent long ago but never finished (its message was lost).
- ``run`` is what a worker does with a message: count the attempt, run the task,
  mark the row done. A message delivered twice (a worker killed mid-job: the broker
  redelivers it, see docs/reliability.md) finds the row done and does nothing; an
  ``atomic`` job runs and is marked done in one transaction, so a crash mid-job
  leaves nothing behind and the redelivery does the work exactly once. Jobs that are
  not atomic must be idempotent (the three in the code base are: a plan run starts by
  compare-and-set, emails are claimed, SLA recomputation recomputes from state).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence

from celery import Task
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from frontline.jobs.models import JobStatus, OutboxJob

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RELAY_BATCH = 500
# A sent job not finished after this long is published again (its message was lost:
# a broker restarted without persistence, or a worker lost it past the visibility
# timeout). Longer than the broker's visibility timeout, so a live job is not doubled.
SENT_STALE_MARGIN = dt.timedelta(minutes=10)
OPEN = (JobStatus.PENDING, JobStatus.SENT)
KEEP_DONE = dt.timedelta(days=7)


def _task_name(task: str | Task) -> str:
    return task if isinstance(task, str) else task.name


def enqueue(
    task: str | Task, *, args: Sequence = (), key: str | None = None, atomic: bool = False
) -> OutboxJob:
    """Record a job in the current transaction; publish it once that commits.

    ``key`` names the business action ("plan:42"): enqueueing it again returns the
    existing job. ``atomic``: run the task and mark it done in one transaction (only
    for jobs whose writes all go to this database and that fit in one transaction).
    """
    now = timezone.now()
    values = {
        "task": _task_name(task),
        "args": list(args),
        "atomic": atomic,
        "next_attempt_at": now + dt.timedelta(seconds=settings.JOBS_RELAY_AFTER_S),
    }
    if key is None:
        job = OutboxJob.objects.create(**values)
    else:
        existing = OutboxJob.objects.filter(key=key).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():  # a savepoint: a concurrent twin wins cleanly
                job = OutboxJob.objects.create(key=key, **values)
        except IntegrityError:
            return OutboxJob.objects.get(key=key)
    # A lambda, not a functools.partial: Django logs a failing robust hook by its
    # __qualname__, which a partial lacks (publish never raises anyway).
    transaction.on_commit(lambda: publish([job.pk]), robust=True)
    return job


def publish_on_commit(task: Task, *, args: Sequence = ()) -> None:
    """Publish ``task`` after commit, without an outbox row: for a job whose own row
    is already its outbox (an email, an SLA notice batch), which a beat job sweeps up
    when this message is lost. One short attempt; a broker failure is logged, never
    raised into the request that committed."""

    def publish_task() -> None:
        try:
            # .delay: the publish retry policy in settings keeps it short (and the demo
            # loader's mock of send_email.delay keeps working).
            task.delay(*args)
        except Exception as exc:  # noqa: BLE001 - the domain's own sweep sends it later
            log.warning("broker unreachable, %s left to its sweep: %s", task.name, exc)

    transaction.on_commit(publish_task)


def publish(job_ids: Iterable[int]) -> list[int]:
    """Hand jobs to the broker, each as a ``run_job`` message; returns the ids handed
    over. One connection attempt with a short timeout: on failure the rest stay
    pending for the relay, and nothing is raised."""
    from frontline.celery import app
    from frontline.jobs.tasks import run_job

    ids = list(job_ids)
    sent: list[int] = []
    if app.conf.task_always_eager:
        for pk in ids:
            run_job.apply(args=[pk])
            sent.append(pk)
        return sent
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0.2, interval_max=0.2, timeout=2
            )
            for pk in ids:
                run_job.apply_async(args=[pk], connection=conn, retry=False)
                sent.append(pk)
    except Exception as exc:  # noqa: BLE001 - any broker failure: the relay retries
        log.warning(
            "broker unreachable, %d job(s) left in the outbox: %s: %s",
            len(ids) - len(sent),
            type(exc).__name__,
            exc,
        )
    if sent:
        # Only rows still pending: a fast worker may already have marked one done.
        OutboxJob.objects.filter(pk__in=sent, status=JobStatus.PENDING).update(
            status=JobStatus.SENT, published_at=timezone.now()
        )
    return sent


def _relay_candidates(now: dt.datetime, limit: int) -> list[int]:
    stale = now - _sent_stale_after()
    qs = OutboxJob.objects.filter(
        Q(status=JobStatus.PENDING, next_attempt_at__lte=now)
        | Q(status=JobStatus.SENT, published_at__lte=stale)
    ).order_by("pk")
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True)
    return list(qs.values_list("pk", flat=True)[:limit])


def _sent_stale_after() -> dt.timedelta:
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    visibility = options.get("visibility_timeout", 3600)
    return dt.timedelta(seconds=visibility) + SENT_STALE_MARGIN


def relay_pending(*, now: dt.datetime | None = None, limit: int = RELAY_BATCH) -> int:
    """Publish what the commit hook could not (or whose message was lost), oldest
    first; returns how many were published."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = _relay_candidates(now, limit)
        if not ids:
            return 0
        # Republished sent rows go back to pending first, so publish() marks them anew.
        OutboxJob.objects.filter(pk__in=ids, status=JobStatus.SENT).update(status=JobStatus.PENDING)
        sent = publish(ids)
    if sent:
        log.info("job outbox: relayed %d of %d job(s)", len(sent), len(ids))
    return len(sent)


# ------------------------------------------------------------------ running


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=2 ** max(attempts - 1, 0))


def _finish(job_id: int) -> None:
    OutboxJob.objects.filter(pk=job_id, status__in=OPEN).update(
        status=JobStatus.DONE, finished_at=timezone.now(), last_error=""
    )


def _failed(job: OutboxJob, exc: Exception) -> str:
    final = job.attempts >= MAX_ATTEMPTS
    now = timezone.now()
    OutboxJob.objects.filter(pk=job.pk, status__in=OPEN).update(
        status=JobStatus.FAILED if final else JobStatus.PENDING,
        next_attempt_at=None if final else now + _backoff(job.attempts),
        finished_at=now if final else None,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
    )
    log.exception("job %s (%s) attempt %d failed", job.pk, job.task, job.attempts)
    return "failed" if final else "retry"


def run(job_id: int) -> str:
    """Run one job: done / retry / failed, or skipped when it is already finished."""
    from frontline.celery import app

    started = OutboxJob.objects.filter(pk=job_id, status__in=OPEN).update(
        attempts=F("attempts") + 1, started_at=timezone.now()
    )
    if not started:
        return "skipped"
    job = OutboxJob.objects.get(pk=job_id)
    task = app.tasks[job.task]
    try:
        if not job.atomic:
            task(*job.args)
            _finish(job_id)
            return "done"
        with transaction.atomic():
            # A twin delivery waits here for the first to commit, then finds it done.
            row = OutboxJob.objects.select_for_update().filter(pk=job_id, status__in=OPEN)
            if not row.exists():
                return "skipped"
            task(*job.args)
            _finish(job_id)
        return "done"
    except Exception as exc:  # noqa: BLE001 - recorded on the row, retried by the relay
        return _failed(job, exc)


def open_counts() -> dict[str, int]:
    """{"pending": n, "sent": n}: the unfinished jobs (an indexed count)."""
    found = dict(
        OutboxJob.objects.filter(status__in=OPEN)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return {status: found.get(status, 0) for status in OPEN}


def purge_finished(*, now: dt.datetime | None = None, batch: int = 5000) -> int:
    """Delete done jobs older than KEEP_DONE (failed ones stay for a person to read)."""
    cutoff = (now or timezone.now()) - KEEP_DONE
    ids = list(
        OutboxJob.objects.filter(status=JobStatus.DONE, finished_at__lt=cutoff)
        .order_by()
        .values_list("pk", flat=True)[:batch]
    )
    return OutboxJob.objects.filter(pk__in=ids).delete()[0] if ids else 0
