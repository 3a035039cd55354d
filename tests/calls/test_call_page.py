"""The call page (P-CALL-1): open to the appointment's member and staff member inside the call
window, "not found" for everybody else, a clear message with the time outside the window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from tests.calls.conftest import call_appointment
from tests.conftest import World, client_for
from tests.factories import StaffFactory
from treffpunkt.booking.models import AppointmentStatus

CALL_URL_NAMES = {"calls:call"}


def call_url(appointment_id: int) -> str:
    return reverse("calls:call", kwargs={"appointment_id": appointment_id})


@pytest.mark.parametrize("role", ["member", "staff"])
def test_the_two_people_get_the_call_page_inside_the_window(world: World, role: str):
    appointment = call_appointment(world)
    response = client_for(world.people[role]).get(call_url(appointment.pk))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="start-dialog"' in page
    config = response.context["config"]
    assert config["role"] == role
    assert config["socketPath"] == f"/ws/gespraech/{appointment.pk}/"
    other = world.staff if role == "member" else world.member
    assert config["otherName"] == other.display_name
    assert other.email not in page  # P-ACC-3


@pytest.mark.parametrize(
    "role", ["other_member", "org_admin", "other_staff", "other_admin", "operator"]
)
def test_everybody_else_gets_not_found(world: World, role: str):
    appointment = call_appointment(world)
    response = client_for(world.people[role]).get(call_url(appointment.pk))
    assert response.status_code == 404
    assert world.member.display_name not in response.content.decode()


def test_a_colleague_of_the_staff_member_gets_not_found(world: World):
    appointment = call_appointment(world)
    colleague = StaffFactory(organization=world.org)
    assert client_for(colleague).get(call_url(appointment.pk)).status_code == 404


def test_anonymous_visitors_are_sent_to_the_login(world: World):
    appointment = call_appointment(world)
    response = Client().get(call_url(appointment.pk))
    assert response.status_code == 302
    assert "/konto/anmelden/" in response["Location"]


def test_too_early_says_when_the_call_opens(world: World):
    appointment = call_appointment(world, starts_in=timedelta(hours=3))
    for user in (world.member, world.staff):
        response = client_for(user).get(call_url(appointment.pk))
        page = response.content.decode()
        assert response.status_code == 200
        assert "start-dialog" not in page
        assert "Es ist noch zu früh" in page
        assert response.context["window"].opens_at == appointment.start - timedelta(minutes=10)


def test_too_late_says_that_the_window_closed(world: World):
    appointment = call_appointment(world, starts_in=timedelta(hours=-2))
    response = client_for(world.member).get(call_url(appointment.pk))
    assert "start-dialog" not in response.content.decode()
    assert "vorbei" in response.content.decode()


def test_an_unconfirmed_appointment_has_no_call(world: World):
    appointment = call_appointment(world, status=AppointmentStatus.REQUESTED)
    response = client_for(world.member).get(call_url(appointment.pk))
    assert "start-dialog" not in response.content.decode()
    assert "nicht bestätigt" in response.content.decode()


def test_the_appointment_page_leads_to_the_call_when_it_is_open(world: World):
    appointment = call_appointment(world)
    for user in (world.member, world.staff):
        page = client_for(user).get(appointment.get_absolute_url()).content.decode()
        assert call_url(appointment.pk) in page
    admin_page = client_for(world.org_admin).get(appointment.get_absolute_url()).content.decode()
    assert call_url(appointment.pk) not in admin_page


def test_the_appointment_page_says_when_the_call_opens(world: World):
    appointment = call_appointment(world, starts_in=timedelta(days=1))
    page = client_for(world.member).get(appointment.get_absolute_url()).content.decode()
    assert call_url(appointment.pk) not in page
    assert "Die Gesprächsseite öffnet" in page
