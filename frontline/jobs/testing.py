"""Test helpers: point the Celery app at a broker (or at none) for a while."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

# Nothing listens on port 1: a connection is refused at once.
CLOSED_BROKER = "redis://127.0.0.1:1/0"


def _forget_connections(app) -> None:
    """Drop the app's cached connection and producer pools (as Celery does after a
    fork): they are bound to the broker of their first use, so without this a message
    published through ``task.delay`` would still reach the broker an earlier test used."""
    app._pool = None
    try:
        app.__dict__["amqp"]._producer_pool = None
    except (AttributeError, KeyError):
        pass


@contextmanager
def broker_at(url: str, *, queue: str | None = None) -> Iterator[None]:
    """Publish for real (not eagerly) to ``url`` inside the block, to ``queue`` when
    given (tests that share a Redis keep their messages apart)."""
    from frontline.celery import app

    changes = {"task_always_eager": False, "broker_url": url, "broker_write_url": None}
    if queue:
        changes["task_default_queue"] = queue
    saved = {name: app.conf[name] for name in changes}
    app.conf.update(changes)
    _forget_connections(app)
    try:
        yield
    finally:
        app.conf.update(saved)
        _forget_connections(app)
