"""Operators see the traffic record of calls (P-CALL-7): who by number, when, how many bytes.
Nothing else exists to show: there is no recording and no content."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from treffpunkt.calls.models import CallParticipation, CallSession


class CallParticipationInline(admin.TabularInline[CallParticipation, CallSession]):
    model = CallParticipation
    fields = ["user_id", "bytes_sent", "bytes_received"]
    readonly_fields = ["user_id", "bytes_sent", "bytes_received"]
    extra = 0
    can_delete = False


@admin.register(CallSession)
class CallSessionAdmin(admin.ModelAdmin[CallSession]):
    list_display = ["pk", "appointment_id", "started_at", "ended_at", "end_reason"]
    list_filter = ["end_reason"]
    readonly_fields = ["appointment_id", "started_at", "ended_at", "end_reason"]
    fields = ["appointment_id", "started_at", "ended_at", "end_reason"]
    inlines = [CallParticipationInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CallSession | None = None) -> bool:
        return False
