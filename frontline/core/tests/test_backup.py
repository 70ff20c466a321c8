"""``frontline backup`` / ``frontline restore`` on SQLite: round trip, refusals, hostile archives.

The PostgreSQL round trip (into a separate database) is tests/integration/test_backup_postgres.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from frontline.core.tests.backup_helpers import (
    attach,
    build_world,
    fingerprints,
    forge_archive,
    media_digests,
    read_members,
    write_members,
)
from frontline.desk.models import Attachment, Ticket
from frontline.desk.tests import factories as df


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def state(media) -> tuple[dict, dict]:
    with connection.cursor() as cursor:
        return fingerprints(cursor, connection.vendor), media_digests(media)


def backup(path, *args) -> None:
    call_command("backup", str(path), *args, verbosity=0)


def restore(path, *args) -> None:
    call_command("restore", str(path), *args, verbosity=0)


def manifest_of(path) -> dict:
    with tarfile.open(path, "r:gz") as tar:
        return json.load(tar.extractfile("manifest.json"))


# ---------------------------------------------------------------- the round trip


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="on PostgreSQL the round trip restores into a separate database: "
    "tests/integration/test_backup_postgres.py",
)
@pytest.mark.django_db(transaction=True)
def test_round_trip_restores_every_row_and_file(cast, media, tmp_path):
    # Given a world with tickets, attachments, work orders, photos and a signature, backed up
    world = build_world(cast)
    before = state(media)
    archive = tmp_path / "frontline.tar.gz"
    backup(archive)

    # When the data changes afterwards: a row edited, an attachment gone, a ticket added
    Ticket.objects.filter(pk=world["tickets"][0].pk).update(title="改掉的标题")
    gone = world["attachments"][1]
    gone_pk = gone.pk
    gone.file.delete(save=False)
    gone.delete()
    extra = attach(df.ticket_for(cast), b"after the backup\n", "later.txt")
    changed = state(media)
    assert changed != before

    # Then a restore without --force is refused, and nothing changes
    with pytest.raises(CommandError, match="already holds data.*--force"):
        restore(archive)
    assert state(media) == changed

    # And with --force every table has the archived rows, every archived file its bytes
    restore(archive, "--force")
    tables, files = state(media)
    assert tables == before[0]
    assert files == {**before[1], extra.file.name: changed[1][extra.file.name]}
    assert Ticket.objects.get(pk=world["tickets"][0].pk).title == world["tickets"][0].title
    restored = Attachment.objects.get(pk=gone_pk)
    with restored.file.open("rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == restored.sha256


# ---------------------------------------------------------------- writing the archive


@pytest.mark.django_db(transaction=True)
def test_the_archive_is_described_by_its_manifest_and_never_overwritten_silently(
    cast, media, tmp_path
):
    build_world(cast)
    tables, files = state(media)
    archive = tmp_path / "frontline.tar.gz"
    archive.write_bytes(b"last night's backup")

    # An existing archive is kept unless --force
    with pytest.raises(CommandError, match="already exists.*--force"):
        backup(archive)
    assert archive.read_bytes() == b"last night's backup"

    backup(archive, "--force")

    assert archive.stat().st_mode & 0o777 == 0o600  # customers' data, password hashes
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "media") == [archive.name]
    manifest = manifest_of(archive)
    assert manifest["format"] == "frontline-backup"
    assert manifest["database"]["vendor"] == connection.vendor
    assert {m["path"]: m["sha256"] for m in manifest["media"]} == files
    assert manifest["tables"]["desk_ticket"] == Ticket.objects.count() == 3
    assert manifest["tables"]["desk_attachment"] == 3
    assert manifest["tables"]["field_workorderphoto"] == 2
    assert manifest["tables"].keys() == tables.keys()
    assert manifest["migrations"]["desk"].startswith("00")
    names = {info.name for info, _ in read_members(archive)}
    dump = "database.sqlite3" if connection.vendor == "sqlite" else "database.pgdump"
    assert names == {"manifest.json", dump, *(f"media/{p}" for p in files)}
    assert set(manifest["members"]) == names - {"manifest.json"}


@pytest.mark.django_db
def test_backup_refuses_to_write_into_media_root(media, tmp_path):
    media.mkdir(parents=True)
    with pytest.raises(CommandError, match="inside MEDIA_ROOT"):
        backup(media / "x.tar.gz")
    assert list(media.iterdir()) == []


# ---------------------------------------------------------------- damaged archives


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])


def flip_a_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def tamper_a_photo(path):
    members = [
        (info, data + b"!" if info.name.startswith("media/field/") else data)
        for info, data in read_members(path)
    ]
    write_members(path, members)


def drop_the_manifest(path):
    write_members(path, [(i, d) for i, d in read_members(path) if i.name != "manifest.json"])


def add_a_stray_member(path):
    stray = tarfile.TarInfo("media/desk/planted")
    write_members(path, [(stray, b"planted"), *read_members(path)])


def claim_the_other_vendor(path):
    members = []
    for info, data in read_members(path):
        if info.name == "manifest.json":
            manifest = json.loads(data)
            other = "postgresql" if manifest["database"]["vendor"] == "sqlite" else "sqlite"
            manifest["database"]["vendor"] = other
            data = json.dumps(manifest).encode()
        members.append((info, data))
    write_members(path, members)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (truncate, "corrupted or truncated"),
        (flip_a_byte, "corrupted or truncated"),
        (tamper_a_photo, "checksum mismatch: media/field/"),
        (drop_the_manifest, "no manifest.json"),
        (add_a_stray_member, "unexpected: media/desk/planted"),
        (claim_the_other_vendor, "across database vendors is not supported"),
    ],
)
@pytest.mark.django_db
def test_a_damaged_or_foreign_archive_is_refused_and_nothing_changes(
    cast, media, tmp_path, damage, message
):
    build_world(cast)
    archive = tmp_path / "frontline.tar.gz"
    forge_archive(archive, vendor=connection.vendor)
    damage(archive)
    Ticket.objects.update(title="备份之后的修改")
    before = state(media)

    with pytest.raises(CommandError, match=message):
        restore(archive, "--force")

    assert state(media) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".frontline")] == []


# ---------------------------------------------------------------- hostile archives


def link(name: str, target: str, kind=tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.mark.parametrize(
    "member",
    [
        tarfile.TarInfo("../escaped"),
        tarfile.TarInfo("media/../../escaped"),
        tarfile.TarInfo("ABSOLUTE"),
        link("media/desk/link", "../../escaped"),
        link("media/desk/hard", "/etc/passwd", kind=tarfile.LNKTYPE),
        link("media/desk/dev", "", kind=tarfile.CHRTYPE),
        tarfile.TarInfo("media/desk"),
    ],
    ids=["dotdot", "media-dotdot", "absolute", "symlink", "hardlink", "device", "folder"],
)
@pytest.mark.django_db
def test_an_unsafe_member_is_refused_before_anything_is_written(cast, media, tmp_path, member):
    if member.name == "ABSOLUTE":
        member.name = str(tmp_path / "escaped")
    if member.name == "media/desk":
        member.type = tarfile.DIRTYPE
    archive = tmp_path / "evil.tar.gz"
    data = b"owned" if member.isreg() else None
    write_members(archive, [(member, data)])
    before = state(media)

    with pytest.raises(CommandError, match="refusing archive member"):
        restore(archive, "--force")

    assert not (tmp_path / "escaped").exists()
    assert state(media) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".frontline")] == []


@pytest.mark.django_db
def test_a_missing_archive_is_a_clear_error(tmp_path, media):
    with pytest.raises(CommandError, match="does not exist"):
        restore(tmp_path / "nowhere.tar.gz")


# ---------------------------------------------------------------- from cron


@pytest.mark.skipif(connection.vendor != "sqlite", reason="runs once, in the SQLite pass")
def test_the_console_commands_report_by_exit_status(tmp_path):
    # A cron job sees success as status 0 and a refusal as non-zero with one line on stderr.
    env = {
        **os.environ,
        "FRONTLINE_ENV": "test",
        "FRONTLINE_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'db.sqlite3'}",
    }
    archive = tmp_path / "nightly.tar.gz"
    command = [sys.executable, "-m", "frontline.cli", "backup", "--skip-checks", str(archive)]

    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    assert first.returncode == 0, first.stderr
    assert "backup complete" in first.stdout
    assert again.returncode != 0
    assert "already exists" in again.stderr
    assert "Traceback" not in again.stderr
