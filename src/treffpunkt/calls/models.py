"""Video calls. The media never reaches the server (P-CALL-4, P-CALL-5); what is stored here
is who is on the call page right now (``CallPresence``) and the traffic record of each call
(``CallSession``, ``CallParticipation``): who, start, end and byte counts, nothing of the
content (P-CALL-7)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from treffpunkt.booking.models import Appointment


class EndReason(models.TextChoices):
    HUNG_UP = "hung_up", _("hung up")
    EVERYONE_LEFT = "everyone_left", _("both left the page")
    WINDOW_CLOSED = "window_closed", _("the call window closed")
    CANCELLED = "cancelled", _("the appointment was cancelled")
    MOVED = "moved", _("the appointment was moved")


class CallSession(models.Model):
    """One call: from the moment both pressed "Gespräch starten" until it ended."""

    appointment = models.ForeignKey(
        Appointment, on_delete=models.CASCADE, related_name="call_sessions"
    )
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(_("end"), max_length=16, choices=EndReason.choices, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [
            # Two presses racing on two processes must not start two calls.
            models.UniqueConstraint(
                fields=["appointment"],
                condition=models.Q(ended_at__isnull=True),
                name="one_running_call_per_appointment",
            )
        ]

    def __str__(self) -> str:
        return f"call {self.pk} for appointment {self.appointment_id}"

    @property
    def is_running(self) -> bool:
        return self.ended_at is None


class CallParticipation(models.Model):
    """One person's traffic in one call, as their browser reported it."""

    session = models.ForeignKey(CallSession, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    bytes_sent = models.PositiveBigIntegerField(_("bytes sent"), default=0)
    bytes_received = models.PositiveBigIntegerField(_("bytes received"), default=0)

    class Meta:
        verbose_name = _("call participant")
        verbose_name_plural = _("call participants")
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="one_participation_per_user")
        ]

    def __str__(self) -> str:
        return f"user {self.user_id} in call {self.session_id}"


class CallPresence(models.Model):
    """Who has the call page open, on which WebSocket, and whether they pressed start.

    Kept in the database so that two server processes (Redis channel layer) see the same
    state. ``channel_name`` is empty when the person left; ``seen_at`` is refreshed by the
    page's heartbeat, so a process that died does not leave a ghost behind.
    """

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel_name = models.CharField(max_length=200, blank=True)
    seen_at = models.DateTimeField()
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["appointment", "user"], name="one_presence_per_user")
        ]

    def __str__(self) -> str:
        return f"user {self.user_id} on call page {self.appointment_id}"


class CallStatistic(models.Model):
    """Load statistics without any person: calls, minutes and traffic per organization and day.
    What is left of call records once they are no longer needed (P-DATA-2)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("day"))
    calls = models.PositiveIntegerField(_("calls"), default=0)
    minutes = models.PositiveBigIntegerField(_("minutes"), default=0)
    bytes_total = models.PositiveBigIntegerField(_("bytes"), default=0)

    class Meta:
        verbose_name = _("call statistic")
        verbose_name_plural = _("call statistics")
        constraints = [
            models.UniqueConstraint(fields=["organization", "day"], name="one_statistic_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.day}: {self.calls} calls"
