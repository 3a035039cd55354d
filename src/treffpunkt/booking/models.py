from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.models import Organization

FEDERAL_STATES = [
    ("", _("nationwide holidays only")),
    ("BW", "Baden-Württemberg"),
    ("BY", "Bayern"),
    ("BE", "Berlin"),
    ("BB", "Brandenburg"),
    ("HB", "Bremen"),
    ("HH", "Hamburg"),
    ("HE", "Hessen"),
    ("MV", "Mecklenburg-Vorpommern"),
    ("NI", "Niedersachsen"),
    ("NW", "Nordrhein-Westfalen"),
    ("RP", "Rheinland-Pfalz"),
    ("SL", "Saarland"),
    ("SN", "Sachsen"),
    ("ST", "Sachsen-Anhalt"),
    ("SH", "Schleswig-Holstein"),
    ("TH", "Thüringen"),
]


def default_reminder_minutes() -> list[int]:
    return [24 * 60, 60]


class BookingPolicy(models.Model):
    """An organization's booking rules. Created with defaults the first time they are needed."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="booking_policy"
    )
    federal_state = models.CharField(
        _("federal state for public holidays"), max_length=2, choices=FEDERAL_STATES, blank=True
    )
    answer_within_hours = models.PositiveIntegerField(
        _("requests expire after (hours)"),
        default=48,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 14)],
    )
    member_change_cutoff_hours = models.PositiveIntegerField(
        _("members can cancel or move until (hours before)"),
        default=24,
        validators=[MaxValueValidator(24 * 14)],
    )
    reminder_minutes: models.JSONField[Any] = models.JSONField(
        _("reminders (minutes before)"), default=default_reminder_minutes
    )

    class Meta:
        verbose_name = _("booking rules")
        verbose_name_plural = _("booking rules")

    def __str__(self) -> str:
        return f"booking rules of {self.organization}"


class ConsultationType(models.Model):
    """What a member can book: name, duration, buffers, notice and horizon (P-BOOK-1)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="consultation_types"
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    duration_minutes = models.PositiveIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(5), MaxValueValidator(8 * 60)]
    )
    buffer_before_minutes = models.PositiveIntegerField(
        _("buffer before (minutes)"), default=0, validators=[MaxValueValidator(240)]
    )
    buffer_after_minutes = models.PositiveIntegerField(
        _("buffer after (minutes)"), default=0, validators=[MaxValueValidator(240)]
    )
    min_notice_minutes = models.PositiveIntegerField(
        _("minimum notice (minutes)"), default=120, validators=[MaxValueValidator(60 * 24 * 30)]
    )
    horizon_days = models.PositiveIntegerField(
        _("bookable up to (days ahead)"),
        default=56,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("staff members"), related_name="+", blank=True
    )
    is_active = models.BooleanField(_("bookable"), default=True)

    class Meta:
        ordering = ["organization", "name"]
        verbose_name = _("consultation type")
        verbose_name_plural = _("consultation types")

    def __str__(self) -> str:
        return self.name

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def buffer_before(self) -> timedelta:
        return timedelta(minutes=self.buffer_before_minutes)

    @property
    def buffer_after(self) -> timedelta:
        return timedelta(minutes=self.buffer_after_minutes)

    @property
    def min_notice(self) -> timedelta:
        return timedelta(minutes=self.min_notice_minutes)


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WeeklyHours(models.Model):
    """One working interval of a staff member on a weekday, in the organization's local time.

    Several intervals on one day make breaks: 9–12 and 13–17 is a lunch break.
    """

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="weekly_hours"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    class Meta:
        ordering = ["staff", "weekday", "start"]
        verbose_name = _("weekly hours")
        verbose_name_plural = _("weekly hours")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="hours_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class ExceptionKind(models.TextChoices):
    CLOSED = "closed", _("not available")
    EXTRA = "extra", _("extra hours")


class HoursException(models.Model):
    """A one-off change on one date: a day off (no times), a closed stretch, or extra hours."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hours_exceptions"
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=ExceptionKind.choices)
    start = models.TimeField(_("from"), null=True, blank=True)
    end = models.TimeField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=120, blank=True)

    class Meta:
        ordering = ["staff", "date", "start"]
        verbose_name = _("change of hours")
        verbose_name_plural = _("changes of hours")

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"

    @property
    def whole_day(self) -> bool:
        return self.start is None or self.end is None


class AppointmentStatus(models.TextChoices):
    REQUESTED = "requested", _("requested, waiting for confirmation")
    PROPOSED = "proposed", _("other time proposed")
    CONFIRMED = "confirmed", _("confirmed")
    DECLINED = "declined", _("declined")
    EXPIRED = "expired", _("expired without answer")
    CANCELLED = "cancelled", _("cancelled")


# A slot is held while the request is open and after confirmation (P-BOOK-2).
HOLDING_STATUSES = (
    AppointmentStatus.REQUESTED,
    AppointmentStatus.PROPOSED,
    AppointmentStatus.CONFIRMED,
)


def new_calendar_uid() -> str:
    return f"{uuid.uuid4()}@treffpunkt"


class Appointment(models.Model):
    """A member's request for a slot and, once confirmed, the appointment itself.

    ``blocked_start``/``blocked_end`` include the consultation type's buffers; on PostgreSQL an
    exclusion constraint forbids two holding rows of one staff member whose blocked ranges
    overlap (P-BOOK-6). Times are aware and stored in UTC.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="appointments"
    )
    consultation_type = models.ForeignKey(
        ConsultationType, on_delete=models.PROTECT, related_name="appointments"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff_appointments"
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    blocked_start = models.DateTimeField()
    blocked_end = models.DateTimeField()
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=AppointmentStatus.choices,
        default=AppointmentStatus.REQUESTED,
    )
    request_key = models.UUIDField(
        help_text="the booking form's key: a second press is one request"
    )
    member_note = models.CharField(_("your message (optional)"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("requested on"), auto_now_add=True)
    expires_at = models.DateTimeField(_("answer due"), null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(_("reason"), max_length=500, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cancel_reason = models.CharField(_("reason"), max_length=500, blank=True)
    calendar_uid = models.CharField(max_length=80, unique=True, default=new_calendar_uid)
    calendar_sequence = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["start"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "request_key"], name="one_request_per_booking_form"
            ),
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="appointment_end_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["staff", "blocked_start"]),
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["member", "start"]),
        ]

    def __str__(self) -> str:
        return f"{self.consultation_type} {self.start:%Y-%m-%d %H:%M} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("booking:appointment", kwargs={"appointment_id": self.pk})

    @property
    def is_holding(self) -> bool:
        return self.status in HOLDING_STATUSES

    @property
    def is_open_request(self) -> bool:
        return self.status in (AppointmentStatus.REQUESTED, AppointmentStatus.PROPOSED)


class ReminderSent(models.Model):
    """One reminder mail per appointment and offset, however often the job runs (P-BOOK-8)."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="+")
    minutes_before = models.PositiveIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "minutes_before"], name="one_reminder_per_offset"
            )
        ]

    def __str__(self) -> str:
        return f"reminder {self.minutes_before} min for {self.appointment_id}"
