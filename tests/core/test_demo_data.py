"""The first README command loads demo data; running it twice changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from treffpunkt.accounts.demo import DEMO_PASSWORD, DEMO_PEOPLE
from treffpunkt.accounts.models import Organization, Role, TermsAcceptance, TermsVersion, User
from treffpunkt.booking.models import (
    Appointment,
    AppointmentStatus,
    ConsultationType,
    WeeklyHours,
)
from treffpunkt.calls.demo import demo_call_appointment

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple[int, ...]:
    return (
        Organization.objects.count(),
        User.objects.count(),
        TermsVersion.objects.count(),
        TermsAcceptance.objects.count(),
        Appointment.objects.count(),
        ConsultationType.objects.count(),
        WeeklyHours.objects.count(),
        *User.objects.order_by("pk").values_list("pk", flat=True),
    )


def test_demo_data_has_every_role_and_loading_it_twice_changes_nothing():
    out = StringIO()
    call_command("load_demo", stdout=out)
    first = _snapshot()
    passwords = list(User.objects.order_by("pk").values_list("password", flat=True))
    call_command("load_demo", stdout=StringIO())
    assert _snapshot() == first
    assert list(User.objects.order_by("pk").values_list("password", flat=True)) == passwords
    roles = [p.role for p in DEMO_PEOPLE]
    assert roles.count(Role.STAFF) == 2 and roles.count(Role.MEMBER) == 2
    assert {Role.ORG_ADMIN, Role.OPERATOR} <= set(roles)
    printed = out.getvalue()
    assert DEMO_PASSWORD in printed
    assert all(p.email in printed for p in DEMO_PEOPLE)


def test_demo_data_shows_a_working_booking():
    call_command("load_demo", stdout=StringIO())
    statuses = set(Appointment.objects.values_list("status", flat=True))
    assert statuses == {AppointmentStatus.CONFIRMED, AppointmentStatus.REQUESTED}
    member = User.objects.get(email="mitglied1@example.org")
    client = Client()
    client.force_login(member)
    [general, *_] = ConsultationType.objects.order_by("name")
    slots = client.get(f"/termine/buchen/{general.pk}/")
    assert slots.status_code == 200
    assert slots.context["days"], "the demo offers free slots to book"
    assert client.get("/termine/").context["upcoming"]


@pytest.mark.parametrize("person", DEMO_PEOPLE, ids=lambda p: p.role + ":" + p.email)
def test_every_printed_demo_login_works(person):
    call_command("load_demo", stdout=StringIO())
    client = Client()
    response = client.post(
        "/konto/anmelden/", {"username": person.email, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/", follow=True).status_code == 200


def test_demo_data_has_a_call_open_right_after_start():
    out = StringIO()
    call_command("load_demo", stdout=out)
    appointment = demo_call_appointment(minutes_left=30)
    assert appointment is not None
    url = f"/termine/{appointment.pk}/gespraech/"
    assert url in out.getvalue()
    for email in ("mitglied1@example.org", "berater1@kasse-nord.example.org"):
        client = Client()
        client.force_login(User.objects.get(email=email))
        page = client.get(url).content.decode()
        assert 'id="start-dialog"' in page, email
    call_command("load_demo", stdout=StringIO())
    assert demo_call_appointment() == appointment  # no second one while it is open
