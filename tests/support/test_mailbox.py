"""Fault reports by e-mail to the support address (§ 12 of the terms): a mail from a customer's
contact becomes a ticket with its attachments, the clock running from its arrival; a mail from
anyone else is set aside with the reason; each mail is read once."""

from __future__ import annotations

import mailbox
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.contracts.factories import customer_with_contact, freeze
from tests.support.test_tickets import PNG, at
from treffpunkt.core.models import AuditEntry
from treffpunkt.support.mailbox import import_support_mails
from treffpunkt.support.models import Ticket, TicketAttachment, TicketChannel

pytestmark = pytest.mark.django_db


def mail(sender: str, subject: str, body: str, *, png: bool = False) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@treffpunkt.example"
    message["Subject"] = subject
    message["Date"] = "Mon, 08 Mar 2027 08:30:00 +0100"
    message.set_content(body)
    if png:
        message.add_attachment(PNG, maintype="image", subtype="png", filename="fehler.png")
    return message


def test_a_contacts_mail_becomes_a_ticket_and_a_strangers_is_set_aside(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    freeze(monkeypatch, date(2027, 3, 8), hour=10)
    customer, contact = customer_with_contact()
    box = mailbox.Maildir(tmp_path / "support", create=True)
    box.add(mail(f"Kim <{contact.email.upper()}>", "Telefonie tot", "Nichts geht.", png=True))
    box.add(mail("someone@elsewhere.example", "Werbung", "Kaufen Sie!"))

    assert import_support_mails(str(tmp_path / "support")) == {"tickets": 1, "refused": 1}

    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.channel, ticket.subject) == (
        customer,
        TicketChannel.EMAIL,
        "Telefonie tot",
    )
    assert ticket.reported_by == contact
    # The clock runs from the mail's arrival (8:30), counted from 9:00, the start of service.
    assert ticket.reported_at == at(date(2027, 3, 8), 8, 30)
    assert ticket.reaction_due_at == at(date(2027, 3, 8), 11, 0)
    assert TicketAttachment.objects.get().file_name == "fehler.png"
    assert len(box) == 0  # read once
    assert len(box.get_folder("done")) == 1
    refused = list(box.get_folder("refused"))
    assert len(refused) == 1 and "no contact" in refused[0]["X-Treffpunkt-Refused"]
    assert AuditEntry.objects.filter(code="support.mailbox.imported").count() == 1
    assert import_support_mails(str(tmp_path / "support")) == {"tickets": 0, "refused": 0}


def test_without_a_support_maildir_nothing_is_read():
    assert import_support_mails() == {"tickets": 0, "refused": 0}
