"""Measured availability (P-SLA-1): the probe checks the main functions and opens and closes
incidents; the operator records, classifies and closes incidents and plans maintenance (announced
by mail); the monthly figure per customer follows the terms; the customer's contact sees their
own figure, incidents, chart and PDF; an outside monitor and Prometheus use token endpoints."""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.backoffice.conftest import operator_with, people
from tests.conftest import client_for
from tests.contracts.factories import BERLIN, Clock, customer_with_contact, freeze
from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.availability import probes, selectors, services
from treffpunkt.availability.models import Check, Incident, MaintenanceWindow, ProbeResult
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.core.models import AuditEntry
from treffpunkt.notifications.models import MailStatus, OutboxMail

pytestmark = pytest.mark.django_db
__all__ = ["people"]

AVAILABILITY_BACKOFFICE_URL_NAMES = frozenset(
    {
        "backoffice:availability:overview",
        "backoffice:availability:customer",
        "backoffice:availability:customer_pdf",
        "backoffice:availability:incidents",
        "backoffice:availability:incident_open",
        "backoffice:availability:incident",
        "backoffice:availability:incident_classify",
        "backoffice:availability:incident_close",
        "backoffice:availability:maintenance",
        "backoffice:availability:maintenance_plan",
        "backoffice:availability:external_result",
    }
)
AVAILABILITY_CUSTOMER_URL_NAMES = frozenset(
    {"customer_area:availability:report", "customer_area:availability:pdf"}
)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


def watcher() -> User:
    return operator_with(Capability.AVAILABILITY, preferred_language="en")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    # Monday 15 March 2027, 9:00 Berlin.
    return freeze(monkeypatch, date(2027, 3, 15))


def failing(function: Check) -> tuple[Check, Any]:
    def check() -> str:
        raise RuntimeError("connection refused")

    return function, check


def working(function: Check) -> tuple[Check, Any]:
    return function, lambda: ""


# --- the probe --------------------------------------------------------------------------------


def test_a_failed_check_opens_an_incident_once_and_the_next_working_check_closes_it(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(probes, "checks", lambda: [failing(Check.PAGES), working(Check.MAIL)])
    assert services.run_probe() == {"checks": 2, "failed": 1}
    clock.now += timedelta(minutes=1)
    services.run_probe()
    incident = Incident.objects.get()
    assert incident.function == Check.PAGES and incident.opened_automatically
    assert incident.significant and incident.ended_at is None
    assert incident.started_at == at(date(2027, 3, 15), 9)
    # The fix time (8 service hours) runs from the start: Monday 9:00 to 17:00.
    assert incident.fix_due_at == at(date(2027, 3, 15), 17)
    assert ProbeResult.objects.filter(ok=False).count() == 2
    clock.now += timedelta(minutes=1)
    monkeypatch.setattr(probes, "checks", lambda: [working(Check.PAGES), working(Check.MAIL)])
    services.run_probe()
    incident.refresh_from_db()
    assert incident.ended_at == at(date(2027, 3, 15), 9, 2)
    assert AuditEntry.objects.filter(code="availability.incident.opened").count() == 1
    assert AuditEntry.objects.filter(code="availability.incident.closed").count() == 1


def test_the_real_checks_find_a_working_database_layer_and_outbox_and_a_stuck_mail(
    clock: Clock,
):
    results = {
        function: probes._timed(function, check)
        for function, check in probes.checks()
        if function in (Check.DATABASE, Check.MAIL, Check.TASKS)
    }
    assert all(result.ok for result in results.values()), results
    OutboxMail.objects.create(
        to_address="x@example.org",
        template="accounts/test",
        language="de",
        subject="s",
        body_text="b",
        status=MailStatus.PENDING,
        next_attempt_at=clock.now,
        created_at=clock.now - timedelta(minutes=11),
    )
    stuck = probes._timed(Check.MAIL, probes.check_mail)
    assert not stuck.ok and "waits since" in stuck.detail


def test_the_pages_and_sign_in_checks_ask_the_running_server(
    live_server: Any, settings: SettingsWrapper
):
    settings.PROBE_BASE_URL = live_server.url
    assert probes._timed(Check.PAGES, probes.check_pages).ok
    assert probes._timed(Check.LOGIN, probes.check_login).ok
    settings.PROBE_BASE_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    down = probes._timed(Check.PAGES, probes.check_pages)
    assert not down.ok and down.detail


def test_the_signalling_check_reaches_the_websocket_endpoint(
    live_app: Any, settings: SettingsWrapper
):
    settings.PROBE_BASE_URL = live_app.url
    answered = probes._timed(Check.SIGNALLING, probes.check_signalling)
    assert answered.ok, answered.detail
    settings.PROBE_BASE_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    down = probes._timed(Check.SIGNALLING, probes.check_signalling)
    assert not down.ok and down.detail


def test_the_sign_in_check_signs_in_with_the_probe_account(
    live_server: Any, settings: SettingsWrapper
):
    from tests.factories import PASSWORD, UserFactory

    member = UserFactory()
    settings.PROBE_BASE_URL = live_server.url
    # Without a probe account the check can only see the form, and says so.
    settings.PROBE_LOGIN_EMAIL, settings.PROBE_LOGIN_PASSWORD = "", ""
    form_only = probes._timed(Check.LOGIN, probes.check_login)
    assert form_only.ok and "no probe account" in form_only.detail
    settings.PROBE_LOGIN_EMAIL, settings.PROBE_LOGIN_PASSWORD = member.email, PASSWORD
    signed_in = probes._timed(Check.LOGIN, probes.check_login)
    assert signed_in.ok and signed_in.detail == "", signed_in.detail
    settings.PROBE_LOGIN_PASSWORD = "not-the-password"
    refused = probes._timed(Check.LOGIN, probes.check_login)
    assert not refused.ok and "could not sign in" in refused.detail


@pytest.fixture
def stun_server() -> Iterator[int]:
    """A STUN responder on 127.0.0.1 that answers one binding request (RFC 5389)."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(5)

    def answer() -> None:
        try:
            request, sender = udp.recvfrom(2048)
        except OSError:
            return
        header = struct.pack("!HHI", 0x0101, 0, probes.STUN_MAGIC) + request[8:20]
        udp.sendto(header, sender)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    yield udp.getsockname()[1]
    udp.close()
    thread.join(timeout=5)


def test_the_turn_check_asks_the_configured_server(stun_server: int, settings: SettingsWrapper):
    settings.CALL_STUN_URLS = [f"stun:127.0.0.1:{stun_server}"]
    assert Check.TURN in [function for function, _check in probes.checks()]
    assert probes._timed(Check.TURN, probes.check_turn).ok


def test_without_a_turn_server_there_is_no_turn_check(settings: SettingsWrapper):
    settings.CALL_STUN_URLS, settings.CALL_TURN_URLS = [], []
    assert Check.TURN not in [function for function, _check in probes.checks()]


# --- the month's figure -----------------------------------------------------------------------


def test_a_customers_month_counts_late_significant_incidents_outside_maintenance(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
):
    customer, _contact = customer_with_contact()
    other, _other_contact = customer_with_contact()
    operator = watcher()
    clock.set_day(date(2027, 3, 1))
    services.plan_maintenance(
        actor=operator,
        title="Datenbank-Update",
        description="",
        starts_at=at(date(2027, 3, 10), 22),
        ends_at=at(date(2027, 3, 11), 3),
    )
    clock.set_day(date(2027, 3, 15))
    # Wednesday 10 March 2027 21:00 to Thursday 4:00. Fix time: 8 service hours from 21:00,
    # i.e. Thursday 9:00-17:00, so the whole incident is in time ... except we close it late:
    late = services.open_incident(
        actor=operator,
        title="Anmeldung gestört",
        started_at=at(date(2027, 3, 10), 21),
        ended_at=at(date(2027, 3, 11), 19),
    )
    assert late.fix_due_at == at(date(2027, 3, 11), 17)
    # Unavailable: 17:00-19:00 on Thursday (maintenance ended at 3:00) = 120 minutes.
    services.open_incident(
        actor=operator,
        title="Nur der andere Kunde",
        started_at=at(date(2027, 3, 2), 9),
        ended_at=at(date(2027, 3, 4), 9),
        customers=[other],
    )
    services.open_incident(
        actor=operator,
        title="Kleinigkeit",
        started_at=at(date(2027, 3, 3), 9),
        ended_at=at(date(2027, 3, 8), 9),
        significant=False,
    )
    report = selectors.month_report(date(2027, 3, 1), customer)
    # March 2027 has 31 days less the hour of the change to summer time: 44,580 minutes.
    assert report.figure.minutes_total == 44_580
    assert report.figure.minutes_unavailable == Decimal(120)
    assert report.figure.percent == Decimal("99.73")  # 100 × 44,460 / 44,580 = 99.7308…
    assert [i.title for i in report.incidents] == ["Kleinigkeit", "Anmeldung gestört"]
    assert [w.title for w in report.maintenance] == ["Datenbank-Update"]
    other_report = selectors.month_report(date(2027, 3, 1), other)
    assert "Nur der andere Kunde" in [i.title for i in other_report.incidents]
    # The other customer's own incident ran 40 hours past its fix time (2 March 17:00 to
    # 4 March 9:00), on top of the 120 minutes everyone had: 2,520 minutes, 94.347… %.
    assert other_report.figure.minutes_unavailable == Decimal(120 + 40 * 60)
    assert other_report.below_goal is True
    assert other_report.figure.percent == Decimal("94.34")


def test_a_month_below_97_percent_is_flagged_to_the_operator(clock: Clock):
    customer, _contact = customer_with_contact()
    services.open_incident(
        actor=watcher(),
        title="Großer Ausfall",
        started_at=at(date(2027, 3, 1), 9),
        ended_at=at(date(2027, 3, 3), 17),
        customers=[customer],
    )
    page = client_for(watcher()).get(reverse("backoffice:availability:overview"))
    content = page.content.decode()
    assert page.status_code == 200
    row = content[content.index(customer.legal_name) :]
    with translation.override("en"):  # the operator reads English
        no = gettext("no")
    assert row.split("</tr>")[0].count(f'<strong class="overdue">{no}</strong>') == 1


# --- operator actions -------------------------------------------------------------------------


def test_maintenance_is_announced_to_the_affected_contacts_and_bad_plans_write_nothing(
    clock: Clock,
):
    customer, _contact = customer_with_contact()
    customer_with_contact()  # another customer: its contact gets no mail
    operator = watcher()
    for starts, ends in (
        (at(date(2027, 3, 15), 20), at(date(2027, 3, 15), 22)),  # less than a day ahead
        (at(date(2027, 3, 20), 22), at(date(2027, 3, 20), 21)),  # ends before it starts
        (at(date(2027, 3, 20), 22), at(date(2027, 3, 22), 2)),  # longer than a day
    ):
        with pytest.raises(DomainError):
            services.plan_maintenance(
                actor=operator, title="x", description="", starts_at=starts, ends_at=ends
            )
    assert MaintenanceWindow.objects.count() == 0 and OutboxMail.objects.count() == 0
    with pytest.raises(NotAllowed):
        services.plan_maintenance(
            actor=operator_with(Capability.SUPPORT),
            title="x",
            description="",
            starts_at=at(date(2027, 3, 20), 22),
            ends_at=at(date(2027, 3, 21), 2),
        )
    services.plan_maintenance(
        actor=operator,
        title="Neue Server",
        description="Umzug ins neue Rechenzentrum.",
        starts_at=at(date(2027, 3, 20), 22),
        ends_at=at(date(2027, 3, 21), 2),
        customers=[customer],
    )
    mail = OutboxMail.objects.get(template="availability/maintenance")
    assert mail.to_address == customer.contacts.get().email
    assert "Neue Server" in mail.body_text


def test_the_operator_classifies_and_closes_an_incident_from_its_page(clock: Clock):
    incident = services.open_incident(
        actor=watcher(), title="Ton fällt aus", started_at=at(date(2027, 3, 15), 8)
    )
    office = client_for(watcher())
    page = office.get(reverse("backoffice:availability:incident", args=[incident.pk]))
    assert page.status_code == 200
    classify = reverse("backoffice:availability:incident_classify", args=[incident.pk])
    assert office.post(classify, {"significant": "0"}).status_code == 302
    close = reverse("backoffice:availability:incident_close", args=[incident.pk])
    refused = office.post(close, {"ended_at": "2027-03-15T07:00"})  # before the start
    assert refused.status_code == 400
    assert office.post(close, {"ended_at": "2027-03-15T08:30"}).status_code == 302
    incident.refresh_from_db()
    assert incident.significant is False and incident.ended_at == at(date(2027, 3, 15), 8, 30)


# --- machine endpoints ------------------------------------------------------------------------


def test_an_outside_monitor_posts_results_with_its_token_only(
    clock: Clock, settings: SettingsWrapper
):
    settings.PROBE_TOKEN = "s3cret-probe"
    url = reverse("backoffice:availability:external_result")
    client = Client()
    body = {"function": "pages", "ok": False, "detail": "timeout from Frankfurt"}
    assert client.post(url, body, content_type="application/json").status_code == 401
    wrong = client.post(
        url, body, content_type="application/json", HTTP_AUTHORIZATION="Bearer nope"
    )
    assert wrong.status_code == 401
    auth = {"HTTP_AUTHORIZATION": "Bearer s3cret-probe"}
    for bad in (b"{not json", json.dumps({"function": "coffee", "ok": True}).encode()):
        response = client.post(url, bad, content_type="application/json", **auth)
        assert response.status_code == 400 and "error" in response.json()
    assert ProbeResult.objects.count() == 0
    response = client.post(url, body, content_type="application/json", **auth)
    assert response.status_code == 201
    assert ProbeResult.objects.get().source == "external"
    assert Incident.objects.get().function == Check.PAGES


def test_metrics_need_their_token_and_speak_prometheus(clock: Clock, settings: SettingsWrapper):
    settings.METRICS_TOKEN = "s3cret-metrics"
    services.record_results(
        [probes.CheckResult(Check.DATABASE, True, 3)], at=clock.now, source="internal"
    )
    client = Client()
    assert client.get("/metrics").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'treffpunkt_check_up{function="database"} 1.0' in text
    assert "treffpunkt_incidents_open 0.0" in text
    settings.METRICS_TOKEN = ""
    empty = client.get("/metrics", HTTP_AUTHORIZATION="Bearer ")
    assert empty.status_code == 401  # no token configured: nobody reads


# --- pages and who may see them ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "reads", "writes"),
    [
        ("anonymous", "login", "login"),
        ("op_availability", 200, 200),
        ("superuser", 200, 200),
        ("op_auditor", 200, 403),
        ("op_support", 403, 403),
        ("op_billing", 403, 403),
        ("op_none", 403, 403),
        ("member", 403, 403),
        ("staff", 403, 403),
        ("org_admin", 403, 403),
        ("other_staff", 403, 403),
        ("customer_contact", 403, 403),
    ],
)
def test_every_availability_page_answers_each_role_as_its_capability_allows(
    people: dict[str, User], clock: Clock, who: str, reads: Any, writes: Any
):
    customer, _contact = customer_with_contact()
    incident = services.open_incident(
        actor=watcher(), title="Test", started_at=at(date(2027, 3, 15), 8)
    )
    client = Client() if who == "anonymous" else client_for(people[who])
    urls = {
        "backoffice:availability:overview": (reverse("backoffice:availability:overview"), reads),
        "backoffice:availability:customer": (
            reverse("backoffice:availability:customer", args=[customer.pk]),
            reads,
        ),
        "backoffice:availability:customer_pdf": (
            reverse("backoffice:availability:customer_pdf", args=[customer.pk]),
            reads,
        ),
        "backoffice:availability:incidents": (reverse("backoffice:availability:incidents"), reads),
        "backoffice:availability:incident": (
            reverse("backoffice:availability:incident", args=[incident.pk]),
            reads,
        ),
        "backoffice:availability:incident_open": (
            reverse("backoffice:availability:incident_open"),
            writes,
        ),
        "backoffice:availability:incident_classify": (
            reverse("backoffice:availability:incident_classify", args=[incident.pk]),
            writes,
        ),
        "backoffice:availability:incident_close": (
            reverse("backoffice:availability:incident_close", args=[incident.pk]),
            writes,
        ),
        "backoffice:availability:maintenance": (
            reverse("backoffice:availability:maintenance"),
            reads,
        ),
        "backoffice:availability:maintenance_plan": (
            reverse("backoffice:availability:maintenance_plan"),
            writes,
        ),
    }
    # The outside monitor's endpoint takes a token, not a login (tested above).
    assert set(urls) | {"backoffice:availability:external_result"} == (
        AVAILABILITY_BACKOFFICE_URL_NAMES
    )
    for name, (url, expected) in urls.items():
        response = client.get(url)
        if expected == "login":
            assert response.status_code == 302, name
            assert response["Location"].startswith(reverse("accounts:login")), name
        else:
            assert response.status_code == expected, (name, who)


def test_a_contact_sees_their_customers_figure_incidents_and_pdf_but_not_another_customers(
    clock: Clock,
):
    customer, contact = customer_with_contact()
    other, _other_contact = customer_with_contact()
    services.open_incident(
        actor=watcher(),
        title="Videoserver ausgefallen",
        started_at=at(date(2027, 3, 1), 9),
        ended_at=at(date(2027, 3, 2), 12),
        customers=[customer],
    )
    services.open_incident(
        actor=watcher(),
        title="Nur beim anderen Kunden",
        started_at=at(date(2027, 3, 1), 9),
        ended_at=at(date(2027, 3, 1), 10),
        customers=[other],
    )
    client = client_for(contact)
    page = client.get(reverse("customer_area:availability:report"))
    content = page.content.decode()
    assert page.status_code == 200
    assert "Videoserver ausgefallen" in content and "Nur beim anderen Kunden" not in content
    assert "<svg" in content and 'role="img"' in content
    # Unavailable: 2 March 9:00 (fix due 1 March 17:00) ... 17:00 on 1 March to 12:00 on 2 March.
    report = selectors.month_report(date(2027, 3, 1), customer)
    assert report.figure.minutes_unavailable == Decimal(19 * 60)
    assert f"{report.figure.percent:.2f}" in content.replace(",", ".")
    pdf = client.get(reverse("customer_area:availability:pdf") + "?monat=2027-03")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert (
        client.get(reverse("customer_area:availability:report") + "?monat=2027-04").status_code
        == 404
    )
    assert client.get(reverse("customer_area:availability:report") + "?monat=x").status_code == 404
    for outsider in (None, operator_with(Capability.AVAILABILITY)):
        response = (Client() if outsider is None else client_for(outsider)).get(
            reverse("customer_area:availability:report")
        )
        assert response.status_code in (302, 403)


def test_on_the_first_the_operator_is_told_which_customers_stayed_below_97_percent(
    clock: Clock, settings: SettingsWrapper
):
    settings.OPERATOR_CONTACT_EMAIL = "betrieb@treffpunkt.example"
    below, _contact = customer_with_contact()
    customer_with_contact()  # another customer, who met the promise
    services.open_incident(
        actor=watcher(),
        title="Großer Ausfall",
        started_at=at(date(2027, 2, 1), 9),
        ended_at=at(date(2027, 2, 3), 17),
        customers=[below],
    )
    assert services.flag_months_below_goal(today=date(2027, 3, 1)) == {"customers_below": 1}
    mail = OutboxMail.objects.get(template="availability/below_goal")
    assert mail.to_address == "betrieb@treffpunkt.example"
    assert f"- {below.legal_name}: 92.85 %" in mail.body_text
    assert mail.body_text.count("\n- ") == 1  # only the customer below the promise
    assert AuditEntry.objects.filter(code="availability.month.flagged").count() == 1
    # A month everyone met sends nothing.
    assert services.flag_months_below_goal(today=date(2027, 4, 1)) == {"customers_below": 0}
    assert OutboxMail.objects.filter(template="availability/below_goal").count() == 1
