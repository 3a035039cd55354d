"""What the availability report is made of (P-SLA-1): the results of the platform's own checks,
the incidents they (or the operator) opened, and the planned maintenance windows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from treffpunkt.customers.models import Customer


class Check(models.TextChoices):
    """The main functions the probe checks every minute (§ 4 (II) of the terms: availability is
    being able to use all main functions)."""

    PAGES = "pages", _("pages answer")
    LOGIN = "login", _("sign-in works")
    DATABASE = "database", _("database answers")
    TASKS = "tasks", _("task queue answers")
    SIGNALLING = "signalling", _("call signalling answers")
    MAIL = "mail", _("mail leaves the outbox")
    TURN = "turn", _("TURN server answers")


class ProbeSource(models.TextChoices):
    INTERNAL = "internal", _("the platform's own probe")
    EXTERNAL = "external", _("an outside monitor")


class ProbeResult(models.Model):
    """One check at one minute. Kept compact: the report reads incidents, not these rows; they
    are the evidence behind an incident and are cleaned up after a while (data rules)."""

    function = models.CharField(_("function"), max_length=20, choices=Check.choices)
    at = models.DateTimeField(_("checked at"), db_index=True)
    ok = models.BooleanField(_("ok"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    source = models.CharField(
        _("source"), max_length=10, choices=ProbeSource.choices, default=ProbeSource.INTERNAL
    )

    class Meta:
        verbose_name = _("probe result")
        verbose_name_plural = _("probe results")
        ordering = ["-at", "function"]
        indexes = [models.Index(fields=["function", "-at"], name="probe_check_recent")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.function} {'ok' if self.ok else 'failed'}"


class Incident(models.Model):
    """A time when a main function did not work. Opened by a failed check or by the operator;
    a significant incident counts against availability once its fix deadline has passed."""

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=5000)
    function = models.CharField(_("function"), max_length=20, choices=Check.choices, blank=True)
    started_at = models.DateTimeField(_("started at"), db_index=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    # Significant until the operator says otherwise: an unclassified outage counts.
    significant = models.BooleanField(_("significant"), default=True)
    fix_due_at = models.DateTimeField(_("fix due at"))
    opened_automatically = models.BooleanField(_("opened by the probe"), default=False)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("opened by"),
    )
    # Empty: every customer is affected.
    customers = models.ManyToManyField(
        Customer, blank=True, related_name="incidents", verbose_name=_("affected customers")
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True)
                | models.Q(ended_at__gte=models.F("started_at")),
                name="incident_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return self.display_title

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def display_title(self) -> str:
        """The probe's incidents are named in the reader's language when shown, not in the
        language that happened to be active when the probe opened them."""
        if self.opened_automatically and self.function:
            return gettext("%(function)s: check failed") % {"function": Check(self.function).label}
        return self.title


class MaintenanceWindow(models.Model):
    """Planned maintenance: announced to the affected customers' contacts ahead; its minutes
    count as available (§ 4 (II) of the terms)."""

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("what is done"), blank=True, max_length=5000)
    starts_at = models.DateTimeField(_("starts at"), db_index=True)
    ends_at = models.DateTimeField(_("ends at"))
    customers = models.ManyToManyField(
        Customer, blank=True, related_name="maintenance_windows", verbose_name=_("scope")
    )
    announced_at = models.DateTimeField(_("announced at"), null=True, blank=True)
    planned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("planned by"),
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")
        ordering = ["-starts_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="maintenance_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return self.title
