"""What customers brings to the whole (see ``treffpunkt.core.registries``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.permissions import Capability, has_capability, may_read
from treffpunkt.core.registries import Area, AuditCode, DemoLoader, NavEntry, registry


def _reads_customers(user: Any) -> bool:
    return may_read(user, Capability.CUSTOMERS)


def _writes_customers(user: Any) -> bool:
    return has_capability(user, Capability.CUSTOMERS)


def _contact_of_a_customer(user: Any) -> bool:
    # Only a contact linked to a customer: the page answers the others with 404.
    from treffpunkt.customers.selectors import customer_of_contact

    return customer_of_contact(user) is not None


NAVIGATION = (
    NavEntry(
        "customers.list",
        Area.BACKOFFICE,
        _("Customers"),
        "backoffice:customers:list",
        _reads_customers,
        100,
    ),
    NavEntry(
        "customers.new",
        Area.BACKOFFICE,
        _("New customer"),
        "backoffice:customers:new",
        _writes_customers,
        101,
    ),
    NavEntry(
        "customers.advertising_send",
        Area.BACKOFFICE,
        _("Advice and offers"),
        "backoffice:customers:advertising",
        _writes_customers,
        102,
    ),
    NavEntry(
        "customers.advertising",
        Area.CUSTOMER,
        _("Advice and offers"),
        "customer_area:customers:advertising",
        _contact_of_a_customer,
        95,
    ),
    NavEntry(
        "customers.master_data",
        Area.CUSTOMER,
        _("Company details"),
        "customer_area:customers:master_data",
        _contact_of_a_customer,
        10,
    ),
)

AUDIT_CODES = (
    AuditCode(
        "customers.advertising.consented",
        _("%(actor)s agreed to advice and offers by e-mail for %(target)s."),
    ),
    AuditCode("customers.advertising.revoked", _("An advertising consent for %(target)s ended.")),
    AuditCode("customers.advertising.sent", _("%(actor)s sent advice or an offer by e-mail.")),
    AuditCode("customers.customer.created", _("%(actor)s created the customer %(target)s.")),
    AuditCode("customers.customer.changed", _("%(actor)s changed the master data of %(target)s.")),
    AuditCode("customers.contact.added", _("%(actor)s added the contact %(target)s.")),
    AuditCode(
        "customers.organization.linked",
        _("%(actor)s opened an organization for a customer (%(target)s)."),
    ),
    AuditCode(
        "customers.fixed_id.allocated",
        _("%(actor)s allocated the H.323 ID and SIP URI %(target)s to a customer."),
    ),
    AuditCode(
        "customers.fixed_id.released",
        _("%(actor)s released the H.323 ID %(target)s (its number is never reused)."),
    ),
)


def register() -> None:
    from treffpunkt.customers.demo import describe_customers_demo, load_customers_demo

    registry.add_nav(*NAVIGATION)
    registry.add_audit_codes(*AUDIT_CODES)
    registry.add_demo_loader(
        DemoLoader("customers", load_customers_demo, order=50, describe=describe_customers_demo)
    )
