"""P-ACC-2: using the service means accepting the terms in force; every acceptance is recorded;
a new version must be accepted before using the service again; every version stays readable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import World, client_for
from tests.factories import MemberFactory
from treffpunkt.accounts.models import TermsAcceptance, TermsKind, TermsVersion
from treffpunkt.accounts.selectors import terms_awaiting_acceptance
from treffpunkt.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _publish(world: World, *, kind: str = TermsKind.TERMS, label: str = "2027", **extra: str):
    effective = extra.pop("effective_at", "")
    return client_for(world.org_admin).post(
        "/verwaltung/dokumente/",
        {
            "kind": kind,
            "label": label,
            "text": f"Neue Fassung {label}",
            "effective_at": effective
            or (timezone.localtime() + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )


def _bring_into_force(version: TermsVersion) -> None:
    TermsVersion.objects.filter(pk=version.pk).update(
        effective_at=timezone.now() - timedelta(seconds=1)
    )


def test_user_must_accept_new_terms_version(world: World):
    member = client_for(world.member)
    assert member.get("/").status_code == 200
    assert _publish(world).status_code == 302
    new = TermsVersion.objects.get(label="2027")
    # Published, but not in force yet: the member carries on.
    assert member.get("/").status_code == 200
    _bring_into_force(new)
    for page in ("/", "/konto/profil/", "/team/mitglieder/"):
        response = member.get(page)
        assert response.status_code == 302
        assert response["Location"] == "/konto/bedingungen/"
    page = member.get("/konto/bedingungen/")
    assert page.status_code == 200
    assert "Neue Fassung 2027" in page.content.decode()
    accepted = member.post("/konto/bedingungen/", {"version_ids": str(new.pk), "agree": "on"})
    assert accepted["Location"] == "/"
    assert member.get("/").status_code == 200


def test_every_acceptance_records_user_version_and_time(world: World):
    newcomer = MemberFactory(organization=world.org)
    client = client_for(newcomer)
    awaiting = terms_awaiting_acceptance(newcomer)
    assert {v.kind for v in awaiting} == {TermsKind.TERMS, TermsKind.PRIVACY}
    before = timezone.now()
    client.post(
        "/konto/bedingungen/",
        {"version_ids": ",".join(str(v.pk) for v in awaiting), "agree": "on"},
    )
    acceptances = TermsAcceptance.objects.filter(user=newcomer)
    assert {a.version_id for a in acceptances} == {v.pk for v in awaiting}
    assert all(a.accepted_at >= before for a in acceptances)
    assert AuditEntry.objects.filter(code="accounts.terms.accepted", actor=newcomer).count() == 2


def test_accepting_without_ticking_the_box_records_nothing(world: World):
    newcomer = MemberFactory(organization=world.org)
    awaiting = terms_awaiting_acceptance(newcomer)
    response = client_for(newcomer).post(
        "/konto/bedingungen/", {"version_ids": ",".join(str(v.pk) for v in awaiting)}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["agree"]
    assert not TermsAcceptance.objects.filter(user=newcomer).exists()


def test_acceptance_of_a_version_that_was_replaced_meanwhile_is_refused(world: World):
    newcomer = MemberFactory(organization=world.org)
    shown = terms_awaiting_acceptance(newcomer)
    _publish(world, label="neuer")
    _bring_into_force(TermsVersion.objects.get(label="neuer"))
    response = client_for(newcomer).post(
        "/konto/bedingungen/",
        {"version_ids": ",".join(str(v.pk) for v in shown), "agree": "on"},
    )
    assert response["Location"] == "/konto/bedingungen/"
    assert not TermsAcceptance.objects.filter(user=newcomer).exists()


def test_tampered_version_list_is_refused(world: World):
    newcomer = MemberFactory(organization=world.org)
    response = client_for(newcomer).post(
        "/konto/bedingungen/", {"version_ids": "1,abc", "agree": "on"}
    )
    assert response.status_code == 200
    assert not TermsAcceptance.objects.filter(user=newcomer).exists()


def test_every_version_stays_readable_without_login(world: World):
    _publish(world, label="2027")
    _bring_into_force(TermsVersion.objects.get(label="2027"))
    anonymous = Client()
    for version in TermsVersion.objects.filter(organization=world.org):
        response = anonymous.get(version.get_absolute_url())
        assert response.status_code == 200
        assert version.text in response.content.decode()
    current = anonymous.get(f"/o/{world.org.slug}/dokumente/terms/")
    assert "Neue Fassung 2027" in current.content.decode()
    assert anonymous.get(f"/o/{world.org.slug}/dokumente/terms/99/").status_code == 404
    assert anonymous.get(f"/o/{world.org.slug}/dokumente/unsinn/").status_code == 404


def test_a_member_can_read_the_terms_and_log_out_before_accepting(world: World):
    newcomer = MemberFactory(organization=world.org)
    client = client_for(newcomer)
    assert client.get(f"/o/{world.org.slug}/dokumente/privacy/").status_code == 200
    assert client.post("/konto/abmelden/").status_code == 302


def test_version_numbers_count_up_and_published_versions_never_change(world: World):
    _publish(world, label="a")
    _publish(world, label="b")
    numbers = list(
        TermsVersion.objects.filter(organization=world.org, kind=TermsKind.TERMS)
        .order_by("number")
        .values_list("number", flat=True)
    )
    assert numbers == sorted(set(numbers)) and len(numbers) == 3
    assert AuditEntry.objects.filter(code="accounts.terms.published").count() == 2


def test_a_version_cannot_come_into_force_in_the_past(world: World):
    response = _publish(world, effective_at="2020-01-01T09:00")
    assert response.status_code == 200
    assert not TermsVersion.objects.filter(label="2027").exists()


def test_staff_work_under_their_employment_and_are_not_asked(world: World):
    _publish(world)
    _bring_into_force(TermsVersion.objects.get(label="2027"))
    assert client_for(world.staff).get("/").status_code == 200


@pytest.mark.parametrize("role", ["member", "staff", "operator", "other_admin"])
def test_only_the_org_admin_publishes_terms(world: World, role: str):
    client_for(world.people[role]).post(
        "/verwaltung/dokumente/",
        {"kind": "terms", "label": "x", "text": "x", "effective_at": "2030-01-01T09:00"},
    )
    assert not TermsVersion.objects.filter(organization=world.org, label="x").exists()
