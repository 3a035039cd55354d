"""The list and detail patterns as the next apps use them: a list without filters, a detail page
with a related table."""

from __future__ import annotations

import pytest
from django.db import models
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.test import RequestFactory
from django.urls import reverse

from tests.backoffice.conftest import operator_with
from tests.backoffice.pages import table_headers, table_rows
from tests.conftest import World
from treffpunkt.accounts.models import Organization, User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.backoffice.listing import Column, DetailPage, Fact, ListPage, Related
from treffpunkt.core.models import AuditEntry

pytestmark = pytest.mark.django_db


class OrganizationList(ListPage[Organization]):
    title = "Organizations"
    default_sort = "name"
    columns = (
        Column("Name", lambda o: o.name, "name"),
        Column("Short name", lambda o: o.slug, code=True),
    )

    def get_queryset(self) -> models.QuerySet[Organization]:
        return Organization.objects.all()


class OrganizationPage(DetailPage[Organization]):
    list_url_name = "backoffice:audit_log"  # any list: the back link and the navigation's mark

    def get_object(self) -> Organization:
        return get_object_or_404(Organization, pk=self.kwargs["pk"])

    def get_facts(self, organization: Organization) -> list[Fact]:
        return [
            Fact("Name", organization.name),
            Fact("Time zone", organization.time_zone),
            Fact("Notes", ["first", "second"]),
        ]

    def get_related(self, organization: Organization) -> Related[AuditEntry]:
        return Related(
            caption="What happened here",
            columns=(
                Column("Code", lambda e: e.code, code=True),
                Column("Actor", lambda e: e.actor.display_name if e.actor else None),
            ),
            rows=AuditEntry.objects.filter(organization=organization).select_related("actor"),
        )


def _as(user: User, path: str) -> HttpRequest:
    request = RequestFactory().get(path)
    request.user = user
    return request


def test_a_list_without_filters_sorts_and_pages(world: World):
    operator = operator_with(Capability.PLATFORM)
    response = OrganizationList.as_view()(_as(operator, "/x/?sort=-name"))
    response.render()
    assert [row[0] for row in table_rows(response)] == ["Kasse Süd", "Kasse Nord"]
    assert [h.get("aria-sort") for h in table_headers(response)] == ["descending", None]
    body = response.content.decode()
    assert 'role="search"' not in body  # no filters declared, no filter form
    assert "<caption>Organizations</caption>" in body


def test_a_detail_page_shows_its_facts_and_its_related_table(world: World):
    AuditEntry.objects.create(code="tests.one", organization=world.org, actor=world.staff)
    operator = operator_with(Capability.PLATFORM)
    response = OrganizationPage.as_view()(_as(operator, "/x/"), pk=world.org.pk)
    response.render()
    body = response.content.decode()
    assert "<h1>Kasse Nord</h1>" in body
    assert "<dt>Time zone</dt>" in body
    assert '<ul class="fact-list"><li>first</li><li>second</li></ul>' in body
    assert "<caption>What happened here</caption>" in body
    assert '<th scope="col" class="col-code">Code</th>' in body
    assert table_rows(response) == [["tests.one", "Bernd Berater"]]
    assert f'href="{reverse("backoffice:audit_log")}" aria-current="true"' in body
