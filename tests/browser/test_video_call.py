"""Video calls between two real Chromium browsers with fake camera and microphone
(P-CALL-1 … P-CALL-6). Each test is one promise: the start window and the two presses, media
both ways through the encryption worker, keys that change on a timer, frames that really are
encrypted, a server that never sees a frame key, nobody else gets in, a reload recovers, and a
call forced through a real coturn relay on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.browser.conftest import DESKTOP, PHONE, RequestLog, assert_accessible, new_context
from tests.calls.conftest import confirmed_call
from tests.conftest import LiveApp, free_port
from tests.factories import MemberFactory, OrganizationFactory, StaffFactory
from tests.sockets import session_cookie
from treffpunkt.accounts.models import User
from treffpunkt.booking.models import Appointment
from treffpunkt.calls.consumers import CallConsumer
from treffpunkt.calls.models import CallSession

pytestmark = pytest.mark.browser

SIGNALLING = {"offer", "answer", "ice", "commit", "pubkey", "restart_ice"}
PAGE_FRAMES = {"ping", "ready", "stats", "hangup"}


@dataclass
class Person:
    user: User
    context: BrowserContext
    page: Page
    requests: RequestLog

    def hooks(self, expression: str) -> Any:
        return self.page.evaluate(f"window.treffpunktCall.{expression}")

    def counters(self) -> dict[str, int]:
        return dict(self.page.evaluate("window.treffpunktCall.counters()"))


@dataclass
class Scene:
    appointment: Appointment
    member: Person
    staff: Person
    open_as: Callable[[User], Person]

    @property
    def url(self) -> str:
        return f"/termine/{self.appointment.pk}/gespraech/"

    def both(self) -> tuple[Person, Person]:
        return self.member, self.staff


@pytest.fixture
def scene(live_app: LiveApp, browser: Browser) -> Iterator[Scene]:
    org = OrganizationFactory()
    member = MemberFactory(organization=org, display_name="Mia Mitglied")
    staff = StaffFactory(organization=org, display_name="Bernd Berater")
    appointment = confirmed_call(member=member, staff=staff)
    contexts: list[BrowserContext] = []

    def open_as(user: User, *, phone: bool = False) -> Person:
        context, log = new_context(browser, live_app, PHONE if phone else DESKTOP)
        context.set_default_timeout(15_000)
        name, value = session_cookie(user).split("=", 1)
        context.add_cookies([{"name": name, "value": value, "url": live_app.url}])
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: print(f"page error ({user.display_name}):", error))
        return Person(user=user, context=context, page=page, requests=log)

    yield Scene(
        appointment=appointment,
        member=open_as(member, phone=True),
        staff=open_as(staff),
        open_as=open_as,
    )
    for context in contexts:
        context.close()


def wait_until(check: Callable[[], bool], *, seconds: float = 15, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds} s in vain for: {what}")


def both_on_the_page(scene: Scene) -> None:
    for person in scene.both():
        person.page.goto(scene.url)
    for person in scene.both():
        expect(person.page.locator("#start-dialog")).to_be_visible()


def start_call(scene: Scene) -> None:
    both_on_the_page(scene)
    for person in scene.both():
        person.page.click("#start-button")
    for person in scene.both():
        expect(person.page.locator("#in-call")).to_be_visible()
    wait_until(
        lambda: all(p.counters()["decrypted"] > 20 for p in scene.both()),
        what="decrypted frames on both sides",
    )


def decoded_video(person: Person) -> int:
    return int(
        person.page.evaluate(
            "document.getElementById('remote-video').getVideoPlaybackQuality().totalVideoFrames"
        )
    )


def assert_no_foreign_requests(scene: Scene) -> None:
    for person in scene.both():
        assert person.requests.foreign() == []


# --- P-CALL-2, P-CALL-3 ------------------------------------------------------------------------


def test_the_start_window_appears_on_both_and_one_press_does_not_start_the_call(scene: Scene):
    both_on_the_page(scene)
    for person in scene.both():
        assert_accessible(person.page)
    scene.member.page.click("#start-button")
    expect(scene.member.page.locator("#start-waiting")).to_contain_text("andere Seite")
    expect(scene.staff.page.locator("#start-waiting")).to_contain_text("wartet auf Sie")
    time.sleep(1.5)
    for person in scene.both():
        expect(person.page.locator("#in-call")).to_be_hidden()
        assert person.hooks("inCall()") is False
    assert not CallSession.objects.filter(appointment=scene.appointment).exists()

    scene.staff.page.click("#start-button")
    for person in scene.both():
        expect(person.page.locator("#in-call")).to_be_visible()
    assert CallSession.objects.filter(appointment=scene.appointment).count() == 1
    for person in scene.both():
        assert_accessible(person.page)
    assert_no_foreign_requests(scene)


# --- P-CALL-1, P-CALL-4, P-CALL-5 ----------------------------------------------------------------


def test_audio_and_video_flow_both_ways_through_the_decrypting_worker(scene: Scene):
    start_call(scene)
    before = {person.user.pk: (person.counters(), decoded_video(person)) for person in scene.both()}
    time.sleep(2)
    for person in scene.both():
        counters_before, frames_before = before[person.user.pk]
        counters = person.counters()
        assert decoded_video(person) > frames_before
        assert counters["videoDecrypted"] > counters_before["videoDecrypted"]
        assert counters["audioDecrypted"] > counters_before["audioDecrypted"]
        assert counters["videoEncrypted"] > counters_before["videoEncrypted"]
        assert counters["decryptFailures"] == 0
    codes = {person.hooks("verificationCode()") for person in scene.both()}
    assert len(codes) == 1
    code = codes.pop()
    assert len(code) == 7 and code.replace(" ", "").isdigit()
    for person in scene.both():
        expect(person.page.locator("#verification-code")).to_have_text(code)
        expect(person.page.locator("#e2ee-state")).to_have_text("Ende-zu-Ende verschlüsselt")
        expect(person.page.locator("#connection-quality")).to_have_attribute("data-path", "direct")


def test_keys_change_on_a_timer_without_a_single_failed_frame(
    scene: Scene, settings: SettingsWrapper
):
    settings.CALL_KEY_ROTATION_SECONDS = 1
    start_call(scene)
    wait_until(
        lambda: all(p.counters()["sendKeyChanges"] >= 4 for p in scene.both()),
        seconds=20,
        what="three key changes after the first key on both sides",
    )
    frames = {person.user.pk: decoded_video(person) for person in scene.both()}
    time.sleep(1.5)
    for person in scene.both():
        counters = person.counters()
        assert counters["sendKeyChanges"] >= 4
        assert counters["receiveKeysInstalled"] >= 4
        assert counters["decryptFailures"] == 0
        assert decoded_video(person) > frames[person.user.pk], "frames stopped flowing"
        expect(person.page.locator("#key-generation")).to_contain_text("Schlüssel Nr.")


def test_a_receiver_with_the_wrong_key_decodes_nothing(scene: Scene):
    start_call(scene)
    scene.member.page.evaluate("window.treffpunktCall.plantWrongKey()")
    time.sleep(0.5)  # frames already decoded before the swap leave the pipeline
    before = scene.member.counters()
    frames_before = decoded_video(scene.member)
    time.sleep(2)
    after = scene.member.counters()
    assert after["decrypted"] == before["decrypted"]
    assert after["decryptFailures"] - before["decryptFailures"] > 20
    assert decoded_video(scene.member) == frames_before
    # The other direction still works: the staff member holds the right key.
    assert scene.staff.counters()["decryptFailures"] == 0


def test_the_server_relays_public_keys_and_signalling_but_never_a_frame_key(
    scene: Scene, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
):
    settings.CALL_KEY_ROTATION_SECONDS = 1
    received: list[str] = []
    relayed: list[dict[str, Any]] = []
    original_receive = CallConsumer.receive
    original_relay = CallConsumer._relay

    async def capture_receive(
        self: CallConsumer, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        received.append(text_data or "")
        await original_receive(self, text_data=text_data, bytes_data=bytes_data)

    async def capture_relay(self: CallConsumer, frame: dict[str, Any]) -> None:
        relayed.append(frame)
        await original_relay(self, frame)

    monkeypatch.setattr(CallConsumer, "receive", capture_receive)
    monkeypatch.setattr(CallConsumer, "_relay", capture_relay)
    start_call(scene)
    wait_until(
        lambda: all(p.counters()["sendKeyChanges"] >= 3 for p in scene.both()),
        what="several frame keys on both sides",
    )
    frame_keys = [key for person in scene.both() for key in person.hooks("frameKeys()")]
    assert len(frame_keys) >= 6

    assert {frame["type"] for frame in relayed} <= SIGNALLING
    assert {"offer", "answer", "ice", "commit", "pubkey"} <= {frame["type"] for frame in relayed}
    for frame in relayed:
        if frame["type"] == "pubkey":
            raw = base64.b64decode(frame["key"])
            assert len(raw) == 65 and raw[0] == 4  # an uncompressed P-256 public key, no more
    everything = "\n".join(received)
    assert {json.loads(text)["type"] for text in received} <= SIGNALLING | PAGE_FRAMES
    for key in frame_keys:
        raw = base64.b64decode(key)
        for spelling in (key, raw.hex(), base64.urlsafe_b64encode(raw).decode().rstrip("=")):
            assert spelling not in everything


# --- who gets in ---------------------------------------------------------------------------------


@pytest.mark.parametrize("outsider", ["other_member", "other_staff"])
def test_a_third_person_cannot_open_the_page_or_join_the_signalling(scene: Scene, outsider: str):
    org = scene.appointment.organization
    user = (
        MemberFactory(organization=org)
        if outsider == "other_member"
        else StaffFactory(organization=OrganizationFactory())
    )
    stranger = scene.open_as(user)
    response = stranger.page.goto(scene.url)
    assert response is not None and response.status == 404
    code = stranger.page.evaluate(
        """(path) => new Promise((resolve) => {
              const socket = new WebSocket(`ws://${location.host}${path}`);
              socket.onclose = (event) => resolve(event.code);
            })""",
        f"/ws/gespraech/{scene.appointment.pk}/",
    )
    assert code == 4404


# --- P-CALL-6 ---------------------------------------------------------------------------------


def test_the_member_reloads_mid_call_and_the_call_recovers(scene: Scene):
    start_call(scene)
    scene.member.page.reload()
    # No second press: both already agreed to this call.
    expect(scene.member.page.locator("#in-call")).to_be_visible()
    wait_until(
        lambda: scene.member.counters()["videoDecrypted"] > 20,
        what="the reloaded page decrypting video again",
    )
    staff_before = decoded_video(scene.staff)
    member_before = decoded_video(scene.member)
    time.sleep(1.5)
    assert decoded_video(scene.staff) > staff_before
    assert decoded_video(scene.member) > member_before
    assert scene.member.counters()["decryptFailures"] == 0
    assert CallSession.objects.filter(appointment=scene.appointment).count() == 1


def test_hanging_up_ends_the_call_on_both_screens(scene: Scene):
    start_call(scene)
    scene.staff.page.click("#hangup-button")
    for person in scene.both():
        expect(person.page.locator("#call-ended")).to_be_visible()
        expect(person.page.locator("#in-call")).to_be_hidden()
    expect(scene.member.page.locator("#ended-text")).to_contain_text("Bernd Berater")
    session = CallSession.objects.get(appointment=scene.appointment)
    assert session.ended_at is not None
    assert_accessible(scene.member.page)


def test_cancelling_the_appointment_ends_the_running_call_on_both_screens(scene: Scene):
    """The page used to refuse only new joins; now a running call ends, with the reason."""
    from django.utils import translation
    from django.utils.translation import gettext

    from tests.browser.conftest import outside_browser_loop
    from treffpunkt.booking import services as booking
    from treffpunkt.calls.models import EndReason

    start_call(scene)
    with outside_browser_loop():
        booking.cancel_appointment(
            actor=scene.staff.user, appointment_id=scene.appointment.pk, reason="Erkrankt"
        )
    for person in scene.both():
        page = person.page
        expect(page.locator("#call-ended")).to_be_visible()
        expect(page.locator("#in-call")).to_be_hidden()
        with translation.override(person.user.preferred_language):
            said = gettext(
                "The appointment was cancelled, so the conversation has ended. "
                "The appointment page says more."
            )
        expect(page.locator("#ended-text")).to_have_text(said)
        # Nothing to start again: the appointment no longer exists.
        expect(page.locator("#start-again")).to_be_hidden()
    session = CallSession.objects.get(appointment=scene.appointment)
    assert session.ended_at is not None and session.end_reason == EndReason.CANCELLED
    assert_accessible(scene.member.page)


def test_a_blocked_camera_gets_a_clear_message(scene: Scene):
    scene.member.page.add_init_script(
        """navigator.mediaDevices.getUserMedia = () =>
             Promise.reject(new DOMException("blocked", "NotAllowedError"));"""
    )
    scene.member.page.goto(scene.url)
    alert = scene.member.page.locator("#call-alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("blockiert Kamera oder Mikrofon")
    assert_accessible(scene.member.page)


def test_a_browser_without_frame_encryption_is_refused_the_call(scene: Scene):
    scene.member.page.add_init_script(
        """delete window.RTCRtpScriptTransform;
           delete RTCRtpSender.prototype.createEncodedStreams;"""
    )
    scene.member.page.goto(scene.url)
    expect(scene.member.page.locator("#call-unsupported")).to_be_visible()
    expect(scene.member.page.locator("#prejoin")).to_be_hidden()
    # The page never joins: the staff member waits alone, no unencrypted call can start.
    scene.staff.page.goto(scene.url)
    expect(scene.staff.page.locator("#call-status")).to_contain_text("Warten, bis Mia Mitglied")
    expect(scene.staff.page.locator("#start-dialog")).to_be_hidden()


# --- P-CALL-4: through the relay where it must ---------------------------------------------------


@dataclass
class Coturn:
    port: int
    secret: str
    process: subprocess.Popen[bytes]


@pytest.fixture
def coturn() -> Iterator[Coturn]:
    binary = shutil.which("turnserver")
    if binary is None:
        pytest.fail("coturn's turnserver is not installed (Debian package coturn)")
    port = free_port()
    relay_low = 49000 + (port % 500) * 20
    secret = uuid.uuid4().hex
    process = subprocess.Popen(
        [
            binary,
            "-n",  # no configuration file
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            f"--listening-port={port}",
            f"--min-port={relay_low}",
            f"--max-port={relay_low + 19}",
            "--use-auth-secret",
            f"--static-auth-secret={secret}",
            "--realm=treffpunkt.test",
            "--allow-loopback-peers",  # both browsers are on 127.0.0.1 here
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            "--fingerprint",
            "--log-file=stdout",
            "--simple-log",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    time.sleep(0.5)
    assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
    yield Coturn(port=port, secret=secret, process=process)
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()


def test_with_relay_only_the_call_runs_through_a_real_coturn(
    scene: Scene, settings: SettingsWrapper, coturn: Coturn
):
    settings.CALL_TURN_URLS = [f"turn:127.0.0.1:{coturn.port}?transport=udp"]
    settings.CALL_TURN_SECRET = coturn.secret
    settings.CALL_ICE_TRANSPORT_POLICY = "relay"
    start_call(scene)
    for person in scene.both():
        expect(person.page.locator("#connection-quality")).to_have_attribute(
            "data-path", "relay", timeout=10_000
        )
        assert person.counters()["decryptFailures"] == 0
    frames = {person.user.pk: decoded_video(person) for person in scene.both()}
    time.sleep(1.5)
    for person in scene.both():
        assert decoded_video(person) > frames[person.user.pk]


def test_before_joining_the_camera_preview_plays_and_devices_can_be_chosen(scene: Scene):
    page = scene.member.page
    page.goto(scene.url)
    wait_until(
        lambda: page.evaluate("document.getElementById('preview-video').videoWidth") > 0,
        what="the camera preview",
    )
    assert page.locator("#camera-select option").count() >= 1
    assert page.locator("#microphone-select option").count() >= 1
    page.click("h1")  # a first gesture wakes the audio context that measures the level
    wait_until(
        lambda: page.evaluate("document.getElementById('mic-level').value") > 0,
        what="the microphone level meter moving",
    )


def test_after_a_network_change_an_ice_restart_keeps_the_call_running(scene: Scene):
    start_call(scene)
    ufrag = scene.staff.hooks("iceUfrag()")
    # The member's page asks for the restart, as it does when its connection breaks; the staff
    # page makes the new offer with fresh ICE credentials, and the keys stay as they are.
    scene.member.page.evaluate("window.treffpunktCall.restartIce()")
    wait_until(lambda: scene.staff.hooks("iceUfrag()") not in ("", ufrag), what="a new ICE ufrag")
    frames = {person.user.pk: decoded_video(person) for person in scene.both()}
    time.sleep(1.5)
    for person in scene.both():
        assert decoded_video(person) > frames[person.user.pk]
        assert person.counters()["decryptFailures"] == 0


def test_a_shared_screen_is_encrypted_like_the_camera(scene: Scene):
    start_call(scene)
    camera = scene.staff.hooks("sentVideoLabel()")
    scene.staff.page.click("#share-button")
    expect(scene.staff.page.locator("#share-button")).to_have_attribute("aria-pressed", "true")
    assert scene.staff.hooks("sentVideoLabel()") != camera
    time.sleep(0.5)
    before = scene.member.counters()
    frames = decoded_video(scene.member)
    time.sleep(1.5)
    after = scene.member.counters()
    # The screen goes through the same sender, so through the same encrypting transform.
    assert after["videoDecrypted"] > before["videoDecrypted"]
    assert decoded_video(scene.member) > frames
    assert after["decryptFailures"] == 0
    scene.staff.page.click("#share-button")
    expect(scene.staff.page.locator("#share-button")).to_have_attribute("aria-pressed", "false")
    wait_until(lambda: scene.staff.hooks("sentVideoLabel()") == camera, what="the camera again")


def test_in_a_new_tab_the_member_joins_the_running_call_with_one_press(scene: Scene):
    start_call(scene)
    scene.member.page.close()  # the tab is gone, and with it what it knew
    scene.member.page = scene.member.context.new_page()
    scene.member.page.goto(scene.url)
    # The call is running, but this tab never agreed to it: it asks before the camera goes in.
    expect(scene.member.page.locator("#start-dialog")).to_be_visible()
    expect(scene.member.page.locator("#in-call")).to_be_hidden()
    scene.member.page.click("#start-button")
    expect(scene.member.page.locator("#in-call")).to_be_visible()
    wait_until(
        lambda: scene.member.counters()["videoDecrypted"] > 20,
        what="the new tab decrypting video",
    )
    assert scene.member.counters()["decryptFailures"] == 0
    assert CallSession.objects.filter(appointment=scene.appointment).count() == 1
