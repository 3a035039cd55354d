"""``manage.py export_datev --from 2027-01-01 --to 2027-03-31 --out PATH``: the DATEV
Buchungsstapel of the period (one fiscal year at most) written to PATH; when PATH is a
directory, into it under DATEV's file name (``EXTF_Buchungsstapel_<from>_<to>.csv``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from treffpunkt.billing import datev


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {text!r}") from None


class Command(BaseCommand):
    help = "Write the DATEV Buchungsstapel (EXTF, Windows-1252) of a period to a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="date_from", required=True, help="YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", required=True, help="YYYY-MM-DD")
        parser.add_argument("--out", required=True, help="a file, or a directory to write into")

    def handle(self, *args: Any, **options: Any) -> None:
        date_from, date_to = _day(options["date_from"]), _day(options["date_to"])
        try:
            header = datev.header_from_settings(date_from=date_from, date_to=date_to)
            content = datev.export_file(date_from=date_from, date_to=date_to)
        except datev.DatevError as exc:
            raise CommandError(str(exc)) from None
        out = Path(options["out"])
        if out.is_dir():
            out = out / datev.file_name(header)
        out.write_bytes(content)
        lines = content.count(b"\r\n")
        self.stdout.write(f"{out}: {max(lines - 2, 0)} bookings")
