"""``frontline backup`` / ``restore`` on PostgreSQL: pg_dump in a snapshot, restore elsewhere.

The archive of the test database is restored into a separate database created (and
dropped) here, and the two are compared table by table: row counts, a hash of every
row's values, and the sha256 of every media file.
"""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from frontline.core.backup import BackupError, PostgresDatabase, restore_backup
from frontline.core.tests.backup_helpers import (
    build_world,
    fingerprints,
    media_digests,
    read_members,
    write_members,
)
from tests.integration.conftest import require_url

pytestmark = pytest.mark.integration


@pytest.fixture
def postgres():
    url = require_url("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/fl_backup")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        pytest.skip("DATABASE_URL does not name PostgreSQL; CI runs this on its PostgreSQL pass")
    assert connection.vendor == "postgresql"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def other_database(postgres, transactional_db):
    """An empty database beside the test database, dropped at the end."""
    name = f"fl_backup_restore_{uuid.uuid4().hex[:12]}"
    source = PostgresDatabase(connection.settings_dict)
    with source.connect(autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PostgresDatabase({**connection.settings_dict, "NAME": name})
    finally:
        with source.connect(autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_round_trip_into_another_database(cast, media, tmp_path, other_database):
    # Given a world with tickets, attachments, work orders and photos, committed
    build_world(cast)
    with connection.cursor() as cursor:
        source_tables = fingerprints(cursor, "postgresql")
    source_media = media_digests(media)
    archive = tmp_path / "frontline.tar.gz"

    # When it is backed up, and restored into an empty database and another media folder
    call_command("backup", str(archive), verbosity=0)
    restored_media = tmp_path / "restored-media"
    summary = restore_backup(archive, database=other_database, media_root=restored_media)

    # Then both databases hold the same rows, and both folders the same files
    with other_database.connect(autocommit=True) as conn, conn.cursor() as cursor:
        assert fingerprints(cursor, "postgresql") == source_tables
    assert media_digests(restored_media) == source_media
    assert len(source_media) == 6
    assert summary.tables == len(source_tables)
    assert summary.media_files == len(source_media)

    # And a second restore into the database that now holds data needs --force
    with pytest.raises(BackupError, match="already holds data") as refused:
        restore_backup(archive, database=other_database, media_root=restored_media)
    assert refused.value.code == "not_empty"
    with other_database.connect(autocommit=True) as conn:
        conn.execute("DELETE FROM desk_attachment")
        conn.execute("CREATE TABLE leftover (id int)")
    restore_backup(archive, database=other_database, media_root=restored_media, force=True)
    with other_database.connect(autocommit=True) as conn, conn.cursor() as cursor:
        assert fingerprints(cursor, "postgresql") == source_tables

    # And a dump that pg_restore cannot read (its manifest agrees) changes nothing
    broken = tmp_path / "broken.tar.gz"
    write_members(broken, with_unreadable_dump(read_members(archive)))
    with pytest.raises(BackupError, match="the database is unchanged") as failed:
        restore_backup(broken, database=other_database, media_root=restored_media, force=True)
    assert failed.value.code == "restore_failed"
    with other_database.connect(autocommit=True) as conn, conn.cursor() as cursor:
        assert fingerprints(cursor, "postgresql") == source_tables


def with_unreadable_dump(members):
    """The archive's members with the dump cut in half, the manifest updated to match."""
    dump = next(data for info, data in members if info.name == "database.pgdump")
    dump = dump[: len(dump) // 2]
    result = []
    for info, data in members:
        if info.name == "database.pgdump":
            data = dump
        elif info.name == "manifest.json":
            manifest = json.loads(data)
            manifest["members"]["database.pgdump"] = {
                "size": len(dump),
                "sha256": hashlib.sha256(dump).hexdigest(),
            }
            data = json.dumps(manifest).encode()
        result.append((info, data))
    return result


def fake_pg_dump(folder, version: str):
    folder.mkdir()
    script = folder / "pg_dump"
    script.write_text(f"#!/bin/sh\necho 'pg_dump (PostgreSQL) {version}'\n")
    script.chmod(0o755)
    return folder


@pytest.mark.parametrize(
    ("version", "message"),
    [(None, "pg_dump was not found on PATH"), ("9.6.24", "pg_dump 9.6 is older than the server")],
)
@pytest.mark.django_db
def test_backup_needs_a_pg_dump_as_new_as_the_server(
    postgres, media, tmp_path, monkeypatch, version, message
):
    folder = tmp_path / "bin"
    if version is None:
        folder.mkdir()
    else:
        fake_pg_dump(folder, version)
    monkeypatch.setenv("PATH", str(folder))
    archive = tmp_path / "frontline.tar.gz"

    with pytest.raises(CommandError, match=message):
        call_command("backup", str(archive), verbosity=0)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin"]
