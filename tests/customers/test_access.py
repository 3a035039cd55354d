"""Who may open the customers' pages, for every role and each single capability; a customer's
contact sees their own customer only, and nobody but the operator's staff sees a contact's
e-mail address."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from tests.backoffice.test_access import OPERATORS, OUTSIDERS
from tests.conftest import World, client_for
from tests.customers.conftest import contact_of, make_customer, public_body_fields, writer
from treffpunkt.accounts.models import User
from treffpunkt.customers import services
from treffpunkt.customers.models import Customer

pytestmark = pytest.mark.django_db

# Every URL name of the customers app (the project's access table takes them as tested here).
CUSTOMER_URL_NAMES = frozenset(
    {
        "backoffice:customers:list",
        "backoffice:customers:new",
        "backoffice:customers:detail",
        "backoffice:customers:open_organization",
        "backoffice:customers:allocate_fixed_id",
        "backoffice:customers:release_fixed_id",
        "customer_area:customers:master_data",
    }
)

WHO = ("anonymous", *OUTSIDERS, "customer_contact", "linked_contact", *OPERATORS)
READS = frozenset({"op_customers", "op_auditor", "superuser"})
WRITES = frozenset({"op_customers", "superuser"})


@dataclass(frozen=True)
class Row:
    label: str
    url_name: str
    url: Callable[[Customer], str]
    allowed: frozenset[str]
    # What the others who are logged in get: 403 (wrong role) or 404 (not theirs).
    others: int = 403
    # POST-only views: who may gets a redirect back to the customer.
    method: str = "get"
    success: int = 200


ROWS = (
    Row("list", "backoffice:customers:list", lambda c: reverse("backoffice:customers:list"), READS),
    Row(
        "list-csv",
        "backoffice:customers:list",
        lambda c: reverse("backoffice:customers:list") + "?format=csv",
        READS,
    ),
    Row("new", "backoffice:customers:new", lambda c: reverse("backoffice:customers:new"), WRITES),
    Row(
        "detail",
        "backoffice:customers:detail",
        lambda c: reverse("backoffice:customers:detail", args=[c.pk]),
        READS,
    ),
    Row(
        "open-organization",
        "backoffice:customers:open_organization",
        lambda c: reverse("backoffice:customers:open_organization", args=[c.pk]),
        WRITES,
    ),
    Row(
        "allocate-fixed-id",
        "backoffice:customers:allocate_fixed_id",
        lambda c: reverse("backoffice:customers:allocate_fixed_id", args=[c.pk]),
        WRITES,
        method="post",
        success=302,
    ),
    Row(
        "release-fixed-id",
        "backoffice:customers:release_fixed_id",
        lambda c: reverse(
            "backoffice:customers:release_fixed_id",
            args=[c.pk, services.allocate_fixed_id(actor=writer(), customer=c).pk],
        ),
        WRITES,
        method="post",
        success=302,
    ),
    Row(
        "master-data",
        "customer_area:customers:master_data",
        lambda c: reverse("customer_area:customers:master_data"),
        frozenset({"linked_contact"}),
    ),
)


def expected(row: Row, who: str) -> str:
    if who == "anonymous":
        return "login"
    if who in row.allowed:
        return str(row.success)
    if row.url_name.startswith("customer_area:") and who == "customer_contact":
        return "404"  # a contact of no customer: there is nothing to show
    return str(row.others)


CASES = [
    pytest.param(row, who, id=f"{row.label}/{who}->{expected(row, who)}")
    for row in ROWS
    for who in WHO
]


@pytest.mark.parametrize(("row", "who"), CASES)
def test_each_person_gets_exactly_the_access_their_capability_allows(
    people: dict[str, User], row: Row, who: str
):
    customer = make_customer()
    people = {**people, "linked_contact": contact_of(customer, display_name="Lena Linked")}
    url = row.url(customer)
    client = Client() if who == "anonymous" else client_for(people[who])
    response = client.post(url) if row.method == "post" else client.get(url)
    outcome = expected(row, who)
    if outcome == "login":
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login") + "?next="), url
    else:
        assert response.status_code == int(outcome), (url, who, response.status_code)
        if outcome == "302":
            assert response["Location"] == reverse(
                "backoffice:customers:detail", args=[customer.pk]
            )


def test_the_table_covers_every_url_of_the_customers_app():
    from django.urls import get_resolver

    def names(resolver: object, prefix: str = "") -> set[str]:
        found = set()
        for pattern in getattr(resolver, "url_patterns", []):
            if hasattr(pattern, "url_patterns"):
                namespace = getattr(pattern, "namespace", None)
                found |= names(pattern, f"{prefix}{namespace}:" if namespace else prefix)
            elif pattern.name:
                found.add(prefix + pattern.name)
        return found

    from tests.customers.test_advertising import ADVERTISING_URL_NAMES

    # The advertising pages have their own tests (tests/customers/test_advertising.py).
    ours = {name for name in names(get_resolver()) if ":customers:" in name}
    assert ours - ADVERTISING_URL_NAMES == CUSTOMER_URL_NAMES
    assert {row.url_name for row in ROWS} == CUSTOMER_URL_NAMES


def test_an_unknown_customer_is_404_for_those_who_may_read(people: dict[str, User]):
    client = client_for(people["op_auditor"])
    assert client.get(reverse("backoffice:customers:detail", args=[999_999])).status_code == 404
    writer_client = client_for(people["op_customers"])
    url = reverse("backoffice:customers:open_organization", args=[999_999])
    assert writer_client.get(url).status_code == 404


def test_a_contact_sees_their_own_customer_and_never_another(world: World):
    own = make_customer(legal_name="Eigene Firma GmbH")
    other = services.create_customer(
        actor=writer(), **public_body_fields(legal_name="Andere Behörde")
    )
    services.open_organization_for_customer(
        actor=writer(),
        customer=other,
        name="Fremde Kasse",
        admin_email="fremd@example.org",
        admin_name="Frieda Fremd",
    )
    contact = contact_of(own)
    client = client_for(contact)
    body = client.get(reverse("customer_area:customers:master_data")).content.decode()
    assert "Eigene Firma GmbH" in body
    assert "Andere Behörde" not in body and "Fremde Kasse" not in body
    # The back office's pages of either customer do not exist for a contact.
    for customer in (own, other):
        detail = reverse("backoffice:customers:detail", args=[customer.pk])
        assert client.get(detail).status_code == 403


def test_the_contacts_e_mail_addresses_appear_only_to_the_operators(world: World):
    customer = make_customer(
        contacts=[
            services.NewContact(
                name="Karla Kunde", email="karla.geheim@example.org", phone="040 123456"
            )
        ]
    )
    colleague = contact_of(customer, display_name="Kolja Kollege")
    page = client_for(colleague).get(reverse("customer_area:customers:master_data"))
    body = page.content.decode()
    assert "Karla Kunde" in body
    assert "karla.geheim@example.org" not in body
    assert "040 123456" not in body
    home = client_for(colleague).get(reverse("customer_area:home")).content.decode()
    assert "karla.geheim@example.org" not in home
    for person in (world.member, world.staff, world.org_admin):
        assert "karla.geheim" not in client_for(person).get("/").content.decode()
    operator_page = client_for(writer()).get(
        reverse("backoffice:customers:detail", args=[customer.pk])
    )
    assert "karla.geheim@example.org" in operator_page.content.decode()
