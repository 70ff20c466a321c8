"""``frontline restore PATH [--force]``: put a backup back, then check it.

The archive is verified completely before anything is changed. Stop the web server, the
workers and beat first. Exit status 0 only when the restored rows and files match the
archive's manifest; otherwise non-zero with the reason on stderr.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from frontline.core.backup import restore_backup
from frontline.core.backup.command import run


class Command(BaseCommand):
    help = (
        "Restore a backup written by `frontline backup` into DATABASE_URL and MEDIA_ROOT, "
        "then verify row counts and checksums."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the archive written by `frontline backup`")
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace a database that already holds data (everything in it is lost)",
        )
        parser.add_argument(
            "--database", default="default", help="the database alias (default: default)"
        )

    def handle(self, *args, path: str, force: bool, database: str, verbosity: int, **options):
        summary = run(
            self,
            restore_backup,
            "restore",
            path=path,
            force=force,
            database=database,
            verbosity=verbosity,
        )
        for note in summary.notes:
            self.stdout.write(self.style.WARNING(f"note: {note}"))
        self.stdout.write(
            self.style.SUCCESS(
                f"restore complete and verified: backup of {summary.created_at}, "
                f"{summary.tables} tables, {summary.rows} rows, {summary.media_files} media "
                f"files ({summary.media_bytes} bytes)"
            )
        )
