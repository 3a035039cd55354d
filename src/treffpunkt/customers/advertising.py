"""Advice and advertising by e-mail only with consent (P-DATA-4; § 7 (2) UWG, § 16 (I) b/c and
§ 17 (I) of the terms).

A contact gives the consent in the customer area (the wording is kept with it) and revokes it
there at any time; every advertising mail carries a one-click link that ends it at once without
signing in (an objection). ``send_advertising`` mails only contacts whose consent stands at the
moment of sending: without consent, nothing is sent."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability, require_capability
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.customers.models import AdvertisingConsent, CustomerContact
from treffpunkt.notifications.services import queue_mail

SALT = "treffpunkt.customers.advertising"
MAX_TEXT = 5000


def wording() -> str:
    return _(
        "Yes, %(operator)s may send me advice and offers about its services by e-mail. I can "
        "revoke this at any time, in the customer area or with the link in every such mail."
    ) % {"operator": settings.OPERATOR_LEGAL_NAME}


def _contact(user: User | None) -> CustomerContact:
    contact = (
        CustomerContact.objects.filter(user=user).first()
        if user is not None and user.is_authenticated
        else None
    )
    if contact is None:
        raise NotAllowed
    return contact


def standing_consent(contact: CustomerContact) -> AdvertisingConsent | None:
    return AdvertisingConsent.objects.filter(contact=contact, revoked_at__isnull=True).first()


def give_consent(*, actor: User | None) -> AdvertisingConsent:
    contact = _contact(actor)
    with transaction.atomic():
        CustomerContact.objects.select_for_update().get(pk=contact.pk)
        existing = standing_consent(contact)
        if existing is not None:
            return existing
        consent = AdvertisingConsent.objects.create(
            contact=contact, wording=wording(), given_at=clock.now()
        )
        audit.record("customers.advertising.consented", actor=actor, target=contact.customer)
    return consent


def revoke_consent(*, actor: User | None) -> int:
    """The contact revokes in the customer area; returns how many consents ended (0 or 1)."""
    return _end(_contact(actor), actor=actor, objection=False)


def object_by_link(token: str) -> CustomerContact:
    """The one-click objection from an advertising mail: no sign-in, effective at once."""
    try:
        contact_id = signing.loads(token, salt=SALT)
    except signing.BadSignature as broken:
        raise DomainError(_("This link is not valid."), code="token") from broken
    contact = CustomerContact.objects.filter(pk=contact_id).first()
    if contact is None:
        raise DomainError(_("This link is not valid."), code="token")
    _end(contact, actor=None, objection=True)
    return contact


def _end(contact: CustomerContact, *, actor: User | None, objection: bool) -> int:
    with transaction.atomic():
        ended = AdvertisingConsent.objects.filter(contact=contact, revoked_at__isnull=True).update(
            revoked_at=clock.now(), revoked_by_objection=objection
        )
        if ended:
            audit.record(
                "customers.advertising.revoked",
                actor=actor,
                target=contact.customer,
                data={"objection": objection},
            )
    return ended


def objection_url(contact: CustomerContact) -> str:
    token = signing.dumps(contact.pk, salt=SALT)
    return settings.SITE_URL + reverse("advertising_objection", args=[token])


def send_advertising(*, actor: User | None, subject: str, text: str) -> int:
    """Mail advice or an offer to every contact whose consent stands now; nobody else."""
    operator = require_capability(actor, Capability.CUSTOMERS)
    subject, text = subject.strip(), text.strip()
    if not subject or not text:
        raise DomainError(_("Write a subject and a text."), code="text")
    if len(subject) > 200 or len(text) > MAX_TEXT:
        raise DomainError(_("The subject or the text is too long."), code="text")
    sent = 0
    with transaction.atomic():
        for consent in AdvertisingConsent.objects.filter(revoked_at__isnull=True).select_related(
            "contact__user"
        ):
            contact = consent.contact
            queue_mail(
                template="customers/advertising",
                context={
                    "subject": subject,
                    "text": text,
                    "contact_name": contact.name,
                    "objection_url": objection_url(contact),
                },
                recipient=contact.user,
                to_address=contact.email,
                language=contact.user.preferred_language if contact.user else None,
            )
            sent += 1
        audit.record("customers.advertising.sent", actor=operator, data={"recipients": sent})
    return sent
