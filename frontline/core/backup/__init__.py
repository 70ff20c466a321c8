"""Backup and restore of the whole installation: the database and the uploaded files.

``frontline backup PATH`` and ``frontline restore PATH`` are the console front ends;
docs/backup.md is the operator's guide (what is in the archive, why it is consistent,
scheduling, restoring onto a new machine, vendor limits).
"""

from frontline.core.backup.create import create_backup
from frontline.core.backup.databases import PostgresDatabase, SqliteDatabase, database_for
from frontline.core.backup.errors import BackupError
from frontline.core.backup.restore import RestoreSummary, restore_backup

__all__ = [
    "BackupError",
    "PostgresDatabase",
    "RestoreSummary",
    "SqliteDatabase",
    "create_backup",
    "database_for",
    "restore_backup",
]
