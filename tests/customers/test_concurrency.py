"""Customer numbers stay unique when many operators create customers at the same moment, each
thread with its own database connection (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from tests.customers.conftest import company_fields, writer
from treffpunkt.customers import services
from treffpunkt.customers.models import Customer

pytestmark = pytest.mark.django_db(transaction=True)

CONTENDERS = 8


def test_customer_numbers_are_unique_under_concurrent_creation():
    actors = [writer() for _ in range(CONTENDERS)]
    barrier = threading.Barrier(CONTENDERS)
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            services.create_customer(
                actor=actors[index], **company_fields(legal_name=f"Firma {index} GmbH")
            )
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CONTENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    numbers = list(Customer.objects.values_list("customer_number", flat=True))
    assert len(numbers) == CONTENDERS
    assert len(set(numbers)) == CONTENDERS
    assert all(number and number.startswith("K-") for number in numbers)
