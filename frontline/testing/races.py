"""Race tests: real threads against PostgreSQL, started at the same moment."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections


@pytest.fixture
def postgres_only():
    """Row-lock races are only meaningful on PostgreSQL (CI runs the suite there too)."""
    if connection.vendor != "postgresql":
        pytest.skip("row-lock races need PostgreSQL (CI runs the suite again with DATABASE_URL)")


def run_together(*calls, timeout: float = 30):
    """Run each call in its own thread, released together by a barrier.

    Returns each call's result, or the exception it raised, in order. Every thread
    closes its database connections so the test database can be dropped afterwards.
    """
    results: list = [None] * len(calls)
    barrier = threading.Barrier(len(calls), timeout=10)

    def worker(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return results
