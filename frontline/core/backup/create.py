"""``create_backup``: the database snapshot first, then the media files, into one archive.

Why the order makes the archive consistent: uploads are stored under generated keys and
never overwritten, and a file is written before the row that names it commits. So every
file that a row in the snapshot references already existed, complete, when the snapshot
was taken, and is still there when the media are copied afterwards. Files uploaded after
the snapshot may be copied too; no row in the archive references them, and they are
harmless. (A file deleted between the snapshot and the copy would be missing; Frontline
only deletes a file whose row never committed. Such a vanished file is reported.)

The archive is written to ``PATH.tmp``, flushed to disk and renamed to ``PATH``: a crash or
a full disk never leaves a half-written archive under the final name.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.utils import timezone

from frontline.core.backup.archive import (
    FORMAT,
    FORMAT_VERSION,
    MEDIA_PREFIX,
    ArchiveWriter,
    media_files,
)
from frontline.core.backup.databases import Snapshot, database_for
from frontline.core.backup.errors import BackupError

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    pass


def app_version() -> str:
    try:
        return importlib.metadata.version("frontline")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def create_backup(
    path: Path | str,
    *,
    force: bool = False,
    alias: str = "default",
    media_root: Path | str | None = None,
    progress: Progress = _quiet,
) -> dict:
    """Write one archive of the database and MEDIA_ROOT to ``path``; return its manifest."""
    path = Path(path).absolute()
    media_root = Path(media_root or settings.MEDIA_ROOT).absolute()
    _check_target(path, media_root, force=force)
    database = database_for(connections[alias])
    partial = path.with_name(path.name + ".tmp")
    work = Path(tempfile.mkdtemp(prefix=".frontline-backup-", dir=path.parent))
    writer = None
    try:
        dump = work / database.dump_name
        created_at = timezone.now()
        progress(f"snapshot of {database.describe()}")
        snapshot = database.dump(dump)
        writer = ArchiveWriter(partial)
        writer.add_file(database.dump_name, dump)
        dump.unlink()
        progress(
            f"database: {len(snapshot.counts)} tables, {sum(snapshot.counts.values())} rows, "
            f"{writer.members[database.dump_name].size} bytes"
        )
        media = _add_media(writer, media_root, progress)
        manifest = _manifest(database, snapshot, writer, media, created_at=created_at)
        writer.add_manifest(manifest, mtime=created_at.timestamp())
        writer.close()
        writer = None
        os.replace(partial, path)
        _fsync_dir(path.parent)
    except BaseException:
        if writer is not None:
            writer.abort()
        partial.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    progress(f"wrote {path} ({path.stat().st_size} bytes)")
    return manifest


def _check_target(path: Path, media_root: Path, *, force: bool) -> None:
    if path.is_dir():
        raise BackupError(f"{path} is a folder: name the archive file", code="exists")
    if path.exists() and not force:
        raise BackupError(
            f"{path} already exists: choose another name or pass --force to replace it",
            code="exists",
        )
    if path.resolve().is_relative_to(media_root.resolve()):
        raise BackupError(
            f"{path} is inside MEDIA_ROOT ({media_root}): write the archive elsewhere",
            code="invalid_path",
        )
    if not path.parent.is_dir():
        raise BackupError(f"the folder {path.parent} does not exist", code="invalid_path")


def _add_media(writer: ArchiveWriter, root: Path, progress: Progress) -> list[dict]:
    media: list[dict] = []
    total = 0
    for key, file in media_files(root, progress):
        digest = writer.add_file(MEDIA_PREFIX + key, file)
        if digest is None:
            progress(f"skipped {key}: deleted while the backup ran")
            continue
        media.append({"path": key, **digest.as_dict()})
        total += digest.size
        if len(media) % 1000 == 0:
            progress(f"media: {len(media)} files so far")
    progress(f"media: {len(media)} files, {total} bytes from {root}")
    return media


def _manifest(database, snapshot: Snapshot, writer, media: list[dict], *, created_at) -> dict:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": created_at.isoformat(),
        "app_version": app_version(),
        "database": {"vendor": database.vendor, "dump": database.dump_name, **snapshot.details},
        "migrations": snapshot.migrations,
        "tables": snapshot.counts,
        "members": {name: digest.as_dict() for name, digest in writer.members.items()},
        "media": media,
    }


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
