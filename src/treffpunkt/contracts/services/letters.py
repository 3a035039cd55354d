"""Letters to a customer (order confirmations, cancellation confirmations, change and transfer
notices, consent requests): a PDF/A document in the documents app, listed in the customer area,
and sent to the customer's contacts by mail with the PDF attached.

§ 24 (VI) of the terms: "written" includes text form (e-mail), so a letter sent as a PDF by
e-mail is received the day it is sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date

from django.conf import settings
from django.urls import reverse
from django.utils import formats, translation

from treffpunkt.accounts.models import User
from treffpunkt.contracts.models import Contract, CustomerDocument, Order
from treffpunkt.core import clock
from treffpunkt.customers.models import Customer, CustomerContact
from treffpunkt.documents.models import Document, DocumentKind
from treffpunkt.documents.rendering import LetterData, LineTable
from treffpunkt.documents.selectors import mail_attachment
from treffpunkt.documents.services import RECEIPT_AFTER_DAYS_EMAIL, create_document, mark_sent
from treffpunkt.notifications.services import queue_mail


def customer_language(customer: Customer) -> str:
    """The language of the customer's letters: that of its first contact with a login."""
    contact = (
        CustomerContact.objects.filter(customer=customer, user__isnull=False)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    if contact is not None and contact.user is not None:
        return contact.user.preferred_language
    return str(settings.LANGUAGE_CODE)


@contextmanager
def in_language_of(customer: Customer) -> Iterator[str]:
    """Write a letter's texts in the customer's language."""
    language = customer_language(customer)
    with translation.override(language):
        yield language


def long_date(day: date) -> str:
    """A date as a letter writes it, in the active language ("7. März 2027")."""
    return formats.date_format(day, "DATE_FORMAT")


def recipient_lines(customer: Customer) -> list[str]:
    # Letters about the contract go to the main address; invoices to the billing address.
    return [
        customer.legal_name,
        customer.street,
        f"{customer.postal_code} {customer.city}",
    ]


def send_letter(
    *,
    customer: Customer,
    language: str,
    subject: str,
    paragraphs: Sequence[str],
    actor: User | None,
    table: LineTable | None = None,
    contract: Contract | None = None,
    order: Order | None = None,
) -> Document:
    """Render, store and mail one letter. Call inside the transaction of the change it
    confirms: the mail leaves only when that commits."""
    with translation.override(language):
        data: LetterData = {
            "sender": {
                "name": settings.OPERATOR_LEGAL_NAME,
                "lines": list(settings.OPERATOR_ADDRESS_LINES),
            },
            "recipient": {"lines": recipient_lines(customer)},
            "subject": subject,
            "salutation": translation.gettext("Dear Sir or Madam,"),
            "paragraphs": list(paragraphs),
            "closing": translation.gettext("Kind regards"),
            "signature": settings.OPERATOR_LEGAL_NAME,
            "place": settings.OPERATOR_PLACE,
        }
        if table is not None:
            data["table"] = table
    document = create_document(
        kind=DocumentKind.LETTER,
        title=subject,
        template="letter",
        data=data,
        language=language,
        actor=actor,
    )
    CustomerDocument.objects.create(
        customer=customer, contract=contract, order=order, document=document
    )
    _mail_letter(customer=customer, document=document, subject=subject, language=language)
    mark_sent(
        document=document,
        at=clock.now(),
        receipt_after_days=RECEIPT_AFTER_DAYS_EMAIL,
        actor=actor,
    )
    return document


def _mail_letter(*, customer: Customer, document: Document, subject: str, language: str) -> None:
    attachment = mail_attachment(document)
    for contact in CustomerContact.objects.filter(customer=customer).select_related("user"):
        queue_mail(
            template="contracts/letter",
            context={
                "customer": customer,
                "contact_name": contact.name,
                "subject": subject,
                "area_url": settings.SITE_URL + reverse("customer_area:contracts:list"),
            },
            recipient=contact.user,
            to_address=contact.email,
            language=contact.user.preferred_language if contact.user else language,
            attachments=[attachment],
        )
