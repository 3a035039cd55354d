"""Attachment files: what they are (from their bytes, never their name) and where they live.

The files are saved through Django's Storage API (``STORAGES["attachments"]``, by default
``PRIVATE_FILES_DIR/attachments``: outside static and media, served by no web server), each
under a random name with its sha256. Only the download view reads them, after checking access.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol, cast

from django.core.files import File
from django.utils.translation import gettext as _

from treffpunkt.core.errors import DomainError
from treffpunkt.documents.storage import attachment_storage

MAX_BYTES = 10 * 1024 * 1024
MAX_PER_MESSAGE = 5
TAIL_BYTES = 1024

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


class Upload(Protocol):
    """What the service needs of an uploaded file (Django's ``UploadedFile`` has it)."""

    @property
    def name(self) -> str | None: ...
    @property
    def size(self) -> int | None: ...

    def seek(self, offset: int, whence: int = 0) -> int: ...
    def read(self, size: int = -1) -> bytes: ...


@dataclass(frozen=True)
class Kind:
    content_type: str
    extension: str


PDF = Kind("application/pdf", "pdf")
JPEG = Kind("image/jpeg", "jpg")
PNG = Kind("image/png", "png")


def _kind_of(head: bytes, tail: bytes) -> Kind | None:
    """PDF, JPEG or PNG by signature at the start *and* the end marker at the end, so a renamed
    file or a file with something else glued on front is refused."""
    if head.startswith(b"%PDF-") and b"%%EOF" in tail:
        return PDF
    if head.startswith(b"\xff\xd8\xff") and b"\xff\xd9" in tail:
        return JPEG
    if head.startswith(PNG_SIGNATURE) and head[12:16] == b"IHDR" and tail.endswith(PNG_END):
        return PNG
    return None


@dataclass(frozen=True)
class CheckedFile:
    upload: Upload
    kind: Kind
    display_name: str
    size: int


def _display_name(original: str | None, kind: Kind) -> str:
    """The name shown and offered for download: the sender's name without path, control
    characters or odd punctuation, and with the extension of what the file really is."""
    base = re.split(r"[\\/]", original or "")[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = "".join(ch for ch in unicodedata.normalize("NFC", stem) if ch.isprintable())
    stem = re.sub(r'[<>:"|?*;]+', "_", stem).strip(" .")[:100] or _("attachment")
    return f"{stem}.{kind.extension}"


def check_upload(upload: Upload) -> CheckedFile:
    name = upload.name or ""
    size = upload.size or 0
    if size == 0:
        raise DomainError(_("The file “%(name)s” is empty.") % {"name": name}, code="file_empty")
    if size > MAX_BYTES:
        raise DomainError(
            _("The file “%(name)s” is larger than 10 MB.") % {"name": name}, code="file_too_large"
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(max(0, size - TAIL_BYTES))
    tail = upload.read(TAIL_BYTES)
    upload.seek(0)
    kind = _kind_of(head, tail)
    if kind is None:
        raise DomainError(
            _("The file “%(name)s” is not a PDF, JPEG or PNG file.") % {"name": name},
            code="file_type",
        )
    return CheckedFile(upload=upload, kind=kind, display_name=_display_name(name, kind), size=size)


def check_uploads(uploads: list[Upload]) -> list[CheckedFile]:
    if len(uploads) > MAX_PER_MESSAGE:
        raise DomainError(
            _("At most %(count)d files per message.") % {"count": MAX_PER_MESSAGE},
            code="too_many_files",
        )
    return [check_upload(upload) for upload in uploads]


def files_dir() -> Path:
    """Where the attachment storage keeps its files (for a file system storage)."""
    return Path(attachment_storage().path(""))


def path_of(stored_name: str) -> Path:
    return Path(attachment_storage().path(stored_name))


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    sha256: str


def store(checked: CheckedFile) -> StoredFile:
    """Save the bytes through the attachment storage under a new random name, with their hash
    (the caller removes them if its transaction fails)."""
    digest = hashlib.sha256()
    checked.upload.seek(0)
    while chunk := checked.upload.read(64 * 1024):
        digest.update(chunk)
    checked.upload.seek(0)
    wanted = f"{uuid.uuid4().hex}.{checked.kind.extension}"
    # An upload reads and seeks like a file, which is all the storage asks of it.
    readable = cast(IO[bytes], checked.upload)
    stored_name = attachment_storage().save(wanted, File(readable, name=wanted))
    return StoredFile(stored_name=stored_name, sha256=digest.hexdigest())


def open_stored(stored_name: str) -> IO[bytes]:
    """The stored bytes for reading (the caller closes them); FileNotFoundError if gone."""
    return attachment_storage().open(stored_name, "rb")


def remove(stored_names: list[str]) -> None:
    storage = attachment_storage()
    for name in stored_names:
        storage.delete(name)
