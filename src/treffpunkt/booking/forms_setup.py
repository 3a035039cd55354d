"""Forms of the pages where an organization sets up booking: types, rules, hours (P-BOOK-1).

The forms check what a person can get wrong in the browser and say so in plain words; the
services check the rules again and are the only place that writes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from datetime import time
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.models import User
from treffpunkt.booking.models import FEDERAL_STATES, ExceptionKind, Weekday, WeeklyHours

MAX_REMINDERS = 5
MAX_REMINDER_HOURS = 24 * 14


# --- consultation types ----------------------------------------------------------------------


class ConsultationTypeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        help_text=_("Members read this when they choose what to book."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=5, max_value=8 * 60
    )
    buffer_before_minutes = forms.IntegerField(
        label=_("Buffer before (minutes)"),
        min_value=0,
        max_value=240,
        initial=0,
        help_text=_("Time kept free before each appointment, for example to prepare."),
    )
    buffer_after_minutes = forms.IntegerField(
        label=_("Buffer after (minutes)"),
        min_value=0,
        max_value=240,
        initial=0,
        help_text=_("Time kept free after each appointment, for example for notes."),
    )
    min_notice_minutes = forms.IntegerField(
        label=_("Minimum notice (minutes)"),
        min_value=0,
        max_value=60 * 24 * 30,
        initial=120,
        help_text=_(
            "How long before the start a slot can be booked at the latest, in minutes: "
            "60 = 1 hour, 120 = 2 hours, 1440 = 1 day, 2880 = 2 days."
        ),
    )
    horizon_days = forms.IntegerField(
        label=_("Bookable up to (days ahead)"),
        min_value=1,
        max_value=365,
        initial=56,
        help_text=_("How far ahead members can book, in days."),
    )
    is_active = forms.BooleanField(label=_("Members can book this type"), required=False)
    staff = forms.TypedMultipleChoiceField(
        label=_("Staff members who offer this type"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Please choose staff members of your organization.")},
    )

    def __init__(self, *args: Any, team: Iterable[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = []
        for person in team:
            label = person.display_name
            if not person.is_active:
                label = _("%(name)s (switched off)") % {"name": label}
            choices.append((person.pk, label))
        cast(forms.TypedMultipleChoiceField, self.fields["staff"]).choices = choices


# --- booking rules ---------------------------------------------------------------------------


def format_reminders(minutes: Iterable[int]) -> str:
    """Minutes before the appointment, as hours for the form: [1440, 60, 30] → "24, 1, 0.5"."""
    parts = []
    for value in minutes:
        hours = Decimal(value) / 60
        parts.append(f"{hours.normalize():f}")
    return ", ".join(parts)


class PolicyForm(forms.Form):
    federal_state = forms.ChoiceField(
        label=_("Federal state for public holidays"),
        choices=FEDERAL_STATES,
        required=False,
        help_text=_("Nobody can book on public holidays of this state."),
    )
    answer_within_hours = forms.IntegerField(
        label=_("Requests expire after (hours)"),
        min_value=1,
        max_value=24 * 14,
        help_text=_("A request nobody answers in this time expires and frees its slot."),
    )
    member_change_cutoff_hours = forms.IntegerField(
        label=_("Members can cancel or move until (hours before)"),
        min_value=0,
        max_value=24 * 14,
        help_text=_("Later, only staff can cancel or move a confirmed appointment."),
    )
    reminders = forms.CharField(
        label=_("Reminders (hours before)"),
        max_length=100,
        help_text=_(
            "Hours before the appointment, separated by commas, for example “24, 1”. "
            "Use a point for parts of an hour: “0.5” is 30 minutes. One to five reminders."
        ),
        error_messages={"required": _("Please give at least one reminder, for example “24”.")},
    )

    def clean_reminders(self) -> list[int]:
        """The reminders in minutes before the appointment, largest first."""
        text: str = self.cleaned_data["reminders"]
        entries = [part.strip() for part in text.split(",") if part.strip()]
        if not entries:
            raise forms.ValidationError(
                self.fields["reminders"].error_messages["required"], code="required"
            )
        if len(entries) > MAX_REMINDERS:
            raise forms.ValidationError(
                _("Please give at most %(count)s reminders."),
                code="too_many",
                params={"count": MAX_REMINDERS},
            )
        minutes: set[int] = set()
        for entry in entries:
            number = entry.lower().removesuffix("h").strip()
            try:
                hours = Decimal(number)
            except InvalidOperation:
                hours = None
            if hours is None or not hours.is_finite():
                raise forms.ValidationError(
                    _("“%(value)s” is not a number of hours. Write for example “24, 1”."),
                    code="invalid",
                    params={"value": entry},
                )
            if hours <= 0:
                raise forms.ValidationError(
                    _("“%(value)s”: a reminder must be more than 0 hours before."),
                    code="not_positive",
                    params={"value": entry},
                )
            if hours > MAX_REMINDER_HOURS:
                raise forms.ValidationError(
                    _("“%(value)s”: a reminder can be at most %(max)s hours before."),
                    code="too_early",
                    params={"value": entry, "max": MAX_REMINDER_HOURS},
                )
            in_minutes = hours * 60
            if in_minutes != in_minutes.to_integral_value():
                raise forms.ValidationError(
                    _(
                        "“%(value)s” is not a whole number of minutes. "
                        "Write for example “0.5” for 30 minutes."
                    ),
                    code="fraction",
                    params={"value": entry},
                )
            minutes.add(int(in_minutes))
        return sorted(minutes, reverse=True)


# --- weekly hours ----------------------------------------------------------------------------

_TIME = r"(\d{1,2})(?:[:.](\d{2}))?"
_INTERVAL = re.compile(rf"^{_TIME}\s*[-–]\s*{_TIME}$")


def _clock_time(hour: str, minute: str | None) -> time | None:
    h, m = int(hour), int(minute or 0)
    if h > 23 or m > 59:
        return None
    return time(h, m)


def format_interval(start: time, end: time) -> str:
    return f"{start:%H:%M}-{end:%H:%M}"


def parse_day(day_label: str, text: str) -> list[tuple[time, time]]:
    """ "09:00-12:00, 13:00-17:00" → [(9:00, 12:00), (13:00, 17:00)]; empty → [].

    Raises ValidationError naming the day and the part that is wrong.
    """
    spans: list[tuple[time, time]] = []
    for raw in re.split(r"[,;]", text):
        part = raw.strip()
        if not part:
            continue
        found = _INTERVAL.match(part)
        start = _clock_time(found.group(1), found.group(2)) if found else None
        end = _clock_time(found.group(3), found.group(4)) if found else None
        if start is None or end is None:
            raise forms.ValidationError(
                _(
                    "%(day)s: “%(value)s” is not a valid interval. "
                    "Write for example “09:00-12:00”, times from 00:00 to 23:59."
                ),
                code="invalid",
                params={"day": day_label, "value": part},
            )
        if end <= start:
            raise forms.ValidationError(
                _("%(day)s: in “%(value)s” the end is not after the start."),
                code="order",
                params={"day": day_label, "value": part},
            )
        spans.append((start, end))
    spans.sort()
    for first, second in pairwise(spans):
        if second[0] < first[1]:
            raise forms.ValidationError(
                _("%(day)s: the intervals %(first)s and %(second)s overlap."),
                code="overlap",
                params={
                    "day": day_label,
                    "first": format_interval(*first),
                    "second": format_interval(*second),
                },
            )
    return spans


def day_field_name(weekday: int) -> str:
    return f"day_{weekday}"


class WeeklyHoursForm(forms.Form):
    """One text field per weekday; ``intervals`` is what ``set_weekly_hours`` takes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for weekday in Weekday:
            self.fields[day_field_name(weekday.value)] = forms.CharField(
                label=weekday.label,
                required=False,
                max_length=200,
                help_text=_("For example “09:00-12:00, 13:00-17:00”. Empty: not available."),
            )

    @staticmethod
    def initial_from(rows: Iterable[WeeklyHours]) -> dict[str, str]:
        by_day: dict[int, list[str]] = {}
        for row in rows:
            by_day.setdefault(row.weekday, []).append(format_interval(row.start, row.end))
        return {day_field_name(day): ", ".join(spans) for day, spans in by_day.items()}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        intervals: list[tuple[int, time, time]] = []
        for weekday in Weekday:
            name = day_field_name(weekday.value)
            if name not in data:
                continue  # the field already has an error
            try:
                spans = parse_day(str(weekday.label), data[name])
            except forms.ValidationError as exc:
                self.add_error(name, exc)
                continue
            intervals.extend((weekday.value, start, end) for start, end in spans)
        data["intervals"] = intervals
        return data


# --- one-off changes -------------------------------------------------------------------------


class HoursExceptionForm(forms.Form):
    date = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
    )
    kind = forms.ChoiceField(label=_("Kind of change"), choices=ExceptionKind.choices)
    start = forms.TimeField(
        label=_("From (optional)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        input_formats=["%H:%M"],
        help_text=_("Without times, “not available” means the whole day."),
    )
    end = forms.TimeField(
        label=_("Until (optional)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        input_formats=["%H:%M"],
    )
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=120,
        help_text=_("Only the team sees this note."),
    )

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_date(self) -> dt.date:
        day: dt.date = self.cleaned_data["date"]
        if day < self.today:
            raise forms.ValidationError(_("Please choose today or a later date."), code="past")
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if "start" not in data or "end" not in data:
            return data  # a time field already has an error
        if (start is None) != (end is None):
            self.add_error(
                "end" if end is None else "start",
                _("Give both times, or none for the whole day."),
            )
        elif start is not None and end is not None and end <= start:
            self.add_error("end", _("The end must be after the start."))
        elif data.get("kind") == ExceptionKind.EXTRA and start is None:
            self.add_error("start", _("Extra hours need a start and an end."))
        return data
