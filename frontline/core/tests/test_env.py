"""The environment helpers that every setting goes through."""

from __future__ import annotations

from pathlib import Path

import pytest

from frontline.env import (
    EnvError,
    database_from_url,
    email_from_url,
    env_bool,
    env_int,
    env_list,
    redis_cache_url,
)


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "on"])
def test_env_bool_true(monkeypatch, raw):
    monkeypatch.setenv("FL_FLAG", raw)
    assert env_bool("FL_FLAG") is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "off", ""])
def test_env_bool_false(monkeypatch, raw):
    monkeypatch.setenv("FL_FLAG", raw)
    assert env_bool("FL_FLAG", default=True) is False


def test_env_bool_default_when_unset(monkeypatch):
    monkeypatch.delenv("FL_FLAG", raising=False)
    assert env_bool("FL_FLAG", default=True) is True
    assert env_bool("FL_FLAG") is False


@pytest.mark.parametrize("raw", ["ture", "2", "enabled", "yes please"])
def test_env_bool_garbage_raises_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("FL_FLAG", raw)
    with pytest.raises(EnvError, match="FL_FLAG"):
        env_bool("FL_FLAG")


def test_env_int(monkeypatch):
    monkeypatch.setenv("FL_N", "42")
    assert env_int("FL_N", 1) == 42
    monkeypatch.setenv("FL_N", "")
    assert env_int("FL_N", 7) == 7
    monkeypatch.setenv("FL_N", "4x")
    with pytest.raises(EnvError, match="FL_N"):
        env_int("FL_N", 1)


def test_env_list_strips_and_drops_empty_items(monkeypatch):
    monkeypatch.setenv("FL_HOSTS", " a.example.com, ,b.example.com ")
    assert env_list("FL_HOSTS") == ["a.example.com", "b.example.com"]
    monkeypatch.delenv("FL_HOSTS")
    assert env_list("FL_HOSTS", ["x"]) == ["x"]


def test_sqlite_url_relative_to_the_project():
    db = database_from_url("sqlite:///var/frontline.sqlite3", base_dir=Path("/srv/frontline"))
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == "/srv/frontline/var/frontline.sqlite3"
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]


def test_sqlite_url_absolute():
    db = database_from_url("sqlite:////data/fl.sqlite3", base_dir=Path("/srv/frontline"))
    assert db["NAME"] == "/data/fl.sqlite3"


def test_sqlite_url_needs_a_path():
    with pytest.raises(EnvError):
        database_from_url("sqlite://", base_dir=Path("/srv"))


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "pgsql"])
def test_postgres_url(scheme):
    db = database_from_url(
        f"{scheme}://fl%40user:p%2Fss@db.internal:6432/frontline_prod?sslmode=require",
        base_dir=Path("/srv"),
    )
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"]) == ("frontline_prod", "fl@user", "p/ss")
    assert (db["HOST"], db["PORT"]) == ("db.internal", "6432")
    assert db["OPTIONS"] == {"sslmode": "require"}
    assert db["CONN_HEALTH_CHECKS"] is True


def test_postgres_url_without_port_or_password():
    db = database_from_url("postgres://postgres@127.0.0.1/test", base_dir=Path("/srv"))
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "postgres",
        "",
        "127.0.0.1",
        "",
        "test",
    )


def test_unknown_database_scheme_raises():
    with pytest.raises(EnvError, match="mysql"):
        database_from_url("mysql://root@localhost/db", base_dir=Path("/srv"))


def test_email_url_console_default_and_locmem():
    assert email_from_url("console://").backend.endswith("console.EmailBackend")
    assert email_from_url("").backend.endswith("console.EmailBackend")
    assert email_from_url("locmem://").backend.endswith("locmem.EmailBackend")


def test_email_url_smtp_with_starttls_on_587():
    cfg = email_from_url("smtp://mailer%40corp:s3cr%3At@smtp.corp.example:587")
    assert cfg.backend.endswith("smtp.EmailBackend")
    assert (cfg.host, cfg.port, cfg.user, cfg.password) == (
        "smtp.corp.example",
        587,
        "mailer@corp",
        "s3cr:t",
    )
    assert (cfg.use_tls, cfg.use_ssl) == (True, False)


def test_email_url_smtps_uses_implicit_tls_on_465():
    cfg = email_from_url("smtps://u:p@smtp.example")
    assert (cfg.port, cfg.use_tls, cfg.use_ssl) == (465, False, True)


def test_email_url_plain_smtp_on_25_has_no_tls():
    cfg = email_from_url("smtp://relay.internal:25")
    assert (cfg.port, cfg.use_tls, cfg.use_ssl) == (25, False, False)


def test_email_url_unknown_scheme_raises():
    with pytest.raises(EnvError, match="imap"):
        email_from_url("imap://x")


@pytest.mark.parametrize(
    ("broker", "cache"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/1"),
        ("redis://:secret@cache.internal:6380/7", "redis://:secret@cache.internal:6380/8"),
        ("redis://redis", "redis://redis/1"),
        ("redis://redis/15", "redis://redis/0"),
        ("rediss://redis/3?ssl_cert_reqs=none", "rediss://redis/4?ssl_cert_reqs=none"),
        ("redis://redis/2?db=5&health_check_interval=5", "redis://redis/6?health_check_interval=5"),
    ],
)
def test_the_cache_takes_the_database_after_the_brokers(broker, cache):
    assert redis_cache_url(broker_url=broker) == cache


def test_a_cache_url_given_is_kept_and_none_without_redis():
    given = "redis://other-host:6379/0"
    assert redis_cache_url(broker_url="redis://redis:6379/0", cache_url=given) == given
    assert redis_cache_url(broker_url="", cache_url=given) == given
    assert redis_cache_url(broker_url="") == ""


def test_parallel_test_processes_get_a_cache_database_each():
    urls = {redis_cache_url(broker_url="redis://r/0", offset=n) for n in range(4)}
    assert urls == {"redis://r/1", "redis://r/2", "redis://r/3", "redis://r/4"}


@pytest.mark.parametrize("cache", ["redis://redis:6379/0", "redis://redis/1?db=0", "redis://redis"])
def test_the_cache_may_not_share_the_brokers_database(cache):
    with pytest.raises(EnvError, match="another Redis database"):
        redis_cache_url(broker_url="redis://redis:6379/0", cache_url=cache)
    # the same number on another server is another database
    assert redis_cache_url(broker_url="redis://other:6379/0", cache_url=cache) == cache


def test_a_redis_url_without_a_database_number_is_refused():
    with pytest.raises(EnvError, match="Redis database"):
        redis_cache_url(broker_url="redis://redis/cache")
