"""Reading a bank account statement in ISO 20022 camt.053 (versions 001.02 … 001.13).

Pure: bytes in, ``Statement``s out; nothing here touches the database. What the services need
from a statement, and nothing more: the account, and per booked entry its bank reference,
dates, amount (a ``Decimal``, never a float), direction, the paying party and the remittance
text. A batched entry (one ``Ntry`` with several ``NtryDtls/TxDtls``) is split into one
``Transaction`` per ``TxDtls`` when their amounts add up to the entry.

Element names are matched with ``{*}`` namespace wildcards, so a prefixed or a default
namespace and every version read the same way; where the versions differ both spellings are
read: ``RltdPties/Dbtr/Nm`` (001.02) and ``RltdPties/Dbtr/Pty/Nm`` (001.08+), ``BIC`` and
``BICFI``, ``Sts`` as text or as ``Sts/Cd``.

A statement is untrusted input. It is refused with a ``CamtError`` (a ``DomainError``) when it
is larger than ``MAX_BYTES``, is not well-formed XML, has a DOCTYPE at all (so neither entity
expansion — "billion laughs" — nor an external entity such as ``file:///etc/passwd`` can
happen; the parser also runs with ``resolve_entities=False, no_network=True``), is not a
camt.053 account statement, or has an amount or date that is not one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from lxml import etree

from treffpunkt.core.errors import DomainError

MAX_BYTES = 20 * 1024 * 1024
CAMT_053 = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d\d)$")
ANY_CAMT = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:(camt\.\d{3}\.\d{3}\.\d\d)$")
# ISO 20022 ActiveOrHistoricCurrencyAndAmount: up to 18 digits, at most 5 of them decimals.
_AMOUNT = re.compile(r"^[0-9]{1,13}(\.[0-9]{1,5})?$")
CENT = Decimal("0.01")


class CamtError(DomainError):
    """The file is not a camt.053 statement we can read safely; nothing was imported."""


@dataclass(frozen=True)
class Transaction:
    """One booked payment: a whole entry, or one part of a batched entry."""

    reference: str  # the bank's AcctSvcrRef, or a stable hash of the content (``fallback_ref``)
    booking_date: date
    value_date: date | None
    amount: Decimal  # positive; ``credit`` tells the direction
    currency: str
    credit: bool
    reversal: bool
    debtor_name: str
    debtor_iban: str
    debtor_bic: str
    end_to_end_id: str
    remittance: str


@dataclass(frozen=True)
class Statement:
    version: str  # "02", "08", …
    message_id: str
    statement_id: str
    account_iban: str
    created_at: datetime | None
    opening_balance: Decimal | None
    closing_balance: Decimal | None
    transactions: tuple[Transaction, ...] = field(default_factory=tuple)
    not_booked: int = 0  # pending or information-only entries, left out


def _refuse(message: str, code: str) -> CamtError:
    return CamtError(message, code=code)


def parse(data: bytes) -> list[Statement]:
    """The statements (``Stmt``) of a camt.053 file, or ``CamtError``."""
    if not isinstance(data, bytes):
        raise TypeError("a statement is read from bytes")
    if len(data) > MAX_BYTES:
        raise _refuse(
            _("The file is larger than %(mb)s MB; a bank statement is never that large.")
            % {"mb": MAX_BYTES // (1024 * 1024)},
            "camt_too_large",
        )
    if not data.strip():
        raise _refuse(_("The file is empty."), "camt_malformed")
    # A DOCTYPE is refused before parsing where it can be seen in the bytes (UTF-8, ASCII) …
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise _refuse(_doctype_message(), "camt_doctype")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError) as error:
        raise _refuse(
            _("The file is not well-formed XML (%(detail)s).") % {"detail": str(error)[:200]},
            "camt_malformed",
        ) from None
    # … and after parsing for any other encoding (UTF-16 hides the bytes above).
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _refuse(_doctype_message(), "camt_doctype")
    if any(isinstance(node, etree._Entity) for node in root.iter()):
        raise _refuse(_doctype_message(), "camt_doctype")
    version = _version(root)
    statements = [_statement(node, version) for node in root.iterfind("{*}BkToCstmrStmt/{*}Stmt")]
    if not statements:
        raise _refuse(_("The file contains no account statement."), "camt_empty")
    message_id = _text(root, "{*}BkToCstmrStmt/{*}GrpHdr/{*}MsgId")
    return [
        Statement(**{**statement.__dict__, "message_id": message_id}) for statement in statements
    ]


def _doctype_message() -> str:
    return _(
        "The file declares a DOCTYPE or entities. Bank statements never do; it was refused "
        "for safety."
    )


def _version(root: etree._Element) -> str:
    namespace = etree.QName(root).namespace or ""
    local = etree.QName(root).localname
    matched = CAMT_053.match(namespace)
    if local == "Document" and matched:
        return matched.group(1)
    other = ANY_CAMT.match(namespace)
    if other:
        raise _refuse(
            _(
                "This is a %(kind)s message, not a camt.053 account statement. Please export "
                "the statement as camt.053."
            )
            % {"kind": other.group(1)},
            "camt_not_053",
        )
    raise _refuse(_("This is not a camt.053 account statement (ISO 20022)."), "camt_not_053")


def _text(node: etree._Element, path: str) -> str:
    found = node.find(path)
    return (found.text or "").strip() if found is not None else ""


def _first(node: etree._Element, *paths: str) -> str:
    for path in paths:
        value = _text(node, path)
        if value:
            return value
    return ""


def _amount(node: etree._Element | None, where: str) -> Decimal:
    text = (node.text or "").strip() if node is not None else ""
    if not _AMOUNT.match(text):
        raise _refuse(
            _("The statement has an invalid amount (%(where)s: %(text)s).")
            % {"where": where, "text": text[:40] or "—"},
            "camt_amount",
        )
    value = Decimal(text)
    if value != value.quantize(CENT):
        raise _refuse(
            _("The statement has an amount with fractions of a cent (%(text)s).") % {"text": text},
            "camt_amount",
        )
    return value.quantize(CENT)


def _date(node: etree._Element, path: str, *, required: bool) -> date | None:
    """``<path>/Dt`` or the day of ``<path>/DtTm`` (as the bank wrote it)."""
    day = _text(node, f"{path}/{{*}}Dt")
    moment = _text(node, f"{path}/{{*}}DtTm")
    try:
        if day:
            return date.fromisoformat(day)
        if moment:
            return date.fromisoformat(moment[:10])
    except ValueError:
        raise _refuse(
            _("The statement has an invalid date (%(text)s).") % {"text": (day or moment)[:40]},
            "camt_date",
        ) from None
    if required:
        raise _refuse(_("An entry of the statement has no booking date."), "camt_date")
    return None


def _balances(stmt: etree._Element) -> tuple[Decimal | None, Decimal | None]:
    opening = closing = None
    for balance in stmt.iterfind("{*}Bal"):
        code = _first(balance, "{*}Tp/{*}CdOrPrtry/{*}Cd", "{*}Tp/{*}CdOrPrtry/{*}Prtry")
        value = _amount(balance.find("{*}Amt"), "Bal")
        if _text(balance, "{*}CdtDbtInd") == "DBIT":
            value = -value
        # PRCD (the previous closing) serves as the opening balance when OPBD is missing.
        if code == "OPBD" or (code == "PRCD" and opening is None):
            opening = value
        elif code == "CLBD":
            closing = value
    return opening, closing


def _statement(stmt: etree._Element, version: str) -> Statement:
    created = _text(stmt, "{*}CreDtTm")
    try:
        created_at = datetime.fromisoformat(created) if created else None
    except ValueError:
        created_at = None
    opening, closing = _balances(stmt)
    iban = _text(stmt, "{*}Acct/{*}Id/{*}IBAN").replace(" ", "").upper()
    transactions: list[Transaction] = []
    not_booked = 0
    seen: dict[str, int] = {}
    booked_sum = Decimal("0")
    for entry in stmt.iterfind("{*}Ntry"):
        status = _first(entry, "{*}Sts/{*}Cd", "{*}Sts")
        if status and status != "BOOK":
            not_booked += 1
            continue
        parts = _entry(entry, iban, seen)
        transactions.extend(parts)
        booked_sum += sum(
            (part.amount if part.credit else -part.amount for part in parts), Decimal("0")
        )
    if opening is not None and closing is not None and opening + booked_sum != closing:
        raise _refuse(
            _(
                "The booked entries (%(sum)s) do not lead from the opening balance (%(open)s) "
                "to the closing balance (%(close)s); the file seems incomplete."
            )
            % {"sum": booked_sum, "open": opening, "close": closing},
            "camt_balance",
        )
    return Statement(
        version=version,
        message_id="",
        statement_id=_text(stmt, "{*}Id"),
        account_iban=iban,
        created_at=created_at,
        opening_balance=opening,
        closing_balance=closing,
        transactions=tuple(transactions),
        not_booked=not_booked,
    )


def _entry(entry: etree._Element, iban: str, seen: dict[str, int]) -> list[Transaction]:
    amount_node = entry.find("{*}Amt")
    amount = _amount(amount_node, "Ntry/Amt")
    currency = (amount_node.get("Ccy") if amount_node is not None else "") or ""
    direction = _text(entry, "{*}CdtDbtInd")
    if direction not in ("CRDT", "DBIT"):
        raise _refuse(_("An entry of the statement is neither credit nor debit."), "camt_entry")
    credit = direction == "CRDT"
    reversal = _text(entry, "{*}RvslInd").lower() in ("true", "1")
    booking = _date(entry, "{*}BookgDt", required=True) or date.min  # never None: required
    value = _date(entry, "{*}ValDt", required=False)
    entry_ref = _text(entry, "{*}AcctSvcrRef")
    details = entry.findall("{*}NtryDtls/{*}TxDtls")
    fallback_text = _first(entry, "{*}AddtlNtryInf")

    split = len(details) > 1
    if split:
        amounts = [_tx_amount(tx) for tx in details]
        # Split only when every part has its amount and they add up to the entry.
        split = (
            all(part is not None for part in amounts)
            and sum((part for part in amounts if part is not None), Decimal("0")) == amount
        )
    if not split:
        tx = details[0] if details else None
        parts = [(tx, amount, entry_ref)]
    else:
        parts = [
            (tx, _tx_amount(tx) or amount, _text(tx, "{*}Refs/{*}AcctSvcrRef")) for tx in details
        ]

    found: list[Transaction] = []
    for index, (tx, part_amount, own_ref) in enumerate(parts, start=1):
        if tx is not None:
            name, debtor_iban, bic = _debtor(tx)
            end_to_end = _text(tx, "{*}Refs/{*}EndToEndId")
            remittance = _remittance(tx) or _text(tx, "{*}AddtlTxInf") or fallback_text
        else:
            name = debtor_iban = bic = end_to_end = ""
            remittance = fallback_text
        if end_to_end.upper() == "NOTPROVIDED":
            end_to_end = ""
        reference = own_ref
        if split and (not own_ref or own_ref == entry_ref):
            reference = f"{entry_ref}/{index}" if entry_ref else ""
        if not reference:
            reference = fallback_ref(
                iban, booking, value, part_amount, direction, debtor_iban, end_to_end, remittance
            )
        # Two identical parts (same payer, amount, text, day) are two payments: number them.
        count = seen.get(reference, 0)
        seen[reference] = count + 1
        if count:
            reference = f"{reference}#{count + 1}"
        found.append(
            Transaction(
                reference=reference[:100],
                booking_date=booking,
                value_date=value,
                amount=part_amount,
                currency=currency,
                credit=credit,
                reversal=reversal,
                debtor_name=name[:140],
                debtor_iban=debtor_iban[:34],
                debtor_bic=bic[:11],
                end_to_end_id=end_to_end[:35],
                remittance=remittance[:2000],
            )
        )
    return found


def _tx_amount(tx: etree._Element) -> Decimal | None:
    for path in ("{*}AmtDtls/{*}TxAmt/{*}Amt", "{*}Amt", "{*}AmtDtls/{*}InstdAmt/{*}Amt"):
        node = tx.find(path)
        if node is not None:
            return _amount(node, "TxDtls/Amt")
    return None


def _debtor(tx: etree._Element) -> tuple[str, str, str]:
    name = _first(
        tx,
        "{*}RltdPties/{*}Dbtr/{*}Pty/{*}Nm",  # 001.08 and later
        "{*}RltdPties/{*}Dbtr/{*}Nm",  # 001.02
        "{*}RltdPties/{*}UltmtDbtr/{*}Pty/{*}Nm",
        "{*}RltdPties/{*}UltmtDbtr/{*}Nm",
    )
    iban = _text(tx, "{*}RltdPties/{*}DbtrAcct/{*}Id/{*}IBAN").replace(" ", "").upper()
    bic = _first(
        tx,
        "{*}RltdAgts/{*}DbtrAgt/{*}FinInstnId/{*}BICFI",  # 001.08 and later
        "{*}RltdAgts/{*}DbtrAgt/{*}FinInstnId/{*}BIC",  # 001.02
    )
    return name, iban, bic


def _remittance(tx: etree._Element) -> str:
    texts = [(node.text or "").strip() for node in tx.iterfind("{*}RmtInf/{*}Ustrd")]
    for path in (
        "{*}RmtInf/{*}Strd/{*}CdtrRefInf/{*}Ref",
        "{*}RmtInf/{*}Strd/{*}RfrdDocInf/{*}Nb",
    ):
        texts += [(node.text or "").strip() for node in tx.iterfind(path)]
    return " ".join(text for text in texts if text)


def fallback_ref(
    iban: str,
    booking: date,
    value: date | None,
    amount: Decimal,
    direction: str,
    debtor_iban: str,
    end_to_end: str,
    remittance: str,
) -> str:
    """A reference for an entry without ``AcctSvcrRef``: a hash of what makes it this payment,
    the same in every export of the statement."""
    content = "|".join(
        (
            iban,
            booking.isoformat(),
            value.isoformat() if value else "",
            str(amount),
            direction,
            debtor_iban,
            end_to_end,
            " ".join(remittance.split()),
        )
    )
    return "sha256:" + hashlib.sha256(content.encode("utf-8")).hexdigest()[:64]
