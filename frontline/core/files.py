"""Uploaded files stored inside a transaction, removed again when it fails.

A row that holds a file needs the file's stored name, so the bytes are written before
the row is committed. When the transaction then fails (a later check refuses, the
database connection drops), the row is rolled back but the file would stay on disk
with nothing pointing at it. Services therefore store files with :func:`save` inside
:func:`atomic`: a block that ends with an exception deletes what was stored in it
after the rollback. A nested block that succeeds hands its files to the enclosing
one, so they go if the outer block fails.

(The other way round, writing the bytes after commit, would leave committed rows
pointing at missing files when the process dies in between: worse than a stray file.)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.files.storage import Storage
from django.db import transaction
from django.db.models.fields.files import FieldFile

log = logging.getLogger(__name__)

_stored: ContextVar[list[tuple[Storage, str]] | None] = ContextVar("stored_files", default=None)


def save(field_file: FieldFile, name: str, content) -> None:
    """``field_file.save(name, content, save=False)``, remembered by the enclosing
    :func:`removed_on_failure` block (if any) so that a failure deletes it again."""
    field_file.save(name, content, save=False)
    pending = _stored.get()
    if pending is not None:
        pending.append((field_file.storage, field_file.name))


@contextmanager
def removed_on_failure() -> Iterator[None]:
    """Delete the files :func:`save` stored in this block if the block raises."""
    parent = _stored.get()
    pending: list[tuple[Storage, str]] = []
    token = _stored.set(pending)
    try:
        yield
    except BaseException:
        _stored.reset(token)
        _delete(pending)
        raise
    _stored.reset(token)
    if parent is not None:
        parent.extend(pending)


@contextmanager
def atomic() -> Iterator[None]:
    """``transaction.atomic()`` whose stored files are deleted when it rolls back on an
    exception (after the rollback: the rows go first, then their files)."""
    with removed_on_failure(), transaction.atomic():
        yield


def _delete(pending: list[tuple[Storage, str]]) -> None:
    for storage, name in pending:
        try:
            storage.delete(name)
        except OSError:  # the failure being raised matters more than a stray file
            log.warning("could not remove %s after a failed transaction", name, exc_info=True)
