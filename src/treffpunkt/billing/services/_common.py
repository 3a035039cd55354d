"""Who may bill, and the parties as an invoice states them."""

from __future__ import annotations

from django.conf import settings

from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability, require_capability
from treffpunkt.billing.invoice_data import Party, Payment
from treffpunkt.customers.models import Customer, CustomerKind


def require_billing(user: User | None) -> User:
    """An operator's staff member holding ``Capability.BILLING``, or ``NotAllowed``."""
    return require_capability(user, Capability.BILLING)


def seller_party() -> Party:
    return Party(
        name=settings.OPERATOR_LEGAL_NAME,
        street=settings.OPERATOR_STREET,
        postal_code=settings.OPERATOR_POSTAL_CODE,
        city=settings.OPERATOR_CITY,
        vat_id=settings.OPERATOR_VAT_ID,
        tax_number=settings.OPERATOR_TAX_NUMBER,
        contact_name=settings.OPERATOR_CONTACT_NAME,
        contact_phone=settings.OPERATOR_CONTACT_PHONE,
        contact_email=settings.OPERATOR_CONTACT_EMAIL,
        electronic_address=settings.OPERATOR_CONTACT_EMAIL,
    )


def buyer_party(customer: Customer) -> Party:
    """The customer as of today, to be copied onto the invoice. Invoices go to the billing
    address when there is one."""
    if customer.has_billing_address:
        name = customer.billing_name or customer.legal_name
        street, postal_code, city = (
            customer.billing_street,
            customer.billing_postal_code,
            customer.billing_city,
        )
        country = customer.billing_country or customer.country
    else:
        name, street, postal_code, city, country = (
            customer.legal_name,
            customer.street,
            customer.postal_code,
            customer.city,
            customer.country,
        )
    contact = customer.contacts.order_by("pk").first()
    return Party(
        name=name,
        street=street,
        postal_code=postal_code,
        city=city,
        country=country or "DE",
        vat_id=customer.vat_id,
        leitweg_id=customer.leitweg_id if customer.kind == CustomerKind.PUBLIC_BODY else "",
        contact_name=contact.name if contact else "",
        electronic_address=contact.email if contact else "",
    )


def operator_payment() -> Payment:
    return Payment(
        iban=settings.OPERATOR_IBAN,
        bic=settings.OPERATOR_BIC,
        bank_name=settings.OPERATOR_BANK_NAME,
        account_name=settings.OPERATOR_LEGAL_NAME,
    )


def party_as_stored(party: Party) -> dict[str, str]:
    return dict(party.__dict__)


def party_from_stored(stored: dict[str, str]) -> Party:
    return Party(**stored)
