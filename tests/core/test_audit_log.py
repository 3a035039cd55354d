"""P-ACC-4: every staff access to a member's record is logged; the operator browses the log."""

from __future__ import annotations

import pytest

from tests.conftest import World, client_for
from treffpunkt.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_staff_opening_a_member_record_is_logged(world: World):
    response = client_for(world.staff).get(f"/team/mitglieder/{world.member.pk}/")
    assert response.status_code == 200
    entry = AuditEntry.objects.get(code="accounts.member.viewed")
    assert entry.actor == world.staff
    assert entry.target_type == "accounts.user"
    assert entry.target_id == str(world.member.pk)
    assert entry.organization == world.org


def test_refused_access_to_another_organizations_member_leaves_no_record_view(world: World):
    response = client_for(world.other_staff).get(f"/team/mitglieder/{world.member.pk}/")
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(code="accounts.member.viewed").exists()


def test_operator_browses_and_filters_the_audit_log(world: World):
    client_for(world.staff).get(f"/team/mitglieder/{world.member.pk}/")
    client_for(world.other_staff).get("/team/mitglieder/")  # no entry: lists are not records
    operator = client_for(world.operator)
    everything = operator.get("/betrieb/protokoll/")
    assert everything.status_code == 200
    # The code column offers line breaks after the dots (<wbr>) for narrow screens.
    assert "accounts.member.viewed" in everything.content.decode().replace("<wbr>", "")

    by_code = operator.get("/betrieb/protokoll/", {"code": "accounts.member"})
    assert {e.code for e in by_code.context["page"]} == {"accounts.member.viewed"}
    by_org = operator.get("/betrieb/protokoll/", {"organization": world.other_org.pk})
    assert list(by_org.context["page"]) == []
    by_actor = operator.get("/betrieb/protokoll/", {"actor": "Bernd"})
    assert [e.actor for e in by_actor.context["page"]] == [world.staff]
    future = operator.get("/betrieb/protokoll/", {"since": "2999-01-01"})
    assert list(future.context["page"]) == []
    broken = operator.get("/betrieb/protokoll/", {"since": "kein-datum", "organization": "x"})
    assert broken.status_code == 200


@pytest.mark.parametrize("role", ["member", "staff", "org_admin", "other_admin"])
def test_only_the_operator_opens_the_audit_log(world: World, role: str):
    assert client_for(world.people[role]).get("/betrieb/protokoll/").status_code == 403
