"""Small typed helpers that read settings from the environment.

Settings come only from the environment (12-factor). Each helper names the
variable, gives a typed default and fails loudly on a value it cannot parse, so
a typo in production stops the process at start instead of running half-configured.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


class EnvError(ValueError):
    """An environment variable holds a value that cannot be used."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise EnvError(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise EnvError(f"{name} must be an integer, got {raw!r}") from exc


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str, *, base_dir: Path) -> dict:
    """Translate a DATABASE_URL into a Django DATABASES entry.

    Supported: ``sqlite:///relative/or/absolute.sqlite3`` and
    ``postgres://user:password@host:port/name`` (``postgresql://`` too).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # sqlite:///var/db.sqlite3 is relative to the project, sqlite:////abs/db.sqlite3 absolute.
        path = unquote(parts.path)[1:] if parts.path.startswith("/") else unquote(parts.path)
        if not path:
            raise EnvError("DATABASE_URL for sqlite needs a file path")
        db_path = Path(path) if Path(path).is_absolute() else base_dir / path
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(db_path),
            "OPTIONS": {
                # WAL lets the web server, the worker and beat read while one writes.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    if scheme in {"postgres", "postgresql", "pgsql"}:
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")) or "frontline",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise EnvError(
        f"DATABASE_URL scheme {scheme!r} is not supported (use sqlite:// or postgres://)"
    )


@dataclass(frozen=True)
class EmailConfig:
    backend: str
    host: str = ""
    port: int = 0
    user: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False


def email_from_url(url: str) -> EmailConfig:
    """``console://`` (default), ``locmem://``, ``smtp://user:pass@host:587`` or ``smtps://…``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in {"", "console"}:
        return EmailConfig(backend="django.core.mail.backends.console.EmailBackend")
    if scheme == "locmem":
        return EmailConfig(backend="django.core.mail.backends.locmem.EmailBackend")
    if scheme in {"smtp", "smtp+tls", "smtps"}:
        return EmailConfig(
            backend="django.core.mail.backends.smtp.EmailBackend",
            host=parts.hostname or "localhost",
            port=parts.port or (465 if scheme == "smtps" else 587),
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            use_tls=scheme == "smtp+tls" or (scheme == "smtp" and (parts.port or 587) == 587),
            use_ssl=scheme == "smtps",
        )
    raise EnvError(f"EMAIL_URL scheme {scheme!r} is not supported (console, locmem, smtp, smtps)")


def redis_url_for_db(url: str, db: int) -> str:
    """``url`` pointed at Redis database ``db`` (the path's number; ``?db=`` wins over it
    in redis-py, so it is replaced too)."""
    if db < 0 or db > 15:
        raise EnvError(f"Redis database {db} is out of range (0–15)")
    parts = urlsplit(url)
    query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("db="))
    return parts._replace(path=f"/{db}", query=query).geturl()


def redis_db(url: str) -> int:
    """The database number a Redis URL selects (redis-py's reading: ``?db=``, else the
    path, else 0)."""
    parts = urlsplit(url)
    options = parse_qs(parts.query)
    raw = options["db"][-1] if "db" in options else parts.path.strip("/") or "0"
    try:
        return int(raw)
    except ValueError as exc:
        raise EnvError(f"{url!r} does not name a Redis database number") from exc


def redis_cache_url(*, broker_url: str, cache_url: str = "", offset: int = 0) -> str:
    """The cache's Redis URL: ``cache_url``, or without it the database after the
    broker's; ``offset`` databases further (parallel test processes). Empty without
    either. The cache must not share the broker's database, since clearing the cache
    (FLUSHDB) would drop the queued jobs and the broker's routing table with them."""
    if not cache_url and not broker_url:
        return ""
    base = cache_url or redis_url_for_db(broker_url, (redis_db(broker_url) + 1) % 16)
    url = redis_url_for_db(base, (redis_db(base) + offset) % 16) if offset else base
    if broker_url and _redis_server(url) == _redis_server(broker_url):
        if redis_db(url) == redis_db(broker_url):
            raise EnvError(
                f"REDIS_CACHE_URL must name another Redis database than REDIS_URL's"
                f" ({redis_db(broker_url)}): clearing the cache would drop the queued jobs"
            )
    return url


def _redis_server(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return (parts.hostname or "localhost", parts.port or 6379)
