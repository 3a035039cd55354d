"""The pages where an organization sets up booking (P-BOOK-1): consultation types, booking
rules, weekly hours and one-off changes. Every write goes through the booking services, so each
write test checks the database and the audit entry the service writes."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.booking.conftest import Clock, work_week
from tests.conftest import World, client_for
from treffpunkt.accounts.models import User
from treffpunkt.booking.models import (
    BookingPolicy,
    ConsultationType,
    ExceptionKind,
    HoursException,
    WeeklyHours,
)
from treffpunkt.core.models import AuditEntry

pytestmark = pytest.mark.django_db

TYPES = "/verwaltung/terminarten/"
NEW_TYPE = "/verwaltung/terminarten/neu/"
POLICY = "/verwaltung/terminregeln/"
HOURS_OVERVIEW = "/verwaltung/sprechzeiten/"


def hours_url(staff: User) -> str:
    return reverse("booking:hours", kwargs={"staff_id": staff.pk})


def type_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Beratung Pflege",
        "description": "Fragen zur Pflegeversicherung",
        "duration_minutes": "30",
        "buffer_before_minutes": "5",
        "buffer_after_minutes": "10",
        "min_notice_minutes": "1440",
        "horizon_days": "28",
        "is_active": "on",
        "staff": [],
    }
    data.update(changes)
    return data


def week_data(**days: str) -> dict[str, str]:
    """POST data of the weekly hours form; ``day_0`` is Monday … ``day_6`` Sunday."""
    data = {"action": "hours"}
    data.update({f"hours-day_{n}": "" for n in range(7)})
    data.update({f"hours-{name}": value for name, value in days.items()})
    return data


def exception_data(**changes: str) -> dict[str, str]:
    data = {
        "action": "exception",
        "exception-date": "2027-03-24",
        "exception-kind": ExceptionKind.CLOSED.value,
        "exception-start": "",
        "exception-end": "",
        "exception-note": "",
    }
    data.update({f"exception-{name}": value for name, value in changes.items()})
    return data


def audit_codes() -> list[str]:
    return list(AuditEntry.objects.order_by("pk").values_list("code", flat=True))


def booking_audit_codes() -> list[str]:
    return [code for code in audit_codes() if code.startswith("booking.")]


def intervals_of(staff: User) -> list[tuple[int, time, time]]:
    return list(
        WeeklyHours.objects.filter(staff=staff)
        .order_by("weekday", "start")
        .values_list("weekday", "start", "end")
    )


def make_type(world: World, **fields: Any) -> ConsultationType:
    values: dict[str, Any] = {"name": "Beratung Rente", "duration_minutes": 45}
    values.update(fields)
    organization = values.pop("organization", world.org)
    return ConsultationType.objects.create(organization=organization, **values)


# --- access ------------------------------------------------------------------------------------


ADMIN_PAGES = [TYPES, NEW_TYPE, POLICY, HOURS_OVERVIEW]


@pytest.mark.parametrize("path", ADMIN_PAGES)
@pytest.mark.parametrize("role", ["member", "staff", "other_member"])
def test_setup_pages_refuse_everyone_but_org_admins(world: World, path: str, role: str):
    response = client_for(getattr(world, role)).get(path)
    assert response.status_code == 403


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_setup_pages_send_anonymous_visitors_to_the_login(world: World, path: str):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_member_cannot_open_hours_pages(world: World):
    member = client_for(world.member)
    assert member.get(hours_url(world.staff)).status_code == 403
    assert member.post(hours_url(world.staff), week_data(day_0="09:00-12:00")).status_code == 403
    assert not WeeklyHours.objects.exists()


def test_anonymous_is_sent_to_the_login_from_the_hours_page(world: World):
    response = Client().get(hours_url(world.staff))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


# --- consultation types ------------------------------------------------------------------------


def test_admin_creates_a_type_with_staff_and_sees_it_in_the_list(world: World):
    admin = client_for(world.org_admin)
    form_page = admin.get(NEW_TYPE)
    assert form_page.status_code == 200
    html = form_page.content.decode()
    assert "Bernd Berater" in html
    assert "Anke Admin" in html
    assert world.staff.email not in html  # staff are chosen by name, never by e-mail address
    assert "Sara Süd" not in html  # the other organization's staff are not offered

    response = admin.post(NEW_TYPE, type_data(staff=[world.staff.pk, world.org_admin.pk]))

    assert response.status_code == 302
    assert response["Location"] == TYPES
    ctype = ConsultationType.objects.get()
    assert ctype.organization == world.org
    assert (ctype.name, ctype.duration_minutes, ctype.min_notice_minutes) == (
        "Beratung Pflege",
        30,
        1440,
    )
    assert (ctype.buffer_before_minutes, ctype.buffer_after_minutes, ctype.horizon_days) == (
        5,
        10,
        28,
    )
    assert ctype.is_active
    assert set(ctype.staff.all()) == {world.staff, world.org_admin}
    entry = AuditEntry.objects.get(code="booking.type.created")
    assert entry.actor == world.org_admin
    assert entry.target_id == str(ctype.pk)

    listing = admin.get(TYPES)
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "Beratung Pflege" in html
    assert "Bernd Berater" in html
    assert reverse("booking:type_edit", kwargs={"type_id": ctype.pk}) in html
    assert reverse("booking:type_new") in html


def test_admin_edits_a_type(world: World):
    ctype = make_type(world)
    ctype.staff.set([world.staff])
    admin = client_for(world.org_admin)
    url = reverse("booking:type_edit", kwargs={"type_id": ctype.pk})

    page = admin.get(url)
    assert page.status_code == 200
    assert page.context["form"].initial["staff"] == [world.staff.pk]

    data = type_data(name="Beratung Rente (neu)", duration_minutes="60", staff=[world.org_admin.pk])
    del data["is_active"]  # unticked: not bookable any more
    response = admin.post(url, data)

    assert response.status_code == 302
    ctype.refresh_from_db()
    assert ctype.name == "Beratung Rente (neu)"
    assert ctype.duration_minutes == 60
    assert not ctype.is_active
    assert list(ctype.staff.all()) == [world.org_admin]
    assert booking_audit_codes() == ["booking.type.changed"]


def test_switched_off_staff_are_offered_only_while_still_assigned(world: World):
    world.staff.is_active = False
    world.staff.save(update_fields=["is_active"])
    admin = client_for(world.org_admin)
    assert "Bernd Berater" not in admin.get(NEW_TYPE).content.decode()
    ctype = make_type(world)
    ctype.staff.set([world.staff])
    url = reverse("booking:type_edit", kwargs={"type_id": ctype.pk})
    assert "Bernd Berater" in admin.get(url).content.decode()

    response = admin.post(url, type_data(staff=[world.org_admin.pk]))

    assert response.status_code == 302
    assert list(ctype.staff.all()) == [world.org_admin]


def test_staff_of_another_organization_cannot_be_assigned(world: World):
    admin = client_for(world.org_admin)

    response = admin.post(NEW_TYPE, type_data(staff=[world.staff.pk, world.other_staff.pk]))

    assert response.status_code == 200
    assert response.context["form"].errors["staff"]
    assert not ConsultationType.objects.exists()
    assert booking_audit_codes() == []


def test_staff_of_another_organization_cannot_be_added_to_an_existing_type(world: World):
    ctype = make_type(world)
    ctype.staff.set([world.staff])
    url = reverse("booking:type_edit", kwargs={"type_id": ctype.pk})

    response = client_for(world.org_admin).post(
        url, type_data(name="Geändert", staff=[world.other_admin.pk])
    )

    assert response.status_code == 200
    assert response.context["form"].errors["staff"]
    ctype.refresh_from_db()
    assert ctype.name == "Beratung Rente"
    assert list(ctype.staff.all()) == [world.staff]
    assert booking_audit_codes() == []


def test_members_cannot_be_assigned_as_staff(world: World):
    response = client_for(world.org_admin).post(NEW_TYPE, type_data(staff=[world.member.pk]))

    assert response.status_code == 200
    assert response.context["form"].errors["staff"]
    assert not ConsultationType.objects.exists()


def test_another_organizations_type_is_not_found(world: World):
    foreign = make_type(world, organization=world.other_org, name="Süd-Beratung")
    url = reverse("booking:type_edit", kwargs={"type_id": foreign.pk})
    admin = client_for(world.org_admin)

    assert admin.get(url).status_code == 404
    assert admin.post(url, type_data(name="Übernommen")).status_code == 404

    foreign.refresh_from_db()
    assert foreign.name == "Süd-Beratung"
    assert "Süd-Beratung" not in admin.get(TYPES).content.decode()
    assert booking_audit_codes() == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("duration_minutes", "2"),
        ("duration_minutes", "zehn"),
        ("buffer_before_minutes", "-5"),
        ("min_notice_minutes", "99999"),
        ("horizon_days", "0"),
    ],
)
def test_invalid_type_input_shows_the_error_and_writes_nothing(
    world: World, field: str, value: str
):
    response = client_for(world.org_admin).post(NEW_TYPE, type_data(**{field: value}))

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert 'aria-invalid="true"' in response.content.decode()
    assert not ConsultationType.objects.exists()
    assert booking_audit_codes() == []


# --- booking rules -----------------------------------------------------------------------------


def test_admin_changes_the_booking_rules(world: World):
    admin = client_for(world.org_admin)
    page = admin.get(POLICY)
    assert page.status_code == 200
    assert page.context["form"].initial["reminders"] == "24, 1"  # the defaults, in hours

    response = admin.post(
        POLICY,
        {
            "federal_state": "NW",
            "answer_within_hours": "24",
            "member_change_cutoff_hours": "12",
            "reminders": "1, 48h, 0.5",
        },
    )

    assert response.status_code == 302
    policy = BookingPolicy.objects.get(organization=world.org)
    assert policy.federal_state == "NW"
    assert policy.answer_within_hours == 24
    assert policy.member_change_cutoff_hours == 12
    assert policy.reminder_minutes == [48 * 60, 60, 30]
    assert booking_audit_codes() == ["booking.policy.changed"]
    assert admin.get(POLICY).context["form"].initial["reminders"] == "48, 1, 0.5"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("reminders", "", "required"),
        ("reminders", " , ", "required"),
        ("reminders", "24, 0", "not_positive"),
        ("reminders", "24, -1", "not_positive"),
        ("reminders", "morgen", "invalid"),
        ("reminders", "24 1", "invalid"),
        ("reminders", "1, 2, 3, 4, 5, 6", "too_many"),
        ("reminders", "0.001", "fraction"),
        ("reminders", "10000", "too_early"),
        ("answer_within_hours", "0", "min_value"),
        ("member_change_cutoff_hours", "1000", "max_value"),
        ("federal_state", "XX", "invalid_choice"),
    ],
)
def test_invalid_booking_rules_show_the_error_and_write_nothing(
    world: World, field: str, value: str, code: str
):
    data = {
        "federal_state": "BY",
        "answer_within_hours": "24",
        "member_change_cutoff_hours": "12",
        "reminders": "24, 1",
        field: value,
    }

    response = client_for(world.org_admin).post(POLICY, data)

    assert response.status_code == 200
    assert response.context["form"].has_error(field, code=code)
    policy = BookingPolicy.objects.get(organization=world.org)  # the page created the defaults
    assert (policy.federal_state, policy.answer_within_hours) == ("", 48)
    assert policy.reminder_minutes == [24 * 60, 60]
    assert booking_audit_codes() == []


def test_admins_change_only_their_own_organizations_rules(world: World):
    client_for(world.other_admin).post(
        POLICY,
        {
            "federal_state": "BW",
            "answer_within_hours": "5",
            "member_change_cutoff_hours": "1",
            "reminders": "2",
        },
    )

    assert BookingPolicy.objects.get(organization=world.other_org).federal_state == "BW"
    assert not BookingPolicy.objects.filter(organization=world.org, federal_state="BW").exists()


# --- weekly hours ------------------------------------------------------------------------------


def test_admin_sees_every_team_members_weekly_hours(world: World):
    work_week(world.staff, days=range(2), spans=((9, 12), (13, 17)))

    response = client_for(world.org_admin).get(HOURS_OVERVIEW)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Bernd Berater" in html
    assert "Anke Admin" in html
    assert "09:00-12:00, 13:00-17:00" in html
    assert "Sara Süd" not in html
    assert hours_url(world.staff) in html
    assert hours_url(world.org_admin) in html


def test_admin_sets_a_staff_members_weekly_hours(world: World):
    admin = client_for(world.org_admin)
    assert admin.get(hours_url(world.staff)).status_code == 200

    response = admin.post(
        hours_url(world.staff),
        week_data(day_0="09:00-12:00, 13:00-17:00", day_2="8-12", day_4=" 14:30 – 18:00 "),
    )

    assert response.status_code == 302
    assert response["Location"] == hours_url(world.staff)
    assert intervals_of(world.staff) == [
        (0, time(9), time(12)),
        (0, time(13), time(17)),
        (2, time(8), time(12)),
        (4, time(14, 30), time(18)),
    ]
    entry = AuditEntry.objects.get(code="booking.hours.changed")
    assert entry.actor == world.org_admin
    assert entry.target_id == str(world.staff.pk)
    assert entry.data == {"intervals": 4}


def test_saved_weekly_hours_are_shown_in_the_form(world: World):
    work_week(world.staff, days=range(1), spans=((9, 12), (13, 17)))

    form = client_for(world.staff).get(hours_url(world.staff)).context["hours_form"]

    assert form.initial == {"day_0": "09:00-12:00, 13:00-17:00"}


def test_emptying_every_day_removes_the_weekly_hours(world: World):
    work_week(world.staff)

    response = client_for(world.staff).post(hours_url(world.staff), week_data())

    assert response.status_code == 302
    assert intervals_of(world.staff) == []
    assert booking_audit_codes() == ["booking.hours.changed"]


def test_staff_member_edits_their_own_hours(world: World):
    response = client_for(world.staff).post(hours_url(world.staff), week_data(day_1="10:00-16:00"))

    assert response.status_code == 302
    assert intervals_of(world.staff) == [(1, time(10), time(16))]
    assert AuditEntry.objects.get(code="booking.hours.changed").actor == world.staff


def test_staff_member_cannot_edit_a_colleagues_hours(world: World):
    work_week(world.org_admin)
    before = intervals_of(world.org_admin)
    staff = client_for(world.staff)

    assert staff.get(hours_url(world.org_admin)).status_code == 404
    response = staff.post(hours_url(world.org_admin), week_data(day_0="09:00-10:00"))

    assert response.status_code == 404
    assert intervals_of(world.org_admin) == before
    assert booking_audit_codes() == []


@pytest.mark.parametrize("person", ["other_admin", "other_staff"])
def test_another_organizations_team_cannot_edit_hours(world: World, person: str):
    client = client_for(getattr(world, person))

    assert client.get(hours_url(world.staff)).status_code == 404
    assert client.post(hours_url(world.staff), week_data(day_0="09:00-10:00")).status_code == 404
    assert intervals_of(world.staff) == []


def test_members_have_no_hours_page(world: World):
    response = client_for(world.org_admin).get(hours_url(world.member))

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("09:00-12:00, 11:00-14:00", "overlap"),
        ("13:00-17:00, 09:00-13:30", "overlap"),
        ("9-25", "invalid"),
        ("09:00-12:60", "invalid"),
        ("morgens", "invalid"),
        ("09:00", "invalid"),
        ("09:00-12:00 13:00-17:00", "invalid"),
        ("12:00-09:00", "order"),
        ("10:00-10:00", "order"),
    ],
)
def test_invalid_weekly_hours_show_the_error_and_write_nothing(world: World, value: str, code: str):
    work_week(world.staff)
    before = intervals_of(world.staff)

    response = client_for(world.org_admin).post(
        hours_url(world.staff), week_data(day_0=value, day_1="09:00-12:00")
    )

    assert response.status_code == 200
    form = response.context["hours_form"]
    assert form.has_error("day_0", code=code)
    assert not form.has_error("day_1")
    [message] = form.errors["day_0"]
    assert message.startswith(str(form.fields["day_0"].label))  # names the day: "Monday: …"
    assert intervals_of(world.staff) == before
    assert booking_audit_codes() == []


def test_weekly_hours_error_names_the_interval(world: World):
    response = client_for(world.org_admin).post(hours_url(world.staff), week_data(day_3="9-25"))

    [message] = response.context["hours_form"].errors["day_3"]
    assert "9-25" in message
    assert str(response.context["hours_form"].fields["day_3"].label) in message


# --- one-off changes ---------------------------------------------------------------------------


def test_staff_member_adds_a_day_off_and_extra_hours(world: World, frozen_clock: Clock):
    staff = client_for(world.staff)

    day_off = staff.post(hours_url(world.staff), exception_data(note="Fortbildung"))
    extra = staff.post(
        hours_url(world.staff),
        exception_data(date="25.03.2027", kind="extra", start="17:00", end="19:30"),
    )

    assert day_off.status_code == 302
    assert extra.status_code == 302
    rows = list(
        HoursException.objects.filter(staff=world.staff)
        .order_by("date")
        .values_list("date", "kind", "start", "end", "note")
    )
    assert rows == [
        (date(2027, 3, 24), "closed", None, None, "Fortbildung"),
        (date(2027, 3, 25), "extra", time(17), time(19, 30), ""),
    ]
    assert booking_audit_codes() == [
        "booking.hours.exception_added",
        "booking.hours.exception_added",
    ]
    html = staff.get(hours_url(world.staff)).content.decode()
    assert "Fortbildung" in html
    assert "17:00–19:30" in html


def test_page_lists_changes_from_today_on(world: World, frozen_clock: Clock):
    HoursException.objects.create(
        staff=world.staff, date=date(2027, 3, 21), kind="closed", note="gestern"
    )
    HoursException.objects.create(
        staff=world.staff, date=date(2027, 3, 22), kind="closed", note="heute"
    )

    response = client_for(world.staff).get(hours_url(world.staff))

    assert [e.note for e in response.context["exceptions"]] == ["heute"]


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"kind": "extra"}, "start", None),
        ({"start": "10:00"}, "end", None),
        ({"start": "12:00", "end": "10:00"}, "end", None),
        ({"date": "2027-03-21"}, "date", "past"),
        ({"date": "morgen"}, "date", "invalid"),
        ({"kind": "holiday"}, "kind", "invalid_choice"),
        ({"start": "25:00", "end": "26:00"}, "start", "invalid"),
    ],
)
def test_invalid_change_shows_the_error_and_writes_nothing(
    world: World, frozen_clock: Clock, changes: dict[str, str], field: str, code: str | None
):
    response = client_for(world.staff).post(hours_url(world.staff), exception_data(**changes))

    assert response.status_code == 200
    assert response.context["exception_form"].has_error(field, code=code)
    assert not HoursException.objects.exists()
    assert booking_audit_codes() == []


def test_staff_member_cannot_add_a_change_for_a_colleague(world: World, frozen_clock: Clock):
    response = client_for(world.staff).post(hours_url(world.org_admin), exception_data())

    assert response.status_code == 404
    assert not HoursException.objects.exists()


def test_admin_adds_and_removes_a_change_for_a_staff_member(world: World, frozen_clock: Clock):
    admin = client_for(world.org_admin)
    admin.post(hours_url(world.staff), exception_data())
    exception = HoursException.objects.get(staff=world.staff)
    remove = reverse("booking:remove_exception", kwargs={"exception_id": exception.pk})
    assert remove in admin.get(hours_url(world.staff)).content.decode()

    response = admin.post(remove)

    assert response.status_code == 302
    assert response["Location"] == hours_url(world.staff)
    assert not HoursException.objects.exists()
    assert booking_audit_codes() == [
        "booking.hours.exception_added",
        "booking.hours.exception_removed",
    ]


def test_staff_member_removes_their_own_change(world: World, frozen_clock: Clock):
    exception = HoursException.objects.create(
        staff=world.staff, date=date(2027, 3, 24), kind="closed"
    )

    response = client_for(world.staff).post(
        reverse("booking:remove_exception", kwargs={"exception_id": exception.pk})
    )

    assert response.status_code == 302
    assert not HoursException.objects.exists()
    assert AuditEntry.objects.get(code="booking.hours.exception_removed").actor == world.staff


@pytest.mark.parametrize("person", ["staff", "other_admin", "other_staff"])
def test_someone_elses_change_cannot_be_removed(world: World, frozen_clock: Clock, person: str):
    exception = HoursException.objects.create(
        staff=world.org_admin, date=date(2027, 3, 24), kind="closed"
    )

    response = client_for(getattr(world, person)).post(
        reverse("booking:remove_exception", kwargs={"exception_id": exception.pk})
    )

    assert response.status_code == 404
    assert HoursException.objects.filter(pk=exception.pk).exists()
    assert booking_audit_codes() == []


def test_removing_a_change_needs_post_and_a_team_member(world: World, frozen_clock: Clock):
    exception = HoursException.objects.create(
        staff=world.staff, date=date(2027, 3, 24), kind="closed"
    )
    url = reverse("booking:remove_exception", kwargs={"exception_id": exception.pk})

    assert client_for(world.staff).get(url).status_code == 405
    assert client_for(world.member).post(url).status_code == 403
    assert Client().post(url).status_code == 302
    missing = reverse("booking:remove_exception", kwargs={"exception_id": exception.pk + 1})
    assert client_for(world.staff).post(missing).status_code == 404
    assert HoursException.objects.filter(pk=exception.pk).exists()
