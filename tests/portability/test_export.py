"""A business customer's contact downloads all of the customer's data as one archive, for a
provider switch (P-DATA-3): master data, contracts, letters, invoices as PDF and XML, fault
tickets, availability. Nothing of another customer, no internal note, no other person's
e-mail address."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from tests.backoffice.conftest import operator_with, people
from tests.conftest import client_for
from tests.contracts.factories import contract_from, customer_with_contact, freeze
from tests.customers.conftest import contact_of
from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.billing import services as billing
from treffpunkt.billing.services import LineDraft
from treffpunkt.contracts.models import ProductKind
from treffpunkt.core.models import AuditEntry
from treffpunkt.support import services as support

pytestmark = pytest.mark.django_db
__all__ = ["people"]

PORTABILITY_CUSTOMER_URL_NAMES = frozenset(
    {"customer_area:portability:export", "customer_area:portability:download"}
)


def archive_of(client: Client) -> zipfile.ZipFile:
    response = client.get(reverse("customer_area:portability:download"))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_the_archive_holds_the_customers_data_and_nothing_of_anyone_else(
    monkeypatch: pytest.MonkeyPatch,
):
    clock = freeze(monkeypatch, date(2027, 3, 1))
    customer, contact = customer_with_contact()
    colleague = contact_of(customer, display_name="Kollegin", email="kollegin@example.org")
    contract_from(clock, customer, ProductKind.VIDEO, start=date(2027, 3, 1))
    accountant = operator_with(Capability.BILLING)
    invoice = billing.issue_invoice(
        actor=accountant,
        customer=customer,
        lines=[
            LineDraft(
                description="Videoberatung",
                quantity=Decimal(1),
                unit="MON",
                unit_price=Decimal("249.00"),
                supply_start=date(2027, 3, 1),
                supply_end=date(2027, 3, 31),
            )
        ],
    )
    ticket = support.report_fault(actor=contact, subject="Kein Bild", description="Schwarz.")
    support.add_note(actor=operator_with(Capability.SUPPORT), ticket=ticket, text="GEHEIM")
    other, _other_contact = customer_with_contact()
    other_invoice = billing.issue_invoice(
        actor=accountant,
        customer=other,
        lines=[
            LineDraft(
                description="Fremd",
                quantity=Decimal(1),
                unit="MON",
                unit_price=Decimal("10.00"),
                supply_start=date(2027, 3, 1),
                supply_end=date(2027, 3, 31),
            )
        ],
    )

    archive = archive_of(client_for(contact))
    names = set(archive.namelist())
    assert {
        "LIESMICH.txt",
        "stammdaten.json",
        "vertraege.json",
        "stoerungen.json",
        "verfuegbarkeit.json",
        f"rechnungen/{invoice.number}.pdf",
        f"rechnungen/{invoice.number}.xml",
    } <= names
    assert f"rechnungen/{other_invoice.number}.pdf" not in names
    assert any(name.startswith("dokumente/") for name in names)  # the order confirmation
    assert archive.read(f"rechnungen/{invoice.number}.pdf").startswith(b"%PDF")
    assert archive.read(f"rechnungen/{invoice.number}.xml") == invoice.xml.encode()
    master = json.loads(archive.read("stammdaten.json"))
    assert master["customer"]["legal_name"] == customer.legal_name
    by_name = {entry["name"]: entry for entry in master["contacts"]}
    mine = next(entry for entry in master["contacts"] if "email" in entry)
    assert mine["email"] == contact.email
    assert "email" not in by_name["Kollegin"]
    assert colleague.email.encode() not in b"".join(archive.read(n) for n in names)
    tickets = json.loads(archive.read("stoerungen.json"))
    assert tickets[0]["subject"] == "Kein Bild"
    assert "GEHEIM" not in archive.read("stoerungen.json").decode()
    contracts = json.loads(archive.read("vertraege.json"))
    assert len(contracts["contracts"]) == 1 and len(contracts["orders"]) == 1
    assert len(json.loads(archive.read("verfuegbarkeit.json"))) == 12
    entry = AuditEntry.objects.get(code="portability.customer.exported")
    assert entry.actor == contact


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", "login"),
        ("customer_contact", 404),  # a contact's login without a customer
        ("member", 403),
        ("staff", 403),
        ("org_admin", 403),
        ("op_customers", 403),
        ("superuser", 403),
    ],
)
def test_only_a_customers_own_contacts_export(people: dict[str, User], who: str, status: object):
    client = Client() if who == "anonymous" else client_for(people[who])
    for name in PORTABILITY_CUSTOMER_URL_NAMES:
        response = client.get(reverse(name))
        if status == "login":
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("accounts:login"))
        else:
            assert response.status_code == status, (name, who)
    assert not AuditEntry.objects.filter(code="portability.customer.exported").exists()
