"""One write path: the Django admin shows, it never writes (docs/architecture.md). Every write
goes through a service, which leaves an audit entry; an admin form would leave none.

The tests walk every registration of the admin site instead of a list, so an app that registers
a writable admin later fails here. Operators are no superusers; the superuser is tested too,
because Django lets a superuser past every permission the admin does not refuse itself.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Model, TextField
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from tests.calls.conftest import confirmed_call
from tests.conftest import World, client_for
from tests.factories import OperatorFactory
from treffpunkt.accounts.demo import DEMO_PEOPLE, load_accounts_demo
from treffpunkt.accounts.models import Role, User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.accounts.services import register_member
from treffpunkt.booking.models import BookingPolicy, ConsultationType
from treffpunkt.calls.models import CallParticipation, CallSession
from treffpunkt.core.admin import ReadOnlyModelAdmin

pytestmark = pytest.mark.django_db

# Models whose admin may write because it saves through the app's service (which writes the
# audit entry), each with the reason. None today: nothing is written in the admin.
SAVES_THROUGH_A_SERVICE: dict[str, str] = {}
# Admin actions that call a service, keyed by (model label, action name), each with the reason.
# None today: no admin has an action.
SERVICE_ACTIONS: dict[tuple[str, str], str] = {}

REGISTRATIONS = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
WALKED = [
    pytest.param(model_admin, id=model._meta.label)
    for model, model_admin in REGISTRATIONS
    if model._meta.label not in SAVES_THROUGH_A_SERVICE
]
WHO = ("operator", "superuser")


@pytest.fixture
def people(db: None) -> dict[str, User]:
    """An operator as the demo makes one (staff, view permissions, no superuser) and a
    superuser, whom no permission stops unless the admin refuses itself."""
    operator = OperatorFactory(display_name="Olga Betrieb", is_superuser=False)
    operator.groups.add(Group.objects.get(name=Capability.PLATFORM.group_name))
    return {
        "operator": operator,
        "superuser": OperatorFactory(display_name="Root", is_superuser=True),
    }


@pytest.fixture
def rows(world: World) -> None:
    """At least one row of every model registered today, so there is something to post to."""
    register_member(  # queues a confirmation mail: an outbox row
        organization=world.org,
        email="neu@example.org",
        password="Sehr-geheimes-Passwort-1",
        display_name="Neu",
        language="de",
    )
    BookingPolicy.objects.get_or_create(organization=world.org)
    appointment = confirmed_call(member=world.member, staff=world.staff)
    session = CallSession.objects.create(appointment=appointment, started_at=timezone.now())
    CallParticipation.objects.create(session=session, user=world.member, bytes_sent=1024)
    DBTaskResult.objects.create(
        task_path="treffpunkt.notifications.tasks.deliver_mail",
        args_kwargs={"args": [], "kwargs": {"mail_id": 1}},
        backend_name="default",
        run_after=get_date_max(),  # "at once"; a time would need a backend that schedules
        exception_class_path="",
        traceback="",
    )
    assert ConsultationType.objects.exists() and Group.objects.exists()


def _request(user: User) -> Any:
    request = RequestFactory().get("/betrieb/admin/")
    request.user = user
    return request


def write_abilities(model_admin: admin.ModelAdmin[Any], user: User) -> list[str]:
    """What this admin would let ``user`` write, on the model and on the rows shown under it."""
    request = _request(user)
    label = model_admin.model._meta.label
    row = model_admin.model._default_manager.first()
    granted = []
    if model_admin.has_add_permission(request):
        granted.append("add")
    if model_admin.has_change_permission(request) or model_admin.has_change_permission(
        request, row
    ):
        granted.append("change")
    if model_admin.has_delete_permission(request) or model_admin.has_delete_permission(
        request, row
    ):
        granted.append("delete")
    granted += [
        f"action {name}"
        for name in model_admin.get_actions(request)
        if (label, name) not in SERVICE_ACTIONS
    ]
    for inline_class in model_admin.inlines:
        inline = inline_class(model_admin.model, admin.site)
        name = inline.model._meta.label
        if inline.has_add_permission(request, row):
            granted.append(f"add {name}")
        if inline.has_change_permission(request, row):
            granted.append(f"change {name}")
        if inline.has_delete_permission(request, row):
            granted.append(f"delete {name}")
    return granted


def _url(model: type[Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _tampered(row: Model) -> dict[str, str]:
    """A form post that would rewrite every text of the row, were it accepted."""
    data = {
        field.name: "Gekapert"
        for field in row._meta.concrete_fields
        if field.editable and isinstance(field, CharField | TextField)
    }
    return {**data, "_save": "Sichern"}


def _state(model: type[Model]) -> list[dict[str, Any]]:
    return list(model._default_manager.order_by("pk").values())


# --- the walk ---------------------------------------------------------------------------------


def test_the_walk_covers_the_admin_site():
    """Guard for the walk itself: it really holds the registrations (domain and Django's)."""
    labels = {model._meta.label for model, _ in REGISTRATIONS}
    assert {"accounts.User", "auth.Group", "notifications.OutboxMail"} <= labels
    assert len(WALKED) == len(REGISTRATIONS) - len(SAVES_THROUGH_A_SERVICE)


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("model_admin", WALKED)
def test_nobody_may_add_change_or_delete_in_the_admin(
    people: dict[str, User], rows: None, model_admin: admin.ModelAdmin[Any], who: str
):
    assert write_abilities(model_admin, people[who]) == []
    # Looking stays allowed: the operator's page is read-only, not gone.
    assert model_admin.has_view_permission(_request(people[who]))


def test_the_walk_would_notice_a_writable_admin(people: dict[str, User]):
    """Guard for the check: Django's plain admin is what a careless registration gets."""
    from treffpunkt.accounts.models import Organization

    plain = admin.ModelAdmin(Organization, admin.AdminSite(name="probe"))
    abilities = write_abilities(plain, people["superuser"])
    assert abilities == ["add", "change", "delete", "action delete_selected"]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("model_admin", WALKED)
def test_the_add_page_is_refused(
    people: dict[str, User], rows: None, model_admin: admin.ModelAdmin[Any], who: str
):
    model = model_admin.model
    client = client_for(people[who])
    before = _state(model)

    assert client.get(_url(model, "add")).status_code == 403
    assert client.post(_url(model, "add"), {"name": "Neu", "_save": "Sichern"}).status_code == 403

    assert _state(model) == before
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("model_admin", WALKED)
def test_posts_to_an_existing_row_change_nothing(
    people: dict[str, User], rows: None, model_admin: admin.ModelAdmin[Any], who: str
):
    model = model_admin.model
    row = model._default_manager.order_by("pk").first()
    if row is None:
        pytest.skip(f"no {model._meta.label} row to post to: add one in the rows fixture")
    client = client_for(people[who])
    before = _state(model)

    change = client.post(_url(model, "change", row.pk), _tampered(row))
    delete = client.post(_url(model, "delete", row.pk), {"post": "yes"})
    bulk = client.post(
        _url(model, "changelist"),
        {"action": "delete_selected", "_selected_action": [str(row.pk)], "post": "yes"},
    )

    assert change.status_code == 403
    assert delete.status_code == 403
    assert bulk.status_code in {200, 302}  # the list again; there is no action to run
    assert _state(model) == before
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("model_admin", WALKED)
def test_the_pages_show_rows_without_any_way_to_write(
    people: dict[str, User], rows: None, model_admin: admin.ModelAdmin[Any], who: str
):
    model = model_admin.model
    client = client_for(people[who])

    listing = client.get(_url(model, "changelist"))
    assert listing.status_code == 200
    assert listing.context["action_form"] is None  # no "delete selected", no checkboxes
    assert listing.context["has_add_permission"] is False

    row = model._default_manager.order_by("pk").first()
    if row is not None:
        page = client.get(_url(model, "change", row.pk))
        assert page.status_code == 200
        assert page.context["has_change_permission"] is False
        assert page.context["has_delete_permission"] is False
        assert b'type="submit"' not in page.content.split(b'id="content"')[1]


def test_a_permission_lifted_by_mistake_still_writes_nothing(people: dict[str, User]):
    """The base's last line: a subclass that says yes without saving through a service fails
    instead of writing without an audit entry."""
    from treffpunkt.accounts.models import Organization

    class Careless(ReadOnlyModelAdmin[Organization]):
        def has_change_permission(self, request: Any, obj: Organization | None = None) -> bool:
            return True

    careless = Careless(Organization, admin.AdminSite(name="probe"))
    row = Organization.objects.create(name="Kasse West", slug="kasse-west")
    request = _request(people["superuser"])
    row.name = "Gekapert"
    for write in (
        lambda: careless.save_model(request, row, form=None, change=True),
        lambda: careless.delete_model(request, row),
        lambda: careless.delete_queryset(request, Organization.objects.all()),
    ):
        with pytest.raises(PermissionDenied):
            write()
    assert Organization.objects.get(pk=row.pk).name == "Kasse West"


# --- the demo operator --------------------------------------------------------------------------


def test_the_demo_operator_is_no_superuser_and_can_browse_the_admin():
    load_accounts_demo()
    [person] = [p for p in DEMO_PEOPLE if p.role == Role.OPERATOR]
    operator = User.objects.get(email=person.email)
    assert operator.is_staff and not operator.is_superuser

    client = client_for(operator)
    assert client.get(reverse("admin:index")).status_code == 200
    for model, _ in REGISTRATIONS:
        assert client.get(_url(model, "changelist")).status_code == 200, model._meta.label
        assert client.get(_url(model, "add")).status_code == 403, model._meta.label


def test_loading_the_demo_again_takes_superuser_rights_back_from_its_operator():
    load_accounts_demo()
    [person] = [p for p in DEMO_PEOPLE if p.role == Role.OPERATOR]
    User.objects.filter(email=person.email).update(is_superuser=True)  # an older demo's data

    load_accounts_demo()

    assert not User.objects.get(email=person.email).is_superuser
