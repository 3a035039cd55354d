"""Attachments (P-MSG-1): PDF, JPEG and PNG up to 10 MB, up to five per message, the type
checked from the content and never from the name, stored outside the public static and media
paths, downloadable only by the conversation's participants, always as a download."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms import FileField
from django.http import HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.accounts.test_access_by_role import ROLES, check
from tests.conftest import World, client_for
from tests.messaging.conftest import jpeg_bytes, pdf_bytes, png_bytes, upload
from tests.messaging.test_message_access import PARTICIPANTS, private_files
from treffpunkt.core.errors import DomainError
from treffpunkt.core.models import AuditEntry
from treffpunkt.messaging import files, services
from treffpunkt.messaging.models import Attachment, Conversation, InquiryTopic, Message

pytestmark = pytest.mark.django_db

TEN_MB = 10 * 1024 * 1024  # the limit the page states ("up to 10 MB"), in bytes
PDF_TYPE, JPEG_TYPE, PNG_TYPE = "application/pdf", "image/jpeg", "image/png"


# --- helpers ---------------------------------------------------------------------------------


class RawUpload(io.BytesIO):
    """An upload with the sender's name exactly as given. (Django's own upload classes strip
    path parts on the way in; the service must not rely on that.)"""

    def __init__(self, name: str, content: bytes) -> None:
        super().__init__(content)
        self.name = name
        self.size: int | None = len(content)


def pdf_of_size(size: int) -> bytes:
    """A genuine-looking PDF of exactly ``size`` bytes (padding inside a comment line)."""
    content = pdf_bytes(padding=size - len(pdf_bytes()))
    assert len(content) == size
    return content


def conversation_page(conversation: Conversation) -> str:
    return reverse("messaging:conversation", args=[conversation.pk])


def download_url(attachment: Attachment) -> str:
    return reverse("messaging:attachment", args=[attachment.message.conversation_id, attachment.pk])


def in_german(message: str, **values: Any) -> str:
    """The refusal as the (German-speaking) member reads it."""
    with translation.override("de"):
        return gettext(message) % values


@dataclass(frozen=True)
class Written:
    conversations: int
    messages: int
    attachments: int
    audit: int
    files: frozenset[str]


def written() -> Written:
    return Written(
        conversations=Conversation.objects.count(),
        messages=Message.objects.count(),
        attachments=Attachment.objects.count(),
        audit=AuditEntry.objects.count(),
        files=private_files(),
    )


def assert_refused_on_the_page(response: HttpResponse, error: str) -> None:
    """400, the reason next to the file field (and on the page), nothing stored."""
    assert response.status_code == 400
    assert error in response.context["form"].errors["attachments"]
    assert escape(error) in response.content.decode()


def body(response: HttpResponse) -> bytes:
    content = response.getvalue()
    response.close()
    return content


# --- uploading -------------------------------------------------------------------------------


def test_a_member_attaches_a_pdf_a_jpeg_and_a_png_on_the_conversation_page(
    world: World, inquiry: Conversation
):
    contents = {"befund.pdf": pdf_bytes(), "foto.jpg": jpeg_bytes(), "scan.png": png_bytes()}
    response = client_for(world.member).post(
        conversation_page(inquiry),
        {
            "text": "Die Unterlagen",
            "attachments": [upload(name, content) for name, content in contents.items()],
        },
    )

    message = Message.objects.latest("pk")
    assert response.status_code == 302
    assert response["Location"] == f"{inquiry.get_absolute_url()}#nachricht-{message.pk}"
    assert message.author == world.member
    stored = list(message.attachments.all())
    assert [(a.file_name, a.content_type, a.size) for a in stored] == [
        ("befund.pdf", PDF_TYPE, len(contents["befund.pdf"])),
        ("foto.jpg", JPEG_TYPE, len(contents["foto.jpg"])),
        ("scan.png", PNG_TYPE, len(contents["scan.png"])),
    ]
    for item in stored:
        assert files.path_of(item.stored_name).read_bytes() == contents[item.file_name]
    # The page shows them, linked to the download.
    page = client_for(world.staff).get(conversation_page(inquiry)).content.decode()
    for item in stored:
        assert download_url(item) in page
        assert item.file_name in page


def test_a_message_may_be_only_files(world: World, inquiry: Conversation):
    response = client_for(world.staff).post(
        conversation_page(inquiry), {"text": "", "attachments": [upload("a.pdf", pdf_bytes())]}
    )
    assert response.status_code == 302
    message = Message.objects.latest("pk")
    assert message.text == ""
    assert message.attachments.count() == 1


def test_staff_attach_files_through_the_service(world: World, inquiry: Conversation):
    posted = services.post_message(
        author=world.staff,
        conversation=inquiry,
        text="Das Formular",
        uploads=[upload("formular.pdf", pdf_bytes()), upload("plan.png", png_bytes())],
    )

    assert [(a.file_name, a.content_type) for a in posted.attachments] == [
        ("formular.pdf", PDF_TYPE),
        ("plan.png", PNG_TYPE),
    ]
    assert list(posted.message.attachments.all()) == posted.attachments
    entry = AuditEntry.objects.filter(code="messaging.message.posted").latest("pk")
    assert entry.data["attachments"] == 2


def test_five_files_in_one_message_are_accepted(world: World, inquiry: Conversation):
    uploads = [upload(f"seite-{n}.pdf", pdf_bytes(padding=n)) for n in range(5)]
    response = client_for(world.member).post(
        conversation_page(inquiry), {"text": "Fünf Seiten", "attachments": uploads}
    )
    assert response.status_code == 302
    assert Message.objects.latest("pk").attachments.count() == 5


def test_six_files_in_one_message_are_refused(world: World, inquiry: Conversation):
    before = written()
    uploads = [upload(f"seite-{n}.pdf", pdf_bytes(padding=n)) for n in range(6)]
    response = client_for(world.member).post(
        conversation_page(inquiry), {"text": "Sechs Seiten", "attachments": uploads}
    )

    assert_refused_on_the_page(response, in_german("At most %(count)d files per message.", count=5))
    assert written() == before

    with pytest.raises(DomainError) as refused:
        services.post_message(
            author=world.member,
            conversation=inquiry,
            text="",
            uploads=[upload(f"s{n}.png", png_bytes()) for n in range(6)],
        )
    assert refused.value.code == "too_many_files"
    assert written() == before


# --- the type comes from the content -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type", "shown_as"),
    [
        pytest.param("scan.png", pdf_bytes(), PDF_TYPE, "scan.pdf", id="pdf-named-png"),
        pytest.param("bescheid.jpg", pdf_bytes(), PDF_TYPE, "bescheid.pdf", id="pdf-named-jpg"),
        pytest.param("foto.jpg", png_bytes(), PNG_TYPE, "foto.png", id="png-named-jpg"),
        pytest.param("foto.pdf", jpeg_bytes(), JPEG_TYPE, "foto.jpg", id="jpeg-named-pdf"),
        pytest.param("bild", jpeg_bytes(), JPEG_TYPE, "bild.jpg", id="jpeg-without-extension"),
        pytest.param("BEFUND.PDF", pdf_bytes(), PDF_TYPE, "BEFUND.pdf", id="upper-case-pdf"),
    ],
)
def test_the_type_and_extension_come_from_the_content_not_the_name(
    world: World,
    inquiry: Conversation,
    name: str,
    content: bytes,
    content_type: str,
    shown_as: str,
):
    # The browser's claim about the type does not count either.
    sent = upload(name, content, content_type="text/html")
    response = client_for(world.member).post(conversation_page(inquiry), {"attachments": [sent]})

    assert response.status_code == 302
    item = Attachment.objects.latest("pk")
    assert (item.file_name, item.content_type) == (shown_as, content_type)
    assert item.stored_name.endswith("." + shown_as.rsplit(".", 1)[1])
    download = client_for(world.staff).get(download_url(item))
    assert download["Content-Type"] == content_type
    assert download["Content-Disposition"] == f'attachment; filename="{shown_as}"'
    assert body(download) == content


NOT_ALLOWED = [
    pytest.param(b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200 + b"This program", id="windows-exe"),
    pytest.param(b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200, id="elf-executable"),
    pytest.param(b"<!doctype html><script>alert(document.cookie)</script>", id="html"),
    pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", id="svg"),
    pytest.param("Liebe Grüße, hier mein Befund".encode(), id="text"),
    pytest.param(b"<html><script>alert(1)</script>\n" + pdf_bytes(), id="html-glued-before-pdf"),
    pytest.param(pdf_bytes()[:-7], id="pdf-without-its-end"),
    pytest.param(b"\x89PNG\r\n\x1a\n<script>alert(1)</script>", id="png-signature-then-html"),
    pytest.param(b"PK\x03\x04" + b"\x00" * 100, id="zip-or-office-document"),
]


@pytest.mark.parametrize("content", NOT_ALLOWED)
def test_a_file_that_is_no_pdf_jpeg_or_png_is_refused_whatever_its_name(
    world: World, inquiry: Conversation, content: bytes
):
    before = written()
    conversation_before = Conversation.objects.values().get(pk=inquiry.pk)

    response = client_for(world.member).post(
        conversation_page(inquiry),
        {"text": "Anbei", "attachments": [upload("befund.pdf", content, PDF_TYPE)]},
    )

    assert_refused_on_the_page(
        response,
        in_german("The file “%(name)s” is not a PDF, JPEG or PNG file.", name="befund.pdf"),
    )
    # No message, no attachment, no file, no audit entry; the conversation is as it was.
    assert written() == before
    assert Conversation.objects.values().get(pk=inquiry.pk) == conversation_before
    # What was typed is kept, so the member need not write it again.
    assert response.context["form"]["text"].value() == "Anbei"


@pytest.mark.parametrize("content", NOT_ALLOWED)
def test_the_service_refuses_such_a_file_too(world: World, inquiry: Conversation, content: bytes):
    before = written()
    with pytest.raises(DomainError) as refused:
        services.post_message(
            author=world.staff,
            conversation=inquiry,
            text="Anbei",
            uploads=[upload("formular.pdf", content)],
        )
    assert refused.value.code == "file_type"
    assert written() == before


def test_one_bad_file_refuses_the_whole_message_and_keeps_none_of_its_files(
    world: World, inquiry: Conversation
):
    before = written()
    uploads = [
        upload("gut.pdf", pdf_bytes()),
        upload("gut.png", png_bytes()),
        upload("boese.pdf", b"<html>nein</html>"),
    ]
    response = client_for(world.member).post(
        conversation_page(inquiry), {"text": "Drei", "attachments": uploads}
    )
    assert_refused_on_the_page(
        response, in_german("The file “%(name)s” is not a PDF, JPEG or PNG file.", name="boese.pdf")
    )
    assert written() == before


def test_a_message_refused_after_its_files_were_written_leaves_no_file_behind(
    world: World, inquiry: Conversation, settings: SettingsWrapper
):
    """The rate limit is checked inside the transaction, after the files are on disk."""
    settings.MESSAGES_PER_MINUTE = 1
    services.post_message(author=world.staff, conversation=inquiry, text="Eins")
    before = written()

    with pytest.raises(DomainError) as refused:
        services.post_message(
            author=world.staff,
            conversation=inquiry,
            text="Zwei",
            uploads=[upload("a.pdf", pdf_bytes()), upload("b.png", png_bytes())],
        )

    assert refused.value.code == "too_fast"
    assert written() == before


def test_a_bad_file_on_a_new_inquiry_opens_no_conversation(world: World, topic: InquiryTopic):
    before = written()
    response = client_for(world.member).post(
        reverse("messaging:new"),
        {
            "topic": topic.pk,
            "text": "Meine Frage",
            "attachments": [upload("frage.pdf", b"#!/bin/sh\nrm -rf /\n")],
        },
    )
    error = in_german("The file “%(name)s” is not a PDF, JPEG or PNG file.", name="frage.pdf")
    assert error in response.context["form"].errors["attachments"]
    assert written() == before


def test_a_bad_file_on_a_new_inquiry_is_answered_with_400(world: World, topic: InquiryTopic):
    response = client_for(world.member).post(
        reverse("messaging:new"),
        {"topic": topic.pk, "text": "Frage", "attachments": [upload("f.pdf", b"<html>")]},
    )
    assert response.status_code == 400


# --- size ----------------------------------------------------------------------------------


def test_a_file_of_exactly_10_mb_is_accepted(world: World, inquiry: Conversation):
    content = pdf_of_size(TEN_MB)
    response = client_for(world.member).post(
        conversation_page(inquiry), {"attachments": [upload("gross.pdf", content)]}
    )
    assert response.status_code == 302
    item = Attachment.objects.latest("pk")
    assert item.size == TEN_MB
    assert item.sha256 == hashlib.sha256(content).hexdigest()
    assert files.path_of(item.stored_name).stat().st_size == TEN_MB


def test_a_file_over_10_mb_is_refused(world: World, inquiry: Conversation):
    before = written()
    response = client_for(world.member).post(
        conversation_page(inquiry),
        {"text": "Zu groß", "attachments": [upload("riesig.pdf", pdf_of_size(TEN_MB + 1))]},
    )
    assert_refused_on_the_page(
        response, in_german("The file “%(name)s” is larger than 10 MB.", name="riesig.pdf")
    )
    assert written() == before


def test_the_service_refuses_a_file_over_10_mb_without_reading_it(
    world: World, inquiry: Conversation
):
    class Huge(RawUpload):
        """Claims 1 GB; reading it would fail the test."""

        def read(self, size: int | None = -1) -> bytes:
            raise AssertionError("a file over the limit is refused by its size alone")

    before = written()
    huge = Huge("riesig.pdf", b"")
    huge.size = 1024 * TEN_MB
    with pytest.raises(DomainError) as refused:
        services.post_message(author=world.member, conversation=inquiry, text="", uploads=[huge])
    assert refused.value.code == "file_too_large"
    assert written() == before


def test_an_empty_file_is_refused(world: World, inquiry: Conversation):
    before = written()
    response = client_for(world.member).post(
        conversation_page(inquiry), {"text": "Leer", "attachments": [upload("leer.pdf", b"")]}
    )
    with translation.override("de"):
        error = str(FileField.default_error_messages["empty"])
    assert_refused_on_the_page(response, error)
    assert written() == before

    with pytest.raises(DomainError) as refused:
        services.post_message(
            author=world.member,
            conversation=inquiry,
            text="",
            uploads=[SimpleUploadedFile("leer.pdf", b"")],
        )
    assert refused.value.code == "file_empty"
    assert written() == before


# --- where the files live --------------------------------------------------------------------


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def _public_roots() -> list[Path]:
    """Every directory the site serves files from: static, its sources, and media if set."""
    from django.contrib.staticfiles import finders

    roots = [Path(settings.STATIC_ROOT)]
    for finder in finders.get_finders():
        for _path, storage in finder.list([]):
            roots.append(Path(storage.location))
    if settings.MEDIA_ROOT:
        roots.append(Path(settings.MEDIA_ROOT))
    return sorted(set(roots))


def _serves_files_itself(patterns: list[Any] | None = None) -> bool:
    """Whether some URL pattern serves a directory (Django's static/media ``serve`` view)."""
    from django.urls import get_resolver
    from django.views import static

    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if hasattr(pattern, "url_patterns"):
            if _serves_files_itself(pattern.url_patterns):
                return True
        elif getattr(pattern, "callback", None) is static.serve:
            return True
    return False


def test_files_are_stored_under_the_private_files_dir_and_nowhere_public(
    world: World, inquiry: Conversation
):
    content = pdf_bytes(padding=123)
    posted = services.post_message(
        author=world.member,
        conversation=inquiry,
        text="",
        uploads=[upload("befund.pdf", content)],
    )
    item = posted.attachments[0]
    path = files.path_of(item.stored_name)
    private = Path(settings.PRIVATE_FILES_DIR)

    assert path.read_bytes() == content
    assert _inside(path, private)
    # Under a random name, not the sender's.
    assert "befund" not in item.stored_name
    assert len(item.stored_name.split(".")[0]) == 32
    # Neither the file nor the private directory lies in a public one (nor the other way round).
    if not settings.MEDIA_ROOT:
        assert not _serves_files_itself()  # no media directory is served at all
    for public in _public_roots():
        assert not _inside(path, public), public
        assert not _inside(private, public), public
        assert not _inside(public, private), public
    # And no URL serves it except the download view.
    client = client_for(world.member)
    for guess in (
        f"{settings.STATIC_URL}{item.stored_name}",
        f"{settings.STATIC_URL}attachments/{item.stored_name}",
        f"/media/{item.stored_name}",
        f"/private/attachments/{item.stored_name}",
        f"/var/private/attachments/{item.stored_name}",
    ):
        assert client.get(guess).status_code == 404, guess


# --- downloading ---------------------------------------------------------------------------


@pytest.fixture
def sent_file(world: World, inquiry: Conversation) -> tuple[Attachment, bytes]:
    content = pdf_bytes(padding=321)
    posted = services.post_message(
        author=world.member,
        conversation=inquiry,
        text="Der Befund",
        uploads=[upload("befund.pdf", content)],
    )
    return posted.attachments[0], content


@pytest.mark.parametrize("role", ROLES)
def test_each_role_downloads_exactly_as_it_should(
    world: World, sent_file: tuple[Attachment, bytes], role: str
):
    item, content = sent_file
    url = download_url(item)
    response = client_for(None if role == "anonymous" else world.people[role]).get(url)

    expected = PARTICIPANTS[role]
    check(response, expected, path=url)
    if expected.status == 200:
        assert response["Content-Disposition"] == 'attachment; filename="befund.pdf"'
        assert response["Content-Type"] == PDF_TYPE
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Length"] == str(len(content))
        assert "no-store" in response["Cache-Control"]
        assert body(response) == content
    else:
        assert b"%PDF" not in response.content
        assert world.member.display_name not in response.content.decode()


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        pytest.param("befund.pdf", pdf_bytes(), PDF_TYPE, id="pdf"),
        pytest.param("foto.jpg", jpeg_bytes(), JPEG_TYPE, id="jpeg"),
        pytest.param("scan.png", png_bytes(), PNG_TYPE, id="png"),
    ],
)
def test_every_kind_is_served_as_a_download_of_its_own_type(
    world: World, inquiry: Conversation, name: str, content: bytes, content_type: str
):
    posted = services.post_message(
        author=world.staff, conversation=inquiry, text="", uploads=[upload(name, content)]
    )
    response = client_for(world.member).get(download_url(posted.attachments[0]))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert body(response) == content


def test_a_name_outside_ascii_is_offered_in_the_encoded_form(world: World, inquiry: Conversation):
    posted = services.post_message(
        author=world.member,
        conversation=inquiry,
        text="",
        uploads=[upload("Überweisung März.pdf", pdf_bytes())],
    )
    response = client_for(world.staff).get(download_url(posted.attachments[0]))
    assert posted.attachments[0].file_name == "Überweisung März.pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%C3%9Cberweisung%20M%C3%A4rz.pdf"
    )
    response.close()


def test_an_attachment_of_another_conversation_is_not_found_under_this_ones_url(
    world: World, topic: InquiryTopic, inquiry: Conversation, sent_file: tuple[Attachment, bytes]
):
    """Even for people who may see both conversations: the pair must belong together."""
    item, _content = sent_file
    second = services.start_inquiry(member=world.member, topic=topic, text="Eine zweite Frage")
    for user in (world.member, world.staff, world.org_admin):
        client = client_for(user)
        assert client.get(download_url(item)).status_code == 200
        mixed = reverse("messaging:attachment", args=[second.pk, item.pk])
        response = client.get(mixed)
        assert response.status_code == 404
        assert b"%PDF" not in response.content
        missing = reverse("messaging:attachment", args=[inquiry.pk, item.pk + 1000])
        assert client.get(missing).status_code == 404


def test_a_stored_file_that_went_missing_is_not_found(
    world: World, sent_file: tuple[Attachment, bytes]
):
    item, _content = sent_file
    files.path_of(item.stored_name).unlink()
    assert client_for(world.member).get(download_url(item)).status_code == 404


# --- names and checksums -------------------------------------------------------------------


FORBIDDEN_IN_NAMES = set('/\\"<>:|?*;') | {"\r", "\n", "\x00", "\t"}


@pytest.mark.parametrize(
    ("sent_as", "shown_as"),
    [
        pytest.param("../../etc/passwd.pdf", "passwd.pdf", id="unix-path"),
        pytest.param("C:\\Users\\mia\\Befund.pdf", "Befund.pdf", id="windows-path"),
        pytest.param("..\\..\\boot.ini.pdf", "boot.ini.pdf", id="windows-relative-path"),
        pytest.param('evil"; filename="x.html.pdf', None, id="header-injection-by-quotes"),
        pytest.param("Be\x00fund\r\nX-Evil: 1.pdf", None, id="control-characters"),
        pytest.param("rechnung\u202efdp.exe.pdf", None, id="right-to-left-override"),
        pytest.param("<script>alert(1)</script>.pdf", None, id="markup"),
        pytest.param("  .versteckt.pdf  ", None, id="leading-dot-and-blanks"),
        pytest.param("../", None, id="only-a-path"),
        pytest.param("a" * 300 + ".pdf", None, id="too-long"),
    ],
)
def test_the_file_name_is_cleaned(
    world: World, inquiry: Conversation, sent_as: str, shown_as: str | None
):
    posted = services.post_message(
        author=world.member,
        conversation=inquiry,
        text="",
        uploads=[RawUpload(sent_as, pdf_bytes())],
    )
    name = Attachment.objects.get(pk=posted.attachments[0].pk).file_name

    if shown_as is not None:
        assert name == shown_as
    assert name.endswith(".pdf")
    assert len(name) > len(".pdf")
    assert len(name) <= Attachment._meta.get_field("file_name").max_length
    assert not FORBIDDEN_IN_NAMES & set(name), name
    assert all(ch.isprintable() for ch in name), name
    assert name == name.strip()
    assert not name.startswith(".")
    # The download header stays one well-formed header.
    response = client_for(world.staff).get(download_url(posted.attachments[0]))
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename")
    assert "\r" not in disposition
    assert "\n" not in disposition
    assert disposition.count('"') in {0, 2}
    response.close()


def test_the_stored_checksum_is_that_of_the_bytes(world: World, inquiry: Conversation):
    contents = [pdf_bytes(padding=77), png_bytes(), jpeg_bytes()]
    posted = services.post_message(
        author=world.member,
        conversation=inquiry,
        text="",
        uploads=[upload(f"datei-{n}", content) for n, content in enumerate(contents)],
    )
    for item, content in zip(posted.attachments, contents, strict=True):
        saved = Attachment.objects.get(pk=item.pk)
        assert saved.sha256 == hashlib.sha256(content).hexdigest()
        assert (
            saved.sha256
            == hashlib.sha256(files.path_of(saved.stored_name).read_bytes()).hexdigest()
        )
        assert saved.size == len(content)
