"""Typst templates and JSON data in, PDF/A-3b bytes out (also PDF/UA-1: tagged, titled).

Data reaches a template only as one JSON string in ``sys.inputs.document``; the template
decodes it and shows its strings as text. Nothing from the data is ever written into Typst
source, so text such as ``#set page(width: 1cm)`` or ``*bold*`` prints as those characters
and cannot change the document.

Fonts: only those built into the ``typst`` package (Libertinus Serif, New Computer Modern,
DejaVu Sans Mono); system fonts are ignored, so a document looks the same on every machine
and needs no font installed. PDF/A forbids text the font cannot show; such text is refused
with ``UnprintableText`` rather than printed as empty boxes.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, NotRequired, TypedDict

import typst
from django.utils.translation import gettext as _

from treffpunkt.core.errors import DomainError

logger = logging.getLogger(__name__)

TEMPLATE_DIR: Final = Path(__file__).resolve().parent / "templates" / "documents"
# PDF/A-3b: archivable, and it may carry other files (the XML of an e-invoice). PDF/UA-1:
# tagged and titled for screen readers. Typst checks both while it writes the file.
PDF_STANDARDS: Final[list[typst.PDFStandard]] = ["a-3b", "ua-1"]
LANGUAGES: Final = ("de", "en")

TEMPLATE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,59}")
# Names of embedded files: a plain file name (e-invoice standards prescribe fixed ones such as
# "factur-x.xml" or "xrechnung.xml").
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
# Typst names the first character it could not show in its error message.
MISSING_GLYPH = re.compile(r'the text `"(.+?)"` could not be displayed')


class Relationship(StrEnum):
    """How an embedded file relates to the visible document (the AFRelationship PDF/A-3
    requires on every embedded file). ZUGFeRD/Factur-X XML is ``alternative``."""

    SOURCE = "source"
    DATA = "data"
    ALTERNATIVE = "alternative"
    SUPPLEMENT = "supplement"


@dataclass(frozen=True)
class EmbeddedFile:
    """A file carried inside the PDF, returned byte for byte by any PDF reader."""

    filename: str
    content: bytes
    mimetype: str
    description: str = ""
    relationship: Relationship = Relationship.DATA


@dataclass(frozen=True)
class Meta:
    """What every template gets besides its data."""

    title: str
    language: str
    reference: str
    issued_on: date
    created_at: datetime


class Address(TypedDict):
    lines: list[str]


class Sender(TypedDict):
    name: str
    lines: list[str]


class LineTable(TypedDict):
    columns: list[str]
    rows: list[list[str]]
    align: NotRequired[list[str]]  # "left", "right" or "center" per column
    totals: NotRequired[list[list[str]]]


class LetterData(TypedDict):
    """The data of ``letter.typ``. All texts are already in the letter's language; amounts
    arrive formatted (``core.money`` formats them)."""

    sender: Sender
    recipient: Address
    subject: str
    paragraphs: list[str]
    salutation: NotRequired[str]
    table: NotRequired[LineTable]
    closing: NotRequired[str]
    signature: NotRequired[str]
    place: NotRequired[str]


class UnprintableText(DomainError):
    """The text holds a character none of the document fonts has (an emoji, CJK script)."""


class RenderingFailed(RuntimeError):
    """The template could not be compiled: a bug in a template or in the data's shape."""


def render(
    *,
    template: str,
    data: Mapping[str, Any],
    meta: Meta,
    files: Sequence[EmbeddedFile] = (),
) -> bytes:
    """The PDF of ``templates/documents/<template>.typ`` filled with ``data``.

    The same template, data, meta and files give the same bytes.
    """
    if meta.language not in LANGUAGES:
        raise ValueError(f"documents are written in {', '.join(LANGUAGES)}, not {meta.language}")
    if not meta.title.strip():
        raise ValueError("a document needs a title (PDF/UA shows it instead of the file name)")
    document = {
        "meta": _meta_json(meta),
        "data": printable(data),
        "files": [_file_json(item) for item in files],
    }
    try:
        with _lock:
            pdf, warnings = _compiler(template).compile_with_warnings(
                format="pdf",
                sys_inputs={"document": json.dumps(document, ensure_ascii=False)},
                pdf_standards=PDF_STANDARDS,
                # The PDF's creation date; Typst takes whole seconds at a fixed offset.
                timestamp=meta.created_at.astimezone(UTC).replace(microsecond=0),
            )
    except typst.TypstError as error:
        raise _explained(error) from error
    for warning in warnings:  # a template that needs attention, not a failed document
        logger.warning("document template %s: %s", template, warning.message)
    if not isinstance(pdf, bytes):  # a single PDF, never pages or a file written elsewhere
        raise RenderingFailed(f"typst returned {type(pdf).__name__} instead of PDF bytes")
    return pdf


def printable(value: Any) -> Any:
    """``value`` with control characters taken out of its strings (they print as nothing, and
    PDF/A refuses them); line breaks stay, tabs and other breaks become spaces or newlines."""
    if isinstance(value, str):
        return _printable_text(value)
    if isinstance(value, Mapping):
        return {str(key): printable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [printable(item) for item in value]
    return value


# Unicode's categories Cc (control characters: C0, DEL, C1) and Cs (surrogates), without the
# line feed; one pattern instead of asking for each character's category (an invoice's data
# holds thousands of characters, the GiroCode's SVG most of them).
_UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _printable_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _UNPRINTABLE.sub("", text)


def _meta_json(meta: Meta) -> dict[str, str]:
    return {
        "title": _printable_text(meta.title),
        "language": meta.language,
        "reference": meta.reference,
        "date": meta.issued_on.isoformat(),
    }


def _file_json(item: EmbeddedFile) -> dict[str, Any]:
    """An embedded file as JSON. Typst's inputs are strings: UTF-8 content (XML, CSV) goes as
    text, which Typst turns back into the same bytes; anything else as a list of byte values."""
    if not FILE_NAME.fullmatch(item.filename):
        raise ValueError(f"not a plain file name: {item.filename!r}")
    encoded: dict[str, Any] = {
        "name": item.filename,
        "mimetype": item.mimetype,
        "description": item.description or item.filename,
        "relationship": str(item.relationship),
    }
    try:
        encoded["text"] = item.content.decode("utf-8")
    except UnicodeDecodeError:
        encoded["octets"] = list(item.content)
    return encoded


# One compiler per template keeps the parsed template and the loaded fonts between documents
# (about a third of the time of a fresh compile). A compiler is not for two threads at once.
_lock = threading.Lock()
_compilers: dict[str, typst.Compiler] = {}


def template_path(template: str) -> Path:
    path = TEMPLATE_DIR / f"{template}.typ"
    if not TEMPLATE_NAME.fullmatch(template) or not path.is_file():
        raise ValueError(f"no document template {template!r} in {TEMPLATE_DIR}")
    return path


def _compiler(template: str) -> typst.Compiler:
    compiler = _compilers.get(template)
    if compiler is None:
        compiler = typst.Compiler(
            template_path(template), root=TEMPLATE_DIR, ignore_system_fonts=True
        )
        _compilers[template] = compiler
    return compiler


def _explained(error: typst.TypstError) -> Exception:
    missing = MISSING_GLYPH.search(error.message)
    if missing is not None:
        return UnprintableText(
            _("The character “%(char)s” cannot be printed in a document.")
            % {"char": missing.group(1)},
            code="unprintable_text",
        )
    return RenderingFailed(f"{error.message}\n{error.diagnostic}")
