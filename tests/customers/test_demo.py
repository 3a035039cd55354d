"""The demo's business customers: a company and a public body, each contact logs in and sees
their own customer; loading twice changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.conftest import client_for
from treffpunkt.accounts.demo import DEMO_ORGANIZATION, DEMO_PASSWORD
from treffpunkt.accounts.models import Role, User
from treffpunkt.customers.models import Customer, CustomerContact, CustomerKind
from treffpunkt.customers.validation import clean_leitweg_id, clean_vat_id

pytestmark = pytest.mark.django_db

LOGINS = {
    "kunde@beispiel-beratung.example.org": "Beispiel Beratung GmbH",
    "rechnung@kasse-nord.example.org": "Gesundheitskasse Nord",
}


def test_the_demo_has_two_valid_customers_whose_contacts_log_in():
    out = StringIO()
    call_command("load_demo", stdout=out)
    call_command("load_demo", stdout=StringIO())
    company = Customer.objects.get(legal_name="Beispiel Beratung GmbH")
    public_body = Customer.objects.get(legal_name="Gesundheitskasse Nord")
    assert Customer.objects.count() == 2 and CustomerContact.objects.count() == 2
    assert company.kind == CustomerKind.COMPANY and clean_vat_id(company.vat_id)
    assert public_body.kind == CustomerKind.PUBLIC_BODY and clean_leitweg_id(public_body.leitweg_id)
    assert [link.organization.slug for link in public_body.organization_links.all()] == [
        DEMO_ORGANIZATION["slug"]
    ]
    printed = out.getvalue()
    for email, name in LOGINS.items():
        assert email in printed
        user = User.objects.get(email=email)
        assert user.check_password(DEMO_PASSWORD) and user.role == Role.CUSTOMER_CONTACT
        client = client_for(user)
        body = client.get(reverse("customer_area:customers:master_data")).content.decode()
        assert name in body
