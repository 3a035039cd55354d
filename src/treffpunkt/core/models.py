from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One thing that happened, written by the service that made it happen (P-ACC-4).

    Entries are never changed or deleted by the application.
    """

    code = models.CharField(_("event"), max_length=100, db_index=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("organization"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    target_type = models.CharField(_("target type"), max_length=60, blank=True)
    target_id = models.CharField(_("target id"), max_length=60, blank=True)
    data: models.JSONField[Any] = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.code}"


class ScheduledRun(models.Model):
    """Marks that a periodic job was enqueued for one occurrence of its cadence.

    ``slot_start`` is the occurrence (an interval's slot or a wall time), not when it was
    enqueued. The unique constraint makes the scheduler safe to run twice by mistake: the second
    one cannot enqueue the same occurrence again.
    """

    job = models.CharField(max_length=100)
    slot_start = models.DateTimeField()
    enqueued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "slot_start"], name="one_run_per_job_and_slot")
        ]

    def __str__(self) -> str:
        return f"{self.job} @ {self.slot_start:%Y-%m-%d %H:%M}"


class LiveEventStream(models.Model):
    """How many live events a user's stream has carried: the last sequence number given out.
    Taking the next number updates this row, so two events for one person queue on it and
    their numbers follow the order of their commits."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"live events of user {self.user_id}: {self.last_seq}"


class LiveEvent(models.Model):
    """One event of a user's stream, kept for a day so that a page which missed it (a dropped
    connection, a lost delivery between processes) can fetch it by its number."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField()
    event: models.JSONField[Any] = models.JSONField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "seq"], name="core_live_event_unique_seq")
        ]

    def __str__(self) -> str:
        return f"live event {self.seq} of user {self.user_id}"
