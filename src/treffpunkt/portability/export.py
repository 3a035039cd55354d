"""The customer's archive (P-DATA-3, provider switch): a ZIP with

- ``stammdaten.json``: the customer as stored, and its contacts (names and functions; the
  e-mail address and phone number only of the contact who asks: addresses are never shown to
  other people),
- ``vertraege.json``: orders and contracts with their terms and dates,
- ``dokumente/``: every letter sent to the customer (order confirmations, cancellations, …),
- ``rechnungen/``: every invoice and credit note in everyday use as PDF and as e-invoice XML,
- ``stoerungen.json``: the fault tickets with their public timelines,
- ``verfuegbarkeit.json``: the availability of the last twelve months, with the incidents,
- ``LIESMICH.txt``: what is where.

Built in memory from the database and the document storage, in one read; nothing is written."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch

from treffpunkt.accounts.models import User
from treffpunkt.availability import selectors as availability
from treffpunkt.billing.models import Invoice
from treffpunkt.contracts.models import Contract, CustomerDocument, Order
from treffpunkt.customers.models import Customer, CustomerContact
from treffpunkt.documents.selectors import document_bytes, download_name
from treffpunkt.support.models import Ticket, TicketEvent

README = """Datenexport von Treffpunkt / data export

stammdaten.json      Kundendaten und Ansprechpartner / customer and contacts
vertraege.json       Aufträge und Verträge / orders and contracts
dokumente/           Schreiben an Sie (PDF) / letters to you (PDF)
rechnungen/          Rechnungen als PDF und E-Rechnung (XML) / invoices as PDF and XML
stoerungen.json      Störungsmeldungen mit Verlauf / fault tickets with their timeline
verfuegbarkeit.json  Verfügbarkeit der letzten zwölf Monate / availability, last twelve months

Alle Zeiten in UTC (ISO 8601), Beträge in Euro als Zeichenkette.
All times in UTC (ISO 8601), amounts in euros as strings.
"""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=_plain).encode("utf-8")


def master_data(customer: Customer, *, asking: User) -> dict[str, Any]:
    fields = [
        "customer_number", "kind", "legal_name", "legal_form", "street", "postal_code", "city",
        "country", "billing_name", "billing_street", "billing_postal_code", "billing_city",
        "billing_country", "vat_id", "leitweg_id", "created_at",
    ]  # fmt: skip
    contacts = []
    for contact in CustomerContact.objects.filter(customer=customer).order_by("pk"):
        entry: dict[str, Any] = {"name": contact.name, "function": contact.function}
        if contact.user_id == asking.pk:
            entry |= {"email": contact.email, "phone": contact.phone}
        contacts.append(entry)
    return {
        "customer": {name: _plain(getattr(customer, name)) for name in fields},
        "contacts": contacts,
    }


def contracts(customer: Customer) -> dict[str, Any]:
    orders = [
        {
            "number": order.number,
            "state": order.state,
            "received_on": order.received_on,
            "channel": order.channel,
        }
        for order in Order.objects.filter(customer=customer).order_by("pk")
    ]
    found = [
        {
            "number": contract.number,
            "product": contract.product.name,
            "kind": contract.kind,
            "quantity": contract.quantity,
            "state": contract.state,
            "start": contract.start,
            "ends_on": contract.ends_on,
            "switched_on_at": contract.switched_on_at,
        }
        for contract in Contract.objects.filter(customer=customer)
        .select_related("product")
        .order_by("pk")
    ]
    return {"orders": orders, "contracts": found}


def tickets(customer: Customer) -> list[dict[str, Any]]:
    result = []
    public = Prefetch(
        "events",
        queryset=TicketEvent.objects.filter(public=True).order_by("at", "pk"),
        to_attr="public_events",
    )
    for ticket in Ticket.objects.filter(customer=customer).prefetch_related(public).order_by("pk"):
        events = ticket.public_events  # set by the Prefetch above
        result.append(
            {
                "number": ticket.number,
                "subject": ticket.subject,
                "state": ticket.state,
                "reported_at": ticket.reported_at,
                "reaction_due_at": ticket.reaction_due_at,
                "fix_due_at": ticket.fix_due_at,
                "resolved_at": ticket.resolved_at,
                "warranty_case": ticket.warranty_case,
                "timeline": [
                    {"kind": e.kind, "at": e.at, "by": e.author_name, "text": e.text}
                    for e in events
                ],
            }
        )
    return result


def availability_history(customer: Customer) -> list[dict[str, Any]]:
    history = []
    for month in availability.months_back(12):
        report = availability.month_report(month, customer)
        history.append(
            {
                "month": f"{month:%Y-%m}",
                "percent": report.figure.percent,
                "meets_promise": report.figure.meets_goal,
                "minutes_total": report.figure.minutes_total,
                "minutes_unavailable": report.figure.minutes_unavailable,
                "incidents": [
                    {
                        "title": i.display_title,
                        "started_at": i.started_at,
                        "ended_at": i.ended_at,
                        "significant": i.significant,
                        "fix_due_at": i.fix_due_at,
                    }
                    for i in report.incidents
                ],
                "maintenance": [
                    {"title": w.title, "starts_at": w.starts_at, "ends_at": w.ends_at}
                    for w in report.maintenance
                ],
            }
        )
    return history


def customer_archive(customer: Customer, *, asking: User) -> bytes:
    """The archive as bytes (a ZIP, compressed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("LIESMICH.txt", README)
        archive.writestr("stammdaten.json", _json(master_data(customer, asking=asking)))
        archive.writestr("vertraege.json", _json(contracts(customer)))
        for sent in (
            CustomerDocument.objects.filter(customer=customer)
            .select_related("document")
            .order_by("pk")
        ):
            name = f"dokumente/{sent.document.pk:06d}-{download_name(sent.document)}"
            archive.writestr(name, document_bytes(sent.document))
        for invoice in (
            Invoice.objects.in_everyday_use()
            .filter(customer=customer)
            .select_related("document")
            .order_by("issue_date", "number")
        ):
            if invoice.document is not None:
                archive.writestr(
                    f"rechnungen/{invoice.number}.pdf", document_bytes(invoice.document)
                )
            archive.writestr(f"rechnungen/{invoice.number}.xml", invoice.xml.encode("utf-8"))
        archive.writestr("stoerungen.json", _json(tickets(customer)))
        archive.writestr("verfuegbarkeit.json", _json(availability_history(customer)))
    return buffer.getvalue()
