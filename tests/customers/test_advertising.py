"""Advice and advertising by e-mail only with consent (P-DATA-4): the contact consents in the
customer area (the wording kept as proof) and revokes at any time; the link in every such mail
ends it at once without signing in; the operator's mailing reaches only those whose consent
stands."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.backoffice.conftest import operator_with
from tests.conftest import client_for
from tests.contracts.factories import customer_with_contact
from treffpunkt.accounts.permissions import Capability
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.core.models import AuditEntry
from treffpunkt.customers import advertising
from treffpunkt.customers.models import AdvertisingConsent, CustomerContact
from treffpunkt.notifications.models import OutboxMail

pytestmark = pytest.mark.django_db

ADVERTISING_URL_NAMES = frozenset(
    {
        "customer_area:customers:advertising",
        "backoffice:customers:advertising",
        "advertising_objection",
    }
)


def test_nothing_is_sent_for_advertising_without_a_standing_consent():
    _a, agrees = customer_with_contact()
    _b, never = customer_with_contact()
    _c, revokes = customer_with_contact()
    marketer = operator_with(Capability.CUSTOMERS)
    client_for(agrees).post(reverse("customer_area:customers:advertising"), {"consent": "yes"})
    advertising.give_consent(actor=revokes)
    advertising.revoke_consent(actor=revokes)
    consent = AdvertisingConsent.objects.get(contact__user=agrees)
    assert consent.wording == advertising.wording() and consent.revoked_at is None

    assert advertising.send_advertising(actor=marketer, subject="Neu", text="Ein Angebot.") == 1
    mail = OutboxMail.objects.get(template="customers/advertising")
    assert mail.to_address == agrees.email
    assert never.email not in set(OutboxMail.objects.values_list("to_address", flat=True))
    assert AuditEntry.objects.filter(code="customers.advertising.sent").count() == 1

    # The objection link in the mail ends the consent at once, without signing in.
    contact = CustomerContact.objects.get(user=agrees)
    url = advertising.objection_url(contact).removeprefix("http://testserver")
    assert Client().get(url).status_code == 200
    consent.refresh_from_db()
    assert consent.revoked_at is not None and consent.revoked_by_objection
    assert advertising.send_advertising(actor=marketer, subject="Neu", text="Noch eins.") == 0


def test_a_forged_objection_link_is_refused_and_changes_nothing():
    _a, agrees = customer_with_contact()
    advertising.give_consent(actor=agrees)
    response = Client().get(reverse("advertising_objection", args=["forged:token"]))
    assert response.status_code == 400
    assert AdvertisingConsent.objects.get().revoked_at is None
    with pytest.raises(DomainError):
        advertising.object_by_link("forged:token")


def test_only_contacts_consent_and_only_the_customers_capability_sends():
    _a, contact = customer_with_contact()
    with pytest.raises(NotAllowed):
        advertising.give_consent(actor=operator_with(Capability.CUSTOMERS))
    for wrong in (operator_with(Capability.BILLING), operator_with(Capability.AUDITOR), contact):
        with pytest.raises(NotAllowed):
            advertising.send_advertising(actor=wrong, subject="x", text="y")
    assert client_for(contact).get(reverse("backoffice:customers:advertising")).status_code == 403
    office = client_for(operator_with(Capability.CUSTOMERS))
    assert office.get(reverse("backoffice:customers:advertising")).status_code == 200
    assert office.post(reverse("backoffice:customers:advertising"), {}).status_code == 400
    assert (
        client_for(contact).get(reverse("customer_area:customers:advertising")).status_code == 200
    )
    anonymous = Client().get(reverse("customer_area:customers:advertising"))
    assert anonymous.status_code == 302
