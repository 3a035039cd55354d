"""Fault tickets (P-SLA-2): reported by a customer's contact (or recorded by support), handled on
a clock that counts service hours only and stops while support waits for the customer; a
non-binding estimate on request; warranty cases; every page for every role, and a customer
never sees another customer's tickets or support's internal notes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from tests.backoffice.conftest import operator_with, people
from tests.billing.test_hardware import hardware_order
from tests.conftest import client_for
from tests.contracts.factories import BERLIN, Clock, customer_with_contact, freeze
from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.billing.services.hardware import deliveries_for_order, mark_delivered
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.core.models import AuditEntry
from treffpunkt.notifications.models import OutboxMail
from treffpunkt.support import services
from treffpunkt.support.models import (
    EventKind,
    Ticket,
    TicketAttachment,
    TicketEvent,
    TicketState,
)

pytestmark = pytest.mark.django_db
__all__ = ["people"]

SUPPORT_BACKOFFICE_URL_NAMES = frozenset(
    {
        "backoffice:support:tickets",
        "backoffice:support:record",
        "backoffice:support:ticket",
        "backoffice:support:ticket_action",
        "backoffice:support:attachment",
    }
)
SUPPORT_CUSTOMER_URL_NAMES = frozenset(
    {
        "customer_area:support:tickets",
        "customer_area:support:report",
        "customer_area:support:ticket",
        "customer_area:support:attachment",
    }
)

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


def supporter() -> User:
    return operator_with(Capability.SUPPORT, preferred_language="en")


def png(name: str = "screen.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def report(contact: User, **changes: Any) -> Ticket:
    arguments: dict[str, Any] = {
        "actor": contact,
        "subject": "Kein Bild im Gespräch",
        "description": "Seit heute früh sieht die Beraterin kein Bild.",
    }
    arguments.update(changes)
    return services.report_fault(**arguments)


@pytest.fixture
def friday_evening(monkeypatch: pytest.MonkeyPatch) -> Clock:
    # Friday 5 March 2027, 17:30 Berlin.
    clock = freeze(monkeypatch, date(2027, 3, 5), hour=17)
    clock.now = clock.now + timedelta(minutes=30)
    return clock


# --- the clock --------------------------------------------------------------------------------


def test_a_fault_reported_friday_1730_must_see_a_reaction_by_monday_1030(friday_evening: Clock):
    _customer, contact = customer_with_contact()
    ticket = report(contact)
    assert ticket.reported_at == at(date(2027, 3, 5), 17, 30)
    # Two service hours: 17:30-18:00 on Friday, then 9:00-10:30 on Monday.
    assert ticket.reaction_due_at == at(date(2027, 3, 8), 10, 30)
    # Eight service hours: 30 minutes on Friday, 7.5 hours on Monday.
    assert ticket.fix_due_at == at(date(2027, 3, 8), 16, 30)
    assert ticket.state == TicketState.OPEN
    assert AuditEntry.objects.filter(code="support.ticket.reported").count() == 1
    mail = OutboxMail.objects.get(template="support/reported")
    assert ticket.number in mail.subject


def test_a_fault_reported_on_maundy_thursday_must_see_a_reaction_the_tuesday_after_easter(
    monkeypatch: pytest.MonkeyPatch,
):
    freeze(monkeypatch, date(2027, 3, 25), hour=17)
    _customer, contact = customer_with_contact()
    ticket = report(contact)
    # 17:00-18:00 Thursday; Good Friday, the weekend and Easter Monday do not count.
    assert ticket.reaction_due_at == at(date(2027, 3, 30), 10, 0)


def test_the_clock_stops_while_support_waits_for_the_customer(monkeypatch: pytest.MonkeyPatch):
    clock = freeze(monkeypatch, date(2027, 3, 8), hour=9)  # Monday 9:00
    _customer, contact = customer_with_contact()
    ticket = report(contact)
    assert ticket.fix_due_at == at(date(2027, 3, 8), 17, 0)
    clock.now = at(date(2027, 3, 8), 10, 0)
    waiting = services.reply(
        actor=supporter(),
        ticket=ticket,
        text="Welcher Browser ist es?",
        wait_for_customer=True,
    )
    assert waiting.state == TicketState.WAITING and waiting.reacted_at == clock.now
    # The customer answers on Tuesday at 9:30: the 8 service hours of waiting
    # (Monday 10:00-18:00) and the half hour on Tuesday do not count.
    clock.now = at(date(2027, 3, 9), 9, 30)
    resumed = services.customer_message(actor=contact, ticket=ticket, text="Chromium 156.")
    assert resumed.state == TicketState.IN_PROGRESS
    # One service hour was used before the pause; seven remain from Tuesday 9:30.
    assert resumed.fix_due_at == at(date(2027, 3, 9), 16, 30)
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == [
        EventKind.REPORTED,
        EventKind.REPLY,
        EventKind.WAITING,
        EventKind.CUSTOMER_MESSAGE,
        EventKind.RESUMED,
    ]


def test_support_records_a_phoned_report_with_the_clock_from_the_call(
    monkeypatch: pytest.MonkeyPatch,
):
    freeze(monkeypatch, date(2027, 3, 8), hour=11)
    customer, _contact = customer_with_contact()
    ticket = services.record_reported_fault(
        actor=supporter(),
        customer=customer,
        channel="phone",
        reporter_name="Frau Weber",
        subject="Telefonie fällt aus",
        description="Keine Verbindung nach außen.",
        reported_at=at(date(2027, 3, 8), 9, 0),
    )
    assert ticket.reaction_due_at == at(date(2027, 3, 8), 11, 0)
    with pytest.raises(DomainError):
        services.record_reported_fault(
            actor=supporter(),
            customer=customer,
            channel="phone",
            reporter_name="Frau Weber",
            subject="Später",
            description="Aus der Zukunft.",
            reported_at=at(date(2027, 3, 9), 9, 0),
        )


# --- the lifecycle ----------------------------------------------------------------------------


def test_a_resolved_ticket_reopens_when_the_customer_answers(friday_evening: Clock):
    _customer, contact = customer_with_contact()
    ticket = report(contact)
    agent = supporter()
    services.take_ticket(actor=agent, ticket=ticket)
    resolved = services.resolve(actor=agent, ticket=ticket, text="Server neu gestartet.")
    assert resolved.state == TicketState.RESOLVED and resolved.resolved_at is not None
    assert OutboxMail.objects.filter(template="support/resolved").count() == 1
    with pytest.raises(DomainError):
        services.resolve(actor=agent, ticket=ticket, text="Noch einmal.")
    reopened = services.customer_message(actor=contact, ticket=ticket, text="Geht wieder nicht.")
    assert reopened.state == TicketState.IN_PROGRESS and reopened.resolved_at is None


def test_the_customer_asks_once_for_a_non_binding_estimate_and_support_gives_it(
    friday_evening: Clock,
):
    _customer, contact = customer_with_contact()
    ticket = report(contact)
    services.request_estimate(actor=contact, ticket=ticket)
    with pytest.raises(DomainError):
        services.request_estimate(actor=contact, ticket=ticket)
    services.give_estimate(actor=supporter(), ticket=ticket, text="Etwa zwei Stunden.")
    estimate = TicketEvent.objects.get(ticket=ticket, kind=EventKind.ESTIMATE)
    assert estimate.public and estimate.text == "Etwa zwei Stunden."


def test_a_device_within_a_year_of_delivery_is_a_warranty_case(monkeypatch: pytest.MonkeyPatch):
    clock = freeze(monkeypatch, date(2027, 3, 1))
    customer, contact = customer_with_contact()
    delivery = deliveries_for_order(hardware_order(customer, 1))[0]
    clock.set_day(date(2027, 3, 10))
    billing = operator_with(Capability.BILLING)
    delivered = mark_delivered(actor=billing, delivery=delivery, on=date(2027, 3, 10))
    clock.set_day(date(2028, 3, 10))
    assert report(contact, hardware=delivered).warranty_case is True
    clock.set_day(date(2028, 3, 11))
    assert report(contact, hardware=delivered).warranty_case is False
    # Another customer's device cannot be named.
    _other, stranger = customer_with_contact()
    with pytest.raises(NotAllowed):
        report(stranger, hardware=delivered)


# --- bad input and who may do what ------------------------------------------------------------


def test_bad_input_is_refused_and_writes_nothing(friday_evening: Clock):
    _customer, contact = customer_with_contact()
    with pytest.raises(DomainError):
        report(contact, subject="  ")
    with pytest.raises(DomainError):
        report(contact, description="x" * 5001)
    fake = SimpleUploadedFile("virus.png", b"MZ\x90\x00 not a picture", content_type="image/png")
    with pytest.raises(DomainError):
        report(contact, uploads=[fake])
    assert Ticket.objects.count() == 0 and TicketAttachment.objects.count() == 0
    assert not AuditEntry.objects.filter(code__startswith="support.").exists()


def test_only_the_customers_contacts_and_support_act_on_a_ticket(friday_evening: Clock):
    _customer, contact = customer_with_contact()
    ticket = report(contact)
    _other, stranger = customer_with_contact()
    with pytest.raises(NotAllowed):
        services.customer_message(actor=stranger, ticket=ticket, text="Hallo")
    with pytest.raises(NotAllowed):
        services.request_estimate(actor=stranger, ticket=ticket)
    for wrong in (operator_with(Capability.BILLING), operator_with(Capability.AUDITOR), contact):
        with pytest.raises(NotAllowed):
            services.reply(actor=wrong, ticket=ticket, text="Hallo")
    with pytest.raises(NotAllowed):
        services.report_fault(actor=supporter(), subject="x", description="y")


# --- pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "reads", "writes"),
    [
        ("anonymous", "login", "login"),
        ("op_support", 200, 200),
        ("superuser", 200, 200),
        ("op_auditor", 200, 403),
        ("op_billing", 403, 403),
        ("op_customers", 403, 403),
        ("op_availability", 403, 403),
        ("op_none", 403, 403),
        ("member", 403, 403),
        ("staff", 403, 403),
        ("org_admin", 403, 403),
        ("other_staff", 403, 403),
        ("customer_contact", 403, 403),
    ],
)
def test_every_support_page_answers_each_role_as_its_capability_allows(
    people: dict[str, User], friday_evening: Clock, who: str, reads: Any, writes: Any
):
    _customer, contact = customer_with_contact()
    ticket = report(contact, uploads=[png()])
    attachment = TicketAttachment.objects.get()
    client = Client() if who == "anonymous" else client_for(people[who])
    urls = {
        "backoffice:support:tickets": (reverse("backoffice:support:tickets"), reads),
        "backoffice:support:ticket": (
            reverse("backoffice:support:ticket", args=[ticket.pk]),
            reads,
        ),
        "backoffice:support:attachment": (
            reverse("backoffice:support:attachment", args=[attachment.pk]),
            reads,
        ),
        "backoffice:support:record": (reverse("backoffice:support:record"), writes),
        "backoffice:support:ticket_action": (
            reverse("backoffice:support:ticket_action", args=[ticket.pk, "note"]),
            writes,
        ),
    }
    assert set(urls) == SUPPORT_BACKOFFICE_URL_NAMES
    for name, (url, expected) in urls.items():
        response = client.get(url)
        if expected == "login":
            assert response.status_code == 302, name
            assert response["Location"].startswith(reverse("accounts:login")), name
        else:
            assert response.status_code == expected, (name, who)


@pytest.mark.parametrize(
    ("who", "list_status", "own_status"),
    [
        ("anonymous", "login", "login"),
        ("own_contact", 200, 200),
        ("other_contact", 200, 404),
        ("customer_contact", 404, 404),  # a contact's login without a customer
        ("member", 403, 403),
        ("staff", 403, 403),
        ("op_support", 403, 403),
        ("superuser", 403, 403),
    ],
)
def test_the_customer_area_shows_a_contact_only_their_own_tickets(
    people: dict[str, User], friday_evening: Clock, who: str, list_status: Any, own_status: Any
):
    _customer, own_contact = customer_with_contact()
    _other_customer, other_contact = customer_with_contact()
    ticket = report(own_contact, uploads=[png()])
    attachment = TicketAttachment.objects.get()
    users = {**people, "own_contact": own_contact, "other_contact": other_contact}
    client = Client() if who == "anonymous" else client_for(users[who])
    urls = {
        "customer_area:support:tickets": (reverse("customer_area:support:tickets"), list_status),
        "customer_area:support:report": (reverse("customer_area:support:report"), list_status),
        "customer_area:support:ticket": (
            reverse("customer_area:support:ticket", args=[ticket.pk]),
            own_status,
        ),
        "customer_area:support:attachment": (
            reverse("customer_area:support:attachment", args=[attachment.pk]),
            own_status,
        ),
    }
    assert set(urls) == SUPPORT_CUSTOMER_URL_NAMES
    for name, (url, expected) in urls.items():
        response = client.get(url)
        if expected == "login":
            assert response.status_code == 302, name
            assert response["Location"].startswith(reverse("accounts:login")), name
        else:
            assert response.status_code == expected, (name, who)


def test_a_contact_reports_a_fault_with_a_screenshot_and_never_sees_internal_notes(
    friday_evening: Clock,
):
    _customer, contact = customer_with_contact()
    client = client_for(contact)
    page = client.get(reverse("customer_area:support:report"))
    assert page.status_code == 200 and b'enctype="multipart/form-data"' in page.content
    empty = client.post(reverse("customer_area:support:report"), {"subject": "", "description": ""})
    assert empty.status_code == 400 and Ticket.objects.count() == 0
    response = client.post(
        reverse("customer_area:support:report"),
        {
            "subject": "Ton fehlt",
            "description": "Im Gespräch hört niemand etwas.",
            "attachments": [png()],
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("customer_area:support:ticket", args=[ticket.pk])
    download = client.get(
        reverse("customer_area:support:attachment", args=[TicketAttachment.objects.get().pk])
    )
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG  # type: ignore[attr-defined]

    services.add_note(actor=supporter(), ticket=ticket, text="Geheime Notiz zum Server")
    shown = client.get(reverse("customer_area:support:ticket", args=[ticket.pk])).content.decode()
    assert "Ton fehlt" in shown and "Geheime Notiz" not in shown
    office = client_for(supporter())
    backoffice = office.get(reverse("backoffice:support:ticket", args=[ticket.pk]))
    assert "Geheime Notiz" in backoffice.content.decode()
    # The contact's e-mail address is never on the support's page of another person's ticket.
    assert contact.email not in backoffice.content.decode()


def test_support_answers_from_the_ticket_page_and_a_refusal_keeps_the_form(
    friday_evening: Clock,
):
    _customer, contact = customer_with_contact()
    ticket = report(contact)
    office = client_for(supporter())
    url = reverse("backoffice:support:ticket_action", args=[ticket.pk, "reply"])
    refused = office.post(url, {"reply-text": ""})
    assert refused.status_code == 400
    assert TicketEvent.objects.filter(kind=EventKind.REPLY).count() == 0
    done = office.post(url, {"reply-text": "Wir prüfen das.", "reply-wait_for_customer": "on"})
    assert done.status_code == 302
    ticket.refresh_from_db()
    assert ticket.state == TicketState.WAITING
    page = client_for(contact).get(reverse("customer_area:support:ticket", args=[ticket.pk]))
    with translation.override(contact.preferred_language):  # the page is in the contact's
        stopped = gettext("The clock is stopped while we wait for your answer.")
    assert "Wir prüfen das." in page.content.decode()
    assert stopped in page.content.decode()
    assert (
        office.get(
            reverse("backoffice:support:ticket_action", args=[ticket.pk, "nonsense"])
        ).status_code
        == 404
    )


def test_ticket_deadlines_are_on_the_operators_deadline_dashboard(friday_evening: Clock):
    from treffpunkt.contracts import selectors

    _customer, contact = customer_with_contact()
    ticket = report(contact)
    with translation.override("de"):
        rows = selectors.deadlines_ahead(on=date(2027, 3, 5)).rows
        reaction = gettext("Answer the fault ticket (reaction time, service hours)")
        fix = gettext("Fix the fault (fix time, service hours)")
        found = {(str(row.what), row.due, row.reference, row.url) for row in rows}
    url = reverse("backoffice:support:ticket", args=[ticket.pk])
    assert (reaction, date(2027, 3, 8), ticket.subject, url) in found
    assert (fix, date(2027, 3, 8), ticket.subject, url) in found
    # Answered: the reaction row goes; resolved: the fix row goes too.
    services.take_ticket(actor=supporter(), ticket=ticket)
    services.resolve(actor=supporter(), ticket=ticket, text="Erledigt.")
    with translation.override("de"):
        left = {str(row.what) for row in selectors.deadlines_ahead(on=date(2027, 3, 5)).rows}
    assert reaction not in left and fix not in left
