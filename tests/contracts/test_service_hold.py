"""The held service (P-OP-3, P-SLA-3) on the consultation side: while the back office holds
back an organization's booking or calls, its members and staff see a notice instead and can
neither request nor start anything; lifted, everything works again; another organization is
unaffected; nothing is deleted."""

from __future__ import annotations

import uuid

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from tests.booking.conftest import Clock, berlin, consultation, frozen_clock
from tests.calls.conftest import call_appointment, confirmed_call, join, refusal_code
from tests.conftest import World, client_for
from tests.sockets import cookie_of, receive_json
from treffpunkt.accounts.models import Organization
from treffpunkt.accounts.operator_services import set_service_hold
from treffpunkt.booking.models import Appointment, AppointmentStatus, ConsultationType
from treffpunkt.calls.models import CallPresence

__all__ = ["consultation", "frozen_clock"]  # the booking fixtures

TUESDAY_10 = berlin(2027, 3, 23, 10, 0)
PAUSED = "Online booking is paused for"
CALLS_PAUSED = "Video calls are paused for"


def hold(organization: Organization, part: str) -> None:
    set_service_hold(organization=organization, hold=part, actor=None)


def _request(client: Client, ctype: ConsultationType) -> object:
    return client.post(
        reverse("booking:request", args=[ctype.pk]),
        {"start": TUESDAY_10.isoformat(), "request_key": str(uuid.uuid4()), "note": "Frage"},
    )


def _language_en(*users: object) -> None:
    for user in users:
        user.preferred_language = "en"  # type: ignore[attr-defined]
        user.save(update_fields=["preferred_language"])  # type: ignore[attr-defined]


# --- booking -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("part", ["all", "booking"])
def test_a_member_of_a_held_organization_sees_the_notice_and_cannot_request(
    frozen_clock: Clock, world: World, consultation: ConsultationType, part: str
):
    _language_en(world.member)
    hold(world.org, part)
    client = client_for(world.member)
    for url in (
        reverse("booking:book"),
        reverse("booking:slots", args=[consultation.pk]),
        reverse("booking:request", args=[consultation.pk]) + "?start=" + TUESDAY_10.isoformat(),
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        body = page.content.decode()
        assert f"{PAUSED} Kasse Nord." in body, url
        assert "Please contact Kasse Nord directly." in body
        assert "Your appointments and messages are kept." in body
    response = _request(client, consultation)
    assert response.status_code == 403
    assert PAUSED in response.content.decode()  # type: ignore[attr-defined]
    assert not Appointment.objects.exists()
    # What the member has stays readable.
    assert client.get(reverse("booking:mine")).status_code == 200


@pytest.mark.django_db
def test_with_the_hold_lifted_booking_works_again(
    frozen_clock: Clock, world: World, consultation: ConsultationType
):
    hold(world.org, "all")
    client = client_for(world.member)
    assert _request(client, consultation).status_code == 403  # type: ignore[attr-defined]
    hold(world.org, "")
    page = client.get(reverse("booking:book"))
    assert PAUSED not in page.content.decode()
    response = _request(client, consultation)
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert Appointment.objects.get().status == AppointmentStatus.REQUESTED


@pytest.mark.django_db
def test_a_calls_only_hold_leaves_booking_alone(
    frozen_clock: Clock, world: World, consultation: ConsultationType
):
    hold(world.org, "calls")
    response = _request(client_for(world.member), consultation)
    assert response.status_code == 302  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_staff_cannot_confirm_while_booking_is_held_and_nothing_is_deleted(
    frozen_clock: Clock, world: World, consultation: ConsultationType
):
    response = _request(client_for(world.member), consultation)
    appointment = Appointment.objects.get()
    assert response.status_code == 302  # type: ignore[attr-defined]
    hold(world.org, "booking")
    staff = client_for(appointment.staff)
    refused = staff.post(reverse("booking:confirm", args=[appointment.pk]))
    assert refused.status_code == 403
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.REQUESTED
    # The agenda and the appointment stay readable; the appointment is still there.
    assert staff.get(reverse("booking:agenda")).status_code == 200
    assert staff.get(appointment.get_absolute_url()).status_code == 200
    assert Appointment.objects.count() == 1


@pytest.mark.django_db
def test_another_organization_is_unaffected(frozen_clock: Clock, world: World):
    hold(world.other_org, "all")
    member_page = client_for(world.member).get(reverse("booking:book"))
    assert PAUSED not in member_page.content.decode()
    world.org.refresh_from_db()
    assert world.org.service_hold == ""


# --- calls -------------------------------------------------------------------------------------


def call_url(appointment: Appointment) -> str:
    return reverse("calls:call", kwargs={"appointment_id": appointment.pk})


@pytest.mark.django_db
@pytest.mark.parametrize("part", ["all", "calls"])
def test_the_call_page_shows_the_notice_while_calls_are_held(world: World, part: str):
    _language_en(world.staff, world.member)
    appointment = call_appointment(world)
    hold(world.org, part)
    for user in (world.staff, world.member):
        response = client_for(user).get(call_url(appointment))
        assert response.status_code == 200
        body = response.content.decode()
        assert f"{CALLS_PAUSED} Kasse Nord." in body
        assert 'id="start-dialog"' not in body
    # Strangers still get "not found", not the notice.
    assert client_for(world.other_staff).get(call_url(appointment)).status_code == 404
    hold(world.org, "")
    lifted = client_for(world.staff).get(call_url(appointment))
    assert 'id="start-dialog"' in lifted.content.decode()


@pytest.mark.django_db
def test_a_booking_only_hold_leaves_the_call_alone(world: World):
    appointment = call_appointment(world)
    hold(world.org, "booking")
    body = client_for(world.staff).get(call_url(appointment)).content.decode()
    assert 'id="start-dialog"' in body


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sockets_closed_at_the_end")
async def test_the_call_socket_refuses_to_join_while_calls_are_held(world: World):
    appointment = await sync_to_async(call_appointment)(world)
    other_call = await sync_to_async(confirmed_call)(
        member=await sync_to_async(_other_member)(world), staff=world.other_staff
    )
    await sync_to_async(hold)(world.org, "calls")
    assert await refusal_code(appointment.pk, await cookie_of(world.staff)) == 4403
    assert await refusal_code(appointment.pk, await cookie_of(world.member)) == 4403
    assert not await sync_to_async(CallPresence.objects.exists)()
    # Another organization's call is unaffected.
    communicator, connected, _ = await join(other_call.pk, await cookie_of(world.other_staff))
    assert connected
    assert (await receive_json(communicator))["type"] == "hello"
    # Lifted: the staff member joins again.
    await sync_to_async(hold)(world.org, "")
    communicator, connected, _ = await join(appointment.pk, await cookie_of(world.staff))
    assert connected
    assert (await receive_json(communicator))["type"] == "hello"
    assert await sync_to_async(Appointment.objects.filter(pk=appointment.pk).exists)()


def _other_member(world: World) -> object:
    from tests.factories import MemberFactory

    return MemberFactory(organization=world.other_org, display_name="Olli Other")
