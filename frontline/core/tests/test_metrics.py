"""/metrics: the Prometheus text format, what it measures, and who may read it."""

from __future__ import annotations

import datetime as dt

import pytest
from celery import shared_task
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from frontline.core import metrics
from frontline.desk.models import SlaClock
from frontline.desk.tests.factories import TicketFactory
from frontline.notifications import services as notifications
from frontline.notifications.models import EmailStatus, OutboundEmail

pytestmark = pytest.mark.django_db


def _scrape(client, **headers) -> dict:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        family.name: family for family in text_string_to_metric_families(response.content.decode())
    }


def _value(families, family_name, sample_name=None, **labels) -> float:
    for sample in families[family_name].samples:
        if sample.name == (sample_name or family_name) and all(
            sample.labels.get(k) == v for k, v in labels.items()
        ):
            return sample.value
    return 0.0


def _routes(families) -> set[str]:
    return {s.labels["route"] for s in families["frontline_http_requests"].samples}


@shared_task(name="frontline.tests.metrics.breaks")
def _breaks():
    raise RuntimeError("the job failed")


def test_the_exposition_parses_and_names_every_family(client):
    families = _scrape(client)

    for name in (
        "frontline_http_request_duration_seconds",
        "frontline_http_requests",
        "frontline_job_failures",
        "frontline_job_retries",
        "frontline_queue_depth",
        "frontline_sla_sweep_lag_seconds",
    ):
        assert name in families, name
    assert families["frontline_http_request_duration_seconds"].type == "histogram"
    assert families["frontline_queue_depth"].type == "gauge"


def test_a_request_is_timed_under_its_route_name(client):
    before = _scrape(client)
    labels = {"route": "login", "method": "GET", "status": "2xx"}
    count = "frontline_http_request_duration_seconds_count"

    assert client.get("/accounts/login/").status_code == 200
    client.get("/accounts/login/?next=/tickets/")

    after = _scrape(client)
    histogram = "frontline_http_request_duration_seconds"
    assert (
        _value(after, histogram, count, **labels) == _value(before, histogram, count, **labels) + 2
    )
    assert _value(after, "frontline_http_requests", "frontline_http_requests_total", **labels) >= 2
    # Scrapes and probes are not timed.
    client.get("/healthz")
    assert not _routes(_scrape(client)) & {"metrics", "healthz"}


def test_unknown_paths_share_one_label_value(client):
    before = _scrape(client)
    labels = {"route": metrics.UNMATCHED, "method": "GET", "status": "4xx"}

    for n in range(3):
        assert client.get(f"/no-such-page-{n}/?token=abc").status_code == 404

    after = _scrape(client)
    total = "frontline_http_requests_total"
    assert _value(after, "frontline_http_requests", total, **labels) == (
        _value(before, "frontline_http_requests", total, **labels) + 3
    )
    assert not [route for route in _routes(after) if "no-such" in route or "/" in route]


@pytest.mark.parametrize(
    ("remote", "headers", "allowed"),
    [
        ("10.1.2.3", {}, True),  # inside an allowed network
        ("192.0.2.7", {}, False),  # anywhere else
        ("10.1.2.3", {"X-Forwarded-For": "10.1.2.3"}, False),  # via a proxy: by token only
        ("192.0.2.7", {"Authorization": "Bearer scrape-token-5a1e"}, True),
        ("192.0.2.7", {"Authorization": "Bearer scrape-token-wrong"}, False),
        ("192.0.2.7", {"Authorization": "Basic scrape-token-5a1e"}, False),
    ],
)
def test_only_allowed_addresses_or_the_token_read_metrics(
    client, settings, remote, headers, allowed
):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1", "10.0.0.0/8"]
    settings.METRICS_TOKEN = "scrape-token-5a1e"

    response = client.get("/metrics", REMOTE_ADDR=remote, headers=headers)

    assert response.status_code == (200 if allowed else 404)
    assert (b"frontline_http_requests" in response.content) is allowed


def test_no_token_configured_means_no_token_gets_in(client, settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    settings.METRICS_TOKEN = ""

    response = client.get("/metrics", REMOTE_ADDR="192.0.2.7", headers={"Authorization": "Bearer "})

    assert response.status_code == 404


def test_queue_depth_counts_the_pending_email_outbox(client, cast):
    notifications.notify(
        recipients=[cast.dispatcher, cast.agent],
        kind="test",
        title="Chiller alarm",
        dedupe_key="metrics-test",
    )
    pending = OutboundEmail.objects.filter(status=EmailStatus.PENDING).count()
    assert pending >= 2

    families = _scrape(client)

    assert _value(families, "frontline_queue_depth", queue="email_outbox") == pending


def test_sla_lag_is_the_age_of_the_oldest_due_clock(client):
    assert _value(_scrape(client), "frontline_sla_sweep_lag_seconds") == 0
    now = timezone.now()
    SlaClock.objects.create(ticket=TicketFactory(), next_check_at=now - dt.timedelta(minutes=10))
    SlaClock.objects.create(ticket=TicketFactory(), next_check_at=now - dt.timedelta(minutes=2))
    SlaClock.objects.create(ticket=TicketFactory(), next_check_at=now + dt.timedelta(hours=1))

    lag = _value(_scrape(client), "frontline_sla_sweep_lag_seconds")

    assert 600 <= lag < 600 + 60


def test_a_completed_sweep_is_recorded(client):
    from frontline.desk.tasks import sweep_sla

    sweep_sla.delay()

    families = _scrape(client)
    assert 0 <= _value(families, "frontline_sla_sweep_seconds_since_last") < 60


def test_a_failing_job_is_counted_by_task_name(client):
    labels = {"task": "frontline.tests.metrics.breaks"}
    total = "frontline_job_failures_total"
    before = _value(_scrape(client), "frontline_job_failures", total, **labels)

    result = _breaks.delay()

    assert result.failed()
    after = _value(_scrape(client), "frontline_job_failures", total, **labels)
    assert after == before + 1


def test_other_apps_register_gauges_and_a_broken_one_is_left_out(client):
    metrics.register_gauge("frontline_test_pending", "Test gauge.", lambda: 7)
    metrics.register_gauge(
        "frontline_test_by_kind", "Test gauge.", lambda: {"a": 1, "b": 2}, labels=("kind",)
    )
    metrics.register_gauge("frontline_test_broken", "Broken.", lambda: 1 / 0)
    try:
        families = _scrape(client)
    finally:
        for name in ("frontline_test_pending", "frontline_test_by_kind", "frontline_test_broken"):
            metrics._GAUGES.pop(name)

    assert _value(families, "frontline_test_pending") == 7
    assert _value(families, "frontline_test_by_kind", kind="b") == 2
    assert "frontline_test_broken" not in families
    assert "frontline_queue_depth" in families
