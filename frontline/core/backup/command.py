"""What the ``backup`` and ``restore`` commands share: progress and failures for cron."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import psycopg
from django.core.management.base import CommandError
from django.db import DatabaseError

from frontline.core.backup.errors import BackupError


def run(command, action: Callable, verb: str, *, path: str, force: bool, database: str,
        verbosity: int):  # fmt: skip
    """Call ``action`` with progress on stdout (silenced by ``-v 0``); any failure is one
    line naming the reason (a CommandError: non-zero exit status), never a traceback."""

    def progress(message: str) -> None:
        if verbosity >= 1:
            command.stdout.write(message)

    try:
        return action(path, force=force, alias=database, progress=progress)
    except BackupError as exc:
        raise CommandError(f"{verb} failed: {exc}")
    except (OSError, DatabaseError, sqlite3.Error, psycopg.Error) as exc:
        # A full disk, a permission, a lost connection: the reason, not a traceback.
        raise CommandError(f"{verb} failed: {exc.__class__.__name__}: {exc}")
