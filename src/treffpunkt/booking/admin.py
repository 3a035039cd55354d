"""Read-only (see treffpunkt.core.admin): consultation types, the policy and appointments
change through the booking services and the organization's setup pages only."""

from __future__ import annotations

from django.contrib import admin

from treffpunkt.booking.models import Appointment, BookingPolicy, ConsultationType
from treffpunkt.core.admin import ReadOnlyModelAdmin


@admin.register(ConsultationType)
class ConsultationTypeAdmin(ReadOnlyModelAdmin[ConsultationType]):
    list_display = ["name", "organization", "duration_minutes", "is_active"]
    list_filter = ["organization", "is_active"]


@admin.register(BookingPolicy)
class BookingPolicyAdmin(ReadOnlyModelAdmin[BookingPolicy]):
    list_display = ["organization", "federal_state", "answer_within_hours"]


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyModelAdmin[Appointment]):
    list_display = ["start", "organization", "consultation_type", "status"]
    list_filter = ["organization", "status"]
    fields = readonly_fields = (
        "organization",
        "consultation_type",
        "start",
        "end",
        "status",
        "created_at",
        "answered_at",
        "cancelled_at",
    )
