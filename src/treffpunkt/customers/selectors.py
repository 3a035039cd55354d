"""Reading customers: for the back office (everything) and for a customer's contact (only
their own customer; anything else does not exist for them)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import Http404

from treffpunkt.customers.models import Customer, CustomerContact, CustomerOrganization, FixedId


def customers() -> models.QuerySet[Customer]:
    return Customer.objects.all()


def customer_of_contact(user: Any) -> Customer | None:
    """The customer whose contact ``user`` is, or ``None``."""
    if not (user.is_authenticated and user.is_customer_contact):
        return None
    contact = CustomerContact.objects.select_related("customer").filter(user=user).first()
    return contact.customer if contact is not None else None


def own_customer(user: Any) -> Customer:
    customer = customer_of_contact(user)
    if customer is None:
        raise Http404
    return customer


def contacts_of(customer: Customer) -> models.QuerySet[CustomerContact]:
    return CustomerContact.objects.filter(customer=customer).order_by("name", "pk")


def organizations_of(customer: Customer) -> models.QuerySet[CustomerOrganization]:
    return (
        CustomerOrganization.objects.filter(customer=customer)
        .select_related("organization")
        .order_by("organization__name", "pk")
    )


def fixed_ids_of(customer: Customer, *, active_only: bool = False) -> models.QuerySet[FixedId]:
    """The customer's H.323 IDs (P-OP-8); with ``active_only`` without the released ones."""
    found = FixedId.objects.filter(customer=customer)
    if active_only:
        found = found.filter(released_at__isnull=True)
    return found.order_by("number")
