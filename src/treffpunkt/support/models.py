"""Fault tickets (Störungsmeldungen, P-SLA-2; § 4 (III)–(V), § 12 of the terms).

A customer's contact reports a fault in the customer area (or by mail to the support address);
the operator's support takes it, answers, may wait for the customer (the clock pauses), and
resolves it. Reaction and fix deadlines count service hours only (``core.service_hours``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from treffpunkt.availability.models import Incident
from treffpunkt.billing.models import HardwareDelivery
from treffpunkt.customers.models import Customer


class TicketState(models.TextChoices):
    OPEN = "open", _("reported")
    IN_PROGRESS = "in_progress", _("being worked on")
    WAITING = "waiting", _("waiting for your answer")
    RESOLVED = "resolved", _("resolved")


class TicketChannel(models.TextChoices):
    CUSTOMER_AREA = "customer_area", _("customer area")
    EMAIL = "email", _("e-mail to the support address")
    PHONE = "phone", _("phone")


class Ticket(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("customer")
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reported by"),
    )
    reporter_name = models.CharField(_("reported by"), max_length=200)
    channel = models.CharField(_("channel"), max_length=20, choices=TicketChannel.choices)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), max_length=5000)
    state = models.CharField(
        _("state"), max_length=20, choices=TicketState.choices, default=TicketState.OPEN
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner"),
    )
    reported_at = models.DateTimeField(_("reported at"), db_index=True)
    # Deadlines in service hours, paused while waiting for the customer; recomputed when a
    # pause ends. While a pause is open, the clock stands still at the stored values.
    reaction_due_at = models.DateTimeField(_("reaction due at"))
    fix_due_at = models.DateTimeField(_("fix due at"))
    reacted_at = models.DateTimeField(_("first reaction at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    hardware = models.ForeignKey(
        HardwareDelivery,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("hardware"),
    )
    warranty_case = models.BooleanField(_("warranty case"), default=False)
    estimate_requested_at = models.DateTimeField(_("estimate requested at"), null=True, blank=True)
    incident = models.ForeignKey(
        Incident,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        verbose_name=_("incident"),
    )

    class Meta:
        verbose_name = _("fault ticket")
        verbose_name_plural = _("fault tickets")
        ordering = ["-reported_at", "-pk"]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"S-{self.pk:05d}" if self.pk else "S-?"

    @property
    def is_waiting(self) -> bool:
        return self.state == TicketState.WAITING


class TicketPause(models.Model):
    """A time the ticket waited for the customer: its deadlines do not run meanwhile."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "pk"]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.started_at} – {self.ended_at or '…'}"


class EventKind(models.TextChoices):
    REPORTED = "reported", _("reported")
    CUSTOMER_MESSAGE = "customer_message", _("message from the customer")
    REPLY = "reply", _("answer from support")
    NOTE = "note", _("internal note")
    TAKEN = "taken", _("taken over")
    WAITING = "waiting", _("waiting for the customer")
    RESUMED = "resumed", _("work resumed")
    ESTIMATE_REQUESTED = "estimate_requested", _("estimate requested")
    ESTIMATE = "estimate", _("non-binding estimate")
    INCIDENT = "incident", _("linked to an incident")
    RESOLVED = "resolved", _("resolved")
    REOPENED = "reopened", _("reopened")


class TicketEvent(models.Model):
    """One entry of a ticket's timeline. Internal notes (``public`` false) are never shown to
    the customer."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    at = models.DateTimeField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True, max_length=5000)
    public = models.BooleanField(default=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.kind} {self.at}"


class TicketAttachment(models.Model):
    """A file sent with a ticket's entry, checked and stored as message attachments are
    (``messaging.files``): outside the public paths, served only after an access check."""

    event = models.ForeignKey(TicketEvent, on_delete=models.CASCADE, related_name="attachments")
    file_name = models.CharField(_("file name"), max_length=120)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    stored_name = models.CharField(max_length=80, unique=True)
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.file_name
