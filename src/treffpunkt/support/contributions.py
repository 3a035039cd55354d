"""What fault tickets bring to the whole (see ``treffpunkt.core.registries``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.permissions import Capability, may_read
from treffpunkt.core.registries import Area, AuditCode, DemoLoader, NavEntry, registry
from treffpunkt.core.scheduler import Every, PeriodicJob


def _reads_support(user: Any) -> bool:
    return may_read(user, Capability.SUPPORT)


def _contact_of_a_customer(user: Any) -> bool:
    from treffpunkt.customers.selectors import customer_of_contact

    return customer_of_contact(user) is not None


NAVIGATION = (
    NavEntry(
        "support.tickets",
        Area.BACKOFFICE,
        _("Fault tickets"),
        "backoffice:support:tickets",
        _reads_support,
        140,
    ),
    NavEntry(
        "support.customer_tickets",
        Area.CUSTOMER,
        _("Fault reports"),
        "customer_area:support:tickets",
        _contact_of_a_customer,
        40,
    ),
)

AUDIT_CODES = (
    AuditCode("support.ticket.reported", _("The fault %(target)s was reported.")),
    AuditCode("support.ticket.taken", _("%(actor)s took over the fault ticket %(target)s.")),
    AuditCode("support.ticket.answered", _("%(actor)s answered on the fault ticket %(target)s.")),
    AuditCode("support.ticket.noted", _("%(actor)s added a note to the fault ticket %(target)s.")),
    AuditCode(
        "support.ticket.estimated",
        _("%(actor)s gave a non-binding estimate on the fault ticket %(target)s."),
    ),
    AuditCode("support.ticket.resolved", _("%(actor)s resolved the fault ticket %(target)s.")),
    AuditCode(
        "support.ticket.incident", _("%(actor)s linked the fault ticket %(target)s to an incident.")
    ),
    AuditCode(
        "support.ticket.customer_message",
        _("%(actor)s wrote on the fault ticket %(target)s."),
    ),
    AuditCode("support.mailbox.imported", _("Fault reports by e-mail were read.")),
    AuditCode(
        "support.ticket.estimate_requested",
        _("%(actor)s asked for an estimate on the fault ticket %(target)s."),
    ),
)


def _deadline_sources() -> dict[str, Any]:
    """Tickets on the operator's deadline dashboard: the reaction due for tickets nobody has
    answered, the fix due for tickets being worked on (a waiting ticket's clock stands)."""
    from django.db.models.functions import TruncDate
    from django.urls import reverse

    from treffpunkt.contracts.selectors import Source
    from treffpunkt.support.models import Ticket, TicketState

    fields = ("pk", "subject", "customer__customer_number", "customer__legal_name")

    def ticket_url(pk: int) -> str:
        return reverse("backoffice:support:ticket", args=[pk])

    return {
        "support.reaction": Source(
            _("Answer the fault ticket (reaction time, service hours)"),
            _("Open the ticket"),
            lambda day, horizon: (
                Ticket.objects.annotate(due_day=TruncDate("reaction_due_at"))
                .exclude(state=TicketState.RESOLVED)
                .filter(reacted_at__isnull=True, due_day__lte=horizon)
            ),
            "due_day",
            fields,
            ticket_url,
        ),
        "support.fix": Source(
            _("Fix the fault (fix time, service hours)"),
            _("Open the ticket"),
            lambda day, horizon: Ticket.objects.annotate(due_day=TruncDate("fix_due_at")).filter(
                state__in=[TicketState.OPEN, TicketState.IN_PROGRESS], due_day__lte=horizon
            ),
            "due_day",
            fields,
            ticket_url,
        ),
    }


def register() -> None:
    from treffpunkt.support.demo import describe_support_demo, load_support_demo

    for key, source in _deadline_sources().items():
        registry.add_deadline_source(key, source)

    registry.add_nav(*NAVIGATION)
    registry.add_audit_codes(*AUDIT_CODES)
    registry.add_demo_loader(
        DemoLoader("support", load_support_demo, order=85, describe=describe_support_demo)
    )
    from treffpunkt.support.tasks import import_support_mails_task

    registry.add_periodic_jobs(
        PeriodicJob(
            name="support.import_mails",
            task=import_support_mails_task,
            when=Every(timedelta(minutes=1)),
            description="Turn new mails to the support address (SUPPORT_MAILDIR) into tickets.",
        )
    )
