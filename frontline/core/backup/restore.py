"""``restore_backup``: verify the whole archive first, then replace the database and media.

Order: (1) stream every member into a staging folder beside MEDIA_ROOT, refusing unsafe
members, and compare each size and sha256 with the manifest — a damaged, truncated or
hostile archive stops here, with nothing changed; (2) refuse an archive of another
database vendor, and a target that already holds data unless ``force``; (3) replace the
database in one transaction; (4) move the media files into MEDIA_ROOT; (5) count the rows
of every table and hash every media file again, and compare with the manifest.

Files in MEDIA_ROOT that the archive does not hold are left alone: no row of the restored
database references them.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.db.migrations.loader import MigrationLoader

from frontline.core.backup import archive
from frontline.core.backup.databases import (
    PostgresDatabase,
    SqliteDatabase,
    database_for,
    holds_data,
    latest_migrations,
)
from frontline.core.backup.errors import BackupError

Progress = Callable[[str], None]


def _quiet(message: str) -> None:
    pass


@dataclass
class RestoreSummary:
    tables: int
    rows: int
    media_files: int
    media_bytes: int
    created_at: str
    notes: list[str] = field(default_factory=list)


def restore_backup(
    path: Path | str,
    *,
    force: bool = False,
    alias: str = "default",
    database: SqliteDatabase | PostgresDatabase | None = None,
    media_root: Path | str | None = None,
    progress: Progress = _quiet,
) -> RestoreSummary:
    """Restore the archive at ``path`` into the database and MEDIA_ROOT, then verify them."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file", code="not_found")
    media_root = Path(media_root or settings.MEDIA_ROOT).absolute()
    database = database or database_for(connections[alias])
    media_root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".frontline-restore-", dir=media_root.parent))
    try:
        progress(f"verifying {path}")
        manifest, found = archive.extract(path, staging)
        archive.verify(manifest, found)
        progress(
            f"archive of {manifest.get('created_at')} verified: "
            f"{len(found)} members match their checksums"
        )
        _check_target(manifest, database, force=force)
        progress(f"restoring the database into {database.describe()}")
        database.restore(staging / manifest["database"]["dump"], manifest["database"])
        progress(f"restoring {len(manifest['media'])} media files into {media_root}")
        _move_media(manifest["media"], staging / archive.MEDIA_PREFIX, media_root)
        summary = _verify_restored(manifest, database, media_root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    summary.notes = migration_notes(manifest.get("migrations") or {})
    return summary


def _check_target(manifest: dict, database, *, force: bool) -> None:
    vendor = manifest["database"].get("vendor")
    if vendor != database.vendor:
        raise BackupError(
            f"the archive holds a {vendor} database but the target is {database.vendor}: "
            "restoring across database vendors is not supported; restore into a "
            f"{vendor} database (DATABASE_URL)",
            code="vendor_mismatch",
        )
    database.check_restore(manifest["database"])
    counts = database.counts()
    if holds_data(counts) and not force:
        rows = sum(n for n in counts.values())
        raise BackupError(
            f"{database.describe()} already holds data ({rows} rows): "
            "pass --force to replace it with the archive",
            code="not_empty",
        )


def _move_media(media: list[dict], staged_root: Path, media_root: Path) -> None:
    media_root.mkdir(parents=True, exist_ok=True)
    resolved_root = media_root.resolve()
    for entry in media:
        target = media_root / entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        # A folder inside MEDIA_ROOT that is a link elsewhere must not carry files out.
        if not target.parent.resolve().is_relative_to(resolved_root):
            raise BackupError(
                f"refusing to write {entry['path']}: its folder leads outside MEDIA_ROOT",
                code="unsafe_member",
            )
        shutil.move(staged_root / entry["path"], target)


def _verify_restored(manifest: dict, database, media_root: Path) -> RestoreSummary:
    expected = manifest["tables"]
    counts = database.counts()
    wrong = [
        f"{table}: {counts.get(table)} rows, the archive has {n}"
        for table, n in expected.items()
        if counts.get(table) != n
    ]
    wrong += [f"{table}: not in the archive" for table in counts.keys() - expected.keys()]
    total = 0
    for entry in manifest["media"]:
        digest = archive.file_digest(media_root / entry["path"])
        total += digest.size
        if digest != archive.Digest(entry["size"], entry["sha256"]):
            wrong.append(f"media {entry['path']}: checksum differs")
    if wrong:
        raise BackupError(
            "the restored data does not match the archive: " + "; ".join(wrong[:10]),
            code="verify_failed",
        )
    return RestoreSummary(
        tables=len(expected),
        rows=sum(expected.values()),
        media_files=len(manifest["media"]),
        media_bytes=total,
        created_at=str(manifest.get("created_at")),
    )


def migration_notes(archived: dict[str, str]) -> list[str]:
    """Compare the archive's migration state with this code's migrations."""
    code = latest_migrations(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    behind = sorted(app for app, name in code.items() if archived.get(app, "") < name)
    ahead = sorted(app for app, name in archived.items() if name > code.get(app, ""))
    notes = []
    if behind:
        notes.append(
            f"the archive predates this code's migrations ({', '.join(behind)}): "
            "run `frontline migrate`"
        )
    if ahead:
        notes.append(
            f"the archive was written by a newer Frontline ({', '.join(ahead)}): "
            "upgrade the code before serving this database"
        )
    return notes
