"""Prometheus metrics, served at ``/metrics`` in the Prometheus text format.

What is measured:

- ``frontline_http_request_duration_seconds`` (histogram) and
  ``frontline_http_requests_total`` by ``route`` (the URL pattern's name, never the
  raw path, so the label values are bounded), ``method`` and ``status`` class (2xx…);
  ``/metrics`` and ``/healthz`` are left out. Observed by the request-log middleware.
- ``frontline_job_failures_total`` / ``frontline_job_retries_total`` by task name,
  from Celery's signals in the worker.
- Gauges computed at scrape time (:func:`register_gauge`): ``frontline_queue_depth``
  (each Celery queue's length in the Redis broker, and the email outbox's pending
  rows), ``frontline_sla_sweep_lag_seconds`` (how long the oldest due SLA clock has
  waited; 0 when none is due), ``frontline_sla_sweep_seconds_since_last`` (since the
  last completed sweep, once one has been recorded), and whatever other apps register.

Several processes (gunicorn workers, Celery workers): with ``PROMETHEUS_MULTIPROC_DIR``
set (``frontline serve`` sets it in production and removes dead processes' files at
start), counters and
histograms are written to files there and summed at scrape; without it, one process
keeps them in memory.

Access: ``/metrics`` answers only a client address in ``METRICS_ALLOWED_IPS`` (a
direct connection: a request that came through a proxy is not let in by address) or a
request with ``Authorization: Bearer <METRICS_TOKEN>``; everyone else gets a 404.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from frontline.core.logging import request_id_var

logger = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# What generate_latest writes (newer clients call their default 1.0.0; Prometheus reads both).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Routes left out of the latency histogram (and logged at DEBUG): scrapes and probes.
UNTIMED_ROUTES = frozenset({"metrics", "healthz"})
UNMATCHED = "<unmatched>"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
SLA_SWEEP_TASK = "frontline.desk.tasks.sweep_sla"
SLA_SWEEP_DONE_KEY = "frontline:metrics:sla-sweep-finished-at"

REQUEST_LATENCY = Histogram(
    "frontline_http_request_duration_seconds",
    "Time from the request reaching Django to the response leaving it.",
    ["route", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REQUESTS = Counter("frontline_http_requests", "Requests answered.", ["route", "method", "status"])
JOB_FAILURES = Counter("frontline_job_failures", "Background jobs that raised.", ["task"])
JOB_RETRIES = Counter("frontline_job_retries", "Background jobs scheduled for a retry.", ["task"])


# ------------------------------------------------------------------ scrape-time gauges


@dataclass(frozen=True)
class _Gauge:
    name: str
    documentation: str
    fn: Callable[[], object]
    labels: tuple[str, ...]


_GAUGES: dict[str, _Gauge] = {}


def register_gauge(
    name: str,
    documentation: str,
    fn: Callable[[], object],
    *,
    labels: tuple[str, ...] = (),
) -> None:
    """Expose a gauge computed by ``fn()`` at each scrape.

    Without ``labels``, ``fn`` returns a number (or None to leave the gauge out of
    this scrape); with ``labels``, a mapping from label values (a string, or a tuple
    with one string per label) to numbers. ``fn`` runs in the web process answering
    the scrape, so it may query the database; keep it to an indexed count or two. An
    error in it is logged and leaves that gauge out; the rest of the scrape answers.
    Registering a name again replaces the earlier function (safe in ``ready()``).
    """
    _GAUGES[name] = _Gauge(name, documentation, fn, tuple(labels))


def _family(gauge: _Gauge, value: object) -> GaugeMetricFamily:
    family = GaugeMetricFamily(gauge.name, gauge.documentation, labels=gauge.labels)
    if not gauge.labels:
        family.add_metric([], float(value))
        return family
    assert isinstance(value, Mapping), f"{gauge.name}: a labelled gauge returns a mapping"
    for key, number in value.items():
        values = [key] if isinstance(key, str) else [str(part) for part in key]
        family.add_metric(values, float(number))
    return family


class _ScrapeCollector:
    """Yields the registered gauges, computed now."""

    def describe(self):
        return []  # registering must not run the gauges' queries

    def collect(self):
        for gauge in list(_GAUGES.values()):
            try:
                value = gauge.fn()
                if value is not None:
                    yield _family(gauge, value)
            except Exception:  # a broken gauge must not take the others down
                logger.warning("metrics: gauge %s failed", gauge.name, exc_info=True)


_SCRAPE = _ScrapeCollector()
if not os.environ.get(MULTIPROC_ENV):
    REGISTRY.register(_SCRAPE)


def render() -> bytes:
    """The exposition text: this process's metrics, or every process's in multiprocess mode."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(_SCRAPE)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


# ------------------------------------------------------------------ the built-in gauges


@lru_cache(maxsize=4)
def _redis_client(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def broker_queue_names() -> list[str]:
    """The Celery queues jobs can land in: the default one, declared ones, routed ones."""
    from frontline.celery import app

    names = {app.conf.task_default_queue or "celery"}
    names.update(queue.name for queue in app.conf.task_queues or ())
    routes = app.conf.task_routes
    if isinstance(routes, Mapping):
        names.update(r["queue"] for r in routes.values() if isinstance(r, Mapping) and "queue" in r)
    return sorted(names)


def broker_queue_depths() -> dict[str, int]:
    """LLEN of each queue in the Redis broker (with kombu's priority sub-queues); {} without Redis."""
    if not settings.REDIS_URL or not settings.CELERY_BROKER_URL.startswith(("redis", "rediss")):
        return {}
    client = _redis_client(settings.CELERY_BROKER_URL)
    depths = {}
    for name in broker_queue_names():
        keys = [name, *(f"{name}\x06\x16{step}" for step in (3, 6, 9))]
        with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.llen(key)
            depths[name] = sum(pipe.execute())
    return depths


def queue_depths() -> dict[str, int]:
    from frontline.notifications.models import EmailStatus, OutboundEmail

    depths = {}
    try:
        depths.update(broker_queue_depths())
    except Exception:  # the broker down must not hide the outbox
        logger.warning("metrics: broker queue length unavailable", exc_info=True)
    depths["email_outbox"] = OutboundEmail.objects.filter(status=EmailStatus.PENDING).count()
    return depths


def sla_sweep_lag() -> float:
    """Seconds the oldest due SLA clock has waited for the sweep; 0 when none is due."""
    from django.db.models import Min
    from django.utils import timezone

    from frontline.desk.models import SlaClock

    now = timezone.now()
    oldest = SlaClock.objects.filter(next_check_at__lte=now).aggregate(m=Min("next_check_at"))["m"]
    return max((now - oldest).total_seconds(), 0.0) if oldest else 0.0


def seconds_since_last_sweep() -> float | None:
    from django.core.cache import cache

    finished = cache.get(SLA_SWEEP_DONE_KEY)
    return None if finished is None else max(time.time() - float(finished), 0.0)


register_gauge(
    "frontline_queue_depth",
    "Jobs or messages waiting, per queue (Celery broker queues, the email outbox).",
    queue_depths,
    labels=("queue",),
)
register_gauge(
    "frontline_sla_sweep_lag_seconds",
    "How long the oldest due SLA moment has waited for the sweep (0 when none is due).",
    sla_sweep_lag,
)
register_gauge(
    "frontline_sla_sweep_seconds_since_last",
    "Seconds since the last SLA sweep completed (needs a shared cache across machines).",
    seconds_since_last_sweep,
)


# ------------------------------------------------------------------ requests


def route_name(request) -> str:
    """The URL pattern's name (namespaced), or the view's dotted path when unnamed."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    return match.view_name or UNMATCHED


def status_class(status: int) -> str:
    return f"{status // 100}xx"


def observe_request(*, route: str, method: str, status: int, seconds: float) -> None:
    labels = (route, method if method in _METHODS else "other", status_class(status))
    REQUEST_LATENCY.labels(*labels).observe(seconds)
    REQUESTS.labels(*labels).inc()


# ------------------------------------------------------------------ access and the view


@lru_cache(maxsize=8)
def _networks(allowed: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(item, strict=False) for item in allowed)


def _address_allowed(request) -> bool:
    # Through a proxy every client looks like the proxy's address: only a direct
    # connection (no X-Forwarded-For) is let in by its address.
    if request.META.get("HTTP_X_FORWARDED_FOR"):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in net for net in _networks(tuple(settings.METRICS_ALLOWED_IPS)))


def _token_allowed(request) -> bool:
    expected = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def scrape_allowed(request) -> bool:
    return _token_allowed(request) or _address_allowed(request)


@never_cache
@require_GET
def metrics_view(request):
    """Prometheus scrape endpoint; a 404 to anyone not allowed (see the module docstring)."""
    if not scrape_allowed(request):
        raise Http404
    return HttpResponse(render(), content_type=CONTENT_TYPE)


# ------------------------------------------------------------------ Celery signals


def _task_name(sender, kwargs) -> str:
    name = getattr(sender, "name", None) or getattr(kwargs.get("task"), "name", None)
    return name or "unknown"


def _on_task_failure(sender=None, **kwargs):
    JOB_FAILURES.labels(_task_name(sender, kwargs)).inc()


def _on_task_retry(sender=None, **kwargs):
    JOB_RETRIES.labels(_task_name(sender, kwargs)).inc()


def _on_task_success(sender=None, **kwargs):
    if _task_name(sender, kwargs) == SLA_SWEEP_TASK:
        from django.core.cache import cache

        try:
            cache.set(SLA_SWEEP_DONE_KEY, time.time(), timeout=None)
        except Exception:  # a cache outage must not fail the sweep
            logger.warning("metrics: could not record the SLA sweep's completion", exc_info=True)


_task_id_tokens: dict[str, object] = {}


def _on_task_prerun(task_id=None, **kwargs):
    # A job's log lines carry its task id as their request id; a job run inline within
    # a request (eager mode) keeps the request's id.
    if task_id and request_id_var.get() == "-":
        _task_id_tokens[task_id] = request_id_var.set(task_id)


def _on_task_postrun(task_id=None, **kwargs):
    token = _task_id_tokens.pop(task_id, None)
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # set in another context: leave it
            request_id_var.set("-")


def _on_worker_ready(**kwargs):
    """On a worker-only machine, METRICS_WORKER_PORT serves its job counters."""
    port = int(os.environ.get("METRICS_WORKER_PORT") or 0)
    if not port:
        return
    from prometheus_client import start_http_server

    addr = os.environ.get("METRICS_WORKER_ADDR", "127.0.0.1")
    registry = REGISTRY
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    try:
        start_http_server(port, addr=addr, registry=registry)
    except OSError:
        # Another worker of this node serves the port; with a shared
        # PROMETHEUS_MULTIPROC_DIR its answer includes this worker's counters.
        logger.info("metrics: port %d already served on this node", port)
        return
    logger.info("metrics: worker counters on http://%s:%d/metrics", addr, port)


def connect_celery_signals() -> None:
    """Called from CoreConfig.ready(): every process (web, worker, beat) counts its jobs."""
    from celery import signals

    for signal, receiver in (
        (signals.task_failure, _on_task_failure),
        (signals.task_retry, _on_task_retry),
        (signals.task_success, _on_task_success),
        (signals.task_prerun, _on_task_prerun),
        (signals.task_postrun, _on_task_postrun),
        (signals.worker_ready, _on_worker_ready),
    ):
        signal.connect(
            receiver, weak=False, dispatch_uid=f"frontline.core.metrics.{receiver.__name__}"
        )
