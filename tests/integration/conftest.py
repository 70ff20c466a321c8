"""Integration tests talk to real servers named by environment variables.

Without the variable they skip, with a message saying how to run them, except with
CI=true, where a missing or unreachable server is a failure: CI must prove the
PostgreSQL, Redis and MQTT paths, never skip them silently.
"""

from __future__ import annotations

import os

import pytest


def is_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require_url(name: str, example: str) -> str:
    url = os.environ.get(name, "")
    if url:
        return url
    message = f"{name} is not set (e.g. {name}={example}); this integration test needs that server"
    if is_ci():
        pytest.fail(f"CI=true: {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def redis_url() -> str:
    """REDIS_URL, checked to answer (with CI=true, a missing or silent Redis fails)."""
    url = require_url("REDIS_URL", "redis://127.0.0.1:6379/0")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.fail(f"REDIS_URL={url} is set but Redis does not answer: {exc}", pytrace=False)
    return url
