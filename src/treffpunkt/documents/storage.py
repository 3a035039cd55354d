"""Where private files live: under ``PRIVATE_FILES_DIR``, outside static and media.

Two storages through Django's Storage API, one directory each: ``documents`` (issued letters
and invoices) and ``attachments`` (files sent with messages). No web server serves these
directories and the storages hand out no URL: a file leaves only through code that checked who
asks (a download view, a mail attachment). Another backend (object storage) can take the
aliases' place in ``STORAGES`` without touching the code that uses them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages

ALIAS = "documents"


class PrivateStorage(FileSystemStorage):
    """A file system storage under ``PRIVATE_FILES_DIR/<subdirectory>``.

    The directory is read from the settings each time it is used, not when the storage is
    made, so a changed ``PRIVATE_FILES_DIR`` (tests give each run its own) is followed.
    """

    def __init__(self, *, subdirectory: str, **options: Any) -> None:
        super().__init__(**options)
        self.subdirectory = subdirectory

    @property
    def base_location(self) -> str:
        return str(Path(settings.PRIVATE_FILES_DIR) / self.subdirectory)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise ValueError("private files have no public address; serve them through a checked view")


class DocumentStorage(PrivateStorage):
    def __init__(self, **options: Any) -> None:
        super().__init__(subdirectory="documents", **options)


def document_storage() -> Storage:
    """The storage configured as ``STORAGES["documents"]``, looked up when used."""
    return storages[ALIAS]


def attachment_storage() -> Storage:
    """The storage configured as ``STORAGES["attachments"]`` (files sent with messages)."""
    return storages["attachments"]
