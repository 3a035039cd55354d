"""Operators see the traffic record of calls (P-CALL-7): who by number, when, how many bytes.
Nothing else exists to show: there is no recording and no content. The record is neither
edited nor deleted here (see treffpunkt.core.admin): deleting traffic data once it is no longer
needed (P-DATA-2) is to come as a service that leaves an audit entry."""

from __future__ import annotations

from django.contrib import admin

from treffpunkt.calls.models import CallParticipation, CallSession
from treffpunkt.core.admin import ReadOnlyModelAdmin, ReadOnlyTabularInline


class CallParticipationInline(ReadOnlyTabularInline[CallParticipation, CallSession]):
    model = CallParticipation
    fields = readonly_fields = ("user_id", "bytes_sent", "bytes_received")


@admin.register(CallSession)
class CallSessionAdmin(ReadOnlyModelAdmin[CallSession]):
    list_display = ["pk", "appointment_id", "started_at", "ended_at", "end_reason"]
    list_filter = ["end_reason"]
    fields = readonly_fields = ("appointment_id", "started_at", "ended_at", "end_reason")
    inlines = [CallParticipationInline]
