"""The job outbox: a job is a row written with the business change, published after
commit, relayed when the broker was down, and run to "done" once."""

from __future__ import annotations

import datetime as dt

import pytest
from celery import shared_task
from django.db import transaction
from django.utils import timezone

from frontline import jobs
from frontline.jobs import services
from frontline.jobs.models import JobStatus, OutboxJob
from frontline.jobs.testing import CLOSED_BROKER, broker_at
from frontline.notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db

RAN: list[tuple] = []


@shared_task(name="frontline.jobs.tests.record")
def record(*args) -> None:
    RAN.append(args)


@shared_task(name="frontline.jobs.tests.queue_email")
def queue_email(key: str) -> None:
    """A side effect that is not idempotent on its own: each call writes a row."""
    OutboundEmail.objects.create(to="ops@example.com", subject=key, body="", dedupe_key=key)


@shared_task(name="frontline.jobs.tests.explode")
def explode() -> None:
    raise RuntimeError("boom")


@pytest.fixture(autouse=True)
def _clean():
    RAN.clear()


def later(seconds: int = 60) -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=seconds)


def test_a_job_runs_after_commit_and_is_marked_done(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        job = jobs.enqueue(record, args=[1, "a"])
        assert RAN == []  # nothing before the commit
    job.refresh_from_db()
    assert RAN == [(1, "a")]
    assert (job.status, job.attempts, job.task) == (
        JobStatus.DONE,
        1,
        "frontline.jobs.tests.record",
    )


def test_a_rolled_back_transaction_leaves_no_job(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            jobs.enqueue(record, args=[1])
            raise RuntimeError("the business change failed")
    assert not OutboxJob.objects.exists() and RAN == []


def test_the_same_business_key_enqueues_one_job(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = jobs.enqueue("frontline.jobs.tests.record", args=[1], key="thing:1")
        again = jobs.enqueue("frontline.jobs.tests.record", args=[1], key="thing:1")
    assert first.pk == again.pk and OutboxJob.objects.count() == 1 and RAN == [(1,)]


def test_broker_down_keeps_the_job_pending_and_the_relay_publishes_it_later(
    django_capture_on_commit_callbacks,
):
    # Given the broker cannot be reached, when a job is enqueued, the caller succeeds
    with broker_at(CLOSED_BROKER), django_capture_on_commit_callbacks(execute=True):
        job = jobs.enqueue(record, args=[7])
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING and RAN == []
    # ... the relay leaves it alone while it is young (the commit hook may still win),
    assert services.relay_pending() == 0
    # ... and publishes it once the broker is back (eager here: it runs at once).
    assert services.relay_pending(now=later()) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and RAN == [(7,)]
    assert services.relay_pending(now=later()) == 0


def test_the_relay_publishes_oldest_first():
    ids = [jobs.enqueue(record, args=[n]).pk for n in range(3)]
    assert services.relay_pending(now=later()) == 3
    assert RAN == [(0,), (1,), (2,)]
    assert set(OutboxJob.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"done"}


def test_a_redelivered_message_does_not_repeat_the_side_effect():
    job = jobs.enqueue(queue_email, args=["once"], atomic=True)
    assert services.run(job.pk) == "done"
    assert services.run(job.pk) == "skipped"
    assert OutboundEmail.objects.filter(dedupe_key="once").count() == 1


def test_a_lost_message_is_published_again_and_runs_once():
    # Given a job sent to the broker whose message was lost (never run)
    job = jobs.enqueue(queue_email, args=["lost"], atomic=True)
    OutboxJob.objects.filter(pk=job.pk).update(status=JobStatus.SENT, published_at=timezone.now())
    # when the relay runs before the visibility timeout, it leaves it to the broker
    assert services.relay_pending(now=later()) == 0
    # and after it, it publishes it again: it runs once
    assert services.relay_pending(now=later(2 * 3600)) == 1
    assert services.relay_pending(now=later(4 * 3600)) == 0
    assert OutboundEmail.objects.filter(dedupe_key="lost").count() == 1


def test_a_failing_job_is_retried_with_backoff_then_given_up():
    job = jobs.enqueue(explode)
    assert services.run(job.pk) == "retry"
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING and "RuntimeError: boom" in job.last_error
    assert job.next_attempt_at > timezone.now()
    for _ in range(services.MAX_ATTEMPTS - 1):
        services.run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.FAILED, services.MAX_ATTEMPTS)
    assert services.relay_pending(now=later(86400)) == 0


def test_an_atomic_job_that_fails_leaves_nothing_behind():
    @shared_task(name="frontline.jobs.tests.half_done")
    def half_done() -> None:
        queue_email("half")
        raise RuntimeError("crashed after the first write")

    job = jobs.enqueue(half_done, atomic=True)
    assert services.run(job.pk) == "retry"
    assert not OutboundEmail.objects.filter(dedupe_key="half").exists()


def test_open_counts_and_purge():
    done = jobs.enqueue(record)
    services.run(done.pk)
    jobs.enqueue(record)
    assert services.open_counts() == {"pending": 1, "sent": 0}
    assert services.purge_finished(now=later(8 * 86400)) == 1
    assert OutboxJob.objects.count() == 1


def test_the_admin_lists_jobs_read_only_with_counts_by_status(client, admin_user):
    jobs.enqueue(record, args=[1])
    client.force_login(admin_user)
    response = client.get("/admin/jobs/outboxjob/")
    assert response.status_code == 200
    assert b"frontline.jobs.tests.record" in response.content
    assert b"Pending (1)" in response.content
    assert client.get("/admin/jobs/outboxjob/add/").status_code == 403


def test_the_metrics_scrape_counts_open_jobs():
    metrics = pytest.importorskip("frontline.core.metrics")
    jobs.enqueue(record)
    done = jobs.enqueue(record)
    services.run(done.pk)
    text = metrics.render().decode()
    assert 'frontline_jobs_open{status="pending"} 1.0' in text
    assert 'frontline_jobs_open{status="sent"} 0.0' in text
