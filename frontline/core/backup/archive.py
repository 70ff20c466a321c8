"""The archive: one gzip-compressed tar with the database dump, the media files and a manifest.

Layout (in this order)::

    database.sqlite3 | database.pgdump   the snapshot of the database
    media/<key>                           every uploaded file, under its storage key
    manifest.json                         last: it lists the size and sha256 of every member

Members are streamed through a hashing reader, never loaded whole into memory. Reading
accepts only what we write: regular files named ``manifest.json``, ``database.*`` or
``media/<relative path>`` — no absolute paths, no ``..``, no links or devices, no name
twice — and extracts them one by one into a staging folder, so a hostile or damaged
archive is refused before anything outside the staging folder is touched.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from frontline.core.backup.errors import BackupError

FORMAT = "frontline-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEDIA_PREFIX = "media/"
DUMP_NAMES = frozenset({"database.sqlite3", "database.pgdump"})
CHUNK = 1024 * 1024
MAX_MANIFEST_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Digest:
    size: int
    sha256: str

    def as_dict(self) -> dict:
        return {"size": self.size, "sha256": self.sha256}


class HashingReader:
    """A file wrapper that hashes what tarfile reads from it, on the way."""

    def __init__(self, raw):
        self.raw = raw
        self.hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.hash.update(data)
        self.size += len(data)
        return data


def file_digest(path: Path) -> Digest:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return Digest(size=size, sha256=digest.hexdigest())


def media_files(root: Path, warn: Callable[[str], None]) -> Iterator[tuple[str, Path]]:
    """(storage key, path) of every regular file under MEDIA_ROOT, sorted; links are skipped."""
    if not root.is_dir():
        return
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder, name)
            key = path.relative_to(root).as_posix()
            if path.is_symlink() or not path.is_file():
                warn(f"skipped {key}: not a regular file")
                continue
            yield key, path


class ArchiveWriter:
    """Adds members to a new ``.tar.gz`` and remembers their digests for the manifest."""

    def __init__(self, path: Path):
        # 0600: the archive holds customers' data and password hashes.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        self.fileobj = os.fdopen(fd, "wb")
        self.tar = tarfile.open(fileobj=self.fileobj, mode="w:gz", format=tarfile.PAX_FORMAT)
        self.members: dict[str, Digest] = {}

    def add_file(self, name: str, path: Path) -> Digest | None:
        """Stream one file in; None when it vanished before we could read it."""
        try:
            fh = path.open("rb")
        except FileNotFoundError:
            return None
        with fh:
            stat = os.fstat(fh.fileno())
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o644
            reader = HashingReader(fh)
            # tarfile copies exactly info.size bytes: a file still growing is cut at the
            # size we saw, and the digest describes the bytes in the archive.
            self.tar.addfile(info, reader)
        digest = Digest(size=reader.size, sha256=reader.hash.hexdigest())
        self.members[name] = digest
        return digest

    def add_manifest(self, manifest: dict, *, mtime: float) -> None:
        data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(data), int(mtime), 0o644
        self.tar.addfile(info, io.BytesIO(data))

    def close(self) -> None:
        self.tar.close()
        self.fileobj.flush()
        os.fsync(self.fileobj.fileno())
        self.fileobj.close()

    def abort(self) -> None:
        try:
            self.tar.close()
        except (OSError, tarfile.TarError):
            pass
        self.fileobj.close()


# ---------------------------------------------------------------- reading


def safe_name(member: tarfile.TarInfo) -> str:
    """The member's name if it is one we write and safe to extract, else an error."""
    name = member.name
    if not member.isreg():
        kind = "link" if member.issym() or member.islnk() else "non-file"
        raise BackupError(
            f"refusing archive member {name!r}: a {kind} entry (only regular files are expected)",
            code="unsafe_member",
        )
    pure = PurePosixPath(name)
    if (
        not name
        or "\x00" in name
        or "\\" in name
        or pure.is_absolute()
        or any(part in {"..", "."} for part in pure.parts)
        or str(pure) != name
    ):
        raise BackupError(
            f"refusing archive member {name!r}: absolute or escaping path", code="unsafe_member"
        )
    if name == MANIFEST or name in DUMP_NAMES:
        return name
    if name.startswith(MEDIA_PREFIX) and len(pure.parts) > 1:
        return name
    raise BackupError(
        f"refusing archive member {name!r}: not part of a backup", code="unsafe_member"
    )


def extract(path: Path, staging: Path) -> tuple[dict, dict[str, Digest]]:
    """Stream the archive into ``staging`` member by member; the manifest and what we read."""
    found: dict[str, Digest] = {}
    manifest_bytes: bytes | None = None
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            for member in tar:
                name = safe_name(member)
                if name in found:
                    raise BackupError(
                        f"archive member {name!r} appears twice", code="unsafe_member"
                    )
                source = tar.extractfile(member)
                if name == MANIFEST:
                    if member.size > MAX_MANIFEST_BYTES:
                        raise BackupError("the manifest is implausibly large", code="format")
                    manifest_bytes = source.read()
                    found[name] = Digest(len(manifest_bytes), "")
                    continue
                found[name] = _copy_out(source, staging, name)
            # tarfile takes a garbled header for the end of the archive; reading the gzip
            # stream to its end checks its CRC and length, so damage cannot hide there.
            while tar.fileobj.read(CHUNK):
                pass
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupError(
            f"the archive {path} is corrupted or truncated ({exc.__class__.__name__}: {exc})",
            code="corrupt",
        )
    if manifest_bytes is None:
        raise BackupError(
            f"the archive {path} has no {MANIFEST}: not a Frontline backup, or truncated",
            code="corrupt",
        )
    found.pop(MANIFEST)
    return _parse_manifest(manifest_bytes), found


def _copy_out(source, staging: Path, name: str) -> Digest:
    target = staging / name
    if not target.resolve().is_relative_to(staging.resolve()):
        raise BackupError(f"refusing archive member {name!r}: escapes", code="unsafe_member")
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with target.open("xb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return Digest(size=size, sha256=digest.hexdigest())


def _parse_manifest(data: bytes) -> dict:
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise BackupError(f"the manifest is not valid JSON ({exc})", code="corrupt")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("this archive is not a Frontline backup", code="format")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"archive format version {manifest.get('format_version')!r} is not supported "
            f"(this Frontline reads version {FORMAT_VERSION})",
            code="format",
        )
    return manifest


def verify(manifest: dict, found: dict[str, Digest]) -> None:
    """Every member the manifest lists is present with its size and sha256, and nothing else."""
    try:
        expected = {name: Digest(d["size"], d["sha256"]) for name, d in manifest["members"].items()}
        media = {
            MEDIA_PREFIX + m["path"]: Digest(m["size"], m["sha256"]) for m in manifest["media"]
        }
        dump = manifest["database"]["dump"]
    except (KeyError, TypeError, AttributeError) as exc:
        raise BackupError(f"the manifest is incomplete ({exc!r})", code="format")
    if dump not in expected or any(expected.get(name) != d for name, d in media.items()):
        raise BackupError("the manifest contradicts itself", code="format")
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    damaged = sorted(n for n in expected.keys() & found.keys() if expected[n] != found[n])
    if missing or extra or damaged:
        parts = [
            f"{label}: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}"
            for label, names in (
                ("missing", missing),
                ("unexpected", extra),
                ("checksum mismatch", damaged),
            )
            if names
        ]
        raise BackupError(
            "the archive does not match its manifest (" + "; ".join(parts) + ")", code="corrupt"
        )
