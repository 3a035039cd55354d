"""The back office's customer pages: the list filters, sorts and exports; the form creates a
customer or says in German what is wrong; the detail page opens an organization."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.backoffice.pages import shell_nav, table_rows
from tests.conftest import World, client_for
from tests.customers.conftest import (
    VALID_LEITWEG_ID,
    make_customer,
    public_body_fields,
    writer,
)
from treffpunkt.core.models import AuditEntry
from treffpunkt.customers import services
from treffpunkt.customers.models import Customer, CustomerOrganization
from treffpunkt.notifications.models import OutboxMail

pytestmark = pytest.mark.django_db

LIST = reverse("backoffice:customers:list")
NEW = reverse("backoffice:customers:new")


def _form(**changes: str) -> dict[str, str]:
    data = {
        "kind": "company",
        "is_business": "on",
        "legal_name": "Neue Firma GmbH",
        "legal_form": "GmbH",
        "vat_id": "DE 136695976",
        "leitweg_id": "",
        "street": "Weg 1",
        "postal_code": "10115",
        "city": "Berlin",
        "country": "DE",
        "contact_name": "Nina Neu",
        "contact_email": "nina@neue-firma.example.org",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_list_filters_sorts_and_exports(world: World):
    actor = writer()
    make_customer(actor, legal_name="Zeta GmbH")
    make_customer(actor, legal_name="Alpha GmbH")
    services.create_customer(actor=actor, **public_body_fields(legal_name="Kasse Mitte"))
    client = client_for(actor)
    rows = table_rows(client.get(LIST))
    assert [row[1] for row in rows] == ["Zeta GmbH", "Alpha GmbH", "Kasse Mitte"]
    assert [row[1] for row in table_rows(client.get(LIST + "?sort=name"))] == [
        "Alpha GmbH",
        "Kasse Mitte",
        "Zeta GmbH",
    ]
    assert [row[1] for row in table_rows(client.get(LIST + "?kind=public_body"))] == ["Kasse Mitte"]
    assert [row[1] for row in table_rows(client.get(LIST + "?name=alp"))] == ["Alpha GmbH"]
    csv = b"".join(client.get(LIST + "?format=csv&sort=-number").streaming_content).decode()
    assert csv.index("Kasse Mitte") < csv.index("Alpha GmbH") < csv.index("Zeta GmbH")
    assert VALID_LEITWEG_ID in csv and "DE136695976" in csv


def test_the_form_creates_a_customer_and_invites_the_contact(world: World):
    client = client_for(writer())
    response = client.post(NEW, _form())
    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:customers:detail", args=[customer.pk])
    assert customer.vat_id == "DE136695976"
    assert OutboxMail.objects.get().to_address == "nina@neue-firma.example.org"
    detail = client.get(response["Location"])
    body = detail.content.decode()
    assert customer.customer_number in body
    assert "Nina Neu" in body
    assert reverse("backoffice:customers:open_organization", args=[customer.pk]) in body


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"vat_id": "DE136695977"}, "vat_id", "Diese USt-IdNr. ist ungültig."),
        ({"vat_id": ""}, "vat_id", "Bitte geben Sie die USt-IdNr. ein."),
        (
            {"kind": "public_body", "vat_id": "", "leitweg_id": "04011000-1234512345-07"},
            "leitweg_id",
            "Diese Leitweg-ID ist ungültig.",
        ),
        (
            {"kind": "public_body", "vat_id": ""},
            "leitweg_id",
            "Bitte geben Sie die Leitweg-ID ein.",
        ),
        ({"is_business": None}, None, "nur an Unternehmen und öffentliche Stellen (§ 1 der AGB)"),
        ({"legal_form": "Privatperson"}, None, "nur an Unternehmen und öffentliche Stellen"),
    ],
)
def test_the_form_says_in_german_what_is_wrong_and_writes_nothing(
    world: World, changes: dict[str, str | None], field: str | None, message: str
):
    response = client_for(writer()).post(NEW, _form(**changes), headers={"accept-language": "de"})
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    if field:
        assert f'id="customer-{field}_error"' in body
    assert not Customer.objects.exists()
    assert not AuditEntry.objects.exists()
    assert not OutboxMail.objects.exists()


def test_opening_an_organization_from_the_customer_page(world: World):
    actor = writer()
    customer = make_customer(actor)
    url = reverse("backoffice:customers:open_organization", args=[customer.pk])
    client = client_for(actor)
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {"name": "Beispiel Kasse", "admin_name": "Anna Admin", "admin_email": "anna@example.org"},
    )
    assert response.status_code == 302
    link = CustomerOrganization.objects.get()
    assert link.customer == customer and link.organization.name == "Beispiel Kasse"
    detail = client.get(response["Location"]).content.decode()
    assert "Beispiel Kasse" in detail
    # The same name again: the form says so, nothing more is written.
    again = client.post(
        url, {"name": "Beispiel Kasse", "admin_name": "B", "admin_email": "b@example.org"}
    )
    assert again.status_code == 200
    assert CustomerOrganization.objects.count() == 1


def test_the_navigation_leads_to_the_customers(world: World):
    client = client_for(writer())
    hrefs = [link.href for link in shell_nav(client.get(reverse("backoffice:home")))]
    assert LIST in hrefs and NEW in hrefs
