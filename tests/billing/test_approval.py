"""Four eyes for large credit notes: at or below ``CREDIT_NOTE_FOUR_EYES_GROSS`` a credit note is
issued at once; above it a request waits for a second operator, who approves it (the credit note
is issued, numbered GS-…) or refuses it. The requester can never approve their own request, and
an approval is checked again against the invoice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.backoffice.conftest import operator_with, people
from tests.billing.test_objections import RECEIVED, by_letter
from tests.billing.test_objections import lines as objection_lines
from tests.conftest import client_for
from tests.contracts.factories import Clock, customer_with_contact, freeze
from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.billing import services
from treffpunkt.billing.models import (
    ApprovalState,
    CreditNoteRequest,
    Invoice,
    InvoiceKind,
    ObjectionState,
)
from treffpunkt.billing.services import LineDraft
from treffpunkt.billing.services.approval import (
    approve,
    four_eyes_gross,
    refuse,
    request_credit_note,
)
from treffpunkt.billing.services.objections import settle_with_credit_note
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.core.models import AuditEntry

pytestmark = pytest.mark.django_db

__all__ = ["people"]

# The approval pages (joined into BILLING_BACKOFFICE_URL_NAMES in tests/billing/test_pages.py).
APPROVAL_BACKOFFICE_URL_NAMES = frozenset(
    {"backoffice:billing:approvals", "backoffice:billing:approval"}
)
APPROVAL_READ_ONLY = frozenset({"approvals"})

TODAY = date(2027, 3, 1)


def accountant() -> User:
    return operator_with(Capability.BILLING, preferred_language="en")


def line(net: str) -> LineDraft:
    return LineDraft(
        description="Gutschrift",
        quantity=Decimal("1"),
        unit="C62",
        unit_price=Decimal(net),
        supply_start=date(2027, 3, 1),
        supply_end=date(2027, 3, 31),
    )


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return freeze(monkeypatch, TODAY)


@pytest.fixture
def invoice(clock: Clock) -> Invoice:
    customer, _contact = customer_with_contact()
    return services.issue_invoice(actor=accountant(), customer=customer, lines=[line("1000.00")])


def credit_notes() -> int:
    return Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).count()


def codes() -> list[str]:
    return list(AuditEntry.objects.order_by("pk").values_list("code", flat=True))


def test_the_default_threshold_is_500_euros():
    assert four_eyes_gross() == Decimal("500.00")


def test_at_or_below_the_threshold_it_is_issued_at_once(invoice: Invoice):
    # 420.17 net + 19 % = 500.00 gross: exactly the threshold.
    note = request_credit_note(
        actor=accountant(), original=invoice, lines=[line("420.17")], reason="Ausfall"
    )
    assert isinstance(note, Invoice) and note.gross_total == Decimal("500.00")
    assert note.number.startswith("GS-")
    assert not CreditNoteRequest.objects.exists()


def test_above_the_threshold_it_waits_and_nothing_is_issued(invoice: Invoice):
    requested = request_credit_note(
        actor=accountant(), original=invoice, lines=[line("500.00")], reason=" Ausfall "
    )
    assert isinstance(requested, CreditNoteRequest)
    assert requested.state == ApprovalState.PENDING and requested.gross == Decimal("595.00")
    assert requested.reason == "Ausfall" and requested.credit_note is None
    assert requested.lines == [
        {
            "description": "Gutschrift",
            "quantity": "1",
            "unit": "C62",
            "unit_price": "500.00",
            "vat_kind": "standard",
            "supply_start": "2027-03-01",
            "supply_end": "2027-03-31",
        }
    ]
    assert credit_notes() == 0
    assert codes()[-1] == "billing.credit_note.requested"


def test_a_request_is_checked_like_issuing(invoice: Invoice):
    operator = accountant()
    with pytest.raises(DomainError) as too_high:
        request_credit_note(
            actor=operator, original=invoice, lines=[line("1000.01")], reason="Zu viel"
        )
    assert too_high.value.code == "credit_too_high"
    with pytest.raises(DomainError):
        request_credit_note(actor=operator, original=invoice, lines=[line("600")], reason=" ")
    with pytest.raises(DomainError):
        request_credit_note(actor=operator, original=invoice, lines=[], reason="Leer")
    with pytest.raises(NotAllowed):
        request_credit_note(
            actor=operator_with(Capability.AUDITOR),
            original=invoice,
            lines=[line("600")],
            reason="Ausfall",
        )
    assert not CreditNoteRequest.objects.exists() and credit_notes() == 0


def test_the_requester_cannot_approve_their_own(invoice: Invoice):
    operator = accountant()
    requested = request_credit_note(
        actor=operator, original=invoice, lines=[line("600")], reason="Ausfall"
    )
    assert isinstance(requested, CreditNoteRequest)
    with pytest.raises(DomainError) as refused:
        approve(actor=operator, request=requested)
    assert refused.value.code == "four_eyes"
    assert credit_notes() == 0
    requested.refresh_from_db()
    assert requested.state == ApprovalState.PENDING


def test_a_second_operator_approves_and_the_credit_note_is_issued(invoice: Invoice):
    requester, approver = accountant(), accountant()
    requested = request_credit_note(
        actor=requester, original=invoice, lines=[line("600")], reason="Ausfall"
    )
    assert isinstance(requested, CreditNoteRequest)
    approved = approve(actor=approver, request=requested)
    note = approved.credit_note
    assert approved.state == ApprovalState.APPROVED and approved.decided_by == approver
    assert note is not None and note.number.startswith("GS-")
    assert note.original == invoice and note.gross_total == Decimal("714.00")
    assert note.issued_by == approver and "Ausfall" in note.note
    assert "billing.credit_note.issued" in codes()
    assert codes()[-1] == "billing.credit_note.approved"
    with pytest.raises(DomainError) as again:
        approve(actor=accountant(), request=requested)
    assert again.value.code == "state" and credit_notes() == 1


def test_a_second_operator_refuses_and_nothing_is_issued(invoice: Invoice):
    requested = request_credit_note(
        actor=accountant(), original=invoice, lines=[line("600")], reason="Ausfall"
    )
    assert isinstance(requested, CreditNoteRequest)
    approver = accountant()
    with pytest.raises(DomainError) as no_note:
        refuse(actor=approver, request=requested, note=" ")
    assert no_note.value.code == "note"
    refused = refuse(actor=approver, request=requested, note="Kein Ausfall belegt")
    assert refused.state == ApprovalState.REFUSED and refused.decision_note == "Kein Ausfall belegt"
    assert refused.decided_by == approver and refused.credit_note is None
    assert credit_notes() == 0 and codes()[-1] == "billing.credit_note.refused"
    with pytest.raises(DomainError):
        approve(actor=accountant(), request=requested)


def test_the_requester_may_withdraw_by_refusing(invoice: Invoice):
    operator = accountant()
    requested = request_credit_note(
        actor=operator, original=invoice, lines=[line("600")], reason="Ausfall"
    )
    assert isinstance(requested, CreditNoteRequest)
    assert refuse(actor=operator, request=requested, note="Vertippt").state == "refused"


def test_an_approval_that_no_longer_fits_the_invoice_is_refused(invoice: Invoice):
    requested = request_credit_note(
        actor=accountant(), original=invoice, lines=[line("600")], reason="Ausfall"
    )
    assert isinstance(requested, CreditNoteRequest)
    # Meanwhile another credit note: 1190.00 - 595.00 leaves 595.00, less than 714.00.
    services.issue_credit_note(
        actor=accountant(), original=invoice, lines=[line("500")], reason="Anderes"
    )
    with pytest.raises(DomainError) as refused:
        approve(actor=accountant(), request=requested)
    assert refused.value.code == "credit_too_high"
    assert credit_notes() == 1
    requested.refresh_from_db()
    assert requested.state == ApprovalState.PENDING and requested.credit_note is None


# --- objections ---------------------------------------------------------------------------------


@pytest.fixture
def objection_invoice(clock: Clock) -> Invoice:
    """As in tests/billing/test_objections.py: sent and received on 6 March 2027."""
    customer, _contact = customer_with_contact()
    issued = services.issue_invoice(actor=accountant(), customer=customer, lines=objection_lines())
    clock.set_day(RECEIVED)
    return services.send_invoice(actor=accountant(), invoice=issued)


def test_a_large_objection_credit_waits_and_the_objection_stays_open_until_approved(
    objection_invoice: Invoice, clock: Clock, settings: Any
):
    settings.CREDIT_NOTE_FOUR_EYES_GROSS = Decimal("5.00")
    clock.set_day(date(2027, 4, 1))
    objection = by_letter(objection_invoice, date(2027, 4, 1))
    requester = accountant()
    pending = settle_with_credit_note(
        actor=requester, objection=objection, amount=Decimal("10.00"), reason="Kulanz"
    )
    assert pending.state == ObjectionState.OPEN and pending.credit_note is None
    requested = CreditNoteRequest.objects.get(objection=objection)
    assert requested.gross == Decimal("11.90") and credit_notes() == 0
    with pytest.raises(DomainError) as twice:
        settle_with_credit_note(
            actor=accountant(), objection=objection, amount=Decimal("10.00"), reason="Nochmal"
        )
    assert twice.value.code == "pending"
    approve(actor=accountant(), request=requested)
    objection.refresh_from_db()
    assert objection.state == ObjectionState.CREDITED and objection.credit_note is not None
    assert objection.credit_note.sent_at is not None


# --- the pages ----------------------------------------------------------------------------------


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
def test_every_approval_page_answers_each_role_as_its_capability_allows(
    people: dict[str, User], invoice: Invoice, who: str, reads: Any, writes: Any
):
    requested = request_credit_note(
        actor=accountant(), original=invoice, lines=[line("600")], reason="Ausfall"
    )
    assert isinstance(requested, CreditNoteRequest)
    before = (credit_notes(), AuditEntry.objects.count())
    client = Client() if who == "anonymous" else client_for(people[who])
    for name in APPROVAL_BACKOFFICE_URL_NAMES:
        short = name.rsplit(":", 1)[1]
        url = reverse(name, args=[] if short == "approvals" else [requested.pk])
        expected = reads if short in APPROVAL_READ_ONLY else writes
        response = client.get(url)
        if expected == "login":
            assert response.status_code == 302, name
            assert response["Location"].startswith(reverse("accounts:login")), name
        else:
            assert response.status_code == expected, (name, who)
        if short in APPROVAL_READ_ONLY:
            continue
        response = client.post(url, {})
        if writes == "login":
            assert response.status_code == 302, name
        else:
            assert response.status_code == (400 if writes == 200 else 403), (name, who)
    assert (credit_notes(), AuditEntry.objects.count()) == before
    requested.refresh_from_db()
    assert requested.state == ApprovalState.PENDING


def test_the_credit_note_form_asks_for_approval_above_the_threshold_and_a_second_operator_approves(
    invoice: Invoice,
):
    requester = client_for(accountant())
    response = requester.post(
        reverse("backoffice:billing:credit_note", args=[invoice.pk]),
        {
            "credit-description": "Ausfall im März",
            "credit-quantity": "1",
            "credit-unit": "C62",
            "credit-unit_price": "600.00",
            "credit-vat_kind": "standard",
            "credit-reason": "Dienst nicht erreichbar",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:billing:invoice", args=[invoice.pk])
    assert credit_notes() == 0
    requested = CreditNoteRequest.objects.get()
    page = requester.get(response["Location"]).content.decode()
    assert "waits for a second operator" in page
    listing = requester.get(reverse("backoffice:billing:approvals")).content.decode()
    assert invoice.number in listing and "€714.00" in listing
    url = reverse("backoffice:billing:approval", args=[requested.pk])
    own = requester.post(url, {"decide-decision": "approve"})
    assert own.status_code == 400 and "second operator" in own.content.decode()
    assert credit_notes() == 0
    second = client_for(accountant())
    refused = second.post(url, {"decide-decision": "refuse", "decide-note": ""})
    assert refused.status_code == 400 and 'id="id_decide-note_error"' in refused.content.decode()
    approved = second.post(url, {"decide-decision": "approve"})
    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert approved.status_code == 302
    assert approved["Location"] == reverse("backoffice:billing:invoice", args=[note.pk])
    assert note.number.startswith("GS-") and note.gross_total == Decimal("714.00")
    assert (
        "No credit note awaits approval."
        in second.get(reverse("backoffice:billing:approvals")).content.decode()
    )
    assert second.get(url).status_code == 200


def test_an_unknown_request_is_404(invoice: Invoice):
    client = client_for(accountant())
    assert client.get(reverse("backoffice:billing:approval", args=[999_999])).status_code == 404
