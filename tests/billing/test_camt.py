"""The camt.053 reader: both versions, batched entries, and the files it refuses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from treffpunkt.billing import camt
from treffpunkt.billing.camt import CamtError
from treffpunkt.billing.services.payments import invoice_numbers_in

FILES = Path(__file__).parent / "camt"


def read(name: str) -> bytes:
    return (FILES / name).read_bytes()


def test_version_02_with_default_namespace_bic_and_dbtr_nm():
    [statement] = camt.parse(read("statement_v02.xml"))
    assert statement.version == "02"
    assert statement.account_iban == "DE02120300000000202051"
    assert statement.statement_id == "0352027000042"
    assert (statement.opening_balance, statement.closing_balance) == (
        Decimal("1000.00"),
        Decimal("1424.50"),
    )
    first = statement.transactions[0]
    assert first.reference == "2027031000001"
    assert first.amount == Decimal("119.00") and isinstance(first.amount, Decimal)
    assert first.credit and first.currency == "EUR"
    assert (first.booking_date, first.value_date) == (date(2027, 3, 10), date(2027, 3, 10))
    assert first.debtor_name == "Muster Beratung GmbH"  # RltdPties/Dbtr/Nm
    assert first.debtor_iban == "DE89370400440532013000"
    assert first.debtor_bic == "COBADEFFXXX"  # BIC
    assert first.remittance == "Rechnung RE-2027-00001 Kd.-Nr. K-00001"
    assert statement.transactions[1].end_to_end_id == ""  # NOTPROVIDED
    debit = statement.transactions[2]
    assert not debit.credit and debit.remittance == "ENTGELTABSCHLUSS Kontofuehrung 02/2027"


def test_a_batched_entry_is_split_into_its_transactions_with_their_references():
    [statement] = camt.parse(read("statement_v02.xml"))
    assert [tx.reference for tx in statement.transactions] == [
        "2027031000001",
        "2027031000002",
        "2027031000003",
        "2027031000004",
        "2027031000005-1",
        "2027031000005-2",
    ]
    batch = statement.transactions[4:]
    assert [tx.amount for tx in batch] == [Decimal("119.00"), Decimal("119.00")]
    assert [tx.remittance for tx in batch] == ["RE202700003", "RE-2027-00099"]


def test_a_batch_without_own_references_numbers_them_after_the_entry():
    data = read("statement_v02.xml").replace(b"<AcctSvcrRef>2027031000005-1</AcctSvcrRef>", b"")
    data = data.replace(b"<AcctSvcrRef>2027031000005-2</AcctSvcrRef>", b"")
    [statement] = camt.parse(data)
    assert [tx.reference for tx in statement.transactions[4:]] == [
        "2027031000005/1",
        "2027031000005/2",
    ]


def test_version_08_with_prefix_pty_nm_bicfi_status_code_and_pending_left_out():
    [statement] = camt.parse(read("statement_v08.xml"))
    assert statement.version == "08"
    assert statement.message_id == "STMT-2027-03-11-0001"
    assert statement.opening_balance == Decimal("500.00")  # PRCD as the opening balance
    assert statement.not_booked == 1  # the PDNG entry
    first, second, debit = statement.transactions
    assert first.debtor_name == "Muster Beratung GmbH"  # RltdPties/Dbtr/Pty/Nm
    assert first.debtor_bic == "COBADEFFXXX"  # BICFI
    assert first.reference == "DEUT20270311A001"
    assert second.booking_date == date(2027, 3, 11)  # BookgDt/DtTm
    assert second.remittance == "Rechnungen RE-2027-00003 und RE-2027-00002"
    # No AcctSvcrRef: a hash of the content, the same in every export.
    assert debit.reference.startswith("sha256:") and not debit.credit
    assert camt.parse(read("statement_v08.xml"))[0].transactions[2].reference == debit.reference


def test_identical_payments_without_reference_get_distinct_references():
    entry = (
        b'<Ntry><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
        b"<BookgDt><Dt>2027-03-10</Dt></BookgDt><NtryDtls><TxDtls><RmtInf><Ustrd>RE-2027-1"
        b"</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )
    [statement] = camt.parse(document(entry * 2))
    first, second = statement.transactions
    assert second.reference == first.reference + "#2"


def document(entries: bytes, namespace: bytes = b"camt.053.001.02") -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:' + namespace + b'"><BkToCstmrStmt>'
        b"<GrpHdr><MsgId>M1</MsgId></GrpHdr><Stmt><Id>S1</Id><Acct><Id><IBAN>"
        b"DE02120300000000202051</IBAN></Id></Acct>" + entries + b"</Stmt></BkToCstmrStmt>"
        b"</Document>"
    )


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("RE 2027 1", ["RE-2027-00001"]),
        ("re-2027-00001", ["RE-2027-00001"]),
        ("RE202700001", ["RE-2027-00001"]),
        ("Rechnung Nr. RE-2027-00042, Danke", ["RE-2027-00042"]),
        ("RE-2027-00003 und re 2027 2 und RE-2027-3", ["RE-2027-00003", "RE-2027-00002"]),
        ("RE-2027-123456", ["RE-2027-123456"]),
        ("Rechnung vom 2027-03-01", []),
        ("PREIS 2027 1", []),  # not glued to other letters
        ("RE-2027-1234567", []),  # too many digits: not an invoice number
        ("GS-2027-00001", []),  # credit notes are not paid
        ("RE-2027-00000", []),
    ],
)
def test_invoice_numbers_are_found_tolerantly(text: str, numbers: list[str]):
    assert invoice_numbers_in(text) == numbers


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>&lol9;</MsgId></GrpHdr></BkToCstmrStmt></Document>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>&xxe;</MsgId></GrpHdr><Stmt><Id>S</Id></Stmt></BkToCstmrStmt></Document>"""

PLAIN_DOCTYPE = b"""<?xml version="1.0"?>
<!DOCTYPE Document SYSTEM "http://example.org/camt.dtd">
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<Stmt><Id>S</Id></Stmt></BkToCstmrStmt></Document>"""


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (BILLION_LAUGHS, "camt_doctype"),
        (XXE, "camt_doctype"),
        (PLAIN_DOCTYPE, "camt_doctype"),
        # The same, in UTF-16: the DOCTYPE is not visible as bytes, the parser's view sees it.
        (XXE.replace(b'<?xml version="1.0"?>', b"").decode().encode("utf-16"), "camt_doctype"),
        (b"<Document><unclosed></Document>", "camt_malformed"),
        (b"", "camt_malformed"),
        (b"%PDF-1.7 not xml", "camt_malformed"),
        (document(b"", b"camt.054.001.08"), "camt_not_053"),
        (document(b"", b"camt.052.001.02"), "camt_not_053"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>', "camt_not_053"),
        (b"<html><body>Statement</body></html>", "camt_not_053"),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
            b"</BkToCstmrStmt></Document>",
            "camt_empty",
        ),
    ],
)
def test_hostile_or_foreign_files_are_refused_with_a_clear_message(data: bytes, code: str):
    with pytest.raises(CamtError) as refused:
        camt.parse(data)
    assert refused.value.code == code
    assert str(refused.value)
    assert "root:" not in str(refused.value)  # nothing of /etc/passwd ever shows


def test_a_file_over_the_size_limit_is_refused_before_parsing():
    data = document(b"<!--" + b"x" * camt.MAX_BYTES + b"-->")
    with pytest.raises(CamtError, match="20 MB") as refused:
        camt.parse(data)
    assert refused.value.code == "camt_too_large"


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (b"12,50", "camt_amount"),
        (b"1e3", "camt_amount"),
        (b"NaN", "camt_amount"),
        (b"-5.00", "camt_amount"),
        (b"1.005", "camt_amount"),
    ],
)
def test_an_amount_that_is_not_one_is_refused(amount: bytes, code: str):
    entry = (
        b'<Ntry><Amt Ccy="EUR">' + amount + b"</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
        b"<BookgDt><Dt>2027-03-10</Dt></BookgDt></Ntry>"
    )
    with pytest.raises(CamtError) as refused:
        camt.parse(document(entry))
    assert refused.value.code == code


def test_entries_that_do_not_add_up_to_the_balances_are_refused():
    data = read("statement_v02.xml").replace(b"1424.50", b"1424.51")
    with pytest.raises(CamtError) as refused:
        camt.parse(data)
    assert refused.value.code == "camt_balance"
