"""Benchmark 13: importing a camt.053.001.08 statement of 10,000 credits against 10,000 invoices.

Data (seed fixed): 1,000 customers and 10,000 issued invoices "RE-<year>-00001" … made with
``bulk_create`` (not the issuing service, which renders a PDF per invoice; ``document`` stays
empty), 119.00 € to 1,190.00 €, due dates spread over 60 days. The statement is generated in
memory: 10,000 booked entries, one per invoice, the invoice number written in varying ways
("RE-2027-00042", "re 2027 42", "RE202700042", "Rechnung RE 2027-42 Kd K-00042"); 85 % pay the
open amount, 6 % less, 4 % more, 2 % name two invoices (the next one too) with the sum of both,
2 % have no number, 1 % are debits. Opening and closing balances are set, so the balance check
runs too.

One run is ``services.import_statement`` (parse, de-duplicate, lock and match, bulk insert, one
audit entry), wall clock. The import is undone (its rows deleted) and repeated: ``--runs``
(default 3) runs, the median is the goal figure. Then the same entries in another file (another
MsgId) are imported once more: that must book nothing (exit 1 otherwise), and the counts of
matched / partly / unmatched / ignored entries must be those the data was made for.

    uv run python bench/camt_import.py      # PostgreSQL test_treffpunkt_bench (BENCH_PG_URL)
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 uv run python bench/camt_import.py   # SQLite

Prints camt_import_s (median; goal ≤ 10 on PostgreSQL), camt_import_runs_s, the parse time
alone, the counts, camt_reimport_s and camt_reimport_booked (must be 0).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from common import emit, machine_figures, note
from contracts_data import throwaway_database

GOAL_S = 10.0
INVOICES = 10_000
CUSTOMERS = 1_000
SEED = 12
BATCH = 2000
OUR_IBAN = "DE02120300000000202051"


def build(year: int, rng: random.Random) -> list[Any]:
    from treffpunkt.billing.models import EInvoiceFormat, Invoice, InvoiceKind
    from treffpunkt.customers.models import Customer, CustomerKind

    Customer.objects.bulk_create(
        [
            Customer(
                kind=CustomerKind.COMPANY,
                customer_number=f"K-{n:05d}",
                legal_name=f"Muster {n:05d} GmbH",
                legal_form="GmbH",
                street=f"Industriestraße {n % 200 + 1}",
                postal_code=f"{10000 + n * 7 % 89999:05d}",
                city="Berlin",
            )
            for n in range(1, CUSTOMERS + 1)
        ],
        batch_size=BATCH,
    )
    customer_ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    seller = {"name": "Treffpunkt Betreiber GmbH", "city": "Berlin", "country": "DE"}
    issued = datetime(year, 1, 5, 9, tzinfo=UTC)
    rows = []
    for n in range(1, INVOICES + 1):
        net = Decimal(100 * rng.randint(1, 10))
        vat = (net * Decimal("0.19")).quantize(Decimal("0.01"))
        customer_id = customer_ids[n % CUSTOMERS]
        rows.append(
            Invoice(
                kind=InvoiceKind.INVOICE,
                number=f"RE-{year}-{n:05d}",
                customer_id=customer_id,
                issue_date=date(year, 1, 5),
                supply_start=date(year, 1, 1),
                supply_end=date(year, 1, 31),
                seller=seller,
                buyer={"name": f"Kunde {customer_id}", "city": "Berlin", "country": "DE"},
                e_invoice_format=EInvoiceFormat.ZUGFERD,
                net_total=net,
                vat_total=vat,
                gross_total=net + vat,
                xml="<rsm:CrossIndustryInvoice/>",
                created_at=issued,
                sent_at=issued,
                received_on=date(year, 1, 6),
                due_on=date(year, 1, 20) + timedelta(days=n % 60),
            )
        )
    Invoice.objects.bulk_create(rows, batch_size=BATCH)
    return list(Invoice.objects.order_by("pk").only("number", "gross_total"))


def number_text(number: str, rng: random.Random) -> str:
    _, year, running = number.split("-")
    plain = str(int(running))
    return rng.choice(
        (
            number,
            f"re {year} {plain}",
            f"RE{year}{running}",
            f"Rechnung RE {year}-{plain} Kd K-{int(running) % CUSTOMERS:05d}",
        )
    )


def statement(
    invoices: list[Any], year: int, rng: random.Random, msg_id: str
) -> tuple[bytes, dict[str, int]]:
    """The camt.053.001.08 document, and the entry states it should give."""
    expected = {"matched": 0, "partly": 0, "unmatched": 0, "ignored": 0}
    entries: list[str] = []
    balance = Decimal("0.00")
    booked = date(year, 2, 1)
    for index, invoice in enumerate(invoices):
        roll = rng.random()
        credit = True
        gross = invoice.gross_total
        text = number_text(invoice.number, rng)
        if roll < 0.85:
            amount, state = gross, "matched"
        elif roll < 0.91:
            amount, state = (gross / 2).quantize(Decimal("0.01")), "matched"
        elif roll < 0.95:
            amount, state = gross + Decimal("10.00"), "partly"
        elif roll < 0.97 and index + 1 < len(invoices):
            # Names the next invoice too and pays both in full; the next invoice's own entry
            # then finds nothing open and goes to the accountant ("already paid").
            amount, state = gross + invoices[index + 1].gross_total, "matched"
            text = f"{text} und {invoices[index + 1].number}"
        elif roll < 0.99:
            amount, state, text = gross, "unmatched", f"Zahlung Kunde {index}"
        else:
            amount, state, credit = gross, "ignored", False
            text = f"Lastschrift {index}"
        expected[state] += 1
        balance += amount if credit else -amount
        direction = "CRDT" if credit else "DBIT"
        entries.append(
            f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{direction}</CdtDbtInd>'
            f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{booked}</Dt></BookgDt>"
            f"<ValDt><Dt>{booked}</Dt></ValDt><AcctSvcrRef>BENCH{year}{index:08d}</AcctSvcrRef>"
            f"<NtryDtls><TxDtls><Refs><EndToEndId>E2E-{index}</EndToEndId></Refs>"
            f'<Amt Ccy="EUR">{amount}</Amt><RltdPties><Dbtr><Pty><Nm>Muster {index % CUSTOMERS:05d}'
            f" GmbH</Nm></Pty></Dbtr><DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id>"
            f"</DbtrAcct></RltdPties><RltdAgts><DbtrAgt><FinInstnId><BICFI>COBADEFFXXX</BICFI>"
            f"</FinInstnId></DbtrAgt></RltdAgts><RmtInf><Ustrd>{text}</Ustrd></RmtInf>"
            f"</TxDtls></NtryDtls></Ntry>"
        )
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>{booked}T06:00:00+01:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>BENCH-{booked}</Id><Acct><Id><IBAN>{OUR_IBAN}</IBAN></Id></Acct>"
        '<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt>'
        "<CdtDbtInd>CRDT</CdtDbtInd></Bal>"
        f'<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{abs(balance)}</Amt>'
        f"<CdtDbtInd>{'CRDT' if balance >= 0 else 'DBIT'}</CdtDbtInd></Bal>"
    )
    return (head + "".join(entries) + "</Stmt></BkToCstmrStmt></Document>").encode(), expected


def undo_import() -> None:
    from treffpunkt.billing.models import BankEntry, BankStatement, PaymentAllocation
    from treffpunkt.core.models import AuditEntry

    PaymentAllocation.objects.all().delete()
    BankEntry.objects.all().delete()
    BankStatement.objects.all().delete()
    AuditEntry.objects.filter(code="billing.statement.imported").delete()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile the first run")
    parser.add_argument("--keep-db", action="store_true", help="keep the test database")
    args = parser.parse_args()

    with throwaway_database(keep=args.keep_db) as where:
        from django.contrib.auth.models import Group

        from treffpunkt.accounts.models import Role, User
        from treffpunkt.accounts.permissions import Capability
        from treffpunkt.billing import camt, services
        from treffpunkt.billing.models import PaymentAllocation

        rng = random.Random(SEED)
        year = 2027
        began = time.perf_counter()
        invoices = build(year, rng)
        data, expected = statement(invoices, year, rng, "BENCH-MSG-1")
        note(
            f"built {len(invoices)} invoices and a {len(data) / 1e6:.1f} MB statement "
            f"in {time.perf_counter() - began:.1f} s"
        )
        actor = User.objects.create_user(
            email="buchhaltung@bench.example.org",
            role=Role.OPERATOR,
            organization=None,
            is_staff=True,
        )
        actor.groups.add(Group.objects.get(name=Capability.BILLING.group_name))
        emit("camt_database", where)
        emit("camt_entries", INVOICES)
        emit("camt_file_mb", len(data) / 1e6)
        machine_figures("camt")

        began = time.perf_counter()
        camt.parse(data)
        emit("camt_parse_s", time.perf_counter() - began)

        timings: list[float] = []
        result = None
        wrong = False
        for run in range(max(1, args.runs)):
            if run:
                undo_import()
            profiler = None
            if args.profile and run == 0:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            began = time.perf_counter()
            result = services.import_statement(actor=actor, data=data, filename="bench.xml")
            timings.append(time.perf_counter() - began)
            if profiler is not None:
                import pstats

                profiler.disable()
                pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
            note(f"run {run + 1}: {timings[-1]:.2f} s")
        assert result is not None
        found = {
            "matched": result.matched,
            "partly": result.partly,
            "unmatched": len(result.unmatched),
            "ignored": result.ignored,
        }
        # An invoice named by the entry before it is paid when its own entry comes: that entry
        # finds nothing open ("already paid") and goes to the accountant.
        for name, count in found.items():
            emit(f"camt_{name}", count)
        emit("camt_allocations", PaymentAllocation.objects.count())
        emit("camt_allocated_eur", result.allocated)
        double_named = sum(1 for entry in result.unmatched if entry.note == "already_paid")
        emit("camt_already_paid", double_named)
        if found["ignored"] != expected["ignored"] or (
            found["unmatched"] - double_named != expected["unmatched"]
        ):
            note(f"expected {expected}, found {found}")
            wrong = True

        allocations_before = PaymentAllocation.objects.count()
        other, _ = statement(invoices, year, random.Random(SEED + 1), "BENCH-MSG-2")
        began = time.perf_counter()
        again = services.import_statement(actor=actor, data=other, filename="bench-again.xml")
        emit("camt_reimport_s", time.perf_counter() - began)
        booked = again.new_entries + PaymentAllocation.objects.count() - allocations_before
        emit("camt_reimport_booked", booked)
        wrong = wrong or booked != 0

        median = statistics.median(timings)
        emit("camt_import_runs_s", " ".join(f"{t:.2f}" for t in timings))
        emit("camt_import_s", median)
        emit("camt_import_goal_met", str(median <= GOAL_S).lower())
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
