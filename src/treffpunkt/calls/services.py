"""Write path for calls: being on the call page, pressing "Gespräch starten", hanging up and
the traffic record. Every function is one transaction on the locked appointment row, so two
presses or a press and a leave on two server processes are decided one after the other."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.models import User
from treffpunkt.accounts.selectors import terms_awaiting_acceptance
from treffpunkt.booking.models import Appointment, AppointmentStatus
from treffpunkt.calls import realtime
from treffpunkt.calls.models import (
    CallParticipation,
    CallPresence,
    CallSession,
    CallStatistic,
    EndReason,
)
from treffpunkt.calls.selectors import call_window, role_in_call, running_session
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError, NotAllowed

# A page whose socket is open but that has not sent its heartbeat (every 20 s) for this long
# counts as gone: its server process may have died. Generous, because browsers slow down the
# timers of background tabs.
PRESENCE_TIMEOUT = timedelta(seconds=150)


class CallNotFound(NotAllowed):
    """Not one of the appointment's two people, or no such appointment: the same answer."""

    def __init__(self) -> None:
        super().__init__(_("This call does not exist."), code="not_found")


class CallNotOpen(DomainError):
    """The appointment is not confirmed, or the call window is closed."""


@dataclass(frozen=True)
class Presence:
    member_here: bool
    staff_here: bool
    member_ready: bool
    staff_ready: bool

    @property
    def both_here(self) -> bool:
        return self.member_here and self.staff_here

    def as_event(self) -> dict[str, bool]:
        return {
            "member_here": self.member_here,
            "staff_here": self.staff_here,
            "member_ready": self.member_ready,
            "staff_ready": self.staff_ready,
        }


@dataclass(frozen=True)
class Joined:
    role: str
    presence: Presence
    running_session_id: int | None
    replaced_channel: str
    window_closes_at: datetime


@dataclass(frozen=True)
class StartPressed:
    presence: Presence
    session_id: int | None
    started_now: bool


def _is_fresh(presence: CallPresence, now: datetime) -> bool:
    return bool(presence.channel_name) and presence.seen_at > now - PRESENCE_TIMEOUT


def _presence(appointment: Appointment, now: datetime) -> Presence:
    here: dict[int, CallPresence] = {
        row.user_id: row
        for row in CallPresence.objects.filter(appointment=appointment)
        if _is_fresh(row, now)
    }
    member, staff = here.get(appointment.member_id), here.get(appointment.staff_id)
    return Presence(
        member_here=member is not None,
        staff_here=staff is not None,
        member_ready=member is not None and member.ready_at is not None,
        staff_ready=staff is not None and staff.ready_at is not None,
    )


def _locked(user: User, appointment_id: int) -> tuple[Appointment, str]:
    appointment = (
        Appointment.objects.select_for_update()
        .select_related("member", "staff", "organization")
        .filter(pk=appointment_id)
        .first()
    )
    role = role_in_call(appointment, user) if appointment is not None else None
    if appointment is None or role is None:
        raise CallNotFound
    return appointment, role


def _check_open(appointment: Appointment, user: User, now: datetime) -> None:
    if appointment.status != AppointmentStatus.CONFIRMED:
        raise CallNotOpen(_("This appointment is not confirmed."), code="not_confirmed")
    if not call_window(appointment).is_open(now):
        raise CallNotOpen(_("The call window is closed."), code="outside_window")
    if user.is_member and terms_awaiting_acceptance(user):
        raise NotAllowed(_("Please accept the terms of use first."), code="terms")


def join_call(*, user: User, appointment_id: int, channel_name: str) -> Joined:
    """Someone opened the call page. A second window of the same person replaces the first."""
    now = clock.now()
    with transaction.atomic():
        appointment, role = _locked(user, appointment_id)
        _check_open(appointment, user, now)
        row, created = CallPresence.objects.get_or_create(
            appointment=appointment,
            user=user,
            defaults={"channel_name": channel_name, "seen_at": now},
        )
        replaced = "" if created or row.channel_name == channel_name else row.channel_name
        session = running_session(appointment.pk)
        row.channel_name = channel_name
        row.seen_at = now
        if session is None:
            row.ready_at = None  # a fresh arrival has not pressed start yet
        row.save(update_fields=["channel_name", "seen_at", "ready_at"])
        if session is not None:
            CallParticipation.objects.get_or_create(session=session, user=user)
        return Joined(
            role=role,
            presence=_presence(appointment, now),
            running_session_id=session.pk if session else None,
            replaced_channel=replaced,
            window_closes_at=call_window(appointment).closes_at,
        )


def keep_present(*, user: User, appointment_id: int, channel_name: str) -> None:
    """The page's heartbeat."""
    CallPresence.objects.filter(
        appointment_id=appointment_id, user=user, channel_name=channel_name
    ).update(seen_at=clock.now())


def leave_call(*, user: User, appointment_id: int, channel_name: str) -> Presence | None:
    """The page closed. A running call ends when nobody is left on it; while one of the two
    is still there it waits, so that a reload or a network drop can come back."""
    now = clock.now()
    with transaction.atomic():
        appointment = Appointment.objects.select_for_update().filter(pk=appointment_id).first()
        if appointment is None:
            return None
        left = CallPresence.objects.filter(
            appointment=appointment, user=user, channel_name=channel_name
        ).update(channel_name="", ready_at=None)
        if not left:
            return None  # this window had been replaced by a newer one
        presence = _presence(appointment, now)
        session = running_session(appointment.pk)
        if session is not None and not (presence.member_here or presence.staff_here):
            _end(session, reason=EndReason.EVERYONE_LEFT, actor=user, now=now)
        return presence


def press_start(*, user: User, appointment_id: int) -> StartPressed:
    """ "Gespräch starten" (P-CALL-3): the call starts only when both have pressed."""
    now = clock.now()
    with transaction.atomic():
        appointment, _role = _locked(user, appointment_id)
        _check_open(appointment, user, now)
        row = CallPresence.objects.filter(appointment=appointment, user=user).first()
        if row is None or not _is_fresh(row, now):
            raise NotAllowed(_("Open the call page first."), code="not_on_page")
        session = running_session(appointment.pk)
        if session is not None:
            return StartPressed(
                presence=_presence(appointment, now), session_id=session.pk, started_now=False
            )
        if row.ready_at is None:
            row.ready_at = now
            row.save(update_fields=["ready_at"])
        presence = _presence(appointment, now)
        if not (presence.both_here and presence.member_ready and presence.staff_ready):
            return StartPressed(presence=presence, session_id=None, started_now=False)
        session = CallSession.objects.create(appointment=appointment, started_at=now)
        CallParticipation.objects.bulk_create(
            [
                CallParticipation(session=session, user_id=appointment.member_id),
                CallParticipation(session=session, user_id=appointment.staff_id),
            ]
        )
        audit.record(
            "calls.call.started",
            actor=user,
            target=session,
            organization=appointment.organization,
            data={"appointment": appointment.pk},
        )
        return StartPressed(presence=presence, session_id=session.pk, started_now=True)


def hang_up(*, user: User, appointment_id: int) -> CallSession | None:
    """Either side ends the call. Both stay on the page and can start again together."""
    now = clock.now()
    with transaction.atomic():
        appointment, role = _locked(user, appointment_id)
        session = running_session(appointment.pk)
        CallPresence.objects.filter(appointment=appointment).update(ready_at=None)
        if session is None:
            return None
        _end(session, reason=EndReason.HUNG_UP, actor=user, now=now, by=role)
        return session


def end_for_changed_appointment(
    *, appointment: Appointment, change: Literal["cancelled", "moved"], actor: User
) -> CallSession | None:
    """The appointment was cancelled or moved (inside that change's transaction): a running
    call ends, and both call pages are told why, also when no call runs (they show it and no
    longer offer to start)."""
    reason = EndReason.CANCELLED if change == "cancelled" else EndReason.MOVED
    by = role_in_call(appointment, actor) or ""
    CallPresence.objects.filter(appointment=appointment).update(ready_at=None)
    session = running_session(appointment.pk)
    if session is None:
        realtime.notify_call(
            appointment.pk, {"type": "call.ended", "reason": str(reason), "by": by}
        )
        return None
    _end(session, reason=reason, actor=actor, now=clock.now(), by=by)
    return session


def _end(
    session: CallSession, *, reason: EndReason, actor: User | None, now: datetime, by: str = ""
) -> None:
    session.ended_at = now
    session.end_reason = reason
    session.save(update_fields=["ended_at", "end_reason"])
    appointment = session.appointment
    audit.record(
        "calls.call.ended",
        actor=actor,
        target=session,
        organization=appointment.organization,
        data={
            "appointment": appointment.pk,
            "reason": str(reason),
            "minutes": round((now - session.started_at).total_seconds() / 60, 1),
        },
    )
    realtime.notify_call(appointment.pk, {"type": "call.ended", "reason": str(reason), "by": by})


# Far more than a video call can move in a day; a bigger figure is a forged report.
MAX_REPORTED_BYTES = 10**13


def record_traffic(*, user: User, session_id: int, sent: int, received: int) -> None:
    """Add what the browser reports as sent and received since its last report (P-CALL-7:
    traffic data only)."""
    if not (0 <= sent <= MAX_REPORTED_BYTES and 0 <= received <= MAX_REPORTED_BYTES):
        raise DomainError(_("Implausible traffic figures."), code="invalid_stats")
    if sent == 0 and received == 0:
        return
    CallParticipation.objects.filter(session_id=session_id, user=user).update(
        bytes_sent=F("bytes_sent") + sent, bytes_received=F("bytes_received") + received
    )


def end_abandoned_calls(*, now: datetime | None = None) -> int:
    """Periodic: end calls whose window closed or whose pages all went away without a word
    (a crashed browser or server process). Returns how many ended."""
    now = now or clock.now()
    ended = 0
    for session_id in CallSession.objects.filter(ended_at__isnull=True).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            session = (
                CallSession.objects.select_for_update()
                .select_related("appointment__organization")
                .filter(pk=session_id, ended_at__isnull=True)
                .first()
            )
            if session is None:
                continue
            appointment = session.appointment
            if not call_window(appointment).is_open(now):
                _end(session, reason=EndReason.WINDOW_CLOSED, actor=None, now=now)
                ended += 1
                continue
            presence = _presence(appointment, now)
            if not (presence.member_here or presence.staff_here):
                _end(session, reason=EndReason.EVERYONE_LEFT, actor=None, now=now)
                ended += 1
    return ended


# --- data rules (P-DATA-2) ----------------------------------------------------------------------

# A page that has not renewed its presence for a day has long gone.
PRESENCE_KEPT = timedelta(days=1)


def clean_presence(*, now: datetime | None = None) -> int:
    """Delete presence rows of pages gone for a day (who had a call page open, and when)."""
    cutoff = (now or clock.now()) - PRESENCE_KEPT
    with transaction.atomic():
        deleted, _per_model = CallPresence.objects.filter(seen_at__lt=cutoff).delete()
        audit.record("calls.presence.cleaned", actor=None, data={"deleted": deleted})
    return deleted


def anonymize_calls(sessions: Iterable[int]) -> dict[str, int]:
    """Fold ended calls into the statistics per organization and day (no person's id) and
    delete them with their participants (who, start, end, volume). Running calls stay."""
    counts = {"calls": 0, "participations": 0}
    with transaction.atomic():
        found = (
            CallSession.objects.filter(pk__in=list(sessions), ended_at__isnull=False)
            .select_related("appointment")
            .prefetch_related("participants")
        )
        totals: dict[tuple[int, date], list[int]] = {}
        for session in found:
            assert session.ended_at is not None  # noqa: S101  # filtered above
            key = (session.appointment.organization_id, timezone.localdate(session.ended_at))
            seconds = max((session.ended_at - session.started_at).total_seconds(), 0)
            traffic = sum(p.bytes_sent + p.bytes_received for p in session.participants.all())
            entry = totals.setdefault(key, [0, 0, 0])
            entry[0] += 1
            entry[1] += math.ceil(seconds / 60)
            entry[2] += traffic
            counts["participations"] += len(session.participants.all())
        for (organization_id, day), (calls, minutes, traffic) in totals.items():
            statistic, _created = CallStatistic.objects.select_for_update().get_or_create(
                organization_id=organization_id, day=day
            )
            statistic.calls += calls
            statistic.minutes += minutes
            statistic.bytes_total += traffic
            statistic.save(update_fields=["calls", "minutes", "bytes_total"])
        counts["calls"] = sum(entry[0] for entry in totals.values())
        CallSession.objects.filter(pk__in=[s.pk for s in found]).delete()
    return counts
