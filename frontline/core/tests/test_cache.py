"""The Redis cache answers "miss" while Redis is down, so nothing that caches fails."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.test import override_settings

from frontline.core.cache import ResilientRedisCache

DOWN = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "down": {
        "BACKEND": "frontline.core.cache.ResilientRedisCache",
        # Nothing listens on port 1: every command is refused at once.
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    },
}


@pytest.fixture
def cache():
    with override_settings(CACHES=DOWN):
        yield caches["down"]


def test_reads_miss_and_writes_report_failure(cache):
    assert isinstance(cache, ResilientRedisCache)
    assert cache.get("k") is None and cache.get("k", "default") == "default"
    assert cache.get_many(["a", "b"]) == {} and not cache.has_key("k")
    assert cache.set("k", 1) is False and cache.add("k", 1) is False
    assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert cache.touch("k") is False and cache.delete("k") is False
    cache.delete_many(["a"])
    cache.clear()
    assert cache.get_or_set("k", 5) == 5  # computed, not stored


def test_a_counter_behaves_as_missing(cache):
    with pytest.raises(ValueError):
        cache.incr("hits")
    with pytest.raises(ValueError):
        cache.decr("hits")


def test_the_outage_is_logged_at_most_once_a_minute(cache, caplog, monkeypatch):
    monkeypatch.setattr(ResilientRedisCache, "_last_logged", float("-inf"))
    with caplog.at_level("WARNING", logger="frontline.core.cache"):
        for _ in range(5):
            cache.get("k")
    assert len(caplog.records) == 1 and "cache unavailable" in caplog.records[0].message
