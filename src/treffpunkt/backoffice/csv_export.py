"""CSV files of a list page, made for Excel as German offices use it.

- UTF-8 with a byte order mark: without it, Excel reads the file as Windows-1252 and turns
  "Müller" into "MÃ¼ller".
- ``;`` between fields: German Excel takes the list separator from the regional settings,
  where the comma is the decimal sign; a comma-separated file opens as one column. Numbers
  with decimals are written with a comma for the same reason.
- Text that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which Excel
  skips before them) gets a leading single quote, so that Excel shows it as text instead of
  running it as a formula (CSV injection: a display name like ``=HYPERLINK(...)`` typed by a
  member must stay a name). Numbers are not text and keep their sign.
- Rows are read and written in chunks while the response is sent, so a large export needs
  neither the whole result in memory nor a long wait before the first byte.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal
from itertools import islice
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from treffpunkt.backoffice.listing import Column

BOM = "\ufeff"
SEPARATOR = ";"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_QUERY = 2000
LINES_PER_CHUNK = 500


def guarded(text: str) -> str:
    """Text that Excel would take for a formula, made plain text."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, Decimal | float):
        return str(value).replace(".", ",")
    if isinstance(value, datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        # Year first: Excel reads it as a date in every language, and it sorts as text.
        return local.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {_text(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_text(item) for item in value)
    return str(value)


def csv_value(value: object) -> str:
    """A value as one CSV field. Numbers keep their sign; everything else is text, guarded."""
    if isinstance(value, int | Decimal | float) and not isinstance(value, bool):
        return _text(value)
    return guarded(_text(value))


class _Line:
    """What ``csv.writer`` writes to: hands each line back instead of storing it."""

    def write(self, line: str) -> str:
        return line


class CsvExport:
    """The lines of one export: a byte order mark and the header, then one line per row."""

    def __init__(
        self,
        columns: Sequence[Column[Any]],
        rows: models.QuerySet[Any],
        *,
        language: str,
        zone: tzinfo,
    ) -> None:
        self.columns = columns
        self.rows = rows
        # The response is sent after the view returned: the reader's language and time zone
        # are set again around every chunk.
        self.language = language
        self.zone = zone

    def _lines(self) -> Iterator[str]:
        writer = csv.writer(_Line(), delimiter=SEPARATOR, lineterminator="\r\n")
        yield BOM + writer.writerow([guarded(str(column.label)) for column in self.columns])
        for obj in self.rows.iterator(chunk_size=ROWS_PER_QUERY):
            yield writer.writerow([csv_value(column.value(obj)) for column in self.columns])

    def _next_chunk(self, lines: Iterator[str]) -> str:
        with translation.override(self.language), timezone.override(self.zone):
            return "".join(islice(lines, LINES_PER_CHUNK))

    def __iter__(self) -> Iterator[str]:
        lines = self._lines()
        while chunk := self._next_chunk(lines):
            yield chunk

    async def aiter(self) -> AsyncIterator[str]:
        lines = self._lines()
        # Thread-sensitive: every chunk runs in the request's one sync thread, which holds the
        # database connection and the open cursor of the query.
        next_chunk = sync_to_async(self._next_chunk, thread_sensitive=True)
        while chunk := await next_chunk(lines):
            yield chunk
