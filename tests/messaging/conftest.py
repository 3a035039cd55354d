"""Message fixtures: a topic of the world's organization, a general inquiry of the world's
member on it, and small but genuine PDF, PNG and JPEG files for attachments."""

from __future__ import annotations

import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import World
from treffpunkt.messaging import services
from treffpunkt.messaging.models import Conversation, InquiryTopic

FIRST_QUESTION = "Welche Unterlagen brauche ich für die Haushaltshilfe?"


def pdf_bytes(padding: int = 0) -> bytes:
    body = b"1 0 obj\n<< /Type /Catalog >>\nendobj\n" + b"%" + b"x" * padding + b"\n"
    return b"%PDF-1.4\n" + body + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


def png_bytes() -> bytes:
    """A real 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    """Start of image, a JFIF header, end of image: what the content check looks at."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\xff\xd9"


def upload(
    name: str, content: bytes, content_type: str = "application/octet-stream"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def topic(world: World) -> InquiryTopic:
    return services.add_topic(admin=world.org_admin, name="Leistungen und Anträge")


@pytest.fixture
def inquiry(world: World, topic: InquiryTopic) -> Conversation:
    return services.start_inquiry(member=world.member, topic=topic, text=FIRST_QUESTION)
