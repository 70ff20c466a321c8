"""A small world with uploaded files, and fingerprints of a database and a media folder.

Shared by the SQLite tests (frontline/core/tests/test_backup.py) and the PostgreSQL
round trip (tests/integration/test_backup_postgres.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

from django.core.files.base import ContentFile

from frontline.desk.models import Attachment
from frontline.desk.tests import factories as df
from frontline.field.tests.factories import WorkOrderFactory
from frontline.field.tests.factories_pages import photo, signature

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(40))


def attach(ticket, data: bytes, name: str) -> Attachment:
    attachment = Attachment(
        ticket=ticket,
        name=name,
        content_type="text/plain",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    attachment.file.save("upload", ContentFile(data), save=True)
    return attachment


def build_world(cast) -> dict:
    """Tickets with attachments, work orders with photos and a signature."""
    tickets = [df.ticket_for(cast, title=f"冷水机组 {i}# 出水温度过高") for i in range(3)]
    attachments = [
        attach(t, f"现场记录 {i}: 出水 12℃, 设定 7℃\n".encode() * (i + 1), f"记录-{i}.txt")
        for i, t in enumerate(tickets)
    ]
    orders = [WorkOrderFactory() for _ in range(2)]
    photos = [photo(wo, name=f"现场-{i}.png") for i, wo in enumerate(orders)]
    signature(orders[0])
    return {"tickets": tickets, "attachments": attachments, "orders": orders, "photos": photos}


def fingerprints(cursor, vendor: str) -> dict[str, str]:
    """Per table: the row count and a hash of every row's values, in a stable order."""
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        query = 'SELECT * FROM "{}"'
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        query = 'SELECT t::text FROM public."{}" t'
    tables = sorted(row[0] for row in cursor.fetchall())
    result = {}
    for table in tables:
        cursor.execute(query.format(table))
        rows = sorted(repr(tuple(row)) for row in cursor.fetchall())
        digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        result[table] = f"{len(rows)} rows {digest}"
    return result


def media_digests(root: Path) -> dict[str, str]:
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def read_members(path: Path) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    with tarfile.open(path, "r:gz") as tar:
        return [(m, tar.extractfile(m).read() if m.isreg() else None) for m in tar.getmembers()]


def write_members(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)


def noise(n: int, seed: bytes) -> bytes:
    """n bytes that do not compress, the same every run."""
    out, block = bytearray(), seed
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:n])


def forge_archive(path: Path, *, vendor: str) -> None:
    """A well-formed archive in the documented layout, without a database to back up.

    Its dump is not a database: tests that use it expect a refusal before the restore.
    """
    dump = "database.sqlite3" if vendor == "sqlite" else "database.pgdump"
    media = {
        "desk/1/" + "a" * 32: noise(50_000, b"attachment"),
        "field/1/" + "b" * 32: noise(30_000, b"photo"),
    }
    members = {dump: noise(20_000, b"dump"), **{f"media/{k}": v for k, v in media.items()}}
    manifest = {
        "format": "frontline-backup",
        "format_version": 1,
        "created_at": "2026-11-22T02:30:00+00:00",
        "app_version": "0.1.0",
        "database": {"vendor": vendor, "dump": dump},
        "migrations": {},
        "tables": {},
        "members": {
            name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in members.items()
        },
        "media": [
            {"path": key, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for key, data in media.items()
        ],
    }
    entries = [(tarfile.TarInfo(name), data) for name, data in members.items()]
    entries.append((tarfile.TarInfo("manifest.json"), json.dumps(manifest).encode()))
    write_members(path, entries)
