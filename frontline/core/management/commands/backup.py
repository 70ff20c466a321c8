"""``frontline backup PATH [--force]``: one archive of the database and the uploaded files.

Made for cron: progress on stdout (silenced by ``-v 0``), the reason on stderr and a
non-zero exit status when anything fails; a failed run leaves no file under PATH.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from frontline.core.backup import create_backup
from frontline.core.backup.command import run


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
        manifest = run(
            self,
            create_backup,
            "backup",
            path=path,
            force=force,
            database=database,
            verbosity=verbosity,
        )
        tables = manifest["tables"]
        self.stdout.write(
            self.style.SUCCESS(
                f"backup complete: {len(tables)} tables, {sum(tables.values())} rows, "
                f"{len(manifest['media'])} media files"
            )
        )
