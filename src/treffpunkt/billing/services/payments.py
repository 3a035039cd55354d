"""Payments from the bank: importing camt.053 statements and allocating their credits to
invoices (the only write path for ``BankStatement``, ``BankEntry``, ``PaymentAllocation``).

Matching a credit entry, as the import does it:

1. The invoice numbers are read from the remittance text, tolerant of case, spaces, dashes and
   leading zeros: "RE 2027 1", "re-2027-00001" and "RE202700001" all name RE-2027-00001.
   Only invoices (RE) are paid; credit notes (GS) are not.
2. No number, or only numbers of no invoice: the entry is *unmatched*, for the accountant
   (``allocate_by_hand``).
3. Otherwise the amount goes to the invoices named, earliest due date first (then issue date,
   then number), each getting at most its open amount (gross − its credit notes − what is
   already allocated, also by earlier entries of the same file):
   - all of it allocated → *matched* (also when it was less than the open amount: the invoice
     stays partly open, ``note`` says "partial");
   - some of it allocated → *partly*: an overpayment, the rest stays on the entry as
     unallocated credit of the invoice's customer;
   - nothing (every invoice named is already paid) → *unmatched*, ``note`` "already_paid".
4. Debit entries, reversals and entries in another currency are recorded as *ignored*.

An import is one transaction: a file that is refused (see ``camt``) or fails imports nothing.
Entries whose bank reference is already stored are skipped, so the same entries in another file
book nothing twice; the same file again is refused.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import formats
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.billing import camt
from treffpunkt.billing.models import (
    BankEntry,
    BankStatement,
    EntryNote,
    EntryState,
    Invoice,
    InvoiceKind,
    PaymentAllocation,
)
from treffpunkt.billing.selectors import open_amounts, unallocated_of_entry
from treffpunkt.billing.services._common import require_billing
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError
from treffpunkt.core.money import round_money

ZERO = Decimal("0.00")
_CHUNK = 2000
# "RE", then the year, then the running number, with any spaces, dashes, dots, slashes or
# underscores between them; not glued to letters or digits on either side.
INVOICE_NUMBER = re.compile(
    r"(?<![A-Z0-9])RE[\s\-./_]*(20[0-9]{2})[\s\-./_]*([0-9]{1,6})(?![0-9])", re.IGNORECASE
)


@dataclass
class ImportResult:
    statement: BankStatement
    new_entries: int = 0
    duplicates: int = 0  # entries already imported (by their bank reference)
    not_booked: int = 0  # pending entries in the file, not imported
    matched: int = 0
    partly: int = 0
    ignored: int = 0
    allocated: Decimal = ZERO
    unmatched: list[BankEntry] = field(default_factory=list)


def invoice_numbers_in(text: str) -> list[str]:
    """The invoice numbers ``text`` names, in the form they are stored, in order, once each."""
    found: dict[str, None] = {}
    for year, running in INVOICE_NUMBER.findall(text or ""):
        if int(running) == 0:
            continue
        found[f"RE-{year}-{int(running):05d}"] = None
    return list(found)


def import_statement(*, actor: User | None, data: bytes, filename: str) -> ImportResult:
    """Import a camt.053 file and allocate its credits to invoices (module docstring).
    ``CamtError`` (a ``DomainError``) for a file that cannot be read safely; ``DomainError``
    for a file already imported. ``actor`` is an operator holding the billing capability, or
    ``None`` for the folder job (then ``imported_by`` stays empty)."""
    operator = require_billing(actor) if actor is not None else None
    statements = camt.parse(data)
    accounts = {statement.account_iban for statement in statements}
    if len(accounts) > 1:
        raise DomainError(
            _("The file holds statements of several accounts; please import one account."),
            code="camt_accounts",
        )
    digest = hashlib.sha256(data).hexdigest()
    try:
        with transaction.atomic():
            return _import(operator, statements, digest, filename)
    except IntegrityError:
        # Another import of the same file or entries committed in the meantime.
        raise DomainError(
            _("The same statement was being imported at the same time; please try again."),
            code="camt_concurrent",
        ) from None


def _import(
    operator: User | None, statements: list[camt.Statement], digest: str, filename: str
) -> ImportResult:
    earlier = BankStatement.objects.filter(sha256=digest).first()
    if earlier is not None:
        raise DomainError(
            _("This file was already imported on %(day)s; nothing was booked again.")
            % {"day": formats.date_format(localtime(earlier.imported_at), "SHORT_DATE_FORMAT")},
            code="camt_already_imported",
        )
    first = statements[0]
    now = clock.now()
    statement = BankStatement.objects.create(
        sha256=digest,
        filename=filename[:255],
        account_iban=first.account_iban,
        statement_id=", ".join(s.statement_id for s in statements if s.statement_id)[:255],
        message_id=first.message_id[:35],
        camt_version=first.version,
        opening_balance=first.opening_balance if len(statements) == 1 else None,
        closing_balance=first.closing_balance if len(statements) == 1 else None,
        imported_at=now,
        imported_by=operator,
    )
    result = ImportResult(statement=statement)
    result.not_booked = sum(s.not_booked for s in statements)
    transactions = [tx for s in statements for tx in s.transactions]
    known = _known_references(tx.reference for tx in transactions)
    fresh: list[camt.Transaction] = []
    for tx in transactions:
        if tx.reference in known:
            result.duplicates += 1
            continue
        known.add(tx.reference)
        fresh.append(tx)
    result.new_entries = len(fresh)

    wanted = {tx.reference: invoice_numbers_in(tx.remittance) for tx in fresh}
    invoices = _locked_invoices({n for numbers in wanted.values() for n in numbers})
    open_now = open_amounts(invoice.pk for invoice in invoices.values())

    entries: list[BankEntry] = []
    planned: list[list[tuple[Invoice, Decimal]]] = []
    for tx in fresh:
        entry = BankEntry(
            statement=statement,
            reference=tx.reference,
            booking_date=tx.booking_date,
            value_date=tx.value_date,
            amount=tx.amount,
            currency=tx.currency or "EUR",
            credit=tx.credit,
            debtor_name=tx.debtor_name,
            debtor_iban=tx.debtor_iban,
            debtor_bic=tx.debtor_bic,
            end_to_end_id=tx.end_to_end_id,
            remittance=tx.remittance,
        )
        allocations = _match(entry, tx, wanted[tx.reference], invoices, open_now)
        entries.append(entry)
        planned.append(allocations)

    BankEntry.objects.bulk_create(entries, batch_size=_CHUNK)
    rows = [
        PaymentAllocation(
            entry=entry,
            invoice=invoice,
            amount=amount,
            created_at=now,
            created_by=operator,
        )
        for entry, allocations in zip(entries, planned, strict=True)
        for invoice, amount in allocations
    ]
    PaymentAllocation.objects.bulk_create(rows, batch_size=_CHUNK)

    for entry in entries:
        if entry.state == EntryState.MATCHED:
            result.matched += 1
        elif entry.state == EntryState.PARTLY:
            result.partly += 1
        elif entry.state == EntryState.IGNORED:
            result.ignored += 1
        else:
            result.unmatched.append(entry)
    result.allocated = sum((row.amount for row in rows), ZERO)
    audit.record(
        "billing.statement.imported",
        actor=operator,
        target=statement,
        data={
            "file": filename[:255],
            "sha256": digest,
            "account": statement.account_iban,
            "statement": statement.statement_id,
            "entries": result.new_entries,
            "duplicates": result.duplicates,
            "matched": result.matched,
            "partly": result.partly,
            "unmatched": len(result.unmatched),
            "ignored": result.ignored,
            "allocations": len(rows),
            "allocated": str(result.allocated),
        },
    )
    return result


def _known_references(references: Iterable[str]) -> set[str]:
    wanted = list(dict.fromkeys(references))
    known: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        known.update(
            BankEntry.objects.filter(reference__in=chunk).values_list("reference", flat=True)
        )
    return known


def _locked_invoices(numbers: set[str]) -> dict[str, Invoice]:
    """The invoices (not credit notes) of ``numbers``, locked until the import commits, so
    that a parallel import or allocation cannot pay the same open amount twice."""
    ordered = sorted(numbers)
    found: dict[str, Invoice] = {}
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        query = (
            Invoice.objects.select_for_update()
            .filter(number__in=chunk, kind=InvoiceKind.INVOICE)
            .only("pk", "number", "customer_id", "due_on", "issue_date", "gross_total")
            .order_by("pk")
        )
        found.update((invoice.number, invoice) for invoice in query)
    return found


def _due_order(invoice: Invoice) -> tuple[date, date, str]:
    return (invoice.due_on or date.max, invoice.issue_date, invoice.number)


def _match(
    entry: BankEntry,
    tx: camt.Transaction,
    numbers: list[str],
    invoices: dict[str, Invoice],
    open_now: dict[int, Decimal],
) -> list[tuple[Invoice, Decimal]]:
    """Set the entry's state and note; the allocations it makes (``open_now`` is updated)."""
    if not tx.credit:
        entry.state, entry.note = EntryState.IGNORED, EntryNote.DEBIT
        return []
    if tx.reversal:
        entry.state, entry.note = EntryState.IGNORED, EntryNote.REVERSAL
        return []
    if (tx.currency or "EUR") != "EUR":
        entry.state, entry.note = EntryState.IGNORED, EntryNote.CURRENCY
        return []
    named = sorted((invoices[n] for n in numbers if n in invoices), key=_due_order)
    if not named:
        entry.state = EntryState.UNMATCHED
        entry.note = EntryNote.UNKNOWN_NUMBER if numbers else EntryNote.NO_NUMBER
        return []
    entry.customer_id = named[0].customer_id
    remaining = tx.amount
    allocations: list[tuple[Invoice, Decimal]] = []
    short = False
    for invoice in named:
        due = open_now.get(invoice.pk, ZERO)
        if remaining <= 0:
            break
        if due <= 0:
            continue
        amount = min(due, remaining)
        allocations.append((invoice, amount))
        open_now[invoice.pk] = due - amount
        remaining -= amount
        short = amount < due
    if not allocations:
        entry.state, entry.note = EntryState.UNMATCHED, EntryNote.ALREADY_PAID
    elif remaining > 0:
        entry.state, entry.note = EntryState.PARTLY, EntryNote.OVERPAID
    else:
        entry.state = EntryState.MATCHED
        entry.note = EntryNote.PARTIAL if short else EntryNote.NONE
    return allocations


def allocate_by_hand(
    *, actor: User | None, entry: BankEntry, invoice: Invoice, amount: Decimal
) -> PaymentAllocation:
    """Allocate ``amount`` of a credit entry to an invoice, as the accountant decides: at most
    what the entry has left and what the invoice has open."""
    operator = require_billing(actor)
    # round_money refuses anything but a Decimal or an int (TypeError), and NaN (ValueError).
    if round_money(amount) != amount or amount <= 0:
        raise DomainError(_("Allocate a positive amount in whole cents."), code="allocation_amount")
    with transaction.atomic():
        entry = BankEntry.objects.select_for_update().get(pk=entry.pk)
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if not entry.credit or entry.state == EntryState.IGNORED:
            raise DomainError(
                _("Only a credit entry can pay an invoice."), code="allocation_not_credit"
            )
        if invoice.kind != InvoiceKind.INVOICE:
            raise DomainError(
                _("A payment is allocated to an invoice, not to a credit note."),
                code="allocation_kind",
            )
        left = unallocated_of_entry(entry)
        if amount > left:
            raise DomainError(
                _("The entry has only %(left)s left to allocate.") % {"left": left},
                code="allocation_entry_exceeded",
            )
        due = open_amounts([invoice.pk]).get(invoice.pk, ZERO)
        if amount > due:
            raise DomainError(
                _("The invoice %(number)s has only %(due)s open.")
                % {"number": invoice.number, "due": due},
                code="allocation_invoice_exceeded",
            )
        allocation = PaymentAllocation.objects.create(
            entry=entry,
            invoice=invoice,
            amount=Decimal(amount),
            by_hand=True,
            created_at=clock.now(),
            created_by=operator,
        )
        entry.state = EntryState.MATCHED if amount == left else EntryState.PARTLY
        entry.note = EntryNote.BY_HAND
        if entry.customer_id is None:
            entry.customer_id = invoice.customer_id
        entry.save(update_fields=["state", "note", "customer"])
        audit.record(
            "billing.payment.allocated",
            actor=operator,
            target=invoice,
            data={
                "entry": entry.reference,
                "invoice": invoice.number,
                "amount": str(amount),
                "open_before": str(due),
            },
        )
    return allocation
