from __future__ import annotations

from django.contrib import admin

from treffpunkt.booking.models import Appointment, BookingPolicy, ConsultationType


@admin.register(ConsultationType)
class ConsultationTypeAdmin(admin.ModelAdmin[ConsultationType]):
    list_display = ["name", "organization", "duration_minutes", "is_active"]
    list_filter = ["organization", "is_active"]


@admin.register(BookingPolicy)
class BookingPolicyAdmin(admin.ModelAdmin[BookingPolicy]):
    list_display = ["organization", "federal_state", "answer_within_hours"]


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin[Appointment]):
    """Read-only: appointments change through the booking services only."""

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

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
