"""The audit log in the back office: readable sentences, and the list pattern every back-office
list shares (filters, sorting, pages, CSV for Excel), tested on it."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.http import HttpResponse, StreamingHttpResponse
from django.test import AsyncClient, Client
from django.urls import reverse
from django.utils import translation

from tests.backoffice.conftest import TEST_CODE, UNREGISTERED_CODE, operator_with
from tests.backoffice.pages import table_headers, table_rows
from tests.conftest import World, client_for
from tests.factories import StaffFactory
from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability
from treffpunkt.backoffice.audit_log import sentence, target_label
from treffpunkt.core import audit
from treffpunkt.core.models import AuditEntry
from treffpunkt.core.registries import AuditCode, registry

pytestmark = pytest.mark.django_db

LOG = "/betrieb/protokoll/"
BERLIN = ZoneInfo("Europe/Berlin")
# Columns of the page's table.
TIME, WHAT, ACTOR, ORGANIZATION, CODE = range(5)


@pytest.fixture
def auditor(db: None) -> Client:
    return client_for(operator_with(Capability.AUDITOR, time_zone="Europe/Berlin"))


def entry_at(moment: datetime, code: str = UNREGISTERED_CODE, **fields: object) -> AuditEntry:
    entry = AuditEntry.objects.create(code=code, **fields)
    # created_at is set on insert; the tests need entries at chosen times.
    AuditEntry.objects.filter(pk=entry.pk).update(created_at=moment)
    entry.refresh_from_db()
    return entry


def csv_rows(response: HttpResponse | StreamingHttpResponse) -> tuple[str, list[list[str]]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8")  # type: ignore[arg-type]
    return text, list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))


# --- sentences --------------------------------------------------------------------------------


def test_a_registered_code_reads_as_its_sentence(world: World, auditor: Client, test_audit_code):
    entry = audit.record(test_audit_code, actor=world.staff, target=world.member)
    system_entry = audit.record(test_audit_code, actor=None, target=world.member)

    rows = table_rows(auditor.get(LOG))

    with translation.override("de"):
        expected = f"Bernd Berater checked {target_label(entry)}."
        assert sentence(entry) == expected
        assert sentence(system_entry) == f"System checked {target_label(entry)}."
    assert str(world.member.pk) in target_label(entry)
    shown = {row[WHAT]: row[CODE] for row in rows}
    assert shown[expected] == TEST_CODE  # the code stays beside the sentence
    assert shown[f"System checked {target_label(entry)}."] == TEST_CODE


def test_an_unregistered_code_is_shown_as_it_is(auditor: Client):
    entry_at(datetime(2026, 3, 1, 12, tzinfo=BERLIN))
    [row] = table_rows(auditor.get(LOG))
    assert row[WHAT] == UNREGISTERED_CODE
    assert row[CODE] == UNREGISTERED_CODE
    assert row[ACTOR] == "System"


def test_a_sentence_with_a_placeholder_the_log_cannot_fill_falls_back_to_the_code(world: World):
    code = "tests.backoffice.broken_sentence"
    registry.add_audit_codes(AuditCode(code, "%(actor)s did %(nothing)s."))
    try:
        entry = AuditEntry.objects.create(code=code, actor=world.staff)
        assert sentence(entry) == code
    finally:
        registry.audit_codes.pop(code, None)


def test_every_registered_sentence_can_be_filled(world: World):
    """Each app's sentences use only the two names the log fills, in both languages."""
    entry = AuditEntry(code="", actor=world.staff, target_type="accounts.user", target_id="1")
    for language in ("de", "en"):
        with translation.override(language):
            for code in registry.audit_codes.values():
                entry.code = code.code
                assert sentence(entry) != code.code, (language, code.code, str(code.sentence))


# --- filters ----------------------------------------------------------------------------------


def test_filters_by_code_organization_actor_and_days(world: World, auditor: Client):
    march_1 = datetime(2026, 3, 1, 0, 30, tzinfo=BERLIN)  # just after midnight in Berlin
    late_march_2 = datetime(2026, 3, 2, 23, 45, tzinfo=BERLIN)
    entry_at(march_1, "tests.backoffice.a.one", actor=world.staff, organization=world.org)
    entry_at(late_march_2, "tests.backoffice.a.two", actor=world.other_staff)
    entry_at(late_march_2 + timedelta(hours=1), "tests.backoffice.b.one")

    def whats(**query: object) -> list[str]:
        response = auditor.get(LOG, query)
        assert response.status_code == 200
        return sorted(row[CODE] for row in table_rows(response))

    assert whats(code="tests.backoffice.a") == ["tests.backoffice.a.one", "tests.backoffice.a.two"]
    assert whats(organization=world.org.pk) == ["tests.backoffice.a.one"]
    assert whats(organization=world.other_org.pk) == []
    assert whats(actor="süd") == ["tests.backoffice.a.two"]  # Sara Süd, any case
    # Days are the reader's days (Berlin): 00:30 on 1 March is 23:30 UTC on 28 February.
    assert whats(since="2026-03-01", until="2026-03-01") == ["tests.backoffice.a.one"]
    assert whats(since="2026-03-02", until="2026-03-02") == ["tests.backoffice.a.two"]
    assert whats(since="2026-03-03") == ["tests.backoffice.b.one"]
    assert whats(until="2026-02-28") == []


def test_a_wrong_filter_value_is_explained_and_ignored(world: World, auditor: Client):
    entry_at(datetime(2026, 3, 1, 12, tzinfo=BERLIN))
    response = auditor.get(LOG, {"since": "kein-datum", "organization": "x"})
    assert response.status_code == 200
    form = response.context["filter_form"]
    assert set(form.errors) == {"since", "organization"}
    assert len(table_rows(response)) == 1  # nothing filtered by values that mean nothing
    assert 'id="filter-since_error"' in response.content.decode()


def test_the_filter_form_has_labelled_fields_a_button_and_a_reset_link(auditor: Client):
    body = auditor.get(LOG, {"code": "x", "sort": "actor"}).content.decode()
    for name in ("code", "organization", "actor", "since", "until"):
        assert f'<label for="filter-{name}">' in body
        assert f'id="filter-{name}"' in body
    assert '<button type="submit">' in body
    assert f'<a href="{LOG}">' in body  # reset: the list without any filter
    assert '<input type="hidden" name="sort" value="actor">' in body  # filtering keeps the order


# --- sorting ----------------------------------------------------------------------------------


@pytest.fixture
def three_actors(world: World) -> list[User]:
    people = [
        StaffFactory(organization=world.org, display_name=name) for name in ("Cem", "Ada", "Bea")
    ]
    start = datetime(2026, 3, 1, 9, tzinfo=BERLIN)
    for minutes, person in enumerate(people):
        entry_at(start + timedelta(minutes=minutes), actor=person)
    return people


def test_sorts_by_a_column_up_and_down_and_marks_the_header(three_actors, auditor: Client):
    newest_first = [row[ACTOR] for row in table_rows(auditor.get(LOG))]
    assert newest_first == ["Bea", "Ada", "Cem"]  # the default: time, newest first

    up = auditor.get(LOG, {"sort": "actor"})
    assert [row[ACTOR] for row in table_rows(up)] == ["Ada", "Bea", "Cem"]
    sorted_header = [h for h in table_headers(up) if h.get("aria-sort")]
    assert [h["aria-sort"] for h in sorted_header] == ["ascending"]
    # The sorted column's link turns the order around; the others sort up.
    body = up.content.decode()
    assert f'href="{LOG}?sort=-actor"' in body
    assert f'href="{LOG}?sort=time"' in body

    down = auditor.get(LOG, {"sort": "-actor"})
    assert [row[ACTOR] for row in table_rows(down)] == ["Cem", "Bea", "Ada"]
    assert [h["aria-sort"] for h in table_headers(down) if h.get("aria-sort")] == ["descending"]


@pytest.mark.parametrize("key", ["password", "-actor__password", "data", "-", ""])
def test_an_unknown_sort_key_is_ignored(three_actors, auditor: Client, key: str):
    response = auditor.get(LOG, {"sort": key})
    assert response.status_code == 200
    assert [row[ACTOR] for row in table_rows(response)] == ["Bea", "Ada", "Cem"]


def test_a_column_without_a_sort_key_has_no_sort_link(auditor: Client):
    response = auditor.get(LOG, {"sort": "what"})
    headers = table_headers(response)
    assert len(headers) == 5
    body = response.content.decode()
    # No link sorts by it, and no link carries the unknown key on.
    assert f'href="{LOG}?sort=what' not in body
    assert "sort=what&amp;" not in body


# --- pages ------------------------------------------------------------------------------------


@pytest.fixture
def entries_120(db: None) -> None:
    start = datetime(2026, 1, 1, tzinfo=BERLIN)
    AuditEntry.objects.bulk_create(
        [AuditEntry(code=f"tests.backoffice.n{n:03d}") for n in range(120)]
    )
    for n, pk in enumerate(AuditEntry.objects.order_by("pk").values_list("pk", flat=True)):
        AuditEntry.objects.filter(pk=pk).update(created_at=start + timedelta(minutes=n))


def test_fifty_rows_a_page_and_a_page_beyond_the_end_shows_the_last(entries_120, auditor):
    first = auditor.get(LOG)
    assert len(table_rows(first)) == 50
    assert table_rows(first)[0][CODE] == "tests.backoffice.n119"
    body = first.content.decode()
    assert 'aria-label="Seite 2"' in body or 'aria-label="Page 2"' in body
    assert 'aria-current="page"' in body

    last = auditor.get(LOG, {"page": 3})
    assert len(table_rows(last)) == 20
    beyond = auditor.get(LOG, {"page": 99})
    assert beyond.status_code == 200
    assert beyond.context["page"].number == 3
    assert table_rows(beyond) == table_rows(last)
    nonsense = auditor.get(LOG, {"page": "zwei"})
    assert nonsense.status_code == 200
    assert nonsense.context["page"].number == 1


def test_page_links_keep_the_filter_and_the_order(entries_120, auditor: Client):
    body = auditor.get(LOG, {"code": "tests.backoffice", "sort": "code"}).content.decode()
    assert f'href="{LOG}?code=tests.backoffice&amp;sort=code&amp;page=2"' in body


# --- CSV --------------------------------------------------------------------------------------


def test_csv_is_excel_ready_utf8_with_bom_and_semicolons(world: World, auditor: Client):
    umlaut = StaffFactory(organization=world.org, display_name="Jürgen Größe")
    entry_at(datetime(2026, 3, 1, 9, 5, 7, tzinfo=BERLIN), actor=umlaut, organization=world.org)

    response = auditor.get(LOG, {"format": "csv"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="protokoll-')
    text, rows = csv_rows(response)
    assert text.startswith("\ufeff")
    header, [row] = rows[0], rows[1:]
    assert header[0] == "Zeit"
    assert "Code" in header
    assert "Ausgeführt von" in header or "Actor" in header
    assert row[0] == "2026-03-01 09:05:07"  # the reader's time (Berlin)
    assert "Jürgen Größe" in row
    assert "Kasse Nord" in row
    assert row[-1] == UNREGISTERED_CODE


def test_csv_cells_that_excel_would_run_as_formulas_are_made_text(world: World, auditor: Client):
    names = ['=HYPERLINK("http://example.com","x")', "+1+1", "-2+3", "@SUM(A1)", "Anna"]
    for n, name in enumerate(names):
        person = StaffFactory(organization=world.org, display_name=name)
        entry_at(
            datetime(2026, 3, 1, 9, n, tzinfo=BERLIN),
            actor=person,
            data={"note": "=1+1", "count": -3},
        )

    _, rows = csv_rows(auditor.get(LOG, {"format": "csv", "sort": "time"}))

    actors = [row[2] for row in rows[1:]]
    assert actors == [f"'{name}" for name in names[:4]] + ["Anna"]
    assert rows[1][5] == "note: =1+1; count: -3"  # inside a cell, not at its start: harmless


def test_csv_holds_every_filtered_row_in_the_chosen_order(entries_120, auditor: Client):
    _, rows = csv_rows(auditor.get(LOG, {"format": "csv", "sort": "code", "page": 2}))
    codes = [row[-1] for row in rows[1:]]
    assert codes == [f"tests.backoffice.n{n:03d}" for n in range(120)]  # not one page: all

    _, filtered = csv_rows(auditor.get(LOG, {"format": "csv", "code": "tests.backoffice.n11"}))
    assert sorted(row[-1] for row in filtered[1:]) == [
        f"tests.backoffice.n11{n}" for n in range(10)
    ]


def test_the_list_links_to_its_csv_with_the_filter_and_the_order(auditor: Client):
    body = auditor.get(LOG, {"code": "accounts", "sort": "-code", "page": "2"}).content.decode()
    assert f'href="{LOG}?code=accounts&amp;sort=-code&amp;format=csv"' in body


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_csv_is_streamed_chunk_by_chunk():
    """The server runs ASGI: the export must be an asynchronous stream there (a plain iterator
    would be read whole into memory by Django before the first byte is sent)."""
    from asgiref.sync import sync_to_async

    def setup() -> dict[str, str]:
        operator = operator_with(Capability.AUDITOR, display_name="Ada Async")
        AuditEntry.objects.bulk_create(
            [AuditEntry(code=f"tests.backoffice.a{n:04d}", actor=operator) for n in range(1200)]
        )
        client = client_for(operator)
        return {key: morsel.value for key, morsel in client.cookies.items()}

    cookies = await sync_to_async(setup)()
    client = AsyncClient()
    client.cookies.load(cookies)
    response = await client.get(LOG, {"format": "csv"})
    assert response.status_code == 200
    assert response.is_async
    chunks = [chunk async for chunk in response.streaming_content]
    assert len(chunks) > 2  # the header and the rows came in parts
    text = b"".join(chunks).decode("utf-8")
    assert text.startswith("\ufeff")
    assert text.count("\r\n") == 1201


# --- the entry's page -------------------------------------------------------------------------


def test_an_entry_page_shows_every_field_and_its_data(
    world: World, auditor: Client, test_audit_code
):
    entry = audit.record(
        test_audit_code,
        actor=world.staff,
        target=world.member,
        organization=world.org,
        data={"reason": "Rückruf erbeten", "files": 2},
    )
    response = auditor.get(reverse("backoffice:audit_entry", args=[entry.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    with translation.override("de"):
        assert sentence(entry) in body
    for text in (
        "Bernd Berater",
        "Kasse Nord",
        "accounts.user",
        str(world.member.pk),
        TEST_CODE,
        "<dt>reason</dt><dd>Rückruf erbeten</dd>",
        "<dt>files</dt><dd>2</dd>",
    ):
        assert text in body, text
    assert f'href="{LOG}"' in body  # back to the list


def test_a_page_costs_as_many_queries_for_fifty_rows_as_for_two(
    world: World, auditor: Client, test_audit_code: str
):
    """Sentences, actors, organizations and targets come with the page's one query for rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert auditor.get(LOG).status_code == 200
        return len(captured)

    def add(count: int) -> None:
        for n in range(count):
            AuditEntry.objects.create(
                code=UNREGISTERED_CODE if n % 2 else TEST_CODE,
                actor=StaffFactory(organization=world.org, display_name=f"Person {n}"),
                organization=world.org,
                target_type="accounts.user",
                target_id=str(world.member.pk),
            )

    add(2)
    few = queries()
    add(60)
    assert queries() == few
