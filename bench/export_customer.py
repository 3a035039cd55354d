"""Benchmark: building a customer's data archive (P-DATA-3) with 100 invoices and 1,000 tickets.

Data, in a throw-away PostgreSQL test database of its own (``test_treffpunkt_bench_export`` on
``BENCH_PG_URL``; ``contracts_data.throwaway_database``), seed fixed:

- one customer (a company, "K-00001", VAT id) with one contact who logs in (a user of the role
  customer contact, as ``customers.services.add_contact`` makes one, but created directly);
- ``--invoices`` invoices (default 100) issued through the real service
  ``billing.services.issue_invoice(actor=None, …)`` (the billing run's path: number, ZUGFeRD
  XML, PDF/A-3b with the XML embedded in the document storage), one fee line each, billing keys
  ``bench:<n>``, issue dates spread over the last twelve months, oldest first;
- ``--tickets`` fault tickets (default 1,000) reported over the last twelve months, made with
  ``bulk_create``: three public timeline entries each (reported, answer, resolved; the last
  third still open has a customer message instead), and an internal note on every fifth ticket
  (which the archive must leave out);
- 6 incidents of the last twelve months (``fix_due_at`` from ``availability.services
  .fix_deadline``), two of them for this customer only, so the availability part has content.

One run is ``portability.export.customer_archive(customer, asking=<the contact's user>)``: the
ZIP as bytes, built in memory (master data, contracts, letters, every invoice's PDF and XML,
the tickets with their public timelines, twelve months of availability). 1 warm-up run, then 5
timed (``--runs``); one more run under ``CaptureQueriesContext`` counts its SQL statements.

    uv run python bench/export_customer.py   # here: python3 -m uv run --frozen python …

Prints export_customer_s (median, goal ≤ 10 s), export_customer_max_s, export_customer_bytes,
export_customer_files (entries of the ZIP), export_customer_invoices, export_customer_tickets,
export_customer_queries and export_customer_goal_met. Exit 1 if the ZIP lacks the PDF or the XML
of an invoice.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import sys
import time
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from common import PG_SERVER_URL, emit, machine_figures, note

GOAL_S = 10.0
INVOICES = 100
TICKETS = 1000
BATCH = 2000
SEED = 31
DB_NAME = "treffpunkt_bench_export"  # Django's test database: test_treffpunkt_bench_export
INCIDENTS = 6


def make_customer() -> tuple[Any, Any]:
    """The customer and its contact's user (role customer contact, no organization)."""
    from django.db import transaction

    from treffpunkt.accounts.models import Role, User
    from treffpunkt.core import clock
    from treffpunkt.customers.models import Customer, CustomerContact, CustomerKind

    with transaction.atomic():
        customer = Customer.objects.create(
            kind=CustomerKind.COMPANY,
            legal_name="Beispiel Beratung GmbH",
            legal_form="GmbH",
            street="Hauptstraße 1",
            postal_code="10115",
            city="Berlin",
            vat_id="DE136695976",
        )
        customer.customer_number = f"K-{customer.pk:05d}"
        customer.save(update_fields=["customer_number"])
        user = User.objects.create_user(
            "it@beispiel-beratung.example",
            None,
            display_name="Petra Schulz",
            role=Role.CUSTOMER_CONTACT,
            organization=None,
            email_confirmed_at=clock.now(),
        )
        CustomerContact.objects.create(
            customer=customer,
            user=user,
            name="Petra Schulz",
            function="IT-Leitung",
            email=user.email,
            phone="+49 30 1234567",
        )
        CustomerContact.objects.create(
            customer=customer, name="Jan Weber", email="rechnung@beispiel-beratung.example"
        )
    return customer, user


def issue_invoices(customer: Any, count: int, today: date) -> float:
    """``count`` invoices through ``issue_invoice``, one a little under 4 days apart."""
    from treffpunkt.billing.services import LineDraft, issue_invoice

    began = time.perf_counter()
    for n in range(count):
        issued = today - timedelta(days=(count - 1 - n) * 365 // max(count, 1))
        month = issued.replace(day=1)
        issue_invoice(
            actor=None,
            customer=customer,
            lines=[
                LineDraft(
                    description=f"Videoberatung, Monatsentgelt ({n + 1})",
                    quantity=Decimal("1"),
                    unit="MON",
                    unit_price=Decimal("249.00"),
                    supply_start=month,
                    supply_end=issued,
                )
            ],
            billing_key=f"bench:{n + 1}",
            issue_date=issued,
        )
        if (n + 1) % 25 == 0:
            note(f"{n + 1} invoices issued, {time.perf_counter() - began:.1f} s")
    return time.perf_counter() - began


def make_tickets(customer: Any, user: Any, count: int, now: datetime, rng: random.Random) -> int:
    """``count`` tickets with three public entries each (see the module docstring); returns the
    number of public entries."""
    from treffpunkt.support.models import (
        EventKind,
        Ticket,
        TicketChannel,
        TicketEvent,
        TicketState,
    )

    channels = list(TicketChannel)
    tickets = []
    for n in range(count):
        reported = now - timedelta(minutes=rng.randrange(365 * 24 * 60))
        resolved = n % 3 != 2
        tickets.append(
            Ticket(
                customer=customer,
                reported_by=user,
                reporter_name=user.display_name,
                channel=channels[n % len(channels)],
                subject=f"Störung {n + 1}: Videoraum {n % 12 + 1} ohne Ton",
                description=(
                    "Seit heute früh hören die Teilnehmenden im Videoraum nichts mehr. "
                    "Neustart des Raumsystems hat nicht geholfen. " * 3
                ),
                state=TicketState.RESOLVED if resolved else TicketState.IN_PROGRESS,
                reported_at=reported,
                reaction_due_at=reported + timedelta(hours=4),
                fix_due_at=reported + timedelta(hours=24),
                reacted_at=reported + timedelta(minutes=30),
                resolved_at=reported + timedelta(hours=6) if resolved else None,
            )
        )
    Ticket.objects.bulk_create(tickets, batch_size=BATCH)
    events = []
    for n, ticket in enumerate(tickets):
        at = ticket.reported_at
        events.append(
            TicketEvent(
                ticket=ticket,
                kind=EventKind.REPORTED,
                at=at,
                author=user,
                author_name=user.display_name,
                text=ticket.description,
            )
        )
        events.append(
            TicketEvent(
                ticket=ticket,
                kind=EventKind.REPLY,
                at=at + timedelta(minutes=30),
                author_name="Support",
                text="Danke für Ihre Meldung, wir sehen uns das Raumsystem an.",
            )
        )
        if ticket.resolved_at is not None:
            last = TicketEvent(
                ticket=ticket,
                kind=EventKind.RESOLVED,
                at=ticket.resolved_at,
                author_name="Support",
                text="Die Tonübertragung funktioniert wieder; Ursache war ein Codec-Update.",
            )
        else:
            last = TicketEvent(
                ticket=ticket,
                kind=EventKind.CUSTOMER_MESSAGE,
                at=at + timedelta(hours=2),
                author=user,
                author_name=user.display_name,
                text="Der Fehler tritt weiterhin auf, auch in Raum 3.",
            )
        events.append(last)
        if n % 5 == 0:
            events.append(
                TicketEvent(
                    ticket=ticket,
                    kind=EventKind.NOTE,
                    at=at + timedelta(minutes=40),
                    author_name="Support",
                    text="Intern: Codec-Version prüfen.",
                    public=False,
                )
            )
    TicketEvent.objects.bulk_create(events, batch_size=BATCH)
    return sum(1 for event in events if event.public)


def make_incidents(customer: Any, now: datetime, rng: random.Random) -> None:
    """A few incidents over the last twelve months; two for this customer only."""
    from treffpunkt.availability.models import Check, Incident
    from treffpunkt.availability.services import fix_deadline

    functions = list(Check)
    for index in range(INCIDENTS):
        started = now - timedelta(days=rng.randrange(5, 360), minutes=rng.randrange(1440))
        incident = Incident.objects.create(
            title=f"{functions[index % len(functions)].label}: check failed",
            function=functions[index % len(functions)],
            started_at=started,
            ended_at=started + timedelta(minutes=rng.randrange(10, 300)),
            significant=index % 3 != 2,
            fix_due_at=fix_deadline(started),
            opened_automatically=True,
            created_at=started,
        )
        if index < 2:
            incident.customers.add(customer)


def check_archive(data: bytes, numbers: list[str]) -> tuple[list[str], list[str], int, int]:
    """(entry names, invoice files missing, tickets and public entries in stoerungen.json)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        present = set(names)
        missing = []
        for number in numbers:
            pdf, xml = f"rechnungen/{number}.pdf", f"rechnungen/{number}.xml"
            if pdf not in present or not archive.read(pdf).startswith(b"%PDF-"):
                missing.append(pdf)
            if xml not in present or b"CrossIndustryInvoice" not in archive.read(xml):
                missing.append(xml)
        tickets = (
            json.loads(archive.read("stoerungen.json")) if "stoerungen.json" in present else []
        )
    entries = sum(len(ticket["timeline"]) for ticket in tickets)
    return names, missing, len(tickets), entries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=INVOICES, help="invoices to issue")
    parser.add_argument("--tickets", type=int, default=TICKETS, help="fault tickets")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of customer_archive")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--keep-db", action="store_true", help="keep the test database")
    args = parser.parse_args()

    # Our own database name (the helper would name it after the script); DATABASE_URL wins.
    os.environ.setdefault("DATABASE_URL", f"{PG_SERVER_URL}/{DB_NAME}")
    from contracts_data import throwaway_database

    with throwaway_database(keep=args.keep_db) as where:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from treffpunkt.billing.models import Invoice
        from treffpunkt.core import clock
        from treffpunkt.portability.export import customer_archive

        rng = random.Random(SEED)
        now = datetime.now(UTC)
        built = time.perf_counter()
        customer, user = make_customer()
        invoices_s = issue_invoices(customer, args.invoices, clock.operator_today())
        public_entries = make_tickets(customer, user, args.tickets, now, rng)
        make_incidents(customer, now, rng)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        build_s = time.perf_counter() - built
        note(
            f"built {args.invoices} invoices ({invoices_s:.1f} s), {args.tickets} tickets, "
            f"{INCIDENTS} incidents in {build_s:.1f} s"
        )
        numbers = list(
            Invoice.objects.filter(customer=customer)
            .order_by("pk")
            .values_list("number", flat=True)
        )

        def run() -> bytes:
            return customer_archive(customer, asking=user)

        for _ in range(args.warmup):
            run()
        timings = []
        data = b""
        for _ in range(args.runs):
            began = time.perf_counter()
            data = run()
            timings.append(time.perf_counter() - began)
        with CaptureQueriesContext(connection) as queries:
            data = run()

        names, missing, tickets_found, entries_found = check_archive(data, numbers)
        median = statistics.median(timings)
        emit("export_customer_database", where)
        emit("export_customer_backend", connection.vendor)
        emit("export_customer_invoices", len(numbers))
        emit("export_customer_tickets", args.tickets)
        emit("export_customer_ticket_public_entries", public_entries)
        emit("export_customer_incidents", INCIDENTS)
        emit("export_customer_build_s", build_s)
        emit("export_customer_issue_ms_per_invoice", 1000 * invoices_s / max(len(numbers), 1))
        machine_figures("export_customer")
        emit("export_customer_runs", len(timings))
        emit("export_customer_s", median)
        emit("export_customer_max_s", max(timings))
        emit("export_customer_min_s", min(timings))
        emit("export_customer_bytes", len(data))
        emit("export_customer_files", len(names))
        emit("export_customer_invoice_files", sum(1 for n in names if n.startswith("rechnungen/")))
        emit("export_customer_tickets_in_archive", tickets_found)
        emit("export_customer_timeline_entries_in_archive", entries_found)
        emit("export_customer_queries", len(queries))
        emit("export_customer_goal_s", GOAL_S)
        emit("export_customer_goal_met", "yes" if median <= GOAL_S else "no")

        wrong = False
        if len(numbers) != args.invoices or missing:
            note(
                f"invoices issued {len(numbers)} of {args.invoices}; missing in the archive "
                f"({len(missing)}): {', '.join(missing[:10])}"
            )
            wrong = True
        if tickets_found != args.tickets or entries_found != public_entries:
            note(
                f"stoerungen.json: {tickets_found} tickets, {entries_found} entries; "
                f"built {args.tickets}, {public_entries} public entries (not a failure)"
            )
        if wrong:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
