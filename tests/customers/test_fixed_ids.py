"""Fixed H.323 IDs and SIP URIs for a customer's room systems (P-OP-8): allocated in order from
the configured range, unique, never handed out again, refused clearly when the range is used
up; shown to the operator's staff and to the customer's own contacts with the statement that
no emergency calls are possible."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import translation
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.backoffice.conftest import operator_with
from tests.conftest import client_for
from tests.customers.conftest import contact_of, make_customer, public_body_fields, writer
from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.core.models import AuditEntry
from treffpunkt.customers import services
from treffpunkt.customers.models import FixedId

EMERGENCY_DE = (
    "Über diesen Dienst sind keine Notrufe möglich: Notrufnummern (110, 112) sind nicht "
    "erreichbar, und es wird kein Standort übermittelt."
)
EMERGENCY_EN = (
    "Emergency calls are not possible with this service: emergency numbers (110, 112) cannot "
    "be reached, and no location is transmitted."
)


@pytest.fixture
def fixed_id_range(settings: SettingsWrapper) -> SettingsWrapper:
    settings.FIXED_ID_H323_PREFIX = "49301234"
    settings.FIXED_ID_RANGE_START = 1000
    settings.FIXED_ID_RANGE_END = 9999
    settings.FIXED_ID_SIP_DOMAIN = "sip.example.invalid"
    return settings


@pytest.mark.django_db
def test_ids_are_allocated_in_order_from_the_start_of_the_range(fixed_id_range: SettingsWrapper):
    actor = writer()
    customer = make_customer()
    first = services.allocate_fixed_id(actor=actor, customer=customer)
    second = services.allocate_fixed_id(actor=actor, customer=make_customer())
    assert (first.number, second.number) == (1000, 1001)
    assert first.h323_id == "493012341000"
    assert first.sip_uri == "sip:493012341000@sip.example.invalid"
    assert first.customer == customer and first.is_active
    entries = AuditEntry.objects.filter(code="customers.fixed_id.allocated")
    assert entries.count() == 2
    assert all(entry.actor == actor for entry in entries)


@pytest.mark.django_db
def test_every_id_and_uri_is_unique(fixed_id_range: SettingsWrapper):
    actor = writer()
    customer = make_customer()
    allocated = [services.allocate_fixed_id(actor=actor, customer=customer) for _ in range(5)]
    for field in ("number", "h323_id", "sip_uri"):
        values = [getattr(fixed_id, field) for fixed_id in allocated]
        assert len(set(values)) == 5, field


@pytest.mark.django_db
def test_a_released_number_is_never_handed_out_again(fixed_id_range: SettingsWrapper):
    actor = writer()
    customer = make_customer()
    first = services.allocate_fixed_id(actor=actor, customer=customer)
    second = services.allocate_fixed_id(actor=actor, customer=customer)
    services.release_fixed_id(actor=actor, fixed_id=second)
    services.release_fixed_id(actor=actor, fixed_id=first)
    third = services.allocate_fixed_id(actor=actor, customer=customer)
    assert third.number == 1002
    released = FixedId.objects.get(pk=second.pk)
    assert released.released_at is not None and not released.is_active
    assert FixedId.objects.count() == 3  # the released rows stay
    assert AuditEntry.objects.filter(code="customers.fixed_id.released").count() == 2
    with pytest.raises(DomainError) as refused:
        services.release_fixed_id(actor=actor, fixed_id=first)
    assert refused.value.code == "already_released"


@pytest.mark.django_db
def test_an_exhausted_range_is_refused_clearly_and_nothing_is_written(
    fixed_id_range: SettingsWrapper,
):
    fixed_id_range.FIXED_ID_RANGE_START = 10
    fixed_id_range.FIXED_ID_RANGE_END = 11
    actor = writer()
    customer = make_customer()
    services.allocate_fixed_id(actor=actor, customer=customer)
    last = services.allocate_fixed_id(actor=actor, customer=customer)
    services.release_fixed_id(actor=actor, fixed_id=last)  # released: still used up
    rows, entries = FixedId.objects.count(), AuditEntry.objects.count()
    with translation.override("en"), pytest.raises(DomainError) as refused:
        services.allocate_fixed_id(actor=actor, customer=customer)
    assert refused.value.code == "range_exhausted"
    assert "10 to 11" in str(refused.value.message)
    assert (FixedId.objects.count(), AuditEntry.objects.count()) == (rows, entries)


@pytest.mark.django_db
def test_only_who_holds_the_customers_capability_allocates_and_releases(
    fixed_id_range: SettingsWrapper,
):
    customer = make_customer()
    fixed_id = services.allocate_fixed_id(actor=writer(), customer=customer)
    for actor in (operator_with(Capability.AUDITOR), operator_with(None), contact_of(customer)):
        with pytest.raises(NotAllowed):
            services.allocate_fixed_id(actor=actor, customer=customer)
        with pytest.raises(NotAllowed):
            services.release_fixed_id(actor=actor, fixed_id=fixed_id)
    assert FixedId.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_allocations_at_the_same_moment_get_different_numbers(fixed_id_range: SettingsWrapper):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers are only meaningful on PostgreSQL")
    contenders = 4
    actors = [writer() for _ in range(contenders)]
    customers = [make_customer(legal_name=f"Firma {i} GmbH") for i in range(contenders)]
    barrier = threading.Barrier(contenders)
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            services.allocate_fixed_id(actor=actors[index], customer=customers[index])
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    numbers = sorted(FixedId.objects.values_list("number", flat=True))
    assert numbers == list(range(1000, 1000 + contenders))


# --- the pages --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_operator_allocates_and_releases_on_the_customer_page(
    fixed_id_range: SettingsWrapper,
):
    customer = make_customer()
    client = client_for(writer())
    detail = reverse("backoffice:customers:detail", args=[customer.pk])
    page = client.get(detail).content.decode()
    assert "H.323-ID und SIP-Adresse zuteilen" in page
    response = client.post(reverse("backoffice:customers:allocate_fixed_id", args=[customer.pk]))
    assert response.status_code == 302
    fixed_id = FixedId.objects.get(customer=customer)
    page = client.get(detail).content.decode()
    assert fixed_id.h323_id in page and fixed_id.sip_uri in page
    release = reverse("backoffice:customers:release_fixed_id", args=[customer.pk, fixed_id.pk])
    assert release in page
    assert client.post(release).status_code == 302
    fixed_id.refresh_from_db()
    assert fixed_id.released_at is not None
    assert release not in client.get(detail).content.decode()


@pytest.mark.django_db
def test_a_release_through_another_customers_address_is_404(fixed_id_range: SettingsWrapper):
    own, other = make_customer(), make_customer(legal_name="Andere GmbH")
    fixed_id = services.allocate_fixed_id(actor=writer(), customer=own)
    url = reverse("backoffice:customers:release_fixed_id", args=[other.pk, fixed_id.pk])
    assert client_for(writer()).post(url).status_code == 404
    fixed_id.refresh_from_db()
    assert fixed_id.is_active


@pytest.mark.django_db
def test_a_reader_sees_the_ids_but_no_buttons(fixed_id_range: SettingsWrapper):
    customer = make_customer()
    fixed_id = services.allocate_fixed_id(actor=writer(), customer=customer)
    page = client_for(operator_with(Capability.AUDITOR)).get(
        reverse("backoffice:customers:detail", args=[customer.pk])
    )
    body = page.content.decode()
    assert fixed_id.h323_id in body
    assert "H.323-ID und SIP-Adresse zuteilen" not in body
    assert reverse("backoffice:customers:allocate_fixed_id", args=[customer.pk]) not in body


@pytest.mark.django_db
def test_the_contact_sees_their_active_ids_and_the_emergency_statement(
    people: dict[str, User], fixed_id_range: SettingsWrapper
):
    own = make_customer(legal_name="Eigene Firma GmbH")
    other = services.create_customer(
        actor=writer(), **public_body_fields(legal_name="Andere Behörde")
    )
    active = services.allocate_fixed_id(actor=writer(), customer=own)
    released = services.allocate_fixed_id(actor=writer(), customer=own)
    services.release_fixed_id(actor=writer(), fixed_id=released)
    foreign = services.allocate_fixed_id(actor=writer(), customer=other)
    contact = contact_of(own)
    client = client_for(contact)
    url = reverse("customer_area:customers:master_data")
    body = client.get(url).content.decode()
    assert active.h323_id in body and active.sip_uri in body
    assert released.h323_id not in body
    assert foreign.h323_id not in body and foreign.sip_uri not in body
    assert EMERGENCY_DE in body
    contact.preferred_language = "en"
    contact.save(update_fields=["preferred_language"])
    english = client.get(url).content.decode()
    assert EMERGENCY_EN in english
    # The other customer's contact sees their own ID only.
    other_body = client_for(contact_of(other)).get(url).content.decode()
    assert foreign.h323_id in other_body and active.h323_id not in other_body
