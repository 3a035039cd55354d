"""What the data export brings to the whole (see ``treffpunkt.core.registries``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from treffpunkt.core.registries import Area, AuditCode, NavEntry, registry


def _contact_of_a_customer(user: Any) -> bool:
    from treffpunkt.customers.selectors import customer_of_contact

    return customer_of_contact(user) is not None


def register() -> None:
    registry.add_nav(
        NavEntry(
            "portability.export",
            Area.CUSTOMER,
            _("Your data"),
            "customer_area:portability:export",
            _contact_of_a_customer,
            90,
        )
    )
    registry.add_audit_codes(
        AuditCode(
            "portability.customer.exported", _("%(actor)s downloaded all data of %(target)s.")
        ),
        AuditCode("portability.member.exported", _("%(actor)s downloaded their own data.")),
        AuditCode("portability.member.deleted", _("A member deleted their account.")),
    )
