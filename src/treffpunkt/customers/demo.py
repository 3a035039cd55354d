"""The customers' part of the demo: a company and a public body (linked to the demo
organization), each with a contact who logs in to the customer area. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from treffpunkt.accounts.demo import DEMO_PASSWORD, demo_organization
from treffpunkt.accounts.models import Role, User
from treffpunkt.core import clock
from treffpunkt.customers.models import (
    Customer,
    CustomerContact,
    CustomerKind,
    CustomerOrganization,
)
from treffpunkt.customers.services import NUMBER_PREFIX


@dataclass(frozen=True)
class DemoCustomer:
    kind: str
    legal_name: str
    legal_form: str
    street: str
    postal_code: str
    city: str
    vat_id: str
    leitweg_id: str
    contact_name: str
    contact_function: str
    contact_email: str
    linked_to_demo_organization: bool


DEMO_CUSTOMERS = [
    DemoCustomer(
        kind=CustomerKind.COMPANY,
        legal_name="Beispiel Beratung GmbH",
        legal_form="GmbH",
        street="Musterstraße 1",
        postal_code="20095",
        city="Hamburg",
        vat_id="DE136695976",
        leitweg_id="",
        contact_name="Karla Kunde",
        contact_function="Geschäftsführerin",
        contact_email="kunde@beispiel-beratung.example.org",
        linked_to_demo_organization=False,
    ),
    DemoCustomer(
        kind=CustomerKind.PUBLIC_BODY,
        legal_name="Gesundheitskasse Nord",
        legal_form="Körperschaft des öffentlichen Rechts",
        street="Am Hafen 5",
        postal_code="24103",
        city="Kiel",
        vat_id="",
        leitweg_id="04011000-1234512345-06",
        contact_name="Rainer Rechnung",
        contact_function="Rechnungsstelle",
        contact_email="rechnung@kasse-nord.example.org",
        linked_to_demo_organization=True,
    ),
]


def load_customers_demo() -> None:
    with transaction.atomic():
        for demo in DEMO_CUSTOMERS:
            customer = Customer.objects.filter(legal_name=demo.legal_name).first()
            if customer is None:
                customer = Customer.objects.create(
                    kind=demo.kind,
                    legal_name=demo.legal_name,
                    legal_form=demo.legal_form,
                    street=demo.street,
                    postal_code=demo.postal_code,
                    city=demo.city,
                    vat_id=demo.vat_id,
                    leitweg_id=demo.leitweg_id,
                )
                customer.customer_number = f"{NUMBER_PREFIX}{customer.pk:05d}"
                customer.save(update_fields=["customer_number"])
            user = User.objects.filter(email__iexact=demo.contact_email).first()
            if user is None:
                user = User.objects.create_user(
                    demo.contact_email,
                    DEMO_PASSWORD,
                    display_name=demo.contact_name,
                    role=Role.CUSTOMER_CONTACT,
                    organization=None,
                    email_confirmed_at=clock.now(),
                )
            CustomerContact.objects.get_or_create(
                user=user,
                defaults={
                    "customer": customer,
                    "name": demo.contact_name,
                    "function": demo.contact_function,
                    "email": demo.contact_email,
                },
            )
            if demo.linked_to_demo_organization:
                CustomerOrganization.objects.get_or_create(
                    organization=demo_organization(), defaults={"customer": customer}
                )


def describe_customers_demo() -> list[str]:
    return [
        f"Business customers' contacts (customer area at /kunde/), password: {DEMO_PASSWORD}",
        *(
            f"  {Role.CUSTOMER_CONTACT.value:<16} {demo.contact_email:<36} "
            f"{demo.contact_name} ({demo.legal_name})"
            for demo in DEMO_CUSTOMERS
        ),
    ]
