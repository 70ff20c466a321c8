"""A Redis cache that degrades to "miss" when Redis cannot be reached.

The cache only ever holds what can be recomputed (throttle counters, memoised pages),
so a Redis outage must not turn every request into a 500: a read answers the default,
a write answers False, and the failure is logged (at most once a minute per process).
Sessions live in the database (django.contrib.sessions' default engine), so sign-ins
survive an outage too. Short socket timeouts (settings.CACHES) bound the cost of each
miss when Redis is gone without closing its port.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
_LOG_EVERY_S = 60.0


class ResilientRedisCache(RedisCache):
    """Django's RedisCache, answering as if empty while Redis is unreachable."""

    _last_logged = float("-inf")

    def _down(self, operation: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - ResilientRedisCache._last_logged >= _LOG_EVERY_S:
            ResilientRedisCache._last_logged = now
            log.warning("cache unavailable (%s): %s: %s", operation, type(exc).__name__, exc)

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except UNREACHABLE as exc:
            self._down("get", exc)
            return default

    def get_many(self, keys, version=None) -> dict[str, Any]:
        try:
            return super().get_many(keys, version)
        except UNREACHABLE as exc:
            self._down("get_many", exc)
            return {}

    def has_key(self, key, version=None) -> bool:
        try:
            return super().has_key(key, version)
        except UNREACHABLE as exc:
            self._down("has_key", exc)
            return False

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set(key, value, timeout, version)
        except UNREACHABLE as exc:
            self._down("set", exc)
            return False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except UNREACHABLE as exc:
            self._down("add", exc)
            return False

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None) -> list:
        try:
            return super().set_many(data, timeout, version)
        except UNREACHABLE as exc:
            self._down("set_many", exc)
            return list(data)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        try:
            return super().touch(key, timeout, version)
        except UNREACHABLE as exc:
            self._down("touch", exc)
            return False

    def delete(self, key, version=None) -> bool:
        try:
            return super().delete(key, version)
        except UNREACHABLE as exc:
            self._down("delete", exc)
            return False

    def delete_many(self, keys, version=None) -> None:
        try:
            super().delete_many(keys, version)
        except UNREACHABLE as exc:
            self._down("delete_many", exc)

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except UNREACHABLE as exc:
            self._down("incr", exc)
            # What a missing key answers: callers fall back to add/set.
            raise ValueError(f"Key '{key}' not found (cache unavailable)") from exc

    def clear(self) -> None:
        try:
            super().clear()
        except UNREACHABLE as exc:
            self._down("clear", exc)
