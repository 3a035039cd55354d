"""Objections to invoice items and the itemized record (P-BILL-3; § 8 (VII), § 9 of the terms).

The dates: an invoice received on Saturday 6 March 2027; eight weeks later is Saturday 1 May
(Labour Day), then a Sunday, so the objection period ends on Monday 3 May (§ 193 BGB). An
objection received that Monday is on time, one received on Tuesday 4 May late. The itemized
record for an objection of 3 May is due on Monday 28 June (eight weeks after the objection)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.backoffice.conftest import operator_with, people
from tests.backoffice.pages import table_rows
from tests.calls.conftest import confirmed_call
from tests.conftest import client_for
from tests.contracts.factories import (
    BERLIN,
    Clock,
    customer_with_contact,
    freeze,
    letter_text,
    linked_organization,
)
from tests.factories import MemberFactory, StaffFactory
from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.billing import services
from treffpunkt.billing.models import Invoice, InvoiceKind, Objection, ObjectionState
from treffpunkt.billing.services import LineDraft
from treffpunkt.billing.services import objections as objections_service
from treffpunkt.billing.services.objections import (
    default_claims_lapsed,
    deliver_itemized_record,
    demand_itemized_record,
    disputed_due_on,
    disputed_open,
    object_in_customer_area,
    objection_deadline,
    pseudonym,
    record_lapsed,
    record_objection,
    reject_objection,
    settle_with_credit_note,
)
from treffpunkt.calls.models import CallSession
from treffpunkt.contracts.selectors import deadlines_ahead
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.core.models import AuditEntry
from treffpunkt.customers.models import Customer

pytestmark = pytest.mark.django_db

__all__ = ["people"]

# The URL names of the objection pages (in the tables of tests/billing/test_pages.py).
OBJECTION_BACKOFFICE_URL_NAMES = frozenset(
    {
        "backoffice:billing:objections",
        "backoffice:billing:record_objection",
        "backoffice:billing:objection",
        "backoffice:billing:demand_record",
        "backoffice:billing:deliver_record",
        "backoffice:billing:settle_objection",
        "backoffice:billing:reject_objection",
        "backoffice:billing:objection_document",
    }
)
OBJECTION_CUSTOMER_URL_NAMES = frozenset(
    {
        "customer_area:billing:objections",
        "customer_area:billing:object",
        "customer_area:billing:objection",
        "customer_area:billing:demand_record",
        "customer_area:billing:objection_document",
    }
)

ISSUED = date(2027, 3, 1)
RECEIVED = date(2027, 3, 6)  # a Saturday
LAST_DAY = date(2027, 5, 3)  # 1 May is a Saturday and a holiday, 2 May a Sunday
RECORD_DUE = date(2027, 6, 28)  # eight weeks after an objection of 3 May


def accountant() -> User:
    return operator_with(Capability.BILLING, preferred_language="en")


def lines() -> list[LineDraft]:
    return [
        LineDraft(
            description="Videoberatung, Monatsentgelt",
            quantity=Decimal("1"),
            unit="MON",
            unit_price=Decimal("249.00"),
            supply_start=date(2027, 3, 1),
            supply_end=date(2027, 3, 31),
        ),
        LineDraft(
            description="Minuten über die enthaltenen hinaus, 02/2027",
            quantity=Decimal("100"),
            unit="MIN",
            unit_price=Decimal("0.10"),
            supply_start=date(2027, 2, 1),
            supply_end=date(2027, 2, 28),
        ),
    ]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return freeze(monkeypatch, ISSUED)


@pytest.fixture
def customer_and_contact(clock: Clock) -> tuple[Customer, User]:
    return customer_with_contact()


@pytest.fixture
def invoice(clock: Clock, customer_and_contact: tuple[Customer, User]) -> Invoice:
    """Issued on 1 March, sent and received on Saturday 6 March 2027."""
    customer, _contact = customer_and_contact
    issued = services.issue_invoice(actor=accountant(), customer=customer, lines=lines())
    clock.set_day(RECEIVED)
    sent = services.send_invoice(actor=accountant(), invoice=issued)
    assert sent.received_on == RECEIVED
    return sent


def by_letter(invoice: Invoice, received_on: date, positions: list[int] | None = None) -> Objection:
    return record_objection(
        actor=accountant(),
        invoice=invoice,
        received_on=received_on,
        channel="letter",
        sender="Erika Einwand",
        positions=positions or [2],
        text="Die Minuten stimmen nicht.",
    )


# --- the objection period -----------------------------------------------------------------------


def test_the_objection_period_ends_on_the_working_day_after_a_weekend_and_holiday(
    invoice: Invoice, clock: Clock
):
    assert objection_deadline(invoice) == LAST_DAY
    clock.set_day(date(2027, 5, 10))
    on_time = by_letter(invoice, LAST_DAY)
    late = by_letter(invoice, LAST_DAY + timedelta(days=1), positions=[1])
    assert on_time.on_time is True
    assert late.on_time is False and late.state == ObjectionState.OPEN
    # 100 minutes at 0.10 plus 19 % VAT; the late one disputes nothing (it counts as approval).
    assert on_time.disputed_amount == Decimal("11.90")
    assert disputed_open(invoice) == Decimal("11.90")
    assert AuditEntry.objects.filter(code="billing.objection.recorded").count() == 2


def test_a_weekday_deadline_is_not_moved(clock: Clock, customer_and_contact: Any):
    customer, _contact = customer_and_contact
    issued = services.issue_invoice(actor=accountant(), customer=customer, lines=lines())
    clock.set_day(date(2027, 3, 4))  # a Thursday
    sent = services.send_invoice(actor=accountant(), invoice=issued)
    assert objection_deadline(sent) == date(2027, 4, 29)
    clock.set_day(date(2027, 4, 30))
    assert by_letter(sent, date(2027, 4, 30)).on_time is False


def test_the_contact_objects_today_and_demands_the_record_due_eight_weeks_after(
    invoice: Invoice, clock: Clock, customer_and_contact: Any
):
    _customer, contact = customer_and_contact
    clock.set_day(LAST_DAY)
    objection = object_in_customer_area(
        actor=contact, invoice=invoice, positions=[2], text="Zu viele Minuten."
    )
    assert objection.received_on == LAST_DAY and objection.on_time
    assert objection.channel == "customer_area"
    clock.set_day(LAST_DAY)
    demanded = demand_itemized_record(actor=contact, objection=objection)
    assert demanded.record_demanded_on == LAST_DAY
    assert demanded.record_due_on == RECORD_DUE
    with pytest.raises(DomainError):
        demand_itemized_record(actor=contact, objection=demanded)


def test_the_record_cannot_be_demanded_after_the_objection_period(invoice: Invoice, clock: Clock):
    clock.set_day(LAST_DAY + timedelta(days=1))
    late = by_letter(invoice, LAST_DAY + timedelta(days=1))
    with pytest.raises(DomainError):
        demand_itemized_record(actor=accountant(), objection=late)
    clock.set_day(date(2027, 5, 20))
    on_time = by_letter(invoice, date(2027, 4, 1))
    # The demand arrives (by letter) on 4 May: after the period.
    with pytest.raises(DomainError):
        demand_itemized_record(
            actor=accountant(), objection=on_time, demanded_on=LAST_DAY + timedelta(days=1)
        )
    # Demanded on 3 May, the record is still due eight weeks after the objection of 1 April.
    demanded = demand_itemized_record(actor=accountant(), objection=on_time, demanded_on=LAST_DAY)
    assert demanded.record_due_on == date(2027, 5, 27)


# --- the itemized record and the lapse of default claims ----------------------------------------


def _demanded(invoice: Invoice, clock: Clock) -> Objection:
    clock.set_day(LAST_DAY)
    objection = by_letter(invoice, LAST_DAY)
    return demand_itemized_record(actor=accountant(), objection=objection)


def test_delivered_on_the_due_day_the_claims_stand(invoice: Invoice, clock: Clock):
    objection = _demanded(invoice, clock)
    clock.set_day(RECORD_DUE)
    delivered = deliver_itemized_record(actor=accountant(), objection=objection)
    assert delivered.record_delivered_on == RECORD_DUE and delivered.record is not None
    assert not record_lapsed(delivered, date(2027, 12, 31))
    assert not default_claims_lapsed(invoice, date(2027, 12, 31))
    assert disputed_due_on(delivered, date(2027, 12, 31)) is None


def test_delivered_a_day_late_the_default_claims_lapse(invoice: Invoice, clock: Clock):
    objection = _demanded(invoice, clock)
    assert not default_claims_lapsed(invoice, RECORD_DUE)
    # Not delivered yet: lapsed from the day after the due day.
    assert default_claims_lapsed(invoice, RECORD_DUE + timedelta(days=1))
    assert disputed_due_on(objection, RECORD_DUE + timedelta(days=1)) is None
    clock.set_day(RECORD_DUE + timedelta(days=1))
    delivered = deliver_itemized_record(actor=accountant(), objection=objection)
    assert record_lapsed(delivered, RECORD_DUE + timedelta(days=1))
    assert default_claims_lapsed(invoice, RECORD_DUE + timedelta(days=1))
    # The disputed amount falls due with the delivery.
    assert disputed_due_on(delivered, RECORD_DUE + timedelta(days=5)) == RECORD_DUE + timedelta(
        days=1
    )
    # Still open: still not dunned.
    assert disputed_open(invoice) == Decimal("11.90")


def test_the_record_lists_each_call_with_pseudonyms_never_names(
    world: Any, invoice: Invoice, clock: Clock
):
    organization = linked_organization(invoice.customer)
    member = MemberFactory(organization=organization, display_name="Mira Geheim")
    staff = StaffFactory(organization=organization, display_name="Bodo Berater")
    appointment = confirmed_call(member=member, staff=staff)
    started = datetime(2027, 2, 10, 14, 5, tzinfo=BERLIN)
    CallSession.objects.create(
        appointment=appointment,
        started_at=started,
        ended_at=started + timedelta(minutes=12, seconds=30),
    )
    # Outside the billed month: not listed.
    CallSession.objects.create(
        appointment=appointment,
        started_at=datetime(2027, 3, 2, 9, 0, tzinfo=BERLIN),
        ended_at=datetime(2027, 3, 2, 9, 10, tzinfo=BERLIN),
    )
    objection = _demanded(invoice, clock)
    delivered = deliver_itemized_record(
        actor=accountant(), objection=objection, technical_check="Keine Störung gefunden."
    )
    assert delivered.record is not None
    text = letter_text(delivered.record)
    assert "14:05" in text and "0:12:30" in text and "13" in text
    assert pseudonym(member.pk) in text and pseudonym(staff.pk) in text
    assert "09:00" not in text
    for secret in ("Mira", "Geheim", "Bodo", member.email, staff.email):
        assert secret not in text
    assert "Keine Störung gefunden." in text


# --- the end of an objection --------------------------------------------------------------------


def test_a_credit_note_ends_the_objection(invoice: Invoice, clock: Clock):
    clock.set_day(date(2027, 4, 1))
    objection = by_letter(invoice, date(2027, 4, 1))
    with pytest.raises(DomainError):
        settle_with_credit_note(
            actor=accountant(), objection=objection, amount=Decimal("10.01"), reason="Kulanz"
        )
    settled = settle_with_credit_note(
        actor=accountant(), objection=objection, amount=Decimal("10.00"), reason="Kulanz"
    )
    assert settled.state == ObjectionState.CREDITED and settled.closed_on == date(2027, 4, 1)
    note = settled.credit_note
    assert note is not None and note.kind == InvoiceKind.CREDIT_NOTE
    assert note.original_id == invoice.pk and note.gross_total == Decimal("11.90")
    assert note.sent_at is not None
    assert disputed_open(invoice) == Decimal("0.00")
    with pytest.raises(DomainError):
        reject_objection(actor=accountant(), objection=settled, reason="Doch nicht")


def test_a_written_rejection_ends_it_after_a_demanded_record(invoice: Invoice, clock: Clock):
    objection = _demanded(invoice, clock)
    with pytest.raises(DomainError):
        reject_objection(actor=accountant(), objection=objection, reason="Alles korrekt")
    deliver_itemized_record(actor=accountant(), objection=objection)
    rejected = reject_objection(actor=accountant(), objection=objection, reason="Alles korrekt")
    assert rejected.state == ObjectionState.REJECTED and rejected.answer is not None
    assert "Alles korrekt" in letter_text(rejected.answer)
    assert disputed_open(invoice) == Decimal("0.00")


# --- who may object -----------------------------------------------------------------------------


def test_another_customers_contact_cannot_object(invoice: Invoice, clock: Clock):
    _other, stranger = customer_with_contact()
    with pytest.raises(NotAllowed):
        object_in_customer_area(actor=stranger, invoice=invoice, positions=[1], text="Nein")
    with pytest.raises(NotAllowed):
        record_objection(
            actor=stranger,
            invoice=invoice,
            received_on=RECEIVED,
            channel="letter",
            sender="x",
            positions=[1],
            text="x",
        )
    client = client_for(stranger)
    url = reverse("customer_area:billing:object", args=[invoice.pk])
    assert client.get(url).status_code == 404
    response = client.post(url, {"objection-positions": ["1"], "objection-text": "Nein"})
    assert response.status_code == 404
    assert not Objection.objects.exists()


def test_a_contact_objects_and_demands_in_the_customer_area(
    invoice: Invoice, clock: Clock, customer_and_contact: Any
):
    _customer, contact = customer_and_contact
    clock.set_day(date(2027, 4, 1))
    client = client_for(contact)
    url = reverse("customer_area:billing:object", args=[invoice.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="objection-positions"' in page.content.decode()
    assert client.post(url, {"objection-text": "Nein"}).status_code == 400
    response = client.post(url, {"objection-positions": ["2"], "objection-text": "Zu viel"})
    objection = Objection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("customer_area:billing:objection", args=[objection.pk])
    assert objection.positions == [2] and objection.record_demanded_on is None
    demand = reverse("customer_area:billing:demand_record", args=[objection.pk])
    assert client.post(demand).status_code == 302
    objection.refresh_from_db()
    assert objection.record_due_on == date(2027, 5, 27)
    assert client.post(demand).status_code == 400


def test_the_operator_sees_the_clock_overdue_first_and_on_the_dashboard(
    invoice: Invoice, clock: Clock
):
    late_clock = _demanded(invoice, clock)
    clock.set_day(LAST_DAY)
    plain = by_letter(invoice, LAST_DAY - timedelta(days=10), positions=[1])
    earlier = by_letter(invoice, LAST_DAY - timedelta(days=20), positions=[1])
    demand_itemized_record(actor=accountant(), objection=earlier, demanded_on=LAST_DAY)
    clock.set_day(RECORD_DUE - timedelta(days=2))
    office = client_for(accountant())
    rows = table_rows(office.get(reverse("backoffice:billing:objections")))
    # The earlier objection's record was due on 8 June (eight weeks after 13 April, however
    # late it was demanded): 18 days overdue, shown first.
    assert [r[6] for r in rows[:2]] == ["18 overdue", "2"]
    assert rows[2][5] == "–"  # no demanded record
    assert {late_clock.pk, plain.pk, earlier.pk} == set(
        Objection.objects.values_list("pk", flat=True)
    )
    found = deadlines_ahead(on=RECORD_DUE - timedelta(days=2), days=30)
    what = [str(row.what) for row in found.rows]
    assert what.count("Deliver the itemized record (eight weeks from the objection)") == 2
    assert "Answer the objection (credit note or written rejection)" in what
    page = office.get(reverse("backoffice:billing:objection", args=[late_clock.pk])).content
    assert "due on" in page.decode() and "2 days left" in page.decode()


# --- who may see what ---------------------------------------------------------------------------


def _objection_with_record(invoice: Invoice, clock: Clock) -> Objection:
    objection = _demanded(invoice, clock)
    return deliver_itemized_record(actor=accountant(), objection=objection)


BACKOFFICE_READ_ONLY = frozenset({"objections", "objection", "objection_document"})


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
def test_every_objection_page_answers_each_role_as_its_capability_allows(
    people: dict[str, User], invoice: Invoice, clock: Clock, who: str, reads: Any, writes: Any
):
    objection = _objection_with_record(invoice, clock)
    before = (Objection.objects.count(), Invoice.objects.count(), AuditEntry.objects.count())
    client = Client() if who == "anonymous" else client_for(people[who])
    for name in OBJECTION_BACKOFFICE_URL_NAMES:
        short = name.rsplit(":", 1)[1]
        if short in ("objections", "record_objection"):
            args: list[Any] = []
        elif short == "objection_document":
            args = [objection.pk, "record"]
        else:
            args = [objection.pk]
        url = reverse(name, args=args)
        expected = reads if short in BACKOFFICE_READ_ONLY else writes
        response = client.get(url)
        if expected == "login":
            assert response.status_code == 302, name
            assert response["Location"].startswith(reverse("accounts:login")), name
            continue
        assert response.status_code == expected, (name, who)
        if short in BACKOFFICE_READ_ONLY:
            continue
        response = client.post(url, {})
        assert response.status_code == (400 if writes == 200 else 403), (name, who)
    assert (Objection.objects.count(), Invoice.objects.count(), AuditEntry.objects.count()) == (
        before
    )


@pytest.mark.parametrize(
    ("who", "list_status", "own_status"),
    [
        ("anonymous", "login", "login"),
        ("own_contact", 200, 200),
        ("other_contact", 200, 404),
        ("customer_contact", 404, 404),  # a contact's login without a customer
        ("member", 403, 403),
        ("staff", 403, 403),
        ("org_admin", 403, 403),
        ("op_billing", 403, 403),
        ("superuser", 403, 403),
    ],
)
def test_the_customer_area_shows_a_contact_only_their_own_objections(
    people: dict[str, User],
    invoice: Invoice,
    clock: Clock,
    customer_and_contact: Any,
    who: str,
    list_status: Any,
    own_status: Any,
):
    objection = _objection_with_record(invoice, clock)
    _other, other_contact = customer_with_contact()
    users = {**people, "own_contact": customer_and_contact[1], "other_contact": other_contact}
    client = Client() if who == "anonymous" else client_for(users[who])
    gets = {
        "customer_area:billing:objections": (
            reverse("customer_area:billing:objections"),
            list_status,
        ),
        "customer_area:billing:object": (
            reverse("customer_area:billing:object", args=[invoice.pk]),
            own_status,
        ),
        "customer_area:billing:objection": (
            reverse("customer_area:billing:objection", args=[objection.pk]),
            own_status,
        ),
        "customer_area:billing:objection_document": (
            reverse("customer_area:billing:objection_document", args=[objection.pk, "record"]),
            own_status,
        ),
    }
    posts = {
        "customer_area:billing:demand_record": (
            reverse("customer_area:billing:demand_record", args=[objection.pk]),
            400 if own_status == 200 else own_status,  # already demanded: refused
        )
    }
    assert set(gets) | set(posts) == OBJECTION_CUSTOMER_URL_NAMES
    for name, (url, expected) in [*gets.items(), *posts.items()]:
        response = client.post(url) if name in posts else client.get(url)
        if expected == "login":
            assert response.status_code == 302, name
            assert response["Location"].startswith(reverse("accounts:login")), name
        else:
            assert response.status_code == expected, (name, who)
    if who == "own_contact":
        page = client.get(reverse("customer_area:billing:objection", args=[objection.pk]))
        assert "delivered on" in page.content.decode()


def test_an_unknown_objection_or_document_is_404(invoice: Invoice, clock: Clock):
    office = client_for(accountant())
    assert office.get(reverse("backoffice:billing:objection", args=[999_999])).status_code == 404
    objection = by_letter(invoice, RECEIVED)
    url = reverse("backoffice:billing:objection_document", args=[objection.pk, "record"])
    assert office.get(url).status_code == 404
    assert objections_service.records_due().count() == 0
