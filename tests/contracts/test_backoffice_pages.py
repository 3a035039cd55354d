"""The back office's contract pages: deadlines, catalogue, orders, contracts and a customer's
service. Every change goes through a form to its service; a refusal shows the service's message
at its field (status 400) and writes nothing; a done change redirects and shows its effect.

The operators here read English (the source strings), so the tests do not depend on the state
of the German catalogue."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import formats, translation

from tests.backoffice.pages import table_rows
from tests.conftest import World, client_for
from tests.contracts.conftest import (
    accepted_contract,
    hardware_product,
    make_customer,
    on_day,
    operator_with,
    place_order,
    telephony_product,
    today,
    video_product,
)
from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.contracts import deadlines, services
from treffpunkt.contracts.models import (
    Block,
    Cancellation,
    ChangeNotice,
    Contract,
    ContractState,
    Order,
    OrderState,
    Price,
    Product,
    ProviderSwitch,
    Transfer,
)
from treffpunkt.core.models import AuditEntry
from treffpunkt.notifications.models import OutboxMail

pytestmark = pytest.mark.django_db

DEADLINES = reverse("backoffice:contracts:deadlines")
CATALOGUE = reverse("backoffice:contracts:catalogue")
PRODUCT_NEW = reverse("backoffice:contracts:product_new")
ORDERS = reverse("backoffice:contracts:orders")
ORDER_NEW = reverse("backoffice:contracts:order_new")
CONTRACTS = reverse("backoffice:contracts:contracts")


def shown(day: date) -> str:
    """A date as the English pages show it."""
    with translation.override("en"):
        return str(formats.date_format(day, "SHORT_DATE_FORMAT"))


def english_operator() -> User:
    return operator_with(Capability.CUSTOMERS, preferred_language="en")


@pytest.fixture
def office(world: World) -> Client:
    """A client signed in as an operator holding ``Capability.CUSTOMERS``, reading English."""
    return client_for(english_operator())


def body(response: Any) -> str:
    return str(response.content.decode())


def contract_page(contract: Contract) -> str:
    return reverse("backoffice:contracts:contract", args=[contract.pk])


def order_page(order: Order) -> str:
    return reverse("backoffice:contracts:order", args=[order.pk])


def order_form(customer_id: int, product: Product, key: uuid.UUID, **changes: str) -> dict:
    data = {
        "order-customer": str(customer_id),
        "order-channel": "letter",
        "order-received_on": today().isoformat(),
        "order-requested_start": "",
        "order-product_1": str(product.pk),
        "order-quantity_1": "2",
        "order-note": "Per Brief",
        "order-submission_key": str(key),
    }
    data.update(changes)
    return data


def writes_of(code: str) -> int:
    return AuditEntry.objects.filter(code=code).count()


# --- every page -------------------------------------------------------------------------------


def test_every_page_renders_for_an_operator_with_the_customers_capability(
    world: World, office: Client
):
    customer = make_customer()
    video = accepted_contract(customer, video_product(), today())
    phone = accepted_contract(customer, telephony_product(), today())
    transfer = services.announce_transfer(
        actor=english_operator(),
        contract=video,
        transferee="Neue Betreiber GmbH",
        received_on=today(),
        effective_on=today() + timedelta(weeks=8),
    )
    block = services.block_service(
        actor=english_operator(),
        customer=customer,
        scope="booking",
        reason="abuse",
        explanation="Spam",
    )
    urls = [
        DEADLINES,
        CATALOGUE,
        PRODUCT_NEW,
        reverse("backoffice:contracts:price_new", args=[video.product_id]),
        ORDERS,
        ORDER_NEW,
        CONTRACTS,
        contract_page(video),
        contract_page(phone),
        reverse("backoffice:contracts:customer_service", args=[customer.pk]),
        reverse("backoffice:contracts:cancellation", args=[video.pk]),
        reverse("backoffice:contracts:consent", args=[phone.pk]),
        reverse("backoffice:contracts:change", args=[video.pk]),
        reverse("backoffice:contracts:transfer", args=[video.pk]),
        reverse("backoffice:contracts:objection", args=[transfer.pk]),
        reverse("backoffice:contracts:block", args=[customer.pk]),
        reverse("backoffice:contracts:lift_block", args=[block.pk]),
    ]
    assert video.order is not None
    urls += [
        order_page(video.order),
        reverse("backoffice:contracts:order_accept", args=[video.order.pk]),
        reverse("backoffice:contracts:order_decline", args=[video.order.pk]),
    ]
    for url in urls:
        assert office.get(url).status_code == 200, url


GET_PAGES = ("deadlines", "catalogue", "orders", "contracts", "contract", "order", "service")
WRITE_PAGES = ("product_new", "order_new")


def _url(name: str, contract: Contract) -> str:
    assert contract.order is not None
    args = {
        "contract": [contract.pk],
        "order": [contract.order.pk],
        "service": [contract.customer_id],
    }
    url_name = {"service": "customer_service"}.get(name, name)
    return reverse(f"backoffice:contracts:{url_name}", args=args.get(name, []))


@pytest.mark.parametrize(
    ("who", "reads", "writes"),
    [
        ("op_customers", 200, 200),
        ("superuser", 200, 200),
        ("op_auditor", 200, 403),
        ("op_billing", 403, 403),
        ("op_none", 403, 403),
        ("member", 403, 403),
        ("customer_contact", 403, 403),
    ],
)
def test_the_pages_open_to_those_who_may_read_and_the_forms_to_those_who_may_write(
    people: dict[str, User], who: str, reads: int, writes: int
):
    contract = accepted_contract(make_customer(), video_product(), today())
    client = client_for(people[who])
    for name in GET_PAGES:
        assert client.get(_url(name, contract)).status_code == reads, (name, who)
    for name in WRITE_PAGES:
        assert client.get(_url(name, contract)).status_code == writes, (name, who)
    cancel = reverse("backoffice:contracts:cancellation", args=[contract.pk])
    response = client.post(cancel, {})
    assert response.status_code == (400 if writes == 200 else 403), who
    assert not Cancellation.objects.exists()


# Every URL name of the back office's contract pages (for the project's access table in
# tests/accounts/test_access_by_role.py, as "tested elsewhere").
CONTRACT_BACKOFFICE_URL_NAMES = frozenset(
    {
        "backoffice:contracts:deadlines",
        "backoffice:contracts:catalogue",
        "backoffice:contracts:product_new",
        "backoffice:contracts:price_new",
        "backoffice:contracts:orders",
        "backoffice:contracts:order_new",
        "backoffice:contracts:order",
        "backoffice:contracts:order_accept",
        "backoffice:contracts:order_decline",
        "backoffice:contracts:contracts",
        "backoffice:contracts:contract",
        "backoffice:contracts:cancellation",
        "backoffice:contracts:consent",
        "backoffice:contracts:change",
        "backoffice:contracts:transfer",
        "backoffice:contracts:switch",
        "backoffice:contracts:switch_done",
        "backoffice:contracts:objection",
        "backoffice:contracts:customer_service",
        "backoffice:contracts:block",
        "backoffice:contracts:lift_block",
        "backoffice:contracts:customer_document",
    }
)
READ_ONLY = frozenset(
    {
        "deadlines",
        "catalogue",
        "orders",
        "order",
        "contracts",
        "contract",
        "customer_service",
        "customer_document",
    }
)


def _every_url(contract: Contract) -> dict[str, str]:
    actor = english_operator()
    transfer = services.announce_transfer(
        actor=actor,
        contract=contract,
        transferee="Neue Betreiber GmbH",
        received_on=today(),
        effective_on=today() + timedelta(weeks=8),
    )
    block = services.block_service(
        actor=actor, customer=contract.customer, scope="booking", reason="abuse", explanation="x"
    )
    letter = contract.events.get(kind="created").document
    assert contract.order is not None and letter is not None
    by_record = {
        "price_new": [contract.product_id],
        "order": [contract.order.pk],
        "order_accept": [contract.order.pk],
        "order_decline": [contract.order.pk],
        "contract": [contract.pk],
        "cancellation": [contract.pk],
        "consent": [contract.pk],
        "change": [contract.pk],
        "transfer": [contract.pk],
        "switch": [contract.pk],
        "switch_done": [
            ProviderSwitch.objects.create(
                contract=contract, direction="out", other_provider="Andere AG", agreed_on=today()
            ).pk
        ],
        "objection": [transfer.pk],
        "customer_service": [contract.customer_id],
        "block": [contract.customer_id],
        "lift_block": [block.pk],
        "customer_document": [contract.customer_id, letter.reference],
    }
    return {
        name.rsplit(":", 1)[1]: reverse(name, args=by_record.get(name.rsplit(":", 1)[1], []))
        for name in CONTRACT_BACKOFFICE_URL_NAMES
    }


@pytest.mark.parametrize(
    ("who", "reads", "writes"),
    [
        ("anonymous", "login", "login"),
        ("op_customers", 200, 200),
        ("op_auditor", 200, 403),
        ("op_support", 403, 403),
        ("org_admin", 403, 403),
        ("customer_contact", 403, 403),
    ],
)
def test_every_contract_page_answers_each_role_as_its_capability_allows(
    people: dict[str, User], who: str, reads: object, writes: object
):
    contract = accepted_contract(make_customer(), video_product(), today())
    urls = _every_url(contract)
    client = Client() if who == "anonymous" else client_for(people[who])
    for name, url in urls.items():
        expected = reads if name in READ_ONLY else writes
        response = client.get(url)
        if expected == "login":
            assert response.status_code == 302, name
            assert response["Location"].startswith(reverse("accounts:login")), name
        else:
            assert response.status_code == expected, (name, who)


def test_the_access_table_covers_every_contract_page_of_the_back_office():
    from treffpunkt.contracts import backoffice_urls

    ours = {f"backoffice:contracts:{p.name}" for p in backoffice_urls.urlpatterns}
    assert ours == CONTRACT_BACKOFFICE_URL_NAMES


def test_anonymous_visitors_are_sent_to_the_login(world: World):
    contract = accepted_contract(make_customer(), video_product(), today())
    client = Client()
    for name in (*GET_PAGES, *WRITE_PAGES):
        response = client.get(_url(name, contract))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login") + "?next=")
    response = client.post(reverse("backoffice:contracts:cancellation", args=[contract.pk]))
    assert response["Location"].startswith(reverse("accounts:login"))


def test_an_unknown_record_is_404(world: World, office: Client):
    assert office.get(reverse("backoffice:contracts:contract", args=[999_999])).status_code == 404
    assert office.get(reverse("backoffice:contracts:order", args=[999_999])).status_code == 404
    url = reverse("backoffice:contracts:cancellation", args=[999_999])
    assert office.post(url, {}).status_code == 404


# --- deadlines --------------------------------------------------------------------------------


def test_operator_sees_overdue_deadlines_first(world: World, office: Client):
    customer = make_customer(legal_name="Frist GmbH")
    # Received three weeks ago and never accepted: the two weeks are over.
    with on_day(today() - timedelta(days=21)):
        late = place_order(customer, video_product())
    # A video contract whose notice deadline lies in the coming weeks.
    start = deadlines.add_months(today(), -9) + timedelta(days=20)
    contract = accepted_contract(customer, video_product(), start)
    assert contract.notice_deadline is not None
    assert today() <= contract.notice_deadline <= today() + timedelta(days=42)

    response = office.get(DEADLINES)
    rows = table_rows(response)
    assert rows[0][0] == "Overdue"
    assert rows[0][1] == shown(late.accept_by)
    assert rows[0][4] == late.number
    notice_row = next(row for row in rows if row[4] == contract.number)
    assert notice_row[0] == "Due" and notice_row[1] == shown(contract.notice_deadline)
    assert "Frist GmbH" in notice_row[3]
    page = body(response)
    assert order_page(late) in page and contract_page(contract) in page
    assert "The daily contract run has not run yet." in page


def test_the_deadlines_say_when_the_daily_run_last_ran(world: World, office: Client):
    services.run_contracts_day(on=today())
    page = body(office.get(DEADLINES))
    assert "The daily contract run last covered " + shown(today()) in page


# --- the catalogue ----------------------------------------------------------------------------


def test_operator_adds_a_product_with_its_first_price_and_sees_it_in_the_catalogue(
    world: World, office: Client
):
    response = office.post(
        PRODUCT_NEW,
        {
            "product-code": "video-pro",
            "product-kind": "video",
            "product-name": "Videoberatung Pro",
            "product-description": "",
            "product-valid_from": today().isoformat(),
            "product-vat_kind": "standard",
            "product-monthly_fee": "1.234,50",
            "product-included_minutes": "",
            "product-per_minute": "",
            "product-unit_price": "",
        },
    )
    assert response.status_code == 302 and response["Location"] == CATALOGUE
    price = Price.objects.get(product__code="video-pro")
    assert str(price.monthly_fee) == "1234.50"
    page = body(office.get(CATALOGUE))
    assert "Videoberatung Pro" in page and "€1,234.50" in page


def test_telephony_prices_show_minutes_and_the_minute_price(world: World, office: Client):
    telephony_product()
    rows = table_rows(office.get(CATALOGUE))
    assert rows[0][1:4] == ["€19.90", "500", "€0.0190"]


def test_a_service_without_a_monthly_fee_is_refused_at_that_field(world: World, office: Client):
    response = office.post(
        PRODUCT_NEW,
        {
            "product-code": "video-ohne",
            "product-kind": "video",
            "product-name": "Ohne Preis",
            "product-valid_from": today().isoformat(),
            "product-vat_kind": "standard",
            "product-unit_price": "10",
        },
    )
    assert response.status_code == 400
    assert 'id="id_product-monthly_fee_error"' in body(response)
    assert not Product.objects.exists()


def test_an_amount_that_is_not_one_is_refused_at_its_field(world: World, office: Client):
    product = video_product()
    url = reverse("backoffice:contracts:price_new", args=[product.pk])
    response = office.post(
        url,
        {
            "price-valid_from": today().isoformat(),
            "price-vat_kind": "standard",
            "price-monthly_fee": "neunundvierzig",
        },
    )
    assert response.status_code == 400
    assert 'id="id_price-monthly_fee_error"' in body(response)
    assert product.prices.count() == 1


def test_a_new_price_applies_from_today_at_the_earliest(world: World, office: Client):
    product = video_product()
    url = reverse("backoffice:contracts:price_new", args=[product.pk])
    data = {"price-vat_kind": "standard", "price-monthly_fee": "59"}
    refused = office.post(url, {**data, "price-valid_from": "2021-01-01"})
    assert refused.status_code == 400
    assert 'id="id_price-valid_from_error"' in body(refused)
    assert "A new price can apply from today at the earliest." in body(refused)
    assert product.prices.count() == 1
    later = today() + timedelta(days=30)
    done = office.post(url, {**data, "price-valid_from": later.isoformat()})
    assert done.status_code == 302
    assert shown(later) in body(office.get(CATALOGUE))


# --- orders -----------------------------------------------------------------------------------


def test_operator_enters_an_order_once_and_a_second_submission_writes_nothing(
    world: World, office: Client
):
    customer = make_customer()
    product = video_product()
    form = office.get(ORDER_NEW)
    assert 'name="order-submission_key"' in body(form)
    key = uuid.uuid4()
    first = office.post(ORDER_NEW, order_form(customer.pk, product, key))
    order = Order.objects.get()
    assert first.status_code == 302 and first["Location"] == order_page(order)
    assert [line.quantity for line in order.lines.all()] == [2]
    assert order.channel == "letter" and order.note == "Per Brief"
    mails = OutboxMail.objects.count()

    again = office.post(ORDER_NEW, order_form(customer.pk, product, key))
    assert again.status_code == 400
    assert f"This order has already been received ({order.number})" in body(again)
    assert Order.objects.count() == 1
    assert OutboxMail.objects.count() == mails
    assert writes_of("contracts.order.received") == 1


def test_an_order_starting_before_it_arrived_is_refused_at_the_start(world: World, office: Client):
    customer = make_customer()
    yesterday = today() - timedelta(days=1)
    response = office.post(
        ORDER_NEW,
        order_form(
            customer.pk,
            video_product(),
            uuid.uuid4(),
            **{"order-requested_start": yesterday.isoformat()},
        ),
    )
    assert response.status_code == 400
    assert 'id="id_order-requested_start_error"' in body(response)
    assert not Order.objects.exists()


def test_the_order_list_filters_by_state(world: World, office: Client):
    customer = make_customer()
    waiting = place_order(customer, video_product())
    declined = place_order(customer, video_product())
    services.decline_order(actor=english_operator(), order=declined, reason="Keine Kapazität")
    numbers = [row[0] for row in table_rows(office.get(ORDERS + "?state=received"))]
    assert numbers == [waiting.number]
    numbers = [row[0] for row in table_rows(office.get(ORDERS))]
    assert set(numbers) == {waiting.number, declined.number}


def test_the_order_page_shows_the_acceptance_deadline_prominently(world: World, office: Client):
    order = place_order(make_customer(), video_product())
    page = body(office.get(order_page(order)))
    assert f"Accept or decline this order by {shown(order.accept_by)}" in page
    assert 'id="id_accept-start"' in page and 'id="id_decline-reason"' in page


def test_accepting_an_order_lists_its_contract(world: World, office: Client):
    order = place_order(make_customer(), video_product(), telephony_product())
    start = today() + timedelta(days=3)
    url = reverse("backoffice:contracts:order_accept", args=[order.pk])
    response = office.post(url, {"accept-start": start.isoformat(), "accept-delivery_date": ""})
    assert response.status_code == 302 and response["Location"] == order_page(order)
    order.refresh_from_db()
    assert order.state == OrderState.ACCEPTED and order.confirmed_start == start
    page = body(office.get(order_page(order)))
    assert f"The order {order.number} was accepted" in page
    # The letter, downloadable; written in the customer's language (German by default).
    with translation.override("de"):
        title = translation.gettext("Order confirmation %(order)s") % {"order": order.number}
    assert title in page
    contracts = list(order.contracts.order_by("pk"))
    assert len(contracts) == 2
    listed = [row[0] for row in table_rows(office.get(CONTRACTS))]
    assert {c.number for c in contracts} <= set(listed)


def test_an_order_with_hardware_needs_its_delivery_date(world: World, office: Client):
    order = place_order(make_customer(), video_product(), hardware_product())
    url = reverse("backoffice:contracts:order_accept", args=[order.pk])
    response = office.post(url, {"accept-start": today().isoformat()})
    assert response.status_code == 400
    assert 'id="id_accept-delivery_date_error"' in body(response)
    order.refresh_from_db()
    assert order.state == OrderState.RECEIVED
    assert not Contract.objects.exists()
    delivery = today() + timedelta(days=5)
    done = office.post(
        url,
        {"accept-start": today().isoformat(), "accept-delivery_date": delivery.isoformat()},
    )
    assert done.status_code == 302
    order.refresh_from_db()
    assert order.delivery_date == delivery
    assert Contract.objects.count() == 1  # the hardware is no contract


def test_a_contract_cannot_start_before_the_order_arrived(world: World, office: Client):
    order = place_order(make_customer(), video_product())
    url = reverse("backoffice:contracts:order_accept", args=[order.pk])
    before = order.received_on - timedelta(days=1)
    response = office.post(url, {"accept-start": before.isoformat()})
    assert response.status_code == 400
    assert 'id="id_accept-start_error"' in body(response)
    assert not Contract.objects.exists()


def test_declining_an_order_needs_a_reason_and_then_sends_it(world: World, office: Client):
    order = place_order(make_customer(), video_product())
    url = reverse("backoffice:contracts:order_decline", args=[order.pk])
    assert office.post(url, {"decline-reason": "  "}).status_code == 400
    order.refresh_from_db()
    assert order.state == OrderState.RECEIVED
    response = office.post(url, {"decline-reason": "Keine Kapazität im Gebiet"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == OrderState.DECLINED
    assert "Declined" in body(office.get(order_page(order)))


# --- contracts --------------------------------------------------------------------------------


def test_the_contract_list_filters_by_state_kind_and_customer(world: World, office: Client):
    first, second = make_customer(legal_name="Erste GmbH"), make_customer(legal_name="Zweite AG")
    video = accepted_contract(first, video_product(), today())
    phone = accepted_contract(second, telephony_product(), today())
    numbers = [row[0] for row in table_rows(office.get(CONTRACTS + "?kind=telephony"))]
    assert numbers == [phone.number]
    numbers = [row[0] for row in table_rows(office.get(CONTRACTS + f"?customer={first.pk}"))]
    assert numbers == [video.number]
    assert table_rows(office.get(CONTRACTS + "?state=active")) == []
    row = table_rows(office.get(CONTRACTS + "?kind=video"))[0]
    assert row[3] == "Waiting for the first invoice"
    assert row[5] == f"Notice by {shown(video.notice_deadline)}"  # type: ignore[arg-type]


def test_the_contract_page_shows_its_facts_and_timeline_with_the_letter(
    world: World, office: Client
):
    customer = make_customer(legal_name="Zeitleiste GmbH")
    contract = accepted_contract(customer, video_product(), today())
    services.switch_on(contract=contract, invoice_number="RE-2027-00042")
    response = office.get(contract_page(contract))
    page = body(response)
    assert reverse("backoffice:customers:detail", args=[customer.pk]) in page
    assert "RE-2027-00042" in page
    assert "Service switched on" in page and "Contract concluded" in page
    letter = contract.events.get(kind="created").document
    assert letter is not None
    download = reverse(
        "backoffice:contracts:customer_document", args=[customer.pk, letter.reference]
    )
    assert download in page
    pdf = office.get(download)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_another_customers_document_is_404(world: World, office: Client):
    contract = accepted_contract(make_customer(), video_product(), today())
    stranger = make_customer(legal_name="Fremd GmbH")
    letter = contract.events.get(kind="created").document
    assert letter is not None
    url = reverse("backoffice:contracts:customer_document", args=[stranger.pk, letter.reference])
    assert office.get(url).status_code == 404


def test_recording_a_cancellation_shows_when_the_contract_ends(world: World, office: Client):
    contract = accepted_contract(make_customer(), video_product(), today())
    url = reverse("backoffice:contracts:cancellation", args=[contract.pk])
    response = office.post(
        url,
        {
            "cancellation-kind": "ordinary",
            "cancellation-received_on": today().isoformat(),
            "cancellation-channel": "fax",
            "cancellation-sender": "Gerda Geschäftsführerin",
            "cancellation-reason": "",
        },
    )
    assert response.status_code == 302 and response["Location"] == contract_page(contract)
    contract.refresh_from_db()
    assert contract.state == ContractState.ENDING and contract.ends_on == contract.term_end
    page = office.get(contract_page(contract))
    text = body(page)
    assert f"the contract ends at the end of {shown(contract.term_end)}" in text
    assert "Gerda Geschäftsführerin" in text and "Fax" in text


def test_a_cancellation_for_good_cause_without_reason_is_refused(world: World, office: Client):
    contract = accepted_contract(make_customer(), video_product(), today())
    url = reverse("backoffice:contracts:cancellation", args=[contract.pk])
    response = office.post(
        url,
        {
            "cancellation-kind": "good_cause",
            "cancellation-received_on": today().isoformat(),
            "cancellation-channel": "letter",
            "cancellation-sender": "Gerda",
        },
    )
    assert response.status_code == 400
    assert 'id="id_cancellation-reason_error"' in body(response)
    assert not Cancellation.objects.exists()
    contract.refresh_from_db()
    assert contract.state == ContractState.WAITING


def test_a_change_notice_29_days_ahead_is_refused_and_writes_nothing(world: World, office: Client):
    contract = accepted_contract(make_customer(), video_product(), today())
    mails = OutboxMail.objects.count()
    url = reverse("backoffice:contracts:change", args=[contract.pk])
    response = office.post(
        url,
        {
            "change-subject": "prices",
            "change-classification": "other",
            "change-description": "Neue Preise",
            "change-received_on": today().isoformat(),
            "change-effective_on": (today() + timedelta(days=29)).isoformat(),
        },
    )
    assert response.status_code == 400
    page = body(response)
    assert "at least one month, at most two months" in page
    assert "is 29 days after the notice" in page
    assert not ChangeNotice.objects.exists()
    assert OutboxMail.objects.count() == mails
    assert writes_of("contracts.change.announced") == 0


def test_a_change_inside_the_window_is_announced_with_the_window_shown(
    world: World, office: Client
):
    contract = accepted_contract(make_customer(), video_product(), today())
    window = deadlines.change_notice_window(today())
    page = body(office.get(contract_page(contract)))
    assert f"from {shown(window.earliest)} to {shown(window.latest)}" in page
    url = reverse("backoffice:contracts:change", args=[contract.pk])
    response = office.post(
        url,
        {
            "change-subject": "prices",
            "change-classification": "other",
            "change-description": "Neue Preise",
            "change-received_on": today().isoformat(),
            "change-effective_on": window.earliest.isoformat(),
        },
    )
    assert response.status_code == 302
    notice = ChangeNotice.objects.get()
    assert notice.special_right_until is not None
    rows = body(office.get(contract_page(contract)))
    assert shown(notice.special_right_until) in rows


def test_a_consent_renews_a_telephony_contract_and_video_has_no_consent_form(
    world: World, office: Client
):
    customer = make_customer()
    phone = accepted_contract(customer, telephony_product(), today())
    video = accepted_contract(customer, video_product(), today())
    assert 'id="id_consent-sender"' in body(office.get(contract_page(phone)))
    assert 'id="id_consent-sender"' not in body(office.get(contract_page(video)))
    url = reverse("backoffice:contracts:consent", args=[phone.pk])
    data = {
        "consent-received_on": today().isoformat(),
        "consent-channel": "email",
        "consent-sender": "Paul Prokurist",
    }
    assert office.post(url, data).status_code == 302
    phone.refresh_from_db()
    assert phone.consent_given_on == today()
    again = office.post(url, data)
    assert again.status_code == 400
    assert "already given" in body(again)
    refused = office.post(reverse("backoffice:contracts:consent", args=[video.pk]), data)
    assert refused.status_code == 400
    assert "Only a telephony contract needs a consent" in body(refused)


def test_a_transfer_is_announced_and_an_objection_recorded(world: World, office: Client):
    contract = accepted_contract(make_customer(), video_product(), today())
    url = reverse("backoffice:contracts:transfer", args=[contract.pk])
    too_soon = office.post(
        url,
        {
            "transfer-transferee": "Nachfolger GmbH",
            "transfer-received_on": today().isoformat(),
            "transfer-effective_on": (today() + timedelta(weeks=4)).isoformat(),
        },
    )
    assert too_soon.status_code == 400
    assert "six weeks ahead" in body(too_soon)
    assert not Transfer.objects.exists()
    effective = today() + timedelta(weeks=8)
    done = office.post(
        url,
        {
            "transfer-transferee": "Nachfolger GmbH",
            "transfer-received_on": today().isoformat(),
            "transfer-effective_on": effective.isoformat(),
        },
    )
    assert done.status_code == 302
    transfer = Transfer.objects.get()
    page = body(office.get(contract_page(contract)))
    assert "Nachfolger GmbH" in page
    assert f'id="id_objection-{transfer.pk}-received_on"' in page
    objection = reverse("backoffice:contracts:objection", args=[transfer.pk])
    response = office.post(
        objection,
        {
            f"objection-{transfer.pk}-received_on": today().isoformat(),
            f"objection-{transfer.pk}-channel": "letter",
        },
    )
    assert response.status_code == 302 and response["Location"] == contract_page(contract)
    transfer.refresh_from_db()
    assert transfer.objected_on == today()
    assert f'id="id_objection-{transfer.pk}-received_on"' not in body(
        office.get(contract_page(contract))
    )


# --- a customer's service ---------------------------------------------------------------------


def test_operator_blocks_and_lifts_a_customers_service(world: World, office: Client):
    customer = make_customer()
    contract = accepted_contract(customer, video_product(), today())
    page_url = reverse("backoffice:contracts:customer_service", args=[customer.pk])
    page = body(office.get(page_url))
    assert contract.number in page and "The service is not blocked." in page
    block_url = reverse("backoffice:contracts:block", args=[customer.pk])
    refused = office.post(
        block_url, {"block-scope": "all", "block-reason": "abuse", "block-explanation": " "}
    )
    assert refused.status_code == 400 and not Block.objects.exists()
    done = office.post(
        block_url,
        {"block-scope": "all", "block-reason": "abuse", "block-explanation": "Massenversand"},
    )
    assert done.status_code == 302 and done["Location"] == page_url
    block = Block.objects.get()
    page = body(office.get(page_url))
    assert "Massenversand" in page and f'id="id_lift-{block.pk}-note"' in page
    twice = office.post(
        block_url,
        {"block-scope": "all", "block-reason": "abuse", "block-explanation": "Nochmal"},
    )
    assert twice.status_code == 400 and "already blocked" in body(twice)
    lift = reverse("backoffice:contracts:lift_block", args=[block.pk])
    assert office.post(lift, {f"lift-{block.pk}-note": "Geklärt"}).status_code == 302
    block.refresh_from_db()
    assert block.lifted_at is not None and block.lift_note == "Geklärt"
    rows = body(office.get(page_url))
    assert "The service is not blocked." in rows and "Geklärt" in rows
    kinds = list(contract.events.values_list("kind", flat=True))
    assert "blocked" in kinds and "unblocked" in kinds


def test_the_contract_pages_never_show_a_contacts_e_mail_address(world: World, office: Client):
    from treffpunkt.customers import services as customer_services

    customer = make_customer(
        contacts=[customer_services.NewContact(name="Karla", email="karla.geheim@example.org")]
    )
    contract = accepted_contract(customer, video_product(), today())
    assert contract.order is not None
    for url in (
        contract_page(contract),
        order_page(contract.order),
        reverse("backoffice:contracts:customer_service", args=[customer.pk]),
        CONTRACTS,
        ORDERS,
    ):
        assert "karla.geheim" not in body(office.get(url)), url
