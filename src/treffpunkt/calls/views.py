"""The call page. The page itself only sets the stage; presence, start and signalling run over
the call WebSocket (consumers.py), the media directly between the two browsers."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import login_required
from treffpunkt.booking.models import AppointmentStatus
from treffpunkt.booking.service_hold import CALLS, held_notice
from treffpunkt.calls.selectors import MEMBER, call_appointment_for, call_window, role_in_call
from treffpunkt.core import clock


def page_strings() -> dict[str, str]:
    """What the call script says, in the page's language."""
    return {
        "waitingForOther": _("Waiting for %(name)s to open this page."),
        "otherHere": _("%(name)s is here."),
        "otherReady": _("%(name)s has pressed “Start conversation” and is waiting for you."),
        "waitingForPress": _("Waiting for the other side to press “Start conversation” too."),
        "connecting": _("Connecting …"),
        "connected": _("Connected."),
        "reconnecting": _("The connection was interrupted. Reconnecting …"),
        "otherLeft": _("%(name)s has left the page. The call continues when they come back."),
        "ended": _("The conversation has ended."),
        "endedByOther": _("%(name)s has ended the conversation."),
        "endedWindow": _("The time for this conversation is over."),
        "endedCancelled": _(
            "The appointment was cancelled, so the conversation has ended. "
            "The appointment page says more."
        ),
        "endedMoved": _(
            "The appointment was moved to another time, so the conversation has ended. "
            "The appointment page shows the new time."
        ),
        "replaced": _("You opened this conversation in another window. This window is closed."),
        "closedWindow": _("The call window is closed. Reload the page to see the times."),
        "socketLost": _("No connection to the server. Trying again …"),
        "deviceBlocked": _(
            "Your browser blocks the camera or microphone. Allow access in the address bar "
            "(the camera symbol) and reload the page. You can still join: the other side then "
            "neither sees nor hears you."
        ),
        "deviceMissing": _(
            "No camera or microphone was found. Connect one and reload the page, or join "
            "without: the other side then neither sees nor hears you."
        ),
        "deviceBusy": _(
            "The camera or microphone is in use by another program. Close it and reload the page."
        ),
        "cameraOnlyMissing": _("No camera was found. You join with your microphone only."),
        "muted": _("Microphone off"),
        "unmuted": _("Microphone on"),
        "cameraOff": _("Camera off"),
        "cameraOn": _("Camera on"),
        "shareStart": _("Share screen"),
        "shareStop": _("Stop sharing"),
        "shareFailed": _("Screen sharing did not start."),
        "encrypted": _("End-to-end encrypted"),
        "plainMedia": _("NOT encrypted (measuring mode for benchmarks)"),
        "keyGeneration": _("key no. %(own)s (other side: %(other)s)"),
        "keyPending": _("exchanging keys …"),
        "qualityGood": _("good"),
        "qualityFair": _("fair"),
        "qualityPoor": _("poor"),
        "qualityDetail": _(
            "%(quality)s · round trip %(rtt)s ms · loss %(loss)s %% · %(kbps)s kbit/s · %(path)s"
        ),
        "pathDirect": _("direct"),
        "pathRelay": _("via the relay server"),
        "encryptionFailed": _(
            "The encryption could not be set up. The call was stopped; nothing was sent "
            "unencrypted. Reload the page to try again."
        ),
        "newCode": _(
            "The connection was rebuilt and has new keys, so the verification code has changed. "
            "Please compare it again."
        ),
        "micLevel": _("Microphone level"),
        "defaultDevice": _("Default device"),
    }


@login_required
def call_page(request: HttpRequest, appointment_id: int) -> HttpResponse:
    viewer = cast(User, request.user)
    appointment = call_appointment_for(viewer, appointment_id)
    role = role_in_call(appointment, viewer)
    other = appointment.staff if role == MEMBER else appointment.member
    window = call_window(appointment)
    now = clock.now()
    context: dict[str, Any] = {"appointment": appointment, "window": window, "other": other}
    if (notice := held_notice(request, CALLS)) is not None:
        return notice
    if appointment.status != AppointmentStatus.CONFIRMED:
        return render(request, "calls/unavailable.html", {**context, "reason": "not_confirmed"})
    if not window.is_open(now):
        reason = "too_early" if window.not_yet(now) else "too_late"
        return render(request, "calls/unavailable.html", {**context, "reason": reason})
    config = {
        "socketPath": f"/ws/gespraech/{appointment.pk}/",
        "role": role,
        "otherName": other.display_name,
        "appointmentUrl": reverse("booking:appointment", kwargs={"appointment_id": appointment.pk}),
        "workerUrl": static("treffpunkt/calls/e2ee-worker.js"),
        "testHooks": settings.CALL_TEST_HOOKS,
        "plainMedia": settings.CALL_BENCHMARK_PLAIN_MEDIA,
        "strings": page_strings(),
    }
    return render(request, "calls/call.html", {**context, "config": config})
