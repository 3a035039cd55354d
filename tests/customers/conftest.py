"""Customers for the tests, made through the service like the back office makes them."""

from __future__ import annotations

from typing import Any

from tests.backoffice.conftest import customer_contact, operator_with, people
from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.customers import services
from treffpunkt.customers.models import Customer, CustomerContact, CustomerKind

__all__ = ["people"]  # the back office's fixture: everyone the access table tries

VALID_VAT_ID = "DE136695976"
VALID_LEITWEG_ID = "04011000-1234512345-06"


def company_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "kind": CustomerKind.COMPANY,
        "is_business": True,
        "legal_name": "Beispiel Beratung GmbH",
        "legal_form": "GmbH",
        "street": "Musterstraße 1",
        "postal_code": "20095",
        "city": "Hamburg",
        "vat_id": VALID_VAT_ID,
    }
    fields.update(overrides)
    return fields


def public_body_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "kind": CustomerKind.PUBLIC_BODY,
        "is_business": True,
        "legal_name": "Gesundheitskasse Nord",
        "legal_form": "Körperschaft des öffentlichen Rechts",
        "street": "Am Hafen 5",
        "postal_code": "24103",
        "city": "Kiel",
        "leitweg_id": VALID_LEITWEG_ID,
    }
    fields.update(overrides)
    return fields


def writer() -> User:
    return operator_with(Capability.CUSTOMERS)


def make_customer(actor: User | None = None, **overrides: Any) -> Customer:
    return services.create_customer(actor=actor or writer(), **company_fields(**overrides))


def contact_of(customer: Customer, **fields: Any) -> User:
    """A customer contact's user linked to ``customer`` (without the invitation mail)."""
    user = customer_contact(**fields)
    CustomerContact.objects.create(
        customer=customer, user=user, name=user.display_name, email=user.email
    )
    return user
