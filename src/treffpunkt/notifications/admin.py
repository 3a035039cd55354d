from __future__ import annotations

from django.contrib import admin

from treffpunkt.core.admin import ReadOnlyModelAdmin
from treffpunkt.notifications.models import OutboxMail


@admin.register(OutboxMail)
class OutboxMailAdmin(ReadOnlyModelAdmin[OutboxMail]):
    """Operators see what was sent, what waits, and why a mail failed. Mails are never edited:
    they are the record of what the platform told people; the sending task retries them."""

    list_display = ["created_at", "template", "language", "status", "attempts", "sent_at"]
    list_filter = ["status", "template", "language"]
    search_fields = ["template", "subject"]
    # Addresses and bodies stay hidden: operators are other users too (P-ACC-3), and a body
    # can hold a live confirmation or reset link.
    fields = readonly_fields = (
        "template",
        "language",
        "subject",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
        "sent_at",
    )
