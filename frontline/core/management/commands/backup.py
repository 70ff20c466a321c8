"""``frontline backup PATH [--force]``: one archive of the database and the uploaded files.

Made for cron: progress on stdout (silenced by ``-v 0``), the reason on stderr and a
non-zero exit status when anything fails; a failed run leaves no file under PATH.
"""

from __future__ import annotations

import sqlite3

import psycopg
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from frontline.core.backup import BackupError, create_backup


class Command(BaseCommand):
    help = (
        "Write a consistent backup (database snapshot, uploaded files, manifest with "
        "row counts and sha256 checksums) to one .tar.gz file."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", help="the archive to write, e.g. /backups/frontline-$(date +%%F).tar.gz"
        )
        parser.add_argument("--force", action="store_true", help="replace PATH if it exists")
        parser.add_argument(
            "--database", default="default", help="the database alias (default: default)"
        )

    def handle(self, *args, path: str, force: bool, database: str, verbosity: int, **options):
        def progress(message: str) -> None:
            if verbosity >= 1:
                self.stdout.write(message)

        try:
            manifest = create_backup(path, force=force, alias=database, progress=progress)
        except BackupError as exc:
            raise CommandError(f"backup failed: {exc}")
        except (OSError, DatabaseError, sqlite3.Error, psycopg.Error) as exc:
            # A full disk, a permission, a lost connection: the reason, not a traceback.
            raise CommandError(f"backup failed: {exc.__class__.__name__}: {exc}")
        tables = manifest["tables"]
        self.stdout.write(
            self.style.SUCCESS(
                f"backup complete: {len(tables)} tables, {sum(tables.values())} rows, "
                f"{len(manifest['media'])} media files"
            )
        )
