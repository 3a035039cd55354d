"""The data rules (P-DATA-1, P-DATA-2, P-CALL-7): every kind of personal data has a rule and,
where data goes, a job that writes an audit entry with its counts; the operator sees them all
with each job's last run."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from tests.backoffice.conftest import operator_with, people
from tests.calls.conftest import call_appointment
from tests.conftest import World, client_for
from tests.contracts.factories import BERLIN, contract_from, customer_with_contact, freeze
from treffpunkt.accounts.models import User
from treffpunkt.availability import services as availability_services
from treffpunkt.availability.models import Check, ProbeResult
from treffpunkt.billing.services.traffic import anonymize_call_traffic, kept_from
from treffpunkt.calls import services as call_services
from treffpunkt.calls.models import CallParticipation, CallPresence, CallSession, CallStatistic
from treffpunkt.contracts.models import ContractState, ProductKind
from treffpunkt.contracts.services.master_data import erase_contacts_of_former_customers
from treffpunkt.core.models import AuditEntry
from treffpunkt.core.registries import registry
from treffpunkt.customers.models import CustomerContact, CustomerOrganization

pytestmark = pytest.mark.django_db
__all__ = ["people"]


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=BERLIN)


def test_every_rule_names_a_scheduled_job_and_a_registered_audit_entry():
    assert {
        "calls.presence",
        "billing.call_traffic",
        "billing.invoices",
        "contracts.customer_master_data",
        "availability.probe_results",
    } <= set(registry.data_rules)
    for rule in registry.data_rules.values():
        if rule.job:
            assert rule.job in registry.periodic_jobs, rule.key
            assert rule.audit_code in registry.audit_codes, rule.key


def test_presence_rows_go_a_day_after_the_page_went_away(world: World):
    appointment = call_appointment(world)
    now = datetime.now(tz=BERLIN)
    for user, seen in ((world.member, now - timedelta(days=2)), (world.staff, now)):
        CallPresence.objects.create(appointment=appointment, user=user, seen_at=seen)
    assert call_services.clean_presence() == 1
    assert list(CallPresence.objects.values_list("user", flat=True)) == [world.staff.pk]
    assert AuditEntry.objects.get(code="calls.presence.cleaned").data == {"deleted": 1}


_slots = itertools.count()


def _call(world: World, ended: datetime, minutes: int = 10) -> CallSession:
    # Each call its own appointment hour: PostgreSQL refuses two appointments of one staff
    # member at the same time (the call's own times are set below).
    appointment = call_appointment(world, starts_in=timedelta(hours=-1 - next(_slots)))
    session = CallSession.objects.create(
        appointment=appointment, started_at=ended - timedelta(minutes=minutes), ended_at=ended
    )
    CallParticipation.objects.create(session=session, user=world.member, bytes_sent=1000)
    CallParticipation.objects.create(session=session, user=world.staff, bytes_received=500)
    return session


def test_call_records_are_anonymized_once_billing_and_objections_no_longer_need_them(
    world: World,
):
    today = datetime.now(tz=BERLIN).date()
    assert kept_from(date(2027, 5, 20)) == date(2027, 2, 1)
    assert kept_from(date(2027, 2, 3)) == date(2026, 11, 1)
    # The world's organization is billed to a customer: recent calls are kept.
    customer, _contact = customer_with_contact()
    CustomerOrganization.objects.create(customer=customer, organization=world.org)
    old = _call(world, at(kept_from(today) - timedelta(days=1)), minutes=10)
    recent = _call(world, at(kept_from(today) + timedelta(days=1)))
    counts = anonymize_call_traffic()
    assert counts == {"calls": 1, "participations": 2}
    assert list(CallSession.objects.values_list("pk", flat=True)) == [recent.pk]
    statistic = CallStatistic.objects.get()
    assert (statistic.organization_id, statistic.calls, statistic.minutes) == (world.org.pk, 1, 10)
    assert statistic.bytes_total == 1500
    assert old.pk not in set(CallParticipation.objects.values_list("session_id", flat=True))
    entry = AuditEntry.objects.get(code="billing.call_traffic.anonymized")
    assert entry.data["calls"] == 1


def test_calls_nobody_is_billed_for_are_anonymized_at_once(world: World):
    _call(world, at(datetime.now(tz=BERLIN).date() - timedelta(days=1)))
    assert anonymize_call_traffic()["calls"] == 1
    assert CallSession.objects.count() == 0 and CallParticipation.objects.count() == 0


def test_a_former_customers_contacts_go_at_the_end_of_the_year_after_the_last_contract_ended(
    monkeypatch: pytest.MonkeyPatch,
):
    clock = freeze(monkeypatch, date(2026, 1, 5))
    former, contact = customer_with_contact()
    contract = contract_from(clock, former, ProductKind.VIDEO, start=date(2026, 1, 5))
    type(contract).objects.filter(pk=contract.pk).update(
        state=ContractState.ENDED, ends_on=date(2027, 6, 30)
    )
    current, current_contact = customer_with_contact()
    contract_from(clock, current, ProductKind.VIDEO, start=date(2026, 1, 5))
    # Still within the year after the end: nothing goes.
    assert erase_contacts_of_former_customers(today=date(2028, 12, 31))["contacts"] == 0
    counts = erase_contacts_of_former_customers(today=date(2029, 1, 1))
    assert counts == {"customers": 1, "contacts": 1, "logins": 1}
    assert not CustomerContact.objects.filter(customer=former).exists()
    contact.refresh_from_db()
    assert contact.is_active is False and contact.email.endswith("@invalid.example")
    assert CustomerContact.objects.filter(customer=current).exists()
    current_contact.refresh_from_db()
    assert current_contact.is_active
    former.refresh_from_db()  # the company's own record stays for its invoices
    assert former.legal_name


def test_old_probe_results_go_after_400_days():
    now = datetime.now(tz=BERLIN)
    for days in (401, 399):
        ProbeResult.objects.create(function=Check.PAGES, at=now - timedelta(days=days), ok=True)
    assert availability_services.clean_probe_results() == 1
    assert ProbeResult.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [("op_platform", 200), ("op_auditor", 200), ("op_support", 403), ("customer_contact", 403)],
)
def test_the_operator_sees_each_rule_with_its_jobs_last_run(
    people: dict[str, User], who: str, status: int
):
    call_services.clean_presence()
    response = client_for(people[who]).get(reverse("backoffice:data_rules"))
    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        for rule in registry.data_rules.values():
            assert str(rule.data) in page or str(rule.data).replace("'", "&#x27;") in page
        assert "calls.clean_presence" in page and "deleted: 0" in page


def test_anonymous_people_are_sent_to_sign_in():
    response = Client().get(reverse("backoffice:data_rules"))
    assert response.status_code == 302
    assert operator_with  # the access table of the back office covers the other roles
