"""Every booking page and action checks who may use it, for each role: the member who owns
the appointment, another member, staff and admin of the organization, staff and admin of
another organization, the operator, and anonymous visitors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from tests.accounts.test_access_by_role import (
    FORBIDDEN,
    NOT_FOUND,
    OK,
    ROLES,
    TO_LOGIN,
    Expect,
    check,
    logged_in,
)
from tests.booking.conftest import Book, Clock, berlin
from tests.conftest import World, client_for
from treffpunkt.booking.models import Appointment, ConsultationType, ExceptionKind, HoursException

pytestmark = pytest.mark.django_db


@dataclass
class Things:
    world: World
    ctype: ConsultationType
    foreign_type: ConsultationType
    appointment: Appointment
    exception: HoursException


@pytest.fixture
def things(frozen_clock: Clock, world: World, consultation: ConsultationType, book: Book) -> Things:
    foreign = ConsultationType.objects.create(
        organization=world.other_org, name="Fremd", duration_minutes=30
    )
    foreign.staff.set([world.other_staff])
    return Things(
        world=world,
        ctype=consultation,
        foreign_type=foreign,
        appointment=book(berlin(2027, 3, 24, 10, 0), staff_id=world.staff.pk),
        exception=HoursException.objects.create(
            staff=world.staff, date=berlin(2027, 4, 1).date(), kind=ExceptionKind.CLOSED
        ),
    )


def to_appointment(t: Things) -> str:
    return t.appointment.get_absolute_url()


def redirect_to(target: Callable[[Things], str]) -> Callable[[Things], Expect]:
    return lambda t: Expect(302, target(t))


@dataclass(frozen=True)
class Action:
    name: str
    url: Callable[[Things], str]
    expect: dict[str, Expect | Callable[[Things], Expect]]
    method: str = "get"
    data: dict[str, str] | None = None


MEMBERS_ONLY = logged_in(FORBIDDEN, member=OK, other_member=OK)
TEAM_ONLY = logged_in(FORBIDDEN, staff=OK, org_admin=OK, other_staff=OK, other_admin=OK)
ADMINS_ONLY = logged_in(FORBIDDEN, org_admin=OK, other_admin=OK)
SAME_ORG_TEAM_AFTER = redirect_to(to_appointment)

ACTIONS = [
    Action("mine", lambda t: reverse("booking:mine"), MEMBERS_ONLY),
    Action("book", lambda t: reverse("booking:book"), MEMBERS_ONLY),
    Action("slots", lambda t: reverse("booking:slots", args=[t.ctype.pk]), MEMBERS_ONLY),
    Action(
        "slots-of-other-org",
        lambda t: reverse("booking:slots", args=[t.foreign_type.pk]),
        logged_in(FORBIDDEN, member=NOT_FOUND, other_member=NOT_FOUND),
    ),
    Action(
        "request-review",
        lambda t: (
            reverse("booking:request", args=[t.ctype.pk])
            + "?start=2027-03-25T10%3A00%3A00%2B01%3A00"
        ),
        MEMBERS_ONLY,
    ),
    Action(
        "appointment",
        to_appointment,
        logged_in(
            NOT_FOUND,
            member=OK,
            staff=OK,
            org_admin=OK,
        ),
    ),
    Action(
        "confirm",
        lambda t: reverse("booking:confirm", args=[t.appointment.pk]),
        logged_in(
            FORBIDDEN,
            staff=SAME_ORG_TEAM_AFTER,
            org_admin=SAME_ORG_TEAM_AFTER,
            other_staff=NOT_FOUND,
            other_admin=NOT_FOUND,
        ),
        method="post",
    ),
    Action(
        "decline",
        lambda t: reverse("booking:decline", args=[t.appointment.pk]),
        logged_in(
            FORBIDDEN,
            staff=SAME_ORG_TEAM_AFTER,
            org_admin=SAME_ORG_TEAM_AFTER,
            other_staff=NOT_FOUND,
            other_admin=NOT_FOUND,
        ),
        method="post",
        data={"decline-reason": "Keine Zeit"},
    ),
    Action(
        "propose",
        lambda t: reverse("booking:propose", args=[t.appointment.pk]),
        logged_in(FORBIDDEN, staff=OK, org_admin=OK, other_staff=NOT_FOUND, other_admin=NOT_FOUND),
    ),
    Action(
        "cancel",
        lambda t: reverse("booking:cancel", args=[t.appointment.pk]),
        logged_in(
            NOT_FOUND,
            member=SAME_ORG_TEAM_AFTER,
            staff=SAME_ORG_TEAM_AFTER,
            org_admin=SAME_ORG_TEAM_AFTER,
        ),
        method="post",
        data={"cancel-reason": "Bitte neu buchen"},
    ),
    Action(
        "move",
        lambda t: reverse("booking:move", args=[t.appointment.pk]),
        logged_in(NOT_FOUND, member=OK, staff=OK, org_admin=OK),
    ),
    Action(
        "accept-proposal",
        lambda t: reverse("booking:accept_proposal", args=[t.appointment.pk]),
        logged_in(FORBIDDEN, member=SAME_ORG_TEAM_AFTER, other_member=NOT_FOUND),
        method="post",
    ),
    Action(
        "decline-proposal",
        lambda t: reverse("booking:decline_proposal", args=[t.appointment.pk]),
        logged_in(FORBIDDEN, member=SAME_ORG_TEAM_AFTER, other_member=NOT_FOUND),
        method="post",
    ),
    Action("inbox", lambda t: reverse("booking:inbox"), TEAM_ONLY),
    Action("agenda", lambda t: reverse("booking:agenda"), TEAM_ONLY),
    Action("types", lambda t: reverse("booking:types"), ADMINS_ONLY),
    Action("type-new", lambda t: reverse("booking:type_new"), ADMINS_ONLY),
    Action(
        "type-edit",
        lambda t: reverse("booking:type_edit", args=[t.ctype.pk]),
        logged_in(FORBIDDEN, org_admin=OK, other_admin=NOT_FOUND),
    ),
    Action("policy", lambda t: reverse("booking:policy"), ADMINS_ONLY),
    Action("hours-overview", lambda t: reverse("booking:hours_overview"), ADMINS_ONLY),
    Action(
        "hours-of-staff",
        lambda t: reverse("booking:hours", args=[t.world.staff.pk]),
        logged_in(FORBIDDEN, staff=OK, org_admin=OK, other_staff=NOT_FOUND, other_admin=NOT_FOUND),
    ),
    Action(
        "hours-of-colleague",
        lambda t: reverse("booking:hours", args=[t.world.org_admin.pk]),
        logged_in(
            FORBIDDEN, staff=NOT_FOUND, org_admin=OK, other_staff=NOT_FOUND, other_admin=NOT_FOUND
        ),
    ),
]

BOOKING_URL_NAMES = {
    "booking:mine",
    "booking:book",
    "booking:slots",
    "booking:request",
    "booking:appointment",
    "booking:cancel",
    "booking:move",
    "booking:accept_proposal",
    "booking:decline_proposal",
    "booking:confirm",
    "booking:decline",
    "booking:propose",
    "booking:inbox",
    "booking:agenda",
    "booking:types",
    "booking:type_new",
    "booking:type_edit",
    "booking:policy",
    "booking:hours_overview",
    "booking:hours",
    # POST only; its access rules are tested with the setup pages (test_setup_pages.py)
    "booking:remove_exception",
}


def _expected(action: Action, role: str, things: Things) -> Expect:
    value = action.expect[role]
    return value(things) if callable(value) else value


CASES = [
    pytest.param(action, role, id=f"{action.name}/{role}") for action in ACTIONS for role in ROLES
]


@pytest.mark.parametrize(("action", "role"), CASES)
def test_each_role_gets_exactly_the_booking_access_it_should(
    things: Things, action: Action, role: str
):
    user = None if role == "anonymous" else things.world.people[role]
    client = client_for(user) if user is not None else Client()
    url = action.url(things)
    before = Appointment.objects.get(pk=things.appointment.pk).status
    send = client.post if action.method == "post" else client.get
    response = send(url, action.data or {}) if action.method == "post" else send(url)
    expected = _expected(action, role, things)
    check(response, expected, path=url)
    if expected.status in (403, 404) or expected is TO_LOGIN:
        # A refused request changes nothing.
        assert Appointment.objects.get(pk=things.appointment.pk).status == before


def test_every_booking_url_is_in_the_table():
    tabled = {
        "booking:" + name.replace("-", "_")
        for name in (a.name for a in ACTIONS)
        if not name.endswith("-of-other-org")
    }
    aliases = {
        "booking:request_review": "booking:request",
        "booking:hours_of_staff": "booking:hours",
        "booking:hours_of_colleague": "booking:hours",
    }
    tabled = {aliases.get(name, name) for name in tabled}
    assert BOOKING_URL_NAMES - tabled == {"booking:remove_exception"}


def test_anonymous_cannot_even_see_a_slot_list(things: Things):
    response = Client().get(reverse("booking:slots", args=[things.ctype.pk]))
    assert response.status_code == 302
    assert "/konto/anmelden/" in response["Location"]
