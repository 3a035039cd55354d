"""The start pages: the back office names each capability in plain words and leads to what it
may use; the customer area says what it will hold and that it holds nothing yet."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from tests.backoffice.conftest import customer_contact, operator_with
from tests.conftest import client_for
from treffpunkt.accounts.permissions import Capability
from treffpunkt.backoffice.views import CAPABILITY_DESCRIPTIONS

pytestmark = pytest.mark.django_db


def test_every_capability_is_described():
    assert set(CAPABILITY_DESCRIPTIONS) == set(Capability)


@pytest.mark.parametrize("capability", list(Capability), ids=[c.value for c in Capability])
def test_the_start_page_greets_and_lists_the_capability(capability: Capability):
    operator = operator_with(capability, display_name="Olaf Operator")
    body = client_for(operator).get(reverse("backoffice:home")).content.decode()
    with translation.override(operator.preferred_language):
        assert "Olaf Operator" in body
        assert f"<dt>{capability.label}</dt>" in body
        assert f"<dd>{CAPABILITY_DESCRIPTIONS[capability]}</dd>" in body
        for other in set(Capability) - {capability}:
            assert f"<dt>{other.label}</dt>" not in body


def test_the_auditors_start_page_leads_to_the_audit_log_and_the_outbox():
    body = client_for(operator_with(Capability.AUDITOR)).get("/betrieb/").content.decode()
    main = body[body.index('id="shell-content"') :]
    assert 'href="/betrieb/protokoll/"' in main
    assert 'href="/betrieb/postausgang/"' in main
    assert 'href="/betrieb/admin/"' not in main


def test_the_customer_area_says_plainly_what_it_will_hold():
    contact = customer_contact(display_name="Kai Kunde", preferred_language="de")
    response = client_for(contact).get(reverse("customer_area:home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Kai Kunde" in body
    assert f'href="{reverse("accounts:profile")}"' in body
    assert f'href="{reverse("customer_area:contracts:list")}"' in body
    assert f'href="{reverse("customer_area:contracts:documents")}"' in body
    with translation.override("de"):
        for empty in (
            "No invoices yet.",
            "No fault reports yet.",
            "No availability reports yet.",
        ):
            assert translation.gettext(empty) in body


def test_a_customer_contact_starts_in_the_customer_area():
    # After login everybody lands on "/"; a contact belongs to no organization, so "/" sends
    # them on to the customer area instead of a member's start page without an organization.
    contact = customer_contact(display_name="Kai Kunde")
    response = client_for(contact).get("/")
    assert response.status_code == 302 and response["Location"] == reverse("customer_area:home")
