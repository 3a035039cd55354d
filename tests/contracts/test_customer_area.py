"""The contracts' pages in the customer area: a contact sees their own customer's contracts with
the next notice deadline in plain words, cancels (told the effective day before and after),
consents to a telephony renewal, orders (a double submission records one order) and downloads
their documents; another customer's contract or document does not exist for them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import formats, translation

from tests.backoffice.conftest import people
from tests.conftest import World, client_for
from tests.customers.conftest import contact_of, make_customer, writer
from treffpunkt.accounts.models import User
from treffpunkt.contracts import services
from treffpunkt.contracts.models import (
    Cancellation,
    Contract,
    ContractState,
    CustomerDocument,
    Order,
    Product,
    ProductKind,
)
from treffpunkt.core import clock
from treffpunkt.customers.models import Customer

pytestmark = pytest.mark.django_db

__all__ = ["people"]  # the back office's fixture: everyone with every role

# The URL names these tests cover (for the project's access table).
CUSTOMER_CONTRACT_URL_NAMES = frozenset(
    {
        "customer_area:contracts:list",
        "customer_area:contracts:contract",
        "customer_area:contracts:cancel",
        "customer_area:contracts:consent",
        "customer_area:contracts:order",
        "customer_area:contracts:documents",
        "customer_area:contracts:document",
    }
)

BERLIN = ZoneInfo("Europe/Berlin")
LIST = reverse("customer_area:contracts:list")
ORDER = reverse("customer_area:contracts:order")
DOCUMENTS = reverse("customer_area:contracts:documents")


def set_today(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    moment = datetime(day.year, day.month, day.day, 10, 0, tzinfo=BERLIN)
    monkeypatch.setattr(clock, "now", lambda: moment)


def long(day: date) -> str:
    with translation.override("en"):
        return str(formats.date_format(day, "DATE_FORMAT"))


def product(kind: str = ProductKind.VIDEO, code: str = "video-basis", **price: Any) -> Product:
    terms = (
        services.PriceTerms(unit_price="199.00")
        if kind == ProductKind.HARDWARE
        else services.PriceTerms(monthly_fee=price.get("monthly_fee", "49.90"))
    )
    return services.add_product(
        actor=writer(),
        code=code,
        kind=kind,
        name=f"Produkt {code}",
        price=terms,
        valid_from=date(2027, 1, 1),
    )


def contract_for(customer: Customer, item: Product, *, start: date = date(2027, 4, 1)) -> Contract:
    operator = writer()
    order = services.place_order(
        actor=operator,
        customer=customer,
        items=[services.OrderItem(product=item)],
        submission_key=uuid.uuid4(),
    )
    services.accept_order(actor=operator, order=order, start=start)
    contract = Contract.objects.get(order=order)
    services.switch_on(contract=contract, invoice_number=f"RE-{contract.pk}")
    contract.refresh_from_db()
    return contract


@pytest.fixture
def today_(monkeypatch: pytest.MonkeyPatch) -> date:
    day = date(2027, 3, 1)
    set_today(monkeypatch, day)
    return day


@pytest.fixture
def customer(world: World, today_: date) -> Customer:
    return make_customer(legal_name="Eigene Kasse GmbH")


@pytest.fixture
def contact(customer: Customer) -> User:
    return contact_of(customer, display_name="Carla Kontakt", preferred_language="en")


@pytest.fixture
def client(contact: User) -> Client:
    return client_for(contact)


def detail_url(contract: Contract) -> str:
    return reverse("customer_area:contracts:contract", args=[contract.pk])


def cancel_url(contract: Contract) -> str:
    return reverse("customer_area:contracts:cancel", args=[contract.pk])


def consent_url(contract: Contract) -> str:
    return reverse("customer_area:contracts:consent", args=[contract.pk])


# --- the list and the detail -------------------------------------------------------------------


def test_the_list_tells_the_next_notice_deadline_in_plain_words(client: Client, customer: Customer):
    video = contract_for(customer, product())
    phone = contract_for(customer, product(ProductKind.TELEPHONY, "telefon"))
    body = client.get(LIST).content.decode()
    assert video.number in body and phone.number in body
    assert video.notice_deadline is not None
    assert (
        f"Cancel by {long(video.notice_deadline)} to end it on {long(video.term_end)}; "
        f"otherwise it renews until {long(date(2029, 3, 31))}." in body
    )
    assert f"Ends on {long(phone.term_end)} unless you consent to a renewal." in body
    assert "Not given yet." in body


def test_active_blocks_are_shown_as_a_notice(client: Client, customer: Customer):
    contract_for(customer, product())
    services.block_service(
        actor=writer(),
        customer=customer,
        scope="calls",
        reason="default",
        explanation="Rechnung RE-1 ist offen.",
    )
    body = client.get(LIST).content.decode()
    assert "Your service is blocked" in body
    assert "Rechnung RE-1 ist offen." in body


def test_the_detail_shows_facts_timeline_with_documents_and_the_effective_day(
    client: Client, customer: Customer
):
    contract = contract_for(customer, product())
    body = client.get(detail_url(contract)).content.decode()
    assert contract.number in body
    letter = CustomerDocument.objects.get(order=contract.order).document
    assert reverse("customer_area:contracts:document", args=[letter.reference]) in body
    assert f"If you cancel today, the contract ends on {long(contract.term_end)}." in body
    assert 'name="cancel-confirm"' in body
    assert consent_url(contract) not in body  # video: no consent


def test_cancelling_needs_the_confirmation_and_then_takes_effect(
    client: Client, customer: Customer
):
    contract = contract_for(customer, product())
    refused = client.post(cancel_url(contract), {"cancel-reason": "zu teuer"})
    assert refused.status_code == 400
    assert "Please confirm that you want to cancel the contract." in refused.content.decode()
    assert not Cancellation.objects.exists()

    response = client.post(cancel_url(contract), {"cancel-reason": "", "cancel-confirm": "on"})
    assert response.status_code == 302
    assert response["Location"] == detail_url(contract)
    cancellation = Cancellation.objects.get()
    assert cancellation.effective_on == contract.term_end and not cancellation.late
    assert cancellation.confirmation is not None
    page = client.get(response["Location"]).content.decode()
    assert f"The contract ends on {long(contract.term_end)}." in page
    assert "confirmation letter" in page
    assert 'name="cancel-confirm"' not in page  # ending: nothing more to cancel
    # A second cancellation changes nothing and is refused with the service's words.
    again = client.post(cancel_url(contract), {"cancel-confirm": "on"})
    assert again.status_code == 404 or again.status_code == 400
    assert Cancellation.objects.count() == 1


def test_a_late_cancellation_says_it_takes_effect_after_the_following_term(
    client: Client, customer: Customer, monkeypatch: pytest.MonkeyPatch
):
    contract = contract_for(customer, product())
    set_today(monkeypatch, date(2028, 1, 15))  # after the notice deadline of 31 Dec 2027
    body = client.get(detail_url(contract)).content.decode()
    following_end = date(2029, 3, 31)
    assert "takes effect at the end of the following term" in body
    assert long(following_end) in body
    response = client.post(cancel_url(contract), {"cancel-confirm": "on"}, follow=True)
    page = response.content.decode()
    assert Cancellation.objects.get().effective_on == following_end
    assert f"The contract ends on {long(following_end)}." in page
    assert "it takes effect at the end of the following term" in page


def test_a_telephony_contract_takes_the_consent_once(client: Client, customer: Customer):
    contract = contract_for(customer, product(ProductKind.TELEPHONY, "telefon"))
    body = client.get(detail_url(contract)).content.decode()
    assert consent_url(contract) in body
    response = client.post(consent_url(contract), follow=True)
    contract.refresh_from_db()
    assert contract.consent_given_on == date(2027, 3, 1)
    page = response.content.decode()
    assert "your consent was recorded" in page
    assert consent_url(contract) not in page
    again = client.post(consent_url(contract))
    assert again.status_code == 400
    assert "already given" in again.content.decode()


# --- ordering ----------------------------------------------------------------------------------


def _order_data(page: Client, item: Product, **changes: str) -> dict[str, str]:
    form = page.get(ORDER).context["form"]
    data = {
        "order-submission_key": str(form.initial["submission_key"]),
        f"order-quantity_{item.pk}": "2",
        "order-requested_start": "",
        "order-note": "Bitte schnell",
    }
    data.update(changes)
    return data


def test_an_order_is_placed_once_even_when_sent_twice(client: Client, customer: Customer):
    item = product()
    page = client.get(ORDER)
    body = page.content.decode()
    assert "49,90" in body or "49.90" in body
    data = _order_data(client, item)
    response = client.post(ORDER, data)
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.customer == customer and order.lines.get().quantity == 2
    shown = client.get(response["Location"]).content.decode()
    assert order.number in shown
    assert f"We accept or decline it by {long(order.accept_by)}" in shown
    # The same form again: the service's "already received", nothing written.
    twice = client.post(ORDER, data)
    assert twice.status_code == 400
    assert "already been received" in twice.content.decode()
    assert Order.objects.count() == 1


def test_an_order_without_products_is_refused(client: Client, customer: Customer):
    item = product()
    response = client.post(ORDER, _order_data(client, item, **{f"order-quantity_{item.pk}": "0"}))
    assert response.status_code == 400
    assert "An order needs at least one product." in response.content.decode()
    assert not Order.objects.exists()


def test_each_render_gets_a_new_submission_key(client: Client, customer: Customer):
    product()
    first = client.get(ORDER).context["form"].initial["submission_key"]
    second = client.get(ORDER).context["form"].initial["submission_key"]
    assert first != second


# --- documents and isolation -------------------------------------------------------------------


def test_documents_are_listed_and_downloaded(client: Client, customer: Customer):
    contract = contract_for(customer, product())
    letter = CustomerDocument.objects.get(order=contract.order).document
    body = client.get(DOCUMENTS).content.decode()
    assert letter.title in body
    response = client.get(reverse("customer_area:contracts:document", args=[letter.reference]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.startswith(b"%PDF")


def test_another_customers_contract_and_document_do_not_exist(client: Client, customer: Customer):
    other = make_customer(legal_name="Fremde Firma GmbH")
    theirs = contract_for(other, product())
    letter = CustomerDocument.objects.get(order=theirs.order).document
    assert client.get(detail_url(theirs)).status_code == 404
    assert client.post(cancel_url(theirs), {"cancel-confirm": "on"}).status_code == 404
    assert client.post(consent_url(theirs)).status_code == 404
    document = reverse("customer_area:contracts:document", args=[letter.reference])
    assert client.get(document).status_code == 404
    assert "Fremde Firma" not in client.get(DOCUMENTS).content.decode()
    assert theirs.number not in client.get(LIST).content.decode()
    theirs.refresh_from_db()
    assert theirs.state == ContractState.ACTIVE


@pytest.mark.parametrize(
    "who", ["member", "staff", "superuser", "op_customers", "customer_contact"]
)
def test_only_a_customers_contact_opens_the_pages(people: dict[str, User], who: str):
    response = client_for(people[who]).get(LIST)
    # A contact of no customer has nothing to see; everybody else has the wrong role.
    assert response.status_code == (404 if who == "customer_contact" else 403)


def test_anonymous_visitors_are_sent_to_the_login(world: World):
    response = Client().get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
