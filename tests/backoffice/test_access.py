"""Who may open which page of the back office and the customer area, for every role and every
single capability: anonymous → the login page; no capability for the page → 403; the auditor
reads everything the back office lists; only a customer's contact enters the customer area."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import get_resolver, reverse
from django.utils import timezone

from tests.conftest import World, client_for
from treffpunkt.accounts.models import User
from treffpunkt.core.models import AuditEntry
from treffpunkt.notifications.models import OutboxMail

pytestmark = pytest.mark.django_db

# Every URL name of the back-office app, each with a row below (the project's access table in
# tests/accounts/test_access_by_role.py can take these as "tested elsewhere").
BACKOFFICE_URL_NAMES = frozenset(
    {
        "backoffice:home",
        "backoffice:audit_log",
        "backoffice:audit_entry",
        "backoffice:outbox",
        "backoffice:outbox_mail",
        "customer_area:home",
        "backoffice:data_rules",
    }
)

OUTSIDERS = ("member", "staff", "org_admin", "other_staff")
OPERATORS = (
    "op_none",
    "op_customers",
    "op_billing",
    "op_support",
    "op_availability",
    "op_auditor",
    "op_platform",
    "superuser",
)
WHO = ("anonymous", *OUTSIDERS, "customer_contact", *OPERATORS)

ANY_CAPABILITY = frozenset(OPERATORS) - {"op_none"}
READS_PLATFORM = frozenset({"op_auditor", "op_platform", "superuser"})
CUSTOMER = frozenset({"customer_contact"})


@dataclass(frozen=True)
class Objects:
    entry: AuditEntry
    mail: OutboxMail


@pytest.fixture
def objects(world: World) -> Objects:
    entry = AuditEntry.objects.create(code="tests.backoffice.never_registered", actor=world.staff)
    mail = OutboxMail.objects.create(
        recipient=world.member,
        to_address=world.member.email,
        template="accounts/test",
        language="de",
        subject="Willkommen",
        body_text="Text",
        next_attempt_at=timezone.now(),
    )
    return Objects(entry=entry, mail=mail)


@dataclass(frozen=True)
class Row:
    label: str
    url_name: str
    url: Callable[[Objects], str]
    allowed: frozenset[str]  # who gets 200; every other logged-in person gets 403


ROWS = (
    Row("home", "backoffice:home", lambda o: reverse("backoffice:home"), ANY_CAPABILITY),
    Row(
        "audit-log",
        "backoffice:audit_log",
        lambda o: reverse("backoffice:audit_log"),
        READS_PLATFORM,
    ),
    Row(
        "audit-log-csv",
        "backoffice:audit_log",
        lambda o: reverse("backoffice:audit_log") + "?format=csv",
        READS_PLATFORM,
    ),
    Row(
        "audit-entry",
        "backoffice:audit_entry",
        lambda o: reverse("backoffice:audit_entry", args=[o.entry.pk]),
        READS_PLATFORM,
    ),
    Row("outbox", "backoffice:outbox", lambda o: reverse("backoffice:outbox"), READS_PLATFORM),
    Row(
        "outbox-csv",
        "backoffice:outbox",
        lambda o: reverse("backoffice:outbox") + "?format=csv",
        READS_PLATFORM,
    ),
    Row(
        "outbox-mail",
        "backoffice:outbox_mail",
        lambda o: reverse("backoffice:outbox_mail", args=[o.mail.pk]),
        READS_PLATFORM,
    ),
    Row(
        "data-rules",
        "backoffice:data_rules",
        lambda o: reverse("backoffice:data_rules"),
        READS_PLATFORM,
    ),
    Row("customer-area", "customer_area:home", lambda o: reverse("customer_area:home"), CUSTOMER),
)


def expected(row: Row, who: str) -> str:
    if who == "anonymous":
        return "login"
    return "200" if who in row.allowed else "403"


CASES = [
    pytest.param(row, who, id=f"{row.label}/{who}->{expected(row, who)}")
    for row in ROWS
    for who in WHO
]


@pytest.mark.parametrize(("row", "who"), CASES)
def test_each_person_gets_exactly_the_access_their_capability_allows(
    people: dict[str, User], objects: Objects, row: Row, who: str
):
    url = row.url(objects)
    client = Client() if who == "anonymous" else client_for(people[who])
    response = client.get(url)
    outcome = expected(row, who)
    if outcome == "login":
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login") + "?next="), url
    else:
        assert response.status_code == int(outcome), (url, who, response.status_code)


def test_the_table_covers_every_url_of_the_back_office_app():
    def names(resolver: object, prefix: str = "") -> set[str]:
        found = set()
        for pattern in getattr(resolver, "url_patterns", []):
            if hasattr(pattern, "url_patterns"):
                namespace = getattr(pattern, "namespace", None)
                found |= names(pattern, f"{prefix}{namespace}:" if namespace else prefix)
            elif pattern.name:
                found.add(prefix + pattern.name)
        return found

    from tests.availability.test_reports import (
        AVAILABILITY_BACKOFFICE_URL_NAMES,
        AVAILABILITY_CUSTOMER_URL_NAMES,
    )
    from tests.billing.test_pages import BILLING_BACKOFFICE_URL_NAMES, CUSTOMER_BILLING_URL_NAMES
    from tests.contracts.test_backoffice_pages import CONTRACT_BACKOFFICE_URL_NAMES
    from tests.contracts.test_customer_area import CUSTOMER_CONTRACT_URL_NAMES
    from tests.customers.test_access import CUSTOMER_URL_NAMES
    from tests.customers.test_advertising import ADVERTISING_URL_NAMES
    from tests.portability.test_export import PORTABILITY_CUSTOMER_URL_NAMES
    from tests.support.test_tickets import SUPPORT_BACKOFFICE_URL_NAMES, SUPPORT_CUSTOMER_URL_NAMES

    # The customers and contracts apps mount their pages inside the back office's URLs; their
    # own tests cover them.
    ours = (
        {
            name
            for name in names(get_resolver())
            if name.startswith(("backoffice:", "customer_area:"))
        }
        - CUSTOMER_URL_NAMES
        - SUPPORT_BACKOFFICE_URL_NAMES
        - SUPPORT_CUSTOMER_URL_NAMES
        - AVAILABILITY_BACKOFFICE_URL_NAMES
        - AVAILABILITY_CUSTOMER_URL_NAMES
        - PORTABILITY_CUSTOMER_URL_NAMES
        - ADVERTISING_URL_NAMES
        - CONTRACT_BACKOFFICE_URL_NAMES
        - CUSTOMER_CONTRACT_URL_NAMES
        - BILLING_BACKOFFICE_URL_NAMES
        - CUSTOMER_BILLING_URL_NAMES
    )
    assert ours == BACKOFFICE_URL_NAMES
    assert {row.url_name for row in ROWS} == BACKOFFICE_URL_NAMES


def test_an_unknown_record_is_404_for_those_who_may_read_the_list(people: dict[str, User]):
    client = client_for(people["op_auditor"])
    assert client.get(reverse("backoffice:audit_entry", args=[999_999])).status_code == 404
    assert client.get(reverse("backoffice:outbox_mail", args=[999_999])).status_code == 404


def test_the_old_name_of_the_audit_log_still_leads_to_it(people: dict[str, User]):
    assert reverse("audit_log") == reverse("backoffice:audit_log") == "/betrieb/protokoll/"
    response = client_for(people["op_platform"]).get(reverse("audit_log"))
    assert response.status_code == 200
    assert response.resolver_match is not None
    assert response.resolver_match.view_name == "backoffice:audit_log"
