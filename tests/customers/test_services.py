"""Creating customers (P-OP-1: businesses only), their contacts and organizations: the rules,
the audit entries, the invitation mails, and nothing written when anything is refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from tests.backoffice.conftest import operator_with
from tests.customers.conftest import (
    VALID_LEITWEG_ID,
    company_fields,
    make_customer,
    public_body_fields,
    writer,
)
from treffpunkt.accounts.models import Invitation, Organization, Role, User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.core.models import AuditEntry
from treffpunkt.customers import services
from treffpunkt.customers.models import Customer, CustomerContact, CustomerOrganization
from treffpunkt.notifications.models import OutboxMail

pytestmark = pytest.mark.django_db

CONSUMER_MESSAGE_DE = (
    "Treffpunkt richtet sich nur an Unternehmen und öffentliche Stellen (§ 1 der AGB)."
)


def _counts() -> tuple[int, ...]:
    return (
        Customer.objects.count(),
        CustomerContact.objects.count(),
        CustomerOrganization.objects.count(),
        User.objects.count(),
        Organization.objects.count(),
        AuditEntry.objects.count(),
        OutboxMail.objects.count(),
    )


def _refused(actor: User, **fields: Any) -> DomainError:
    before = _counts()
    with translation.override("de"), pytest.raises(DomainError) as refused:
        services.create_customer(
            actor=actor,
            contacts=[services.NewContact(name="Karla Kunde", email="karla@example.org")],
            **fields,
        )
        # The message as the German reader sees it (a lazy text translates when read).
        refused.value.message = str(refused.value.message)
    assert _counts() == before, "a refused customer must leave nothing behind"
    return refused.value


def test_a_company_gets_a_number_its_contact_an_account_and_the_log_both():
    actor = writer()
    customer = services.create_customer(
        actor=actor,
        contacts=[
            services.NewContact(
                name="Karla Kunde", email="Karla@Example.org", function="Geschäftsführerin"
            )
        ],
        **company_fields(vat_id="de 136 695 976"),
    )
    assert customer.customer_number == f"K-{customer.pk:05d}"
    assert customer.vat_id == "DE136695976"
    assert customer.country == "DE"
    contact = customer.contacts.get()
    assert contact.email == "karla@example.org"
    assert contact.user is not None
    assert contact.user.role == Role.CUSTOMER_CONTACT
    assert contact.user.organization is None
    assert not contact.user.has_usable_password()
    mail = OutboxMail.objects.get(recipient=contact.user)
    assert mail.template == "customers/contact_invitation"
    assert "Beispiel Beratung GmbH" in mail.subject
    codes = list(AuditEntry.objects.order_by("pk").values_list("code", "actor"))
    assert codes == [
        ("customers.customer.created", actor.pk),
        ("customers.contact.added", actor.pk),
    ]


def test_the_invitation_link_lets_the_contact_choose_a_password(client: Any):
    customer = make_customer(
        contacts=[services.NewContact(name="Karla Kunde", email="karla@example.org")]
    )
    mail = OutboxMail.objects.get(template="customers/contact_invitation")
    link = next(word for word in mail.body_text.split() if word.startswith("http"))
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path, follow=True)
    assert response.status_code == 200
    assert customer.contacts.get().user.is_customer_contact


def test_a_public_body_needs_its_leitweg_id_not_a_vat_id():
    customer = services.create_customer(actor=writer(), **public_body_fields())
    assert customer.leitweg_id == VALID_LEITWEG_ID
    assert customer.vat_id == ""


@pytest.mark.parametrize(
    "fields",
    [
        company_fields(is_business=False),
        company_fields(legal_form="Privatperson"),
        company_fields(legal_form="privat"),
        public_body_fields(is_business=False),
    ],
    ids=["no-declaration", "privatperson", "privat", "public-body-undeclared"],
)
def test_a_consumer_is_refused_with_the_message_and_nothing_is_written(fields: dict[str, Any]):
    refused = _refused(writer(), **fields)
    assert refused.code == "consumer"
    assert str(refused.message).startswith(CONSUMER_MESSAGE_DE)


def test_a_company_without_vat_id_is_refused():
    refused = _refused(writer(), **company_fields(vat_id=""))
    assert refused.code == "vat_id"
    assert str(refused.message) == "Bitte geben Sie die USt-IdNr. ein."


def test_a_company_with_an_invalid_vat_id_is_refused():
    assert _refused(writer(), **company_fields(vat_id="DE136695977")).code == "vat_id"


def test_a_company_without_legal_form_is_refused():
    assert _refused(writer(), **company_fields(legal_form="")).code == "legal_form"


def test_a_public_body_without_leitweg_id_is_refused():
    refused = _refused(writer(), **public_body_fields(leitweg_id=""))
    assert refused.code == "leitweg_id"
    assert str(refused.message) == "Bitte geben Sie die Leitweg-ID ein."


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        (company_fields(legal_name=" "), "legal_name"),
        (company_fields(street=""), "street"),
        (company_fields(country="Deutschland"), "country"),
        (company_fields(billing_street="Postfach 1"), "billing_street"),
        (public_body_fields(leitweg_id="04011000-1234512345-07"), "leitweg_id"),
        (company_fields(kind="consumer"), "kind"),
    ],
)
def test_bad_input_writes_nothing(fields: dict[str, Any], code: str):
    assert _refused(writer(), **fields).code == code


def test_a_bad_contact_rolls_the_whole_customer_back():
    actor = writer()
    operator_with(None, email="taken@example.org")
    before = _counts()
    with pytest.raises(DomainError) as refused:
        services.create_customer(
            actor=actor,
            contacts=[
                services.NewContact(name="Erste", email="erste@example.org"),
                services.NewContact(name="Zweite", email="TAKEN@example.org"),
            ],
            **company_fields(),
        )
    assert refused.value.code == "contact_email"
    assert _counts() == before


@pytest.mark.parametrize(
    "capability", [None, *[c for c in Capability if c != Capability.CUSTOMERS]]
)
def test_only_the_customers_capability_writes(capability: Capability | None):
    actor = operator_with(capability)
    customer = make_customer()
    before = _counts()
    with pytest.raises(NotAllowed):
        services.create_customer(actor=actor, **company_fields())
    with pytest.raises(NotAllowed):
        services.update_customer(actor=actor, customer=customer, **_master(customer))
    with pytest.raises(NotAllowed):
        services.add_contact(
            actor=actor, customer=customer, contact=services.NewContact("A", "a@example.org")
        )
    with pytest.raises(NotAllowed):
        services.open_organization_for_customer(
            actor=actor, customer=customer, name="X", admin_email="x@example.org", admin_name="X"
        )
    assert _counts() == before


def _master(customer: Customer, **changes: Any) -> dict[str, Any]:
    fields = {
        name: getattr(customer, name)
        for name in (
            "kind",
            "legal_name",
            "legal_form",
            "street",
            "postal_code",
            "city",
            "country",
            "billing_name",
            "billing_street",
            "billing_postal_code",
            "billing_city",
            "billing_country",
            "vat_id",
            "leitweg_id",
        )
    }
    fields.update(changes)
    return fields


def test_updating_keeps_the_number_and_logs_the_changed_fields():
    actor = writer()
    customer = make_customer(actor)
    number = customer.customer_number
    changed = services.update_customer(
        actor=actor,
        customer=customer,
        **_master(
            customer,
            city="Lübeck",
            billing_street="Postfach 12 34",
            billing_postal_code="23501",
            billing_city="Lübeck",
        ),
    )
    assert changed.customer_number == number
    assert changed.billing_country == "DE"
    entry = AuditEntry.objects.get(code="customers.customer.changed")
    assert entry.data == {
        "fields": [
            "billing_city",
            "billing_country",
            "billing_postal_code",
            "billing_street",
            "city",
        ]
    }
    with pytest.raises(DomainError):
        services.update_customer(actor=actor, customer=customer, **_master(customer, vat_id=""))
    customer.refresh_from_db()
    assert customer.city == "Lübeck" and customer.vat_id == "DE136695976"


def test_a_contact_without_login_gets_no_account_and_no_mail():
    customer = make_customer()
    contact = services.add_contact(
        actor=writer(),
        customer=customer,
        contact=services.NewContact("Rita Rechnung", "rechnung@example.org", login=False),
    )
    assert contact.user is None
    assert not OutboxMail.objects.exists()
    assert AuditEntry.objects.filter(code="customers.contact.added").count() == 1


def test_opening_an_organization_links_it_to_the_customer_in_one_transaction():
    actor = writer()
    customer = make_customer(actor)
    organization = services.open_organization_for_customer(
        actor=actor,
        customer=customer,
        name="Beispiel Beratung",
        admin_email="admin@beispiel.example.org",
        admin_name="Anna Admin",
    )
    assert CustomerOrganization.objects.get(organization=organization).customer == customer
    assert Invitation.objects.get(organization=organization).role == Role.ORG_ADMIN
    assert set(AuditEntry.objects.values_list("code", flat=True)) >= {
        "accounts.organization.opened",
        "customers.organization.linked",
    }
    # The same short name again: refused, and nothing of the second attempt stays.
    before = _counts()
    with pytest.raises(DomainError):
        services.open_organization_for_customer(
            actor=actor,
            customer=customer,
            name="Beispiel Beratung",
            admin_email="zwei@beispiel.example.org",
            admin_name="Zweite Admin",
        )
    assert _counts() == before
