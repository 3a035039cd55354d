"""Dunning and default (P-BILL-2): the daily job's reminders and default findings, open
objections' disputed amounts left out, the operator's termination for default with its letter,
claim and end of the contract, and the pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.backoffice.conftest import operator_with, people
from tests.conftest import client_for
from tests.contracts.factories import (
    Clock,
    contract_from,
    customer_with_contact,
    freeze,
    letter_text,
)
from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.billing import services
from treffpunkt.billing.models import (
    BankEntry,
    BankStatement,
    DefaultFinding,
    DefaultRule,
    DefaultTermination,
    EntryState,
    Invoice,
    Objection,
    ObjectionState,
    PaymentAllocation,
    Reminder,
)
from treffpunkt.billing.services import LineDraft
from treffpunkt.billing.services.dunning import reminder_subject, run_dunning, terminate_for_default
from treffpunkt.billing.services.run import Month, billing_key
from treffpunkt.contracts.models import Contract, ContractState, EndReason, ProductKind
from treffpunkt.contracts.services.lifecycle import close_term
from treffpunkt.core import clock as core_clock
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.core.models import AuditEntry
from treffpunkt.documents.models import Document

pytestmark = pytest.mark.django_db

__all__ = ["people"]  # the back office's fixture: everyone with every role

D = Decimal
START = date(2027, 1, 1)  # the contract's term runs until 31 December 2027
GROSS = D("296.31")  # 249.00 € net + 19 %


def accountant() -> User:
    return operator_with(Capability.BILLING, preferred_language="en")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return freeze(monkeypatch, START)


@pytest.fixture
def contract(clock: Clock) -> Contract:
    customer, _contact = customer_with_contact()
    return contract_from(clock, customer, ProductKind.VIDEO, start=START)


def fee_invoice(contract: Contract, month: int, *, due: date | None = None) -> Invoice:
    """The invoice of the monthly fee for ``month`` of 2027, due on the 15th of that month."""
    period = Month.of(date(2027, month, 1))
    invoice = services.issue_invoice(
        actor=accountant(),
        customer=contract.customer,
        contract=contract,
        billing_key=billing_key(contract, period),
        issue_date=period.first,
        lines=[
            LineDraft(
                description="Videoberatung, Monatsentgelt",
                quantity=D("1"),
                unit="MON",
                unit_price=D("249.00"),
                supply_start=period.first,
                supply_end=period.last,
            )
        ],
    )
    Invoice.objects.filter(pk=invoice.pk).update(due_on=due or date(2027, month, 15))
    invoice.refresh_from_db()
    assert invoice.gross_total == GROSS
    return invoice


def pay(invoice: Invoice, amount: str) -> None:
    statement = BankStatement.objects.create(
        sha256=f"{invoice.pk:064d}"[-64:] + "",
        camt_version="08",
        imported_at=core_clock.now(),
    )
    entry = BankEntry.objects.create(
        statement=statement,
        reference=f"ref-{invoice.pk}-{amount}",
        booking_date=date(2027, 1, 1),
        amount=D(amount),
        credit=True,
        state=EntryState.MATCHED,
        customer=invoice.customer,
    )
    PaymentAllocation.objects.create(
        entry=entry, invoice=invoice, amount=D(amount), created_at=core_clock.now()
    )


def object_to(invoice: Invoice, amount: str) -> Objection:
    return Objection.objects.create(
        invoice=invoice,
        received_on=date(2027, 1, 20),
        channel="email",
        sender="Erika Muster",
        text="Die Position stimmt nicht.",
        disputed_amount=D(amount),
        on_time=True,
    )


# --- reminders --------------------------------------------------------------------------------


def test_reminders_follow_the_schedule_and_a_second_run_sends_nothing(
    contract: Contract, clock: Clock
):
    invoice = fee_invoice(contract, 1)  # due 15 January
    assert run_dunning(on=date(2027, 1, 21)).get("reminders_sent", 0) == 0
    clock.set_day(date(2027, 1, 22))
    assert run_dunning(on=date(2027, 1, 22))["reminders_sent"] == 1
    documents = Document.objects.count()
    assert run_dunning(on=date(2027, 1, 22)).get("reminders_sent", 0) == 0
    assert Document.objects.count() == documents
    reminder = Reminder.objects.get(invoice=invoice)
    assert (reminder.level, reminder.sent_on, reminder.open_amount) == (1, date(2027, 1, 22), GROSS)
    assert reminder.letter is not None
    text = letter_text(reminder.letter)
    assert invoice.number in text and "in default" in text

    clock.set_day(date(2027, 2, 5))
    assert run_dunning(on=date(2027, 2, 5))["reminders_sent"] == 1
    assert run_dunning(on=date(2027, 2, 5)).get("reminders_sent", 0) == 0
    assert list(Reminder.objects.filter(invoice=invoice).values_list("level", flat=True)) == [1, 2]
    assert AuditEntry.objects.filter(code="billing.reminder.sent").count() == 2
    assert AuditEntry.objects.filter(code="billing.dunning.finished").count() == 5


def test_a_paid_invoice_gets_no_reminder(contract: Contract):
    invoice = fee_invoice(contract, 1)
    pay(invoice, str(GROSS))
    run_dunning(on=date(2027, 2, 1))
    assert not Reminder.objects.exists()


def test_an_open_objection_s_disputed_amount_is_not_dunned(contract: Contract):
    disputed_whole = fee_invoice(contract, 1)
    disputed_part = fee_invoice(contract, 2, due=date(2027, 1, 15))
    object_to(disputed_whole, str(GROSS))
    object_to(disputed_part, "100.00")
    run_dunning(on=date(2027, 1, 25))
    assert not Reminder.objects.filter(invoice=disputed_whole).exists()
    assert Reminder.objects.get(invoice=disputed_part).open_amount == GROSS - D("100.00")
    # Once the objection is rejected, the whole amount is dunned again.
    Objection.objects.filter(invoice=disputed_whole).update(state=ObjectionState.REJECTED)
    run_dunning(on=date(2027, 1, 26))
    assert Reminder.objects.get(invoice=disputed_whole).open_amount == GROSS


# --- default findings -------------------------------------------------------------------------


def test_two_unpaid_months_open_a_finding_once_and_payment_resolves_it(contract: Contract):
    january, february = fee_invoice(contract, 1), fee_invoice(contract, 2)
    assert run_dunning(on=date(2027, 2, 15)).get("findings_opened", 0) == 0  # February not due
    assert run_dunning(on=date(2027, 2, 16))["findings_opened"] == 1
    assert run_dunning(on=date(2027, 2, 17)).get("findings_opened", 0) == 0
    finding = DefaultFinding.objects.get()
    assert finding.rule == DefaultRule.TWO_CONSECUTIVE_MONTHS
    assert finding.found_on == date(2027, 2, 16) and finding.unpaid == 2 * GROSS
    assert [row["number"] for row in finding.invoices] == [january.number, february.number]
    assert finding.resolved_on is None

    pay(february, "250.00")  # 296.31 + 46.31 left: still more than one monthly fee
    assert run_dunning(on=date(2027, 2, 18)).get("findings_resolved", 0) == 0
    finding.refresh_from_db()
    assert finding.unpaid == GROSS + D("46.31")  # the finding shows today's arrears
    pay(january, "200.00")  # 96.31 + 46.31 left: less than one monthly fee
    assert run_dunning(on=date(2027, 2, 18))["findings_resolved"] == 1
    finding.refresh_from_db()
    assert finding.resolved_on == date(2027, 2, 18)
    assert AuditEntry.objects.filter(code="billing.default.found").count() == 1
    assert AuditEntry.objects.filter(code="billing.default.resolved").count() == 1


def test_an_objection_keeps_the_disputed_amount_out_of_the_triggers(contract: Contract):
    fee_invoice(contract, 1)
    february = fee_invoice(contract, 2)
    object_to(february, str(GROSS))
    run_dunning(on=date(2027, 2, 16))
    assert not DefaultFinding.objects.exists()


def test_two_fees_over_three_months_open_trigger_b(contract: Contract):
    fee_invoice(contract, 1)
    pay(fee_invoice(contract, 2), str(GROSS))
    fee_invoice(contract, 3)
    run_dunning(on=date(2027, 3, 16))
    assert list(DefaultFinding.objects.values_list("rule", flat=True)) == [
        DefaultRule.TWO_MONTHLY_FEES
    ]


def test_the_not_insignificant_share_is_a_setting(contract: Contract, settings: SettingsWrapper):
    pay(fee_invoice(contract, 1), "200.00")
    pay(fee_invoice(contract, 2), "200.00")  # 192.62 open in all: less than one monthly fee
    run_dunning(on=date(2027, 2, 16))
    assert not DefaultFinding.objects.exists()
    settings.DEFAULT_NOT_INSIGNIFICANT_SHARE = D("0.5")
    run_dunning(on=date(2027, 2, 17))
    assert DefaultFinding.objects.get().rule == DefaultRule.TWO_CONSECUTIVE_MONTHS


# --- terminating for default ------------------------------------------------------------------


def finding_for(contract: Contract, clock: Clock) -> DefaultFinding:
    fee_invoice(contract, 1)
    fee_invoice(contract, 2)
    fee_invoice(contract, 3)
    clock.set_day(date(2027, 3, 16))
    run_dunning(on=date(2027, 3, 16))
    return DefaultFinding.objects.get(rule=DefaultRule.TWO_CONSECUTIVE_MONTHS)


# Terminated on 16 March 2027: 15 of 31 March days (0.4839 × 249 = 120.49) and April to
# December (9 × 249 = 2,241.00) remain; a quarter of 2,361.49 is 590.37 (rounded down).
REMAINING = D("2361.49")
DAMAGES = D("590.37")


def test_termination_ends_the_contract_claims_the_damages_and_writes_the_letter(
    contract: Contract, clock: Clock
):
    finding = finding_for(contract, clock)
    termination = terminate_for_default(actor=accountant(), finding=finding)

    contract.refresh_from_db()
    assert contract.state == ContractState.ENDING
    assert contract.ends_on == date(2027, 3, 16)
    assert contract.end_reason == EndReason.GOOD_CAUSE
    assert termination.regular_end == date(2027, 12, 31)
    assert termination.remaining_fees == REMAINING
    assert termination.damages == DAMAGES

    claim = termination.claim
    assert claim is not None
    assert claim.billing_key == f"default:{contract.pk}"
    assert claim.net_total == DAMAGES
    assert claim.vat_total == D("112.17") and claim.gross_total == D("702.54")
    assert claim.sent_at is not None  # sent to the customer's contacts

    assert termination.letter is not None
    text = letter_text(termination.letter)
    assert "without notice" in text and contract.number in text and claim.number in text
    assert DefaultTermination.objects.get(contract=contract) == termination

    finding.refresh_from_db()
    assert finding.resolved_on == date(2027, 3, 16)
    assert not DefaultFinding.objects.filter(resolved_on__isnull=True).exists()
    assert AuditEntry.objects.filter(code="billing.default.terminated").count() == 1
    assert AuditEntry.objects.filter(
        code="contracts.cancellation.recorded", target_id=str(contract.pk)
    ).exists()

    # The daily contract run ends it the next day; the dunning run opens nothing again.
    clock.set_day(date(2027, 3, 17))
    assert close_term(contract, on=date(2027, 3, 17)) == "ended"
    run_dunning(on=date(2027, 3, 17))
    assert not DefaultFinding.objects.filter(resolved_on__isnull=True).exists()
    with pytest.raises(DomainError):
        terminate_for_default(actor=accountant(), finding=finding)


def test_without_vat_the_claim_is_made_in_the_letter_alone(
    contract: Contract, clock: Clock, settings: SettingsWrapper
):
    settings.DEFAULT_DAMAGES_VAT = False
    finding = finding_for(contract, clock)
    invoices = Invoice.objects.count()
    termination = terminate_for_default(actor=accountant(), finding=finding)
    assert termination.claim is None and termination.damages == DAMAGES
    assert Invoice.objects.count() == invoices
    assert termination.letter is not None
    assert "without VAT" in letter_text(termination.letter)


def test_only_the_billing_capability_may_terminate(contract: Contract, clock: Clock):
    finding = finding_for(contract, clock)
    for actor in (None, operator_with(Capability.CUSTOMERS), operator_with(Capability.AUDITOR)):
        with pytest.raises(NotAllowed):
            terminate_for_default(actor=actor, finding=finding)
    contract.refresh_from_db()
    assert contract.state == ContractState.ACTIVE
    assert not DefaultTermination.objects.exists()


def test_a_trigger_that_no_longer_holds_cannot_be_acted_on(contract: Contract, clock: Clock):
    finding = finding_for(contract, clock)
    for invoice in Invoice.objects.filter(contract=contract):
        pay(invoice, str(GROSS))
    with pytest.raises(DomainError):
        terminate_for_default(actor=accountant(), finding=finding)
    assert not DefaultTermination.objects.exists()


# --- the pages --------------------------------------------------------------------------------


def body(response: Any) -> str:
    return str(response.content.decode())


def test_the_pages_show_overdue_invoices_findings_and_the_damages_before_terminating(
    world: Any, contract: Contract, clock: Clock
):
    finding = finding_for(contract, clock)
    office = client_for(accountant())
    overview = body(office.get(reverse("backoffice:billing:dunning")))
    assert contract.number in overview
    assert "level 2 on" in overview  # January's reminder (the first run sends the highest)
    page = body(office.get(reverse("backoffice:billing:default_finding", args=[finding.pk])))
    assert "€590.37" in page and "€702.54" in page
    assert reverse("backoffice:contracts:customer_service", args=[contract.customer_id]) in page
    url = reverse("backoffice:billing:terminate_for_default", args=[finding.pk])
    form = body(office.get(url))
    assert "€590.37" in form and 'name="terminate-confirm"' in form
    assert office.post(url, {}).status_code == 400
    assert not DefaultTermination.objects.exists()
    response = office.post(url, {"terminate-confirm": "on"})
    assert response.status_code == 302
    assert DefaultTermination.objects.get().damages == DAMAGES


def test_the_auditor_reads_but_cannot_terminate(world: Any, contract: Contract, clock: Clock):
    finding = finding_for(contract, clock)
    auditor: Client = client_for(operator_with(Capability.AUDITOR, preferred_language="en"))
    page = body(auditor.get(reverse("backoffice:billing:default_finding", args=[finding.pk])))
    assert "Terminate for default" not in page
    url = reverse("backoffice:billing:terminate_for_default", args=[finding.pk])
    assert auditor.post(url, {"terminate-confirm": "on"}).status_code == 403
    assert not DefaultTermination.objects.exists()


# --- who may see what -------------------------------------------------------------------------

# The dunning pages (joined into BILLING_BACKOFFICE_URL_NAMES in tests/billing/test_pages.py).
DUNNING_BACKOFFICE_URL_NAMES = frozenset(
    {
        "backoffice:billing:dunning",
        "backoffice:billing:default_finding",
        "backoffice:billing:terminate_for_default",
    }
)
DUNNING_READ_ONLY = frozenset({"dunning", "default_finding"})


@pytest.mark.parametrize(
    ("who", "reads", "writes"),
    [
        ("anonymous", "login", "login"),
        ("op_billing", 200, 200),
        ("superuser", 200, 200),
        ("op_auditor", 200, 403),
        ("op_customers", 403, 403),
        ("op_support", 403, 403),
        ("op_none", 403, 403),
        ("member", 403, 403),
        ("staff", 403, 403),
        ("org_admin", 403, 403),
        ("other_staff", 403, 403),
        ("customer_contact", 403, 403),
    ],
)
def test_every_dunning_page_answers_each_role_as_its_capability_allows(
    people: dict[str, User], contract: Contract, clock: Clock, who: str, reads: Any, writes: Any
):
    finding = finding_for(contract, clock)
    client = Client() if who == "anonymous" else client_for(people[who])
    for name in DUNNING_BACKOFFICE_URL_NAMES:
        short = name.rsplit(":", 1)[1]
        url = reverse(name, args=[] if short == "dunning" else [finding.pk])
        expected = reads if short in DUNNING_READ_ONLY else writes
        response = client.get(url)
        if expected == "login":
            assert response.status_code == 302, name
            assert response["Location"].startswith(reverse("accounts:login")), name
        else:
            assert response.status_code == expected, (name, who)
        if short in DUNNING_READ_ONLY:
            continue
        response = client.post(url, {})
        if writes == "login":
            assert response.status_code == 302, name
        else:
            assert response.status_code == (400 if writes == 200 else 403), (name, who)
    assert not DefaultTermination.objects.exists()


def test_an_unknown_finding_is_404(world: Any, clock: Clock):
    office = client_for(accountant())
    for name in ("default_finding", "terminate_for_default"):
        assert office.get(reverse(f"backoffice:billing:{name}", args=[999_999])).status_code == 404


def test_the_first_reminder_is_a_zahlungserinnerung_and_later_ones_are_numbered_mahnungen():
    invoice = Invoice(number="RE-2027-00007")
    with translation.override("de"):
        assert reminder_subject(invoice, level=1) == "Zahlungserinnerung: Rechnung RE-2027-00007"
        assert reminder_subject(invoice, level=2) == "1. Mahnung: Rechnung RE-2027-00007"
        assert reminder_subject(invoice, level=3) == "2. Mahnung: Rechnung RE-2027-00007"
