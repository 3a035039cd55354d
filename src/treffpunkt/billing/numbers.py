"""Invoice numbers: "RE-2027-00001", sequential and gapless per prefix and year.

The number is taken in the issuing transaction from a counter row read under a row lock
(``SELECT … FOR UPDATE``). Parallel issuers queue on that row; a transaction that fails rolls the
counter back with everything else, so no number is skipped and none is given twice (the unique
constraint on ``Invoice.number`` would refuse a second one anyway). On SQLite the whole database
is locked by a writer, which serializes issuers the same way."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from treffpunkt.billing.models import NUMBER_PREFIXES, InvoiceKind, InvoiceSequence


def next_number(kind: str, year: int) -> str:
    """The next number of ``kind`` in ``year``. Must run inside the issuing transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("an invoice number is taken only inside the issuing transaction")
    prefix = NUMBER_PREFIXES[InvoiceKind(kind)]
    sequence = _locked_sequence(prefix, year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return f"{prefix}-{year}-{sequence.last:05d}"


def _locked_sequence(prefix: str, year: int) -> InvoiceSequence:
    found = InvoiceSequence.objects.select_for_update().filter(prefix=prefix, year=year).first()
    if found is not None:
        return found
    try:
        # The first invoice of a year makes the row; a parallel first one waits for it.
        with transaction.atomic():
            InvoiceSequence.objects.create(prefix=prefix, year=year, last=0)
    except IntegrityError:
        pass
    return InvoiceSequence.objects.select_for_update().get(prefix=prefix, year=year)
