"""Checking uploaded files: the type comes from the content, never from the client.

An allowlist of formats, each recognised by its magic bytes (PNG, JPEG, GIF, WebP, PDF,
MP4, Office documents by their ``[Content_Types].xml``) or, for plain text and CSV, by
decoding as UTF-8 without markup. Anything else (SVG, HTML, executables, polyglots that
carry markup behind an image header) is refused. Files are stored under a generated key
and always served as a download (``desk.api``), so the display name is only a label:
it is normalised here (no path parts, control or bidi characters, at most 200 characters).
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from frontline.core.errors import DomainError, ValidationFailed

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 10
NAME_LIMIT = 200
_CHUNK = 64 * 1024
_CONTENT_TYPES_LIMIT = 1024 * 1024

PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
PDF = "application/pdf"
MP4 = "video/mp4"
TEXT = "text/plain; charset=utf-8"
CSV = "text/csv; charset=utf-8"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

EXTENSIONS = {
    PNG: (".png",),
    JPEG: (".jpg", ".jpeg"),
    GIF: (".gif",),
    WEBP: (".webp",),
    PDF: (".pdf",),
    MP4: (".mp4", ".m4v"),
    TEXT: (".txt", ".log"),
    CSV: (".csv",),
    DOCX: (".docx",),
    XLSX: (".xlsx",),
}

_MP4_BRANDS = {
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42",
    b"avc1", b"M4V ", b"dash", b"mmp4", b"MSNV",
}  # fmt: skip
# Markup that a browser could be talked into rendering: refused in text files ...
_MARKUP = re.compile(
    rb"<\s*(script|svg|html|body|iframe|object|embed|!doctype|\?xml|meta|a\s|img\s|style)",
    re.IGNORECASE,
)
# ... and behind an image or PDF header (a shorter list: binary data rarely spells these).
_POLYGLOT = re.compile(rb"<\s*(script|svg|html|body|iframe|!doctype)", re.IGNORECASE)
_OFFICE_MAIN = {
    DOCX: b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    XLSX: b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
}


class UploadTooLarge(DomainError):
    status = 413
    code = "too_large"
    default_message = _("The file is too large.")


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed the checks: what to store and how to label it."""

    upload: object
    name: str
    content_type: str
    size: int
    sha256: str


def max_bytes() -> int:
    return int(getattr(settings, "DESK_MAX_UPLOAD_BYTES", DEFAULT_MAX_BYTES))


# ---------------------------------------------------------------- names

_PATH_SPLIT = re.compile(r"[/\\]")


def normalise_name(raw) -> str:
    """A safe display label: last path part, no control/format characters, ≤ 200 characters."""
    text = unicodedata.normalize("NFC", str(raw or ""))
    text = _PATH_SPLIT.split(text)[-1]
    # Cc: control characters (NUL, CR, LF …); Cf: format characters (RTL overrides, zero width).
    text = "".join(
        " " if unicodedata.category(ch) in {"Cc", "Zl", "Zp"} else ch
        for ch in text
        if unicodedata.category(ch) != "Cf"
    )
    text = " ".join(text.split()).strip(" .")
    if not text:
        text = "file"
    if len(text) > NAME_LIMIT:
        stem, ext = posixpath.splitext(text)
        ext = ext if len(ext) <= 16 else ""
        text = stem[: NAME_LIMIT - len(ext)].rstrip(" .") + ext
    return text


def _label(name: str, content_type: str) -> str:
    """Make the extension match the content, so a PNG called ``x.exe`` downloads as ``x.exe.png``."""
    allowed = EXTENSIONS[content_type]
    if name.lower().endswith(allowed):
        return name
    return normalise_name(name[: NAME_LIMIT - len(allowed[0])] + allowed[0])


# ---------------------------------------------------------------- content


def _office_type(upload) -> str | None:
    try:
        with zipfile.ZipFile(upload) as archive:
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > _CONTENT_TYPES_LIMIT:
                return None
            content = archive.read(info)
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError, NotImplementedError):
        return None
    for content_type, marker in _OFFICE_MAIN.items():
        if marker in content:
            return content_type
    return None


def _text_type(data: bytes, name: str) -> str | None:
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in text):
        return None
    if _MARKUP.search(data):
        return None
    return CSV if name.lower().endswith(".csv") else TEXT


def detect(upload, head: bytes, name: str) -> str | None:
    """The allowed content type of this file, or None when it is not on the allowlist."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        found = PNG
    elif head.startswith(b"\xff\xd8\xff"):
        found = JPEG
    elif head.startswith((b"GIF87a", b"GIF89a")):
        found = GIF
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        found = WEBP
    elif head.startswith(b"%PDF-"):
        found = PDF
    elif head[4:8] == b"ftyp" and head[8:12] in _MP4_BRANDS:
        found = MP4
    elif head.startswith(b"PK\x03\x04"):
        upload.seek(0)
        return _office_type(upload)
    else:
        upload.seek(0)
        return _text_type(upload.read(), name)
    # A polyglot hides markup behind an allowed header; refuse it outright.
    if _POLYGLOT.search(head):
        return None
    return found


def _digest(upload, limit: int) -> tuple[int, str]:
    upload.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := upload.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        digest.update(chunk)
    return size, digest.hexdigest()


def _too_large(limit: int) -> UploadTooLarge:
    return UploadTooLarge(
        _("A file may be at most %(mb).1f MB.") % {"mb": limit / (1024 * 1024)},
        fields={"files": [_("File too large.")]},
    )


def check_file(upload) -> CheckedFile:
    """Check one upload; raises ValidationFailed (type) or UploadTooLarge (size)."""
    limit = max_bytes()
    declared = getattr(upload, "size", None)
    if isinstance(declared, int) and declared > limit:
        raise _too_large(limit)
    name = normalise_name(getattr(upload, "name", ""))
    size, sha256 = _digest(upload, limit)
    if size == 0:
        raise ValidationFailed(fields={"files": [_("“%(name)s” is empty.") % {"name": name}]})
    upload.seek(0)
    head = upload.read(4096)
    content_type = detect(upload, head, name)
    upload.seek(0)
    if content_type is None:
        raise ValidationFailed(
            _("This type of file is not accepted."),
            code="file_type",
            fields={
                "files": [
                    _(
                        "“%(name)s”: only images (PNG, JPEG, GIF, WebP), PDF, MP4 video, "
                        "plain text, CSV, Word and Excel files are accepted."
                    )
                    % {"name": name}
                ]
            },
        )
    return CheckedFile(
        upload=upload,
        name=_label(name, content_type),
        content_type=content_type,
        size=size,
        sha256=sha256,
    )


def check_files(files) -> list[CheckedFile]:
    """Check every file before any is stored: one bad file refuses the whole request."""
    files = list(files or ())
    if len(files) > MAX_FILES:
        raise ValidationFailed(
            _("At most %(n)d files at a time.") % {"n": MAX_FILES},
            code="too_many_files",
            fields={"files": [_("At most %(n)d files at a time.") % {"n": MAX_FILES}]},
        )
    return [check_file(f) for f in files]


def as_upload(data: bytes, name: str):
    """A file-like upload from bytes (for imports, email intake and tests)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


__all__ = [
    "MAX_FILES",
    "CheckedFile",
    "UploadTooLarge",
    "as_upload",
    "check_file",
    "check_files",
    "max_bytes",
    "normalise_name",
]
