"""The database half of a backup: a consistent snapshot out, a whole database back in.

SQLite uses the online backup API (``sqlite3.Connection.backup``) both ways. Copying
all pages in one step holds one read transaction, so the copy is a consistent snapshot
while the web server and the worker go on writing (WAL); restoring copies the archived
database into the live one inside one SQLite write transaction, so a reader sees the
old database or the new one, never a mix, and no stale ``-wal`` file can be replayed
over a replaced file.

PostgreSQL uses ``pg_dump --format=custom`` with a snapshot exported from a
REPEATABLE READ transaction, in which the row counts of the manifest are taken too:
the counts describe exactly the dump. Restoring replays ``pg_restore``'s script with
``psql --single-transaction`` after dropping and recreating the ``public`` schema, so a
failed restore leaves the database as it was. Connection parameters, the password
included, reach the client programs through ``PG*`` environment variables, never the
command line (which other users of the machine can read).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from frontline.core.backup.errors import BackupError

# Tables that Django fills by itself on `migrate`: rows there do not make a database
# "hold data", so a freshly migrated database counts as empty for a restore.
BOOKKEEPING_TABLES = frozenset({"django_migrations", "django_content_type", "auth_permission"})

CLIENT_HINT = (
    "install the PostgreSQL client programs of the server's major version or newer "
    "(Debian/Ubuntu: apt-get install postgresql-client)"
)


@dataclass(frozen=True)
class Snapshot:
    """What the manifest says about a dumped database."""

    counts: dict[str, int]
    migrations: dict[str, str]
    details: dict[str, str] = field(default_factory=dict)


def latest_migrations(rows: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The latest applied migration per app (names start with their sequence number)."""
    latest: dict[str, str] = {}
    for app, name in rows:
        if name > latest.get(app, ""):
            latest[app] = name
    return dict(sorted(latest.items()))


def holds_data(counts: dict[str, int]) -> bool:
    return any(n for table, n in counts.items() if table not in BOOKKEEPING_TABLES)


# ---------------------------------------------------------------- SQLite


def _sqlite_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    return {
        t: conn.execute(f"SELECT count(*) FROM {_sqlite_quote(t)}").fetchone()[0]  # noqa: S608
        for t in tables
    }


def _sqlite_migrations(conn: sqlite3.Connection, counts: dict[str, int]) -> dict[str, str]:
    if "django_migrations" not in counts:
        return {}
    return latest_migrations(conn.execute("SELECT app, name FROM django_migrations"))


class SqliteDatabase:
    """The SQLite database behind a Django connection (file or in-memory)."""

    vendor = "sqlite"
    dump_name = "database.sqlite3"

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def describe(self) -> str:
        return f"SQLite {self.wrapper.settings_dict['NAME']}"

    def _raw(self) -> sqlite3.Connection:
        if self.wrapper.in_atomic_block:
            # The backup API would wait for the open transaction forever.
            raise BackupError(
                "backup and restore run outside a database transaction", code="in_transaction"
            )
        self.wrapper.ensure_connection()
        return self.wrapper.connection

    def dump(self, dest: Path) -> Snapshot:
        target = sqlite3.connect(dest)
        try:
            # pages=-1 (the default): every page in one step, under one read transaction.
            self._raw().backup(target)
            counts = _sqlite_counts(target)
            return Snapshot(
                counts=counts,
                migrations=_sqlite_migrations(target, counts),
                details={"sqlite_version": sqlite3.sqlite_version},
            )
        finally:
            target.close()

    def counts(self) -> dict[str, int]:
        return _sqlite_counts(self._raw())

    def check_restore(self, database: dict) -> None:
        """Nothing to check: the sqlite3 module reads every SQLite 3 file."""

    def restore(self, staged: Path, database: dict) -> None:
        source = sqlite3.connect(staged)
        try:
            (check,) = source.execute("PRAGMA quick_check").fetchone()
            if check != "ok":
                raise BackupError(
                    f"the archived SQLite database fails its integrity check: {check}",
                    code="corrupt",
                )
            source.backup(self._raw())
        except sqlite3.Error as exc:
            raise BackupError(f"restoring the SQLite database failed: {exc}", code="restore_failed")
        finally:
            source.close()


# ---------------------------------------------------------------- PostgreSQL

# libpq parameter → the environment variable the client programs read it from.
_LIBPQ_ENV = {
    "host": "PGHOST",
    "port": "PGPORT",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "dbname": "PGDATABASE",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "channel_binding": "PGCHANNELBINDING",
    "gssencmode": "PGGSSENCMODE",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
}
_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")

# Sent to psql before pg_restore's script, in the same transaction: whatever the database
# held (tables of a newer version included) goes. COMMIT follows the script only when
# pg_restore succeeded; without it psql ends and the server rolls everything back.
_PREAMBLE = b"""\
BEGIN;
SET LOCAL client_min_messages = warning;
SET LOCAL lock_timeout = '60s';
DROP SCHEMA IF EXISTS public CASCADE;
CREATE SCHEMA public;
GRANT USAGE ON SCHEMA public TO PUBLIC;
"""


@dataclass(frozen=True)
class Client:
    path: str
    version: str
    major: int


def client(name: str) -> Client:
    """A PostgreSQL client program on PATH and its version, or a clear error."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} was not found on PATH: {CLIENT_HINT}.", code="client_missing")
    result = subprocess.run(  # noqa: S603 - a resolved program path, no shell
        [path, "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    match = _VERSION.search(result.stdout)
    if result.returncode != 0 or match is None:
        raise BackupError(
            f"could not read the version of {path} ({result.stdout.strip() or result.stderr.strip()!r}): "
            f"{CLIENT_HINT}.",
            code="client_missing",
        )
    version = match.group(1) + (f".{match.group(2)}" if match.group(2) else "")
    return Client(path=path, version=version, major=int(match.group(1)))


def require_major(program: Client, needed: int, *, what: str) -> None:
    if program.major < needed:
        raise BackupError(
            f"{Path(program.path).name} {program.version} is older than {what} "
            f"(PostgreSQL {needed}): {CLIENT_HINT}.",
            code="client_too_old",
        )


def _run(argv: list[str], *, env: dict[str, str], code: str, **kwargs) -> None:
    result = subprocess.run(  # noqa: S603 - resolved program paths, no shell
        argv, env=env, stderr=subprocess.PIPE, check=False, **kwargs
    )
    if result.returncode != 0:
        detail = result.stderr.decode(errors="replace").strip()[-2000:]
        name = Path(argv[0]).name
        raise BackupError(f"{name} failed (exit {result.returncode}): {detail}", code=code)


class PostgresDatabase:
    """A PostgreSQL database named by a Django DATABASES entry."""

    vendor = "postgresql"
    dump_name = "database.pgdump"

    def __init__(self, settings_dict: dict):
        params = {
            "host": settings_dict.get("HOST"),
            "port": settings_dict.get("PORT"),
            "user": settings_dict.get("USER"),
            "password": settings_dict.get("PASSWORD"),
            "dbname": settings_dict.get("NAME"),
        }
        options = settings_dict.get("OPTIONS") or {}
        params.update({k: v for k, v in options.items() if k in _LIBPQ_ENV})
        self.params = {k: str(v) for k, v in params.items() if v not in (None, "")}

    def describe(self) -> str:
        where = self.params.get("host", "local socket")
        return f"PostgreSQL database {self.params.get('dbname', '?')!r} on {where}"

    def connect(self, **kwargs) -> psycopg.Connection:
        try:
            return psycopg.connect(**self.params, **kwargs)
        except psycopg.OperationalError as exc:
            raise BackupError(f"cannot connect to {self.describe()}: {exc}", code="connect_failed")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update({_LIBPQ_ENV[k]: v for k, v in self.params.items()})
        return env

    def dump(self, dest: Path) -> Snapshot:
        pg_dump = client("pg_dump")
        conn = self.connect()
        try:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            server_version = conn.info.server_version
            require_major(pg_dump, server_version // 10000, what="the server")
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
            counts = _pg_counts(conn)
            migrations = _pg_migrations(conn, counts)
            # The exporting transaction stays open until pg_dump has its snapshot and more.
            _run(
                [pg_dump.path, "--format=custom", f"--snapshot={snapshot}", f"--file={dest}"],
                env=self.env(),
                code="dump_failed",
            )
            conn.rollback()
        finally:
            conn.close()
        return Snapshot(
            counts=counts,
            migrations=migrations,
            details={"server_version": str(server_version), "pg_dump": pg_dump.version},
        )

    def counts(self) -> dict[str, int]:
        with self.connect(autocommit=True) as conn:
            return _pg_counts(conn)

    def check_restore(self, database: dict) -> None:
        """The client programs exist and can read an archive written by this pg_dump."""
        match = re.match(r"\d+", str(database.get("pg_dump", "")))
        dumped_by = int(match.group()) if match else 0
        for name in ("pg_restore", "psql"):
            require_major(client(name), dumped_by, what="the pg_dump that wrote the archive")

    def restore(self, staged: Path, database: dict) -> None:
        pg_restore, psql = client("pg_restore"), client("psql")
        env = self.env()
        with tempfile.TemporaryFile() as restore_err, tempfile.TemporaryFile() as psql_err:
            consumer = subprocess.Popen(  # noqa: S603 - resolved program paths, no shell
                [psql.path, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_err, env=env,
            )  # fmt: skip
            producer = subprocess.Popen(  # noqa: S603 - resolved program paths, no shell
                [pg_restore.path, "--no-owner", "--no-privileges", "--file=-", str(staged)],
                stdout=subprocess.PIPE, stderr=restore_err, env=env,
            )  # fmt: skip
            _pump(producer, consumer)
            # Without the COMMIT, psql's session ends inside the transaction: rolled back.
            if consumer.wait() != 0:
                raise BackupError(
                    f"psql failed (exit {consumer.returncode}), the database is unchanged: "
                    f"{_tail(psql_err)}",
                    code="restore_failed",
                )
            if producer.returncode != 0:
                raise BackupError(
                    f"pg_restore failed (exit {producer.returncode}), the database is unchanged: "
                    f"{_tail(restore_err)}",
                    code="restore_failed",
                )


def _pump(producer: subprocess.Popen, consumer: subprocess.Popen) -> None:
    """pg_restore's script into psql after the preamble; COMMIT only if pg_restore succeeded."""
    try:
        consumer.stdin.write(_PREAMBLE)
        shutil.copyfileobj(producer.stdout, consumer.stdin, 1024 * 1024)
        producer.stdout.close()
        if producer.wait() == 0:
            consumer.stdin.write(b"COMMIT;\n")
        consumer.stdin.close()
    except BrokenPipeError:
        # psql stopped at an error (ON_ERROR_STOP): its exit status and stderr say which.
        producer.kill()
        producer.wait()


def _tail(err) -> str:
    err.seek(0)
    return err.read().decode(errors="replace").strip()[-2000:]


def _pg_counts(conn: psycopg.Connection) -> dict[str, int]:
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
    ]
    return {
        t: conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("public", t))
        ).fetchone()[0]
        for t in tables
    }


def _pg_migrations(conn: psycopg.Connection, counts: dict[str, int]) -> dict[str, str]:
    if "django_migrations" not in counts:
        return {}
    return latest_migrations(conn.execute("SELECT app, name FROM public.django_migrations"))


def database_for(wrapper) -> SqliteDatabase | PostgresDatabase:
    """The backup adapter for a Django connection; other vendors are not supported."""
    if wrapper.vendor == "sqlite":
        return SqliteDatabase(wrapper)
    if wrapper.vendor == "postgresql":
        return PostgresDatabase(wrapper.settings_dict)
    raise BackupError(
        f"backing up a {wrapper.vendor} database is not supported (SQLite and PostgreSQL are)",
        code="vendor_mismatch",
    )
