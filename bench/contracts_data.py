"""Shared data of the contracts benchmarks (``deadlines_dashboard.py``, ``renewal_run.py``).

``throwaway_database()`` sets Django up on a throw-away test database made by Django's own test
utilities (``setup_test_environment`` + ``connection.creation.create_test_db``), destroyed again
at the end: by default the PostgreSQL database ``test_treffpunkt_bench`` on ``BENCH_PG_URL``
(the server the other benchmarks use); with ``DATABASE_URL`` set, the test database of that
one (``DATABASE_URL=sqlite:///…`` for SQLite). ``TREFFPUNKT_VAR_DIR`` points to a fresh
temporary directory (removed at the end) and ``SECRET_KEY`` is random, so nothing in var/ is
read or written.

``build(day)`` fills it fast with ``bulk_create`` (not the services), seed fixed:

- 10,000 customers (companies, "K-00001", a VAT id "DE…" of nine digits), one contact each
  (with an e-mail address, no login), so every letter also queues a mail;
- two products (video, telephony) with a price;
- 20,000 contracts "V-000001" of the two products, started evenly over the three years before
  ``day``; each is renewed (``services.terms.term_dates``) as the daily run would have done up
  to ``day - CATCH_UP_DAYS``, so a run on ``day`` has ~30 days of renewals, ends and consent
  requests to catch up. Telephony contracts whose consent request was due by then have it
  (and a reminder a week later), 60 % of those also the consent; 5 % of the video contracts
  were cancelled (state ending, ``ends_on`` = term end); 2 % wait for their first invoice;
- one "created" event per contract;
- 300 orders waiting for acceptance, received in the 20 days before ``day`` (about a third
  past ``accept_by``), one order line each;
- 200 change notices and 100 transfers around ``day`` (those due by the catch-up start are
  already in effect).
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path
from typing import Any

from common import BENCH_DB, PG_SERVER_URL, note

CUSTOMERS = 10_000
CONTRACTS = 20_000
ORDERS = 300
CHANGE_NOTICES = 200
TRANSFERS = 100
CATCH_UP_DAYS = 30
BATCH = 2000
SEED = 11


@contextmanager
def throwaway_database(*, keep: bool = False) -> Iterator[str]:
    """Django set up on a test database of its own; yields ``vendor:name`` of it."""
    var_dir = Path(tempfile.mkdtemp(prefix="treffpunkt-bench-"))
    for name in ("REDIS_URL", "DEBUG", "TASKS_BACKEND", "PRIVATE_FILES_DIR"):
        os.environ.pop(name, None)
    # PostgreSQL as for the other benchmarks (BENCH_PG_URL); DATABASE_URL=sqlite://… for SQLite.
    # One database per benchmark script, so two benchmarks can run side by side.
    script = Path(sys.argv[0]).stem or "bench"
    os.environ.setdefault("DATABASE_URL", f"{PG_SERVER_URL}/{BENCH_DB}_{script}")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "treffpunkt.settings",
            "TREFFPUNKT_MODE": "embedded",
            "TREFFPUNKT_VAR_DIR": str(var_dir),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "LOG_LEVEL": "WARNING",
            "EMAIL_URL": f"file://{var_dir / 'mail'}",
        }
    )
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    started = time.perf_counter()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=keep)
    name = connection.settings_dict["NAME"]
    label = f"{connection.vendor}:{'memory' if 'memory' in str(name) else name}"
    where = f"{label} on {connection.settings_dict.get('HOST') or 'this machine'}"
    note(f"database: {where} (test database, migrated in {time.perf_counter() - started:.1f} s)")
    try:
        yield label
    finally:
        try:
            connection.close()
            if keep:
                note(f"kept: {where}, var dir {var_dir}")
            else:
                connection.creation.destroy_test_db(old_name, verbosity=0)
        finally:
            teardown_test_environment()
            if not keep:
                shutil.rmtree(var_dir, ignore_errors=True)


@dataclass(frozen=True)
class Built:
    day: date
    customers: int
    contracts: int
    orders: int
    change_notices: int
    transfers: int
    seconds: float


def _aware(day: date) -> datetime:
    return datetime.combine(day, clock_time(9), tzinfo=UTC)


def build(day: date, *, seed: int = SEED) -> Built:
    """The data set described in the module docstring, for a run on ``day``."""
    from treffpunkt.contracts import deadlines
    from treffpunkt.contracts.models import (
        WITHOUT_SPECIAL_RIGHT,
        ChangeClass,
        ChangeNotice,
        ChangeSubject,
        Channel,
        Contract,
        ContractEvent,
        ContractState,
        EndReason,
        EventKind,
        Order,
        OrderLine,
        OrderState,
        Price,
        Product,
        ProductKind,
        Transfer,
    )
    from treffpunkt.contracts.services.terms import term_dates
    from treffpunkt.customers.models import Customer, CustomerContact, CustomerKind

    started = time.perf_counter()
    rng = random.Random(seed)
    cutoff = day - timedelta(days=CATCH_UP_DAYS)
    lead = timedelta(days=14)  # CONTRACTS_CONSENT_LEAD_DAYS' default
    remind_after = timedelta(days=7)  # CONTRACTS_CONSENT_REMINDER_DAYS' default

    Customer.objects.bulk_create(
        [
            Customer(
                kind=CustomerKind.COMPANY,
                customer_number=f"K-{n:05d}",
                legal_name=f"Muster {n:05d} GmbH",
                legal_form="GmbH",
                street=f"Industriestraße {n % 200 + 1}",
                postal_code=f"{10000 + n * 7 % 89999:05d}",
                city=rng.choice(("Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main")),
                vat_id=f"DE{100000000 + n * 7919 % 899999999:09d}",
            )
            for n in range(1, CUSTOMERS + 1)
        ],
        batch_size=BATCH,
    )
    customer_ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    CustomerContact.objects.bulk_create(
        [
            CustomerContact(
                customer_id=pk,
                name=f"Kontakt {n:05d}",
                email=f"vertrag@muster-{n:05d}.example.org",
            )
            for n, pk in enumerate(customer_ids, start=1)
        ],
        batch_size=BATCH,
    )

    video = Product.objects.create(code="video-beratung", kind=ProductKind.VIDEO, name="Video")
    phone = Product.objects.create(code="telefonie", kind=ProductKind.TELEPHONY, name="Telefonie")
    since = day - timedelta(days=5 * 365)
    Price.objects.create(
        product=video,
        valid_from=since,
        monthly_fee=Decimal("249.00"),
        included_minutes=2000,
        per_minute=Decimal("0.0400"),
    )
    Price.objects.create(product=phone, valid_from=since, monthly_fee=Decimal("89.00"))

    contracts: list[Contract] = []
    for n in range(1, CONTRACTS + 1):
        product = video if n % 2 else phone
        # Starts evenly over the three years before the day (the latest: the day itself).
        start = day - timedelta(days=(n * 1096) // CONTRACTS)
        fields: dict[str, Any] = term_dates(product.kind, start)
        while fields["term_end"] < cutoff:
            fields = term_dates(product.kind, fields["term_end"] + timedelta(days=1))
        state = ContractState.ACTIVE
        extra: dict[str, Any] = {}
        if start > day - timedelta(days=60) and rng.random() < 0.3:
            state = ContractState.WAITING  # ~2 %: waiting for the first invoice
        else:
            extra["switched_on_at"] = _aware(start)
            extra["switched_on_by_invoice"] = f"RE-{start.year}-{n:05d}"
        if product.kind == ProductKind.VIDEO:
            if state == ContractState.ACTIVE and rng.random() < 0.05:
                state = ContractState.ENDING
                extra.update(ends_on=fields["term_end"], end_reason=EndReason.CANCELLED)
        else:
            due = fields["consent_due"]
            # The daily runs up to the cutoff asked (and reminded) as they became due.
            asked = max(due - lead, fields["term_start"])
            if asked <= cutoff:
                fields["consent_requested_on"] = asked
                if rng.random() < 0.6:
                    fields["consent_given_on"] = min(
                        asked + timedelta(days=rng.randint(1, 10)), cutoff
                    )
                given = fields.get("consent_given_on")
                if asked + remind_after <= cutoff and (
                    given is None or given > asked + remind_after
                ):
                    fields["consent_reminded_on"] = asked + remind_after
        contracts.append(
            Contract(
                customer_id=customer_ids[n % CUSTOMERS],
                product=product,
                kind=product.kind,
                quantity=1 + n % 5,
                number=f"V-{n:06d}",
                state=state,
                start=start,
                **fields,
                **extra,
            )
        )
    Contract.objects.bulk_create(contracts, batch_size=BATCH)
    rows = list(Contract.objects.order_by("pk").values_list("pk", "start", "kind"))
    ContractEvent.objects.bulk_create(
        [
            ContractEvent(
                contract_id=pk, kind=EventKind.CREATED, on=start, summary="Vertrag geschlossen."
            )
            for pk, start, _kind in rows
        ],
        batch_size=BATCH,
    )

    orders = []
    for n in range(1, ORDERS + 1):
        received = day - timedelta(days=rng.randint(0, 20))
        orders.append(
            Order(
                customer_id=customer_ids[rng.randrange(CUSTOMERS)],
                number=f"A-{n:05d}",
                channel=rng.choice(list(Channel)),
                received_on=received,
                accept_by=deadlines.acceptance_deadline(received),
                requested_start=received + timedelta(days=30),
                state=OrderState.RECEIVED,
            )
        )
    Order.objects.bulk_create(orders, batch_size=BATCH)
    OrderLine.objects.bulk_create(
        [
            OrderLine(order_id=pk, product=video, quantity=1)
            for pk in Order.objects.values_list("pk", flat=True)
        ],
        batch_size=BATCH,
    )

    live = [pk for pk, _start, _kind in rows]
    notices = []
    for pk in rng.sample(live, CHANGE_NOTICES):
        received = day - timedelta(days=rng.randint(5, 60))
        window = deadlines.change_notice_window(received)
        effective = window.earliest + timedelta(
            days=rng.randint(0, (window.latest - window.earliest).days)
        )
        classification = rng.choice(list(ChangeClass))
        special = (
            None
            if classification in WITHOUT_SPECIAL_RIGHT
            else deadlines.special_cancellation_end(received, effective).cancel_by
        )
        notices.append(
            ChangeNotice(
                contract_id=pk,
                subject=rng.choice(list(ChangeSubject)),
                classification=classification,
                description="Neue Preisliste.",
                received_on=received,
                effective_on=effective,
                special_right_until=special,
                in_effect=effective <= cutoff,
            )
        )
    ChangeNotice.objects.bulk_create(notices, batch_size=BATCH)

    kinds = {pk: kind for pk, _start, kind in rows}
    transfers = []
    for pk in rng.sample(live, TRANSFERS):
        effective = day + timedelta(days=rng.randint(-20, 40))
        received = effective - timedelta(days=43 + rng.randint(0, 10))
        is_video = kinds[pk] == ProductKind.VIDEO
        transfers.append(
            Transfer(
                contract_id=pk,
                transferee=f"Nachfolger {pk} GmbH",
                received_on=received,
                effective_on=effective,
                objection_until=(
                    deadlines.transfer_objection_deadline(received) if is_video else None
                ),
                special_right_until=(
                    None
                    if is_video
                    else deadlines.next_working_day(
                        deadlines.add_months(received, deadlines.SPECIAL_CANCELLATION_MONTHS)
                    )
                ),
                in_effect=effective <= cutoff,
            )
        )
    Transfer.objects.bulk_create(transfers, batch_size=BATCH)
    seconds = time.perf_counter() - started
    note(
        f"data built in {seconds:.1f} s: {CUSTOMERS} customers, {len(contracts)} contracts, "
        f"{ORDERS} orders, {CHANGE_NOTICES} change notices, {TRANSFERS} transfers"
    )
    _analyze()
    return Built(
        day=day,
        customers=CUSTOMERS,
        contracts=len(contracts),
        orders=ORDERS,
        change_notices=CHANGE_NOTICES,
        transfers=TRANSFERS,
        seconds=seconds,
    )


def _analyze() -> None:
    """Fresh planner statistics, as autovacuum would have them on a database of this size."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def bench_day() -> date:
    """The day of the run: today in Berlin, as the daily run and the dashboard take it."""
    from treffpunkt.contracts.services._common import today

    return today()
