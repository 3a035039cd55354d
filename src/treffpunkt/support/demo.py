"""The support demo: a fault report by the company's contact, answered by support, which now
waits for the customer's answer (the clock stopped)."""

from __future__ import annotations

from treffpunkt.accounts.models import Role, User
from treffpunkt.customers.models import Customer, CustomerContact, CustomerKind
from treffpunkt.support import services
from treffpunkt.support.models import Ticket

SUBJECT = "Kein Ton in Videogesprächen"


def load_support_demo() -> None:
    if Ticket.objects.filter(subject=SUBJECT).exists():
        return
    operator = User.objects.filter(role=Role.OPERATOR, is_active=True).order_by("pk").first()
    company = Customer.objects.filter(kind=CustomerKind.COMPANY).order_by("pk").first()
    contact = (
        CustomerContact.objects.filter(customer=company, user__isnull=False)
        .select_related("user")
        .first()
    )
    if operator is None or contact is None or contact.user is None:
        return
    ticket = services.report_fault(
        actor=contact.user,
        subject=SUBJECT,
        description="Seit heute Morgen hören die Mitglieder die Beraterinnen nicht mehr.",
    )
    services.take_ticket(actor=operator, ticket=ticket)
    services.reply(
        actor=operator,
        ticket=ticket,
        text="Danke für die Meldung. Tritt das in allen Browsern auf oder nur in einem?",
        wait_for_customer=True,
    )


def describe_support_demo() -> list[str]:
    return [
        "Support: a fault ticket waiting for the customer's answer at /betrieb/stoerungen/ "
        "(the company's contact sees it at /kunde/stoerungen/)."
    ]
