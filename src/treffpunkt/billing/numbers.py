"""Invoice numbers: "RE-2027-00001", sequential and gapless per prefix and year.

The number is taken in the issuing transaction from a counter row counted up in place
(``UPDATE … RETURNING``, which holds the row's lock until the transaction ends). Parallel
issuers queue on that row; a transaction that fails rolls the counter back with everything
else, so no number is skipped and none is given twice (the unique constraint on
``Invoice.number`` would refuse a second one anyway). On SQLite the whole database
is locked by a writer, which serializes issuers the same way."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from treffpunkt.billing.models import NUMBER_PREFIXES, InvoiceKind, InvoiceSequence


def next_number(kind: str, year: int) -> str:
    """The next number of ``kind`` in ``year``. Must run inside the issuing transaction."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("an invoice number is taken only inside the issuing transaction")
    prefix = NUMBER_PREFIXES[InvoiceKind(kind)]
    last = _counted_up(prefix, year)
    if last is None:
        try:
            # The first invoice of a year makes the row; a parallel first one waits for it.
            with transaction.atomic():
                InvoiceSequence.objects.create(prefix=prefix, year=year, last=0)
        except IntegrityError:
            pass
        last = _counted_up(prefix, year)
    if last is None:  # pragma: no cover - the row was made just above
        raise RuntimeError(f"no invoice counter for {prefix} {year}")
    return f"{prefix}-{year}-{last:05d}"


def _counted_up(prefix: str, year: int) -> int | None:
    """Count the year's counter up by one and return it, in one statement that takes the
    row's lock (PostgreSQL and SQLite 3.35+ both know ``RETURNING``); ``None`` without a row."""
    table = InvoiceSequence._meta.db_table
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" SET "last" = "last" + 1 '  # noqa: S608  # the model's own table
            'WHERE "prefix" = %s AND "year" = %s RETURNING "last"',
            [prefix, year],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None
