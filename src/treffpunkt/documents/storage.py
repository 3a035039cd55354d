"""Where document files live: ``PRIVATE_FILES_DIR/documents``, outside static and media.

No web server serves this directory and the storage hands out no URL: a document leaves only
through code that checked who asks (a download view, a mail attachment).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages

ALIAS = "documents"


class DocumentStorage(FileSystemStorage):
    """A file system storage under ``PRIVATE_FILES_DIR/documents``.

    The directory is read from the settings each time it is used, not when the storage is
    made, so a changed ``PRIVATE_FILES_DIR`` (tests give each run its own) is followed.
    """

    @property
    def base_location(self) -> str:
        return str(Path(settings.PRIVATE_FILES_DIR) / "documents")

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise ValueError("documents have no public address; serve them through a checked view")


def document_storage() -> Storage:
    """The storage configured as ``STORAGES["documents"]``, looked up when used."""
    return storages[ALIAS]
