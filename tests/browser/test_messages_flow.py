"""Messages in two real browsers (P-MSG-1 … P-MSG-3): a member and a staff member write in one
conversation and see each other's messages without reloading, the member's unread count in the
navigation follows live, markup in a message stays text, files go with the form and come back
only as downloads, the team's inbox and handling reach the member's open page, every page passes
axe-core (the conversation on a phone too), a message can be written with the keyboard alone,
and the pages work without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote

import pytest
from django.utils import translation
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Dialog,
    FilePayload,
    Locator,
    Page,
    ViewportSize,
    expect,
)

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    RequestLog,
    assert_accessible,
    new_context,
)
from tests.conftest import LiveApp, World
from tests.messaging import conftest as messaging_fixtures
from tests.messaging.conftest import FIRST_QUESTION, pdf_bytes, upload
from tests.sockets import session_cookie
from treffpunkt.accounts.models import User
from treffpunkt.messaging import files, services
from treffpunkt.messaging.models import Attachment, Conversation, InquiryTopic, Message, Status

pytestmark = pytest.mark.browser

# The messaging tests' fixtures (a topic of the world's organization, the member's inquiry on
# it), taken over by name.
topic = messaging_fixtures.topic
inquiry = messaging_fixtures.inquiry

# Test instrumentation, not product code: every socket a page opens notes its path on <html>
# once the server accepted it (``data-open-sockets``). The event stream shows nothing when it
# connects, and a count sent before the server joined the page to its groups would be lost, so
# a test that waits for a live count first waits for this. Injected by DevTools, so the page's
# Content-Security-Policy (no inline script) does not apply to it.
SOCKET_WATCH = """
(() => {
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("open", () => {
        const root = document.documentElement;
        const path = new URL(this.url).pathname;
        root.dataset.openSockets = `${root.dataset.openSockets || ""} ${path}`.trim();
      });
    }
  };
})();
"""


def de(text: str) -> str:
    """What a German page shows for ``text`` (the English text while the German catalogue has
    no entry for it). Everybody in these tests has German as their language."""
    with translation.override("de"):
        return translation.gettext(text)


ONLINE = "Connected. New messages appear here by themselves."


@dataclass
class Person:
    user: User
    page: Page
    log: RequestLog

    @property
    def context(self) -> BrowserContext:
        return self.page.context

    def open(self, path: str) -> Page:
        self.page.goto(path)
        return self.page

    def open_conversation(self, conversation: Conversation) -> Page:
        """The conversation page, once its socket is connected (sending goes over it)."""
        self.page.goto(conversation.get_absolute_url())
        expect(self.page.locator("#connection-state")).to_have_text(de(ONLINE))
        return self.page


def wait_for_event_stream(page: Page) -> None:
    """Until the page's event stream is connected (see SOCKET_WATCH)."""
    expect(page.locator("html")).to_have_attribute(
        "data-open-sockets", re.compile(r"(^| )/ws/ereignisse/( |$)")
    )


def log_in(context: BrowserContext, live_app: LiveApp, user: User) -> None:
    """A session cookie instead of the login form (the booking flow covers the form)."""
    name, value = session_cookie(user).split("=", 1)
    context.add_cookies([{"name": name, "value": value, "url": live_app.url}])


class OpenAs(Protocol):
    def __call__(
        self, user: User, viewport: ViewportSize = DESKTOP, *, javascript: bool = True
    ) -> Person: ...


@pytest.fixture
def open_as(live_app: LiveApp, browser: Browser) -> Iterator[OpenAs]:
    """``open_as(user, viewport=DESKTOP, javascript=True)``: a logged-in browser of its own for
    ``user``, made by the harness's ``new_context``. Its requests are checked for foreign hosts
    when the test ends (the harness's guard watches only the ``page`` fixture)."""
    people: list[Person] = []

    def _open(user: User, viewport: ViewportSize = DESKTOP, *, javascript: bool = True) -> Person:
        context, log = new_context(browser, live_app, viewport, java_script_enabled=javascript)
        log_in(context, live_app, user)
        context.add_init_script(SOCKET_WATCH)
        page = context.new_page()
        person = Person(user=user, page=page, log=log)
        people.append(person)
        return person

    yield _open
    foreign = []
    for person in people:
        # A round trip delivers the request events not reported yet (a closed page has none).
        with suppress(Exception):
            person.page.evaluate("0")
        foreign += person.log.foreign()
        person.context.close()
    if foreign:
        pytest.fail(
            "The pages requested hosts other than 127.0.0.1/localhost:\n  " + "\n  ".join(foreign)
        )


def member_on(page: Page, live_app: LiveApp, user: User) -> Person:
    """The harness's ``page`` (guarded against foreign hosts) as the logged-in ``user``."""
    log_in(page.context, live_app, user)
    page.context.add_init_script(SOCKET_WATCH)
    log = RequestLog()  # a copy for the test's own checks; the harness keeps its own
    page.on("request", lambda request: log.record(request.url))
    page.on("websocket", lambda socket: log.record(socket.url))
    return Person(user=user, page=page, log=log)


# --- locators --------------------------------------------------------------------------------


def messages(page: Page) -> Locator:
    return page.locator("#message-list .message-item")


def message_with(page: Page, text: str) -> Locator:
    return page.locator(
        "#message-list .message-item", has=page.locator(".message-text", has_text=text)
    )


def badge(page: Page) -> Locator:
    return page.locator("header nav [data-unread-badge]")


def send_button(page: Page) -> Locator:
    return page.locator("#message-form").get_by_role("button", name=de("Send"), exact=True)


def write(page: Page, text: str) -> None:
    page.locator("#message-form textarea").fill(text)
    send_button(page).click()


def assert_live_send(page: Page, url: str) -> None:
    """Sent over the socket: no form post, so the page did not move (a post redirects to
    ``#nachricht-<id>``) and the field is empty for the next message."""
    expect(page.locator("#message-form textarea")).to_have_value("")
    assert page.url.split("#")[0] == url and "#nachricht-" not in page.url, page.url


def keep_track_of_reloads(page: Page) -> None:
    page.evaluate("window.__sameDocument = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__sameDocument === true"), "the page was loaded anew"


# --- 1. live both ways, and the unread count -------------------------------------------------


def test_messages_appear_live_on_both_sides_and_the_member_unread_badge_follows(
    live_app: LiveApp, world: World, inquiry: Conversation, page: Page, open_as: OpenAs
) -> None:
    member = member_on(page, live_app, world.member)
    staff = open_as(world.staff)
    conversation_url = live_app.url + inquiry.get_absolute_url()

    staff_page = staff.open_conversation(inquiry)
    expect(message_with(staff_page, FIRST_QUESTION)).to_be_visible()
    keep_track_of_reloads(staff_page)
    member_page = member.open_conversation(inquiry)
    keep_track_of_reloads(member_page)

    # The member writes: the staff member's open page shows it, once, without a reload.
    question = "Reicht eine Kopie des Bescheids?"
    write(member_page, question)
    assert_live_send(member_page, conversation_url)
    expect(message_with(staff_page, question)).to_be_visible()
    expect(message_with(staff_page, question)).to_have_count(1)
    expect(message_with(staff_page, question).locator(".message-meta strong")).to_have_text(
        world.member.display_name
    )
    expect(message_with(member_page, question)).to_have_count(1)
    expect(message_with(member_page, question).locator(".message-meta strong")).to_have_text(
        de("You")
    )
    # The staff member's page marked it read: "Read" appears under it on the member's page.
    expect(message_with(member_page, question).locator(".message-read")).to_be_visible()
    assert_not_reloaded(staff_page)

    # The staff member answers: the member sees it, and sees who advises them now (the first
    # answer from the team takes the conversation on).
    answer = "Ja, eine Kopie genügt."
    write(staff_page, answer)
    assert_live_send(staff_page, conversation_url)
    expect(message_with(member_page, answer)).to_be_visible()
    expect(message_with(member_page, answer).locator(".message-meta strong")).to_have_text(
        world.staff.display_name
    )
    expect(member_page.locator("#conversation-assignee")).to_have_text(world.staff.display_name)
    # Read on the member's page: the staff member sees "Read" under the answer.
    expect(message_with(staff_page, answer).locator(".message-read")).to_be_visible()
    assert_not_reloaded(member_page)
    assert_not_reloaded(staff_page)

    # The member waits on the list with nothing unread, a second tab on the start page.
    list_page = member.open("/nachrichten/")
    expect(badge(list_page)).to_be_hidden()
    second = member.context.new_page()
    second.goto("/")
    expect(badge(second)).to_be_hidden()
    for tab in (list_page, second):
        wait_for_event_stream(tab)

    # Another answer: both tabs count one unread conversation, live.
    write(staff_page, "Bitte schicken Sie die Kopie bis Freitag.")
    for tab in (list_page, second):
        expect(badge(tab)).to_be_visible()
        expect(badge(tab)).to_have_text("1")
        expect(tab.locator("header nav [data-unread-text]")).to_contain_text("1")

    # The start page also says so in words, with a link to the conversation.
    notice = second.locator("#live-notices")
    expect(notice).to_have_text(de("You have a new message – open it"))
    expect(notice.get_by_role("link")).to_have_attribute("href", inquiry.get_absolute_url())

    # The list, loaded now, marks the conversation new; opening it reads it: the badge is gone
    # there and, live, in the other tab.
    second.goto("/nachrichten/")
    expect(badge(second)).to_have_text("1")
    row = second.locator(
        "main tbody tr", has=second.locator(f'a[href="{inquiry.get_absolute_url()}"]')
    )
    expect(row.locator(".tag-new")).to_have_text(de("New"))
    wait_for_event_stream(second)
    list_page.locator(f'main table a[href="{inquiry.get_absolute_url()}"]').click()
    expect(list_page).to_have_url(conversation_url)
    expect(message_with(list_page, "Bitte schicken Sie die Kopie bis Freitag.")).to_be_visible()
    expect(badge(list_page)).to_be_hidden()
    expect(badge(second)).to_be_hidden()
    expect(second.locator("header nav [data-unread-text]")).to_have_text("")


# --- 2. markup stays text --------------------------------------------------------------------


def test_markup_in_a_live_message_and_in_a_name_shows_as_text_and_runs_nothing(
    live_app: LiveApp, world: World, inquiry: Conversation, page: Page, open_as: OpenAs
) -> None:
    world.member.display_name = 'Mia <img src="/name-img" onerror="alert(3)">'
    world.member.save(update_fields=["display_name"])
    member = member_on(page, live_app, world.member)
    staff = open_as(world.staff)
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    for person in (member, staff):
        person.page.on("dialog", record)

    staff_page = staff.open_conversation(inquiry)
    member_page = member.open_conversation(inquiry)
    payload = (
        '<img src="/payload-img" onerror="alert(1)">\n'
        "<script>alert(2)</script>\n"
        '<a href="javascript:alert(4)">Link</a> <b>fett</b>'
    )
    write(member_page, payload)

    # The new message, whatever became of it, is the second item on either page.
    for shown_on in (staff_page, member_page):
        expect(messages(shown_on)).to_have_count(2)
        text = messages(shown_on).nth(1).locator(".message-text")
        for line in payload.splitlines():
            expect(text).to_contain_text(line)
        expect(text.locator("*"), "markup in the text became elements").to_have_count(0)
        injected = shown_on.locator("#message-list img, #message-list script, #message-list b")
        expect(injected, "markup in the text became elements").to_have_count(0)
    # The author's name came over the socket too: text on the staff page, also in the notice
    # for screen readers.
    name = messages(staff_page).nth(1).locator(".message-meta strong")
    expect(name).to_have_text(world.member.display_name)
    expect(name.locator("*")).to_have_count(0)
    announcer = staff_page.locator("#message-announcer")
    expect(announcer).to_contain_text(world.member.display_name)
    expect(announcer.locator("img, script")).to_have_count(0)

    # Rendered by the server after a reload, it is just as inert.
    staff_page.reload()
    text = messages(staff_page).nth(1).locator(".message-text")
    expect(text).to_contain_text('<img src="/payload-img" onerror="alert(1)">')
    expect(text.locator("*")).to_have_count(0)
    expect(staff_page.locator("#message-list img, #message-list script")).to_have_count(0)

    staff_page.evaluate("0")
    member_page.evaluate("0")
    assert dialogs == []
    fetched = [url for url in member.log.urls + staff.log.urls if "-img" in url]
    assert fetched == [], f"an injected image was requested: {fetched}"


# --- 3. attachments --------------------------------------------------------------------------


def as_pdf(name: str, content: bytes) -> FilePayload:
    """A file for the file field that the browser calls a PDF, whatever it holds."""
    return {"name": name, "mimeType": "application/pdf", "buffer": content}


def attachment_files() -> set[str]:
    directory = files.files_dir()
    return {path.name for path in directory.iterdir()} if directory.exists() else set()


def test_a_pdf_sent_with_the_form_is_a_download_on_both_sides_and_a_fake_pdf_is_refused(
    live_app: LiveApp,
    world: World,
    inquiry: Conversation,
    page: Page,
    open_as: OpenAs,
) -> None:
    member = member_on(page, live_app, world.member)
    staff = open_as(world.staff)
    staff_page = staff.open_conversation(inquiry)
    member_page = member.open_conversation(inquiry)
    content = pdf_bytes(padding=2000)

    # A file goes with the form (a normal upload), even while the socket is open.
    member_page.locator("#message-form textarea").fill("Anbei der Bescheid.")
    member_page.set_input_files(
        "#id_attachments",
        files=[as_pdf("Bescheid März.pdf", content)],
    )
    send_button(member_page).click()
    expect(member_page).to_have_url(
        re.compile(re.escape(live_app.url + inquiry.get_absolute_url()) + r"#nachricht-\d+$")
    )
    [message] = Message.objects.filter(conversation=inquiry, text="Anbei der Bescheid.")
    [attachment] = Attachment.objects.filter(message=message)
    href = f"/nachrichten/{inquiry.pk}/anhang/{attachment.pk}/"
    for shown_on in (member_page, staff_page):  # the staff page without a reload
        link = message_with(shown_on, "Anbei der Bescheid.").get_by_role(
            "link", name="Bescheid März.pdf"
        )
        expect(link).to_be_visible()
        expect(link).to_have_attribute("href", href)
        files_list = message_with(shown_on, "Anbei der Bescheid.").locator("ul.message-files")
        expect(files_list).to_have_attribute("aria-label", de("Attachments"))

    # Both download it: the same bytes, as an attachment, not to be shown in the browser.
    for person in (member, staff):
        response = person.context.request.get(href)
        assert response.status == 200
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("attachment;"), disposition
        assert "Bescheid März.pdf" in unquote(disposition), disposition
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-type"] == "application/pdf"
        assert response.body() == content
    # A click on the link (here the one the staff page got live) downloads the file.
    with staff_page.expect_download() as download:
        staff_page.get_by_role("link", name="Bescheid März.pdf").click()
    assert download.value.suggested_filename == "Bescheid März.pdf"
    # Another member of the organization does not get it.
    stranger = open_as(world.other_member)
    assert stranger.context.request.get(href).status == 404

    # Text renamed .pdf: an error at the file field, the typed text kept, nothing written.
    messages_before = Message.objects.count()
    files_before = attachment_files()
    member_page.locator("#message-form textarea").fill("Und hier die Rechnung.")
    member_page.set_input_files(
        "#id_attachments",
        files=[as_pdf("Rechnung.pdf", b"Dies ist nur Text mit der Endung .pdf\n")],
    )
    send_button(member_page).click()
    field = member_page.locator("#message-form .field:has(#id_attachments)")
    error = field.locator(".error")
    expect(error).to_be_visible()
    expect(error).to_have_text(
        de("The file “%(name)s” is not a PDF, JPEG or PNG file.") % {"name": "Rechnung.pdf"}
    )
    expect(field).to_have_class(re.compile(r"\bfield-invalid\b"))
    file_input = member_page.locator("#id_attachments")
    expect(file_input).to_have_attribute("aria-invalid", "true")
    error_id = error.get_attribute("id")
    assert error_id
    expect(file_input).to_have_attribute("aria-describedby", re.compile(rf"\b{error_id}\b"))
    expect(member_page.locator("#message-form textarea")).to_have_value("Und hier die Rechnung.")
    assert_accessible(member_page)
    assert Message.objects.count() == messages_before
    assert Attachment.objects.count() == 1
    assert attachment_files() == files_before
    expect(message_with(staff_page, "Und hier die Rechnung.")).to_have_count(0)


# --- 4. the team's inbox and handling ----------------------------------------------------------


def inbox_rows(page: Page, conversation_url: str) -> Locator:
    return page.locator("main tbody tr", has=page.locator(f'a[href="{conversation_url}"]'))


def show_inbox(page: Page, view: str) -> None:
    page.goto("/nachrichten/posteingang/")
    page.locator("main nav").get_by_role("link", name=de(view), exact=True).click()
    expect(
        page.locator("main nav").get_by_role("link", name=de(view), exact=True)
    ).to_have_attribute("aria-current", "page")


def test_a_new_inquiry_waits_unassigned_and_assigning_and_closing_reach_the_member_live(
    live_app: LiveApp, world: World, topic: InquiryTopic, page: Page, open_as: OpenAs
) -> None:
    member = member_on(page, live_app, world.member)
    staff = open_as(world.staff)

    # The member starts an inquiry on a topic.
    member_page = member.open("/nachrichten/")
    member_page.locator("main").get_by_role("link", name=de("Write a new message")).click()
    expect(member_page).to_have_url(f"{live_app.url}/nachrichten/neu/")
    member_page.get_by_label(de("Topic")).select_option(label=topic.name)
    member_page.get_by_label(de("Your message")).fill("Wie beantrage ich eine Haushaltshilfe?")
    member_page.locator("main form").get_by_role("button", name=de("Send")).click()
    expect(member_page).to_have_url(re.compile(re.escape(live_app.url) + r"/nachrichten/\d+/$"))
    expect(member_page.locator(".messages")).to_contain_text(de("Your message was sent."))
    conversation = Conversation.objects.get(member=world.member, topic=topic)
    url = conversation.get_absolute_url()
    expect(member_page.locator("h1")).to_have_text(topic.name)
    expect(member_page.locator("#conversation-assignee")).to_have_text(de("Nobody yet"))
    expect(member_page.locator("#connection-state")).to_have_text(de(ONLINE))

    # The staff member finds it under "Unassigned", not under "Mine".
    staff_page = staff.page
    show_inbox(staff_page, "Mine")
    expect(inbox_rows(staff_page, url)).to_have_count(0)
    show_inbox(staff_page, "Unassigned")
    row = inbox_rows(staff_page, url)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(world.member.display_name)
    expect(row).to_contain_text(de("Nobody"))
    expect(row.locator(".tag-new")).to_be_visible()

    # "Assign to me": the member's open page names the adviser, live.
    row.get_by_role("link", name=topic.name).click()
    expect(staff_page).to_have_url(live_app.url + url)
    staff_page.get_by_role("button", name=de("Assign to me"), exact=True).click()
    expect(staff_page.locator(".messages")).to_contain_text(de("The assignment was saved."))
    expect(staff_page.locator("#conversation-assignee")).to_have_text(world.staff.display_name)
    expect(member_page.locator("#conversation-assignee")).to_have_text(world.staff.display_name)
    said = member_page.locator("#message-announcer p").last  # and screen readers hear it
    expect(said).to_have_text(f"{de('Adviser')}: {world.staff.display_name}")
    conversation.refresh_from_db()
    assert conversation.assigned_to_id == world.staff.pk
    show_inbox(staff_page, "Unassigned")
    expect(inbox_rows(staff_page, url)).to_have_count(0)
    show_inbox(staff_page, "Mine")
    expect(inbox_rows(staff_page, url)).to_contain_text(world.staff.display_name)

    # Closing: the member's open page says so, live; reopening takes the notice away again.
    staff_page.goto(url)
    closed_notice = member_page.locator("#closed-notice")
    expect(closed_notice).to_be_hidden()
    staff_page.get_by_role("button", name=de("Close the conversation")).click()
    expect(staff_page.locator(".messages")).to_contain_text(de("The conversation was closed."))
    expect(closed_notice).to_be_visible()
    expect(closed_notice).to_have_text(
        de("This conversation is closed. If you write, it opens again.")
    )
    expect(member_page.locator("#conversation-status")).to_have_text(de("Closed"))
    expect(said).to_have_text(de("This conversation is closed. If you write, it opens again."))
    show_inbox(staff_page, "Closed")
    expect(inbox_rows(staff_page, url)).to_have_count(1)
    show_inbox(staff_page, "Open")
    expect(inbox_rows(staff_page, url)).to_have_count(0)

    staff_page.goto(url)
    staff_page.get_by_role("button", name=de("Open it again")).click()
    expect(staff_page.locator(".messages")).to_contain_text(
        de("The conversation was opened again.")
    )
    expect(closed_notice).to_be_hidden()
    expect(member_page.locator("#conversation-status")).to_have_text(de("Open"))
    expect(said).to_have_text(f"{de('Status')}: {de('Open')}")
    conversation.refresh_from_db()
    assert conversation.status == Status.OPEN


# --- 5. accessibility and the keyboard ------------------------------------------------------


@pytest.fixture
def answered(world: World, inquiry: Conversation) -> Conversation:
    """The inquiry with an answer from the team that carries a PDF. Ask for it before ``page``
    and ``open_as``: its events leave through async_to_sync, which the browser's loop blocks."""
    services.post_message(
        author=world.staff,
        conversation=inquiry,
        text="Hier das Formular.",
        uploads=[upload("Formular.pdf", pdf_bytes())],
    )
    return inquiry


def focus_by_tab(page: Page, target: Locator, *, limit: int = 30) -> None:
    """Tab through the page until ``target`` has the focus."""
    for _ in range(limit):
        if target.evaluate("node => node === document.activeElement"):
            return
        page.keyboard.press("Tab")
    expect(target).to_be_focused()


def assert_fits(page: Page) -> None:
    """Nothing on the page is wider than the screen (no sideways scrolling)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    screen = page.viewport_size
    assert screen and width <= screen["width"], f"{page.url} is {width} px wide on {screen}"


def test_message_pages_pass_axe_also_on_a_phone_and_a_message_is_sent_with_the_keyboard_alone(
    live_app: LiveApp,
    world: World,
    topic: InquiryTopic,
    answered: Conversation,
    page: Page,
    open_as: OpenAs,
) -> None:
    member = member_on(page, live_app, world.member)
    url = answered.get_absolute_url()

    # The member's pages.
    member_page = member.open("/nachrichten/")
    expect(inbox_rows(member_page, url)).to_have_count(1)
    assert_accessible(member_page)
    member.open("/nachrichten/neu/")
    assert_accessible(member_page)
    member_page.locator("main form").get_by_role("button", name=de("Send")).click()
    expect(member_page.locator(".field-invalid").first).to_be_visible()
    assert_accessible(member_page)
    member.open_conversation(answered)
    expect(member_page.get_by_role("link", name="Formular.pdf")).to_be_visible()
    assert_accessible(member_page)

    # Keyboard only: skip link, into the message field, type, on to "Send", Enter.
    member_page.keyboard.press("Tab")
    expect(member_page.locator(".skip-link")).to_be_focused()
    member_page.keyboard.press("Enter")
    expect(member_page.locator("#main")).to_be_focused()
    field = member_page.locator("#message-form textarea")
    focus_by_tab(member_page, field)
    member_page.keyboard.type("Danke, ich schicke es ausgefüllt zurück.")
    focus_by_tab(member_page, send_button(member_page))
    member_page.keyboard.press("Enter")
    expect(message_with(member_page, "Danke, ich schicke es ausgefüllt zurück.")).to_be_visible()
    assert_live_send(member_page, live_app.url + url)
    expect(field).to_be_focused()
    assert_accessible(member_page)

    # On a phone: axe, and nothing wider than the screen.
    phone = open_as(world.member, PHONE)
    for path in ("/nachrichten/", url):
        phone.open(path)
        if path == url:
            expect(phone.page.locator("#connection-state")).to_have_text(de(ONLINE))
        assert_accessible(phone.page)
        assert_fits(phone.page)

    # The team's pages, the conversation also on a phone.
    staff = open_as(world.staff)
    staff.open_conversation(answered)
    assert_accessible(staff.page)
    staff_phone = open_as(world.staff, PHONE)
    staff_phone.open_conversation(answered)
    assert_accessible(staff_phone.page)
    assert_fits(staff_phone.page)
    for view in ("", "?ansicht=ohne-zuweisung", "?ansicht=meine", "?ansicht=geschlossen"):
        staff.open(f"/nachrichten/posteingang/{view}")
        assert_accessible(staff.page)
    admin = open_as(world.org_admin)
    admin.open("/nachrichten/themen/")
    expect(admin.page.locator("main")).to_contain_text(topic.name)
    assert_accessible(admin.page)


# --- 6. without JavaScript -------------------------------------------------------------------


def test_without_javascript_a_message_is_sent_by_the_form_and_shown_after_the_reload(
    live_app: LiveApp, world: World, inquiry: Conversation, open_as: OpenAs
) -> None:
    staff = open_as(world.staff)
    staff_page = staff.open_conversation(inquiry)
    plain = open_as(world.member, javascript=False)
    plain_page = plain.open(inquiry.get_absolute_url())
    expect(message_with(plain_page, FIRST_QUESTION)).to_be_visible()
    expect(plain_page.locator("#connection-state")).to_have_text("")  # no script ran

    plain_page.locator("#message-form textarea").fill("Ohne JavaScript geschrieben.")
    send_button(plain_page).click()
    expect(plain_page).to_have_url(
        re.compile(re.escape(live_app.url + inquiry.get_absolute_url()) + r"#nachricht-\d+$")
    )
    expect(message_with(plain_page, "Ohne JavaScript geschrieben.")).to_be_visible()
    expect(plain_page.locator("#message-form textarea")).to_have_value("")
    # The staff member's page (with JavaScript) shows it live.
    expect(message_with(staff_page, "Ohne JavaScript geschrieben.")).to_be_visible()

    plain_page.evaluate("0")
    sockets = [url for url in plain.log.urls if url.startswith("ws")]
    assert sockets == [], f"the page without JavaScript opened sockets: {sockets}"
