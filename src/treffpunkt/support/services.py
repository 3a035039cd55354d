"""The only write path of fault tickets (P-SLA-2).

Every function is a transaction with an audit entry; mails go through the outbox and leave only
if the transaction commits. Contacts act on their own customer's tickets only; support acts
with ``Capability.SUPPORT``. Files are checked and stored as message attachments are, and
removed again when the transaction fails."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability, require_capability
from treffpunkt.availability.models import Incident
from treffpunkt.billing.models import HardwareDelivery
from treffpunkt.billing.services.hardware import warranty_until
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.core.service_hours import add_service_time
from treffpunkt.customers.models import Customer, CustomerContact
from treffpunkt.customers.selectors import customer_of_contact
from treffpunkt.messaging import files
from treffpunkt.notifications.services import queue_mail
from treffpunkt.support.models import (
    EventKind,
    Ticket,
    TicketAttachment,
    TicketChannel,
    TicketEvent,
    TicketPause,
    TicketState,
)

MAX_TEXT = 5000
MAX_SUBJECT = 200


# --- who ------------------------------------------------------------------------------------


def require_support(user: User | None) -> User:
    return require_capability(user, Capability.SUPPORT)


def _contact_of(user: User | None, customer: Customer) -> User:
    """``user`` if they are a contact of ``customer``; else ``NotAllowed``."""
    if user is None or customer_of_contact(user) != customer:
        raise NotAllowed
    return user


# --- the clock ------------------------------------------------------------------------------


def reaction_time() -> timedelta:
    return timedelta(hours=settings.SUPPORT_REACTION_HOURS)


def fix_time() -> timedelta:
    return timedelta(hours=settings.SUPPORT_FIX_HOURS)


def _closed_pauses(ticket: Ticket) -> list[tuple[datetime, datetime | None]]:
    return [
        (pause.started_at, pause.ended_at)
        for pause in ticket.pauses.all()
        if pause.ended_at is not None
    ]


def _set_deadlines(ticket: Ticket) -> None:
    """Reaction and fix deadlines from the report, in service hours, not counting the time the
    ticket waited for the customer (an open pause is counted once it ends)."""
    paused = _closed_pauses(ticket) if ticket.pk else []
    ticket.reaction_due_at = add_service_time(ticket.reported_at, reaction_time(), paused=paused)
    ticket.fix_due_at = add_service_time(ticket.reported_at, fix_time(), paused=paused)


# --- input ----------------------------------------------------------------------------------


def _text(value: str, *, field: str, required: bool = True, limit: int = MAX_TEXT) -> str:
    text = value.strip()
    if required and not text:
        messages = {
            "subject": _("Give the fault a short subject."),
            "description": _("Describe what does not work."),
            "text": _("Write a message."),
        }
        raise DomainError(messages.get(field, _("This field is required.")), code=field)
    if len(text) > limit:
        raise DomainError(
            _("At most %(limit)s characters.") % {"limit": limit},
            code=field,
        )
    return text


def _attach(event: TicketEvent, uploads: Sequence[files.Upload], stored: list[str]) -> None:
    """Check and store ``uploads`` for ``event``; ``stored`` collects the names to remove if
    the transaction fails."""
    for checked in files.check_uploads(list(uploads)):
        saved = files.store(checked)
        stored.append(saved.stored_name)
        TicketAttachment.objects.create(
            event=event,
            file_name=checked.display_name,
            content_type=checked.kind.content_type,
            size=checked.size,
            stored_name=saved.stored_name,
            sha256=saved.sha256,
        )


def _removing_on_failure(stored: list[str]) -> None:
    """Files stored in a transaction that failed are removed (the rows are gone with it)."""
    if stored:
        files.remove(stored)


def _event(
    ticket: Ticket,
    kind: EventKind,
    *,
    author: User | None,
    text: str = "",
    public: bool = True,
    author_name: str = "",
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket,
        kind=kind,
        at=clock.now(),
        author=author,
        author_name=author_name or (author.display_name if author else ""),
        text=text,
        public=public,
    )


# --- reporting ------------------------------------------------------------------------------


def report_fault(
    *,
    actor: User | None,
    subject: str,
    description: str,
    uploads: Sequence[files.Upload] = (),
    hardware: HardwareDelivery | None = None,
) -> Ticket:
    """A contact reports a fault of their customer's service in the customer area."""
    customer = customer_of_contact(actor) if actor is not None else None
    if actor is None or customer is None:
        raise NotAllowed
    if hardware is not None and hardware.order_line.order.customer_id != customer.pk:
        raise NotAllowed
    return _open_ticket(
        customer=customer,
        reported_by=actor,
        reporter_name=actor.display_name,
        channel=TicketChannel.CUSTOMER_AREA,
        subject=subject,
        description=description,
        uploads=uploads,
        hardware=hardware,
    )


def record_reported_fault(
    *,
    actor: User | None,
    customer: Customer,
    channel: str,
    reporter_name: str,
    subject: str,
    description: str,
    reported_at: datetime | None = None,
    hardware: HardwareDelivery | None = None,
) -> Ticket:
    """Support records a fault reported by phone or e-mail; the clock starts when it was
    reported, not when it was typed in."""
    operator = require_support(actor)
    if channel not in (TicketChannel.PHONE, TicketChannel.EMAIL):
        raise DomainError(_("Choose how the fault was reported."), code="channel")
    at = reported_at or clock.now()
    if at > clock.now():
        raise DomainError(_("A report cannot come from the future."), code="reported_at")
    if hardware is not None and hardware.order_line.order.customer_id != customer.pk:
        raise DomainError(_("This hardware belongs to another customer."), code="hardware")
    return _open_ticket(
        customer=customer,
        reported_by=None,
        reporter_name=_text(reporter_name, field="reporter_name", limit=200),
        channel=TicketChannel(channel),
        subject=subject,
        description=description,
        hardware=hardware,
        reported_at=at,
        recorded_by=operator,
    )


def _open_ticket(
    *,
    customer: Customer,
    reported_by: User | None,
    reporter_name: str,
    channel: TicketChannel,
    subject: str,
    description: str,
    uploads: Sequence[files.Upload] = (),
    hardware: HardwareDelivery | None = None,
    reported_at: datetime | None = None,
    recorded_by: User | None = None,
) -> Ticket:
    subject = _text(subject, field="subject", limit=MAX_SUBJECT)
    description = _text(description, field="description")
    at = reported_at or clock.now()
    warranty = False
    if hardware is not None:
        until = warranty_until(hardware)
        warranty = until is not None and at.date() <= until
    stored: list[str] = []
    try:
        with transaction.atomic():
            ticket = Ticket(
                customer=customer,
                reported_by=reported_by,
                reporter_name=reporter_name,
                channel=channel,
                subject=subject,
                description=description,
                reported_at=at,
                hardware=hardware,
                warranty_case=warranty,
            )
            _set_deadlines(ticket)
            ticket.save()
            event = _event(
                ticket,
                EventKind.REPORTED,
                author=reported_by or recorded_by,
                author_name=reporter_name,
                text=description,
            )
            _attach(event, uploads, stored)
            audit.record(
                "support.ticket.reported",
                actor=reported_by or recorded_by,
                target=ticket,
                data={
                    "customer": customer.pk,
                    "channel": str(channel),
                    "warranty_case": warranty,
                    "attachments": len(stored),
                },
            )
            _mail_contacts(ticket, "support/reported")
    except BaseException:
        _removing_on_failure(stored)
        raise
    return ticket


# --- support's side -------------------------------------------------------------------------


def _locked(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def take_ticket(*, actor: User | None, ticket: Ticket) -> Ticket:
    """Support takes the ticket over: it is being worked on, and this is the first reaction."""
    operator = require_support(actor)
    with transaction.atomic():
        locked = _locked(ticket)
        if locked.state == TicketState.RESOLVED:
            raise DomainError(_("This ticket is resolved."), code="state")
        locked.owner = operator
        if locked.state == TicketState.OPEN:
            locked.state = TicketState.IN_PROGRESS
        locked.reacted_at = locked.reacted_at or clock.now()
        locked.save(update_fields=["owner", "state", "reacted_at"])
        _event(locked, EventKind.TAKEN, author=operator, public=True)
        audit.record("support.ticket.taken", actor=operator, target=locked)
    return locked


def reply(
    *,
    actor: User | None,
    ticket: Ticket,
    text: str,
    uploads: Sequence[files.Upload] = (),
    wait_for_customer: bool = False,
) -> Ticket:
    """Support answers the customer (a first answer is the reaction); ``wait_for_customer``
    stops the clock until the customer answers."""
    operator = require_support(actor)
    body = _text(text, field="text")
    stored: list[str] = []
    try:
        with transaction.atomic():
            locked = _locked(ticket)
            if locked.state == TicketState.RESOLVED:
                raise DomainError(
                    _("This ticket is resolved; the customer can reopen it by answering."),
                    code="state",
                )
            now = clock.now()
            locked.reacted_at = locked.reacted_at or now
            locked.owner = locked.owner or operator
            event = _event(locked, EventKind.REPLY, author=operator, text=body)
            _attach(event, uploads, stored)
            if wait_for_customer and locked.state != TicketState.WAITING:
                TicketPause.objects.create(ticket=locked, started_at=now)
                locked.state = TicketState.WAITING
                _event(locked, EventKind.WAITING, author=operator)
            elif locked.state == TicketState.OPEN:
                locked.state = TicketState.IN_PROGRESS
            locked.save(update_fields=["reacted_at", "owner", "state"])
            audit.record(
                "support.ticket.answered",
                actor=operator,
                target=locked,
                data={"waiting": locked.state == TicketState.WAITING},
            )
            _mail_contacts(locked, "support/answered")
    except BaseException:
        _removing_on_failure(stored)
        raise
    return locked


def add_note(*, actor: User | None, ticket: Ticket, text: str) -> TicketEvent:
    """An internal note: support sees it, the customer never does."""
    operator = require_support(actor)
    body = _text(text, field="text")
    with transaction.atomic():
        locked = _locked(ticket)
        event = _event(locked, EventKind.NOTE, author=operator, text=body, public=False)
        audit.record("support.ticket.noted", actor=operator, target=locked)
    return event


def give_estimate(*, actor: User | None, ticket: Ticket, text: str) -> Ticket:
    """Support's non-binding estimate of the time the fix will take (§ 4 (V) of the terms)."""
    operator = require_support(actor)
    body = _text(text, field="text")
    with transaction.atomic():
        locked = _locked(ticket)
        locked.reacted_at = locked.reacted_at or clock.now()
        locked.save(update_fields=["reacted_at"])
        _event(locked, EventKind.ESTIMATE, author=operator, text=body)
        audit.record("support.ticket.estimated", actor=operator, target=locked)
        _mail_contacts(locked, "support/answered")
    return locked


def resolve(*, actor: User | None, ticket: Ticket, text: str) -> Ticket:
    """The fault is fixed; the customer is told what was done and can reopen by answering."""
    operator = require_support(actor)
    body = _text(text, field="text")
    with transaction.atomic():
        locked = _locked(ticket)
        if locked.state == TicketState.RESOLVED:
            raise DomainError(_("This ticket is already resolved."), code="state")
        now = clock.now()
        _end_pause(locked, now)
        locked.state = TicketState.RESOLVED
        locked.resolved_at = now
        locked.reacted_at = locked.reacted_at or now
        locked.owner = locked.owner or operator
        locked.save(update_fields=["state", "resolved_at", "reacted_at", "owner"])
        _event(locked, EventKind.RESOLVED, author=operator, text=body)
        audit.record(
            "support.ticket.resolved",
            actor=operator,
            target=locked,
            data={"in_time": now <= locked.fix_due_at},
        )
        _mail_contacts(locked, "support/resolved")
    return locked


def link_incident(*, actor: User | None, ticket: Ticket, incident: Incident | None) -> Ticket:
    """Tie the ticket to the incident it is part of (or untie it with ``None``)."""
    operator = require_support(actor)
    with transaction.atomic():
        locked = _locked(ticket)
        locked.incident = incident
        locked.save(update_fields=["incident"])
        _event(
            locked,
            EventKind.INCIDENT,
            author=operator,
            text=incident.title if incident else "",
            public=False,
        )
        audit.record(
            "support.ticket.incident",
            actor=operator,
            target=locked,
            data={"incident": incident.pk if incident else None},
        )
    return locked


# --- the customer's side --------------------------------------------------------------------


def customer_message(
    *, actor: User | None, ticket: Ticket, text: str, uploads: Sequence[files.Upload] = ()
) -> Ticket:
    """The customer answers: a waiting ticket's clock runs again (with new deadlines), a
    resolved one is reopened."""
    contact = _contact_of(actor, ticket.customer)
    body = _text(text, field="text")
    stored: list[str] = []
    try:
        with transaction.atomic():
            locked = _locked(ticket)
            now = clock.now()
            event = _event(locked, EventKind.CUSTOMER_MESSAGE, author=contact, text=body)
            _attach(event, uploads, stored)
            if locked.state == TicketState.WAITING:
                _end_pause(locked, now)
                locked.state = TicketState.IN_PROGRESS
                _event(locked, EventKind.RESUMED, author=contact)
            elif locked.state == TicketState.RESOLVED:
                locked.state = TicketState.IN_PROGRESS if locked.owner else TicketState.OPEN
                locked.resolved_at = None
                _event(locked, EventKind.REOPENED, author=contact)
            locked.save(update_fields=["state", "resolved_at", "reaction_due_at", "fix_due_at"])
            audit.record("support.ticket.customer_message", actor=contact, target=locked)
    except BaseException:
        _removing_on_failure(stored)
        raise
    return locked


def request_estimate(*, actor: User | None, ticket: Ticket) -> Ticket:
    """The customer asks how long the fix will probably take (§ 4 (V)); once per ticket."""
    contact = _contact_of(actor, ticket.customer)
    with transaction.atomic():
        locked = _locked(ticket)
        if locked.estimate_requested_at is not None:
            raise DomainError(_("You have already asked for an estimate."), code="estimate")
        if locked.state == TicketState.RESOLVED:
            raise DomainError(_("This ticket is resolved."), code="state")
        locked.estimate_requested_at = clock.now()
        locked.save(update_fields=["estimate_requested_at"])
        _event(locked, EventKind.ESTIMATE_REQUESTED, author=contact)
        audit.record("support.ticket.estimate_requested", actor=contact, target=locked)
    return locked


def _end_pause(ticket: Ticket, now: datetime) -> None:
    """End an open pause and count it: the deadlines move by the service time it took."""
    ended = TicketPause.objects.filter(ticket=ticket, ended_at__isnull=True).update(ended_at=now)
    if ended:
        _set_deadlines(ticket)
        ticket.save(update_fields=["reaction_due_at", "fix_due_at"])


# --- mail -------------------------------------------------------------------------------------


def _mail_contacts(ticket: Ticket, template: str) -> None:
    """Tell the customer's contacts (those with a login, in their language) about the ticket."""
    url = settings.SITE_URL + reverse("customer_area:support:ticket", args=[ticket.pk])
    for contact in CustomerContact.objects.filter(customer=ticket.customer).select_related("user"):
        queue_mail(
            template=template,
            context={
                "ticket_number": ticket.number,
                "subject": ticket.subject,
                "url": url,
                "contact_name": contact.name,
            },
            recipient=contact.user,
            to_address=contact.email,
            language=contact.user.preferred_language if contact.user else None,
        )


def report_by_mail(
    *,
    contact: CustomerContact,
    subject: str,
    description: str,
    received_at: datetime,
    uploads: Sequence[files.Upload] = (),
) -> Ticket:
    """A fault a contact reported by e-mail to the support address (``support.mailbox``): the
    clock starts when the mail arrived."""
    return _open_ticket(
        customer=contact.customer,
        reported_by=contact.user,
        reporter_name=contact.name,
        channel=TicketChannel.EMAIL,
        subject=subject or _("Fault report by e-mail"),
        description=description,
        uploads=uploads,
        reported_at=min(received_at, clock.now()),
    )
