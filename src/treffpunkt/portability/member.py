"""A member's own data (P-DATA-1, Art. 15, 17 and 20 GDPR): the download of everything about
them, and the deletion of their account.

What deletion does, and what the member is shown before confirming:

- **deleted at once**: the login (e-mail address, name, password, second factor, language),
  coming appointments and open requests (cancelled; the staff member is told), unread notices;
- **kept, blocked**: past appointments, as the organization's record of the consultation, for
  its own retention time; conversations are closed, seen by the team only, and their messages
  and files deleted when the organization's message retention runs out (``MessagingPolicy``);
  accepted terms and consents, as the proof that they were given; the audit log.

The export is a ZIP of JSON files and the message attachments, built from one read."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from treffpunkt.accounts.models import TermsAcceptance, User
from treffpunkt.accounts.services import erase_login
from treffpunkt.booking.models import HOLDING_STATUSES, Appointment
from treffpunkt.booking.services import cancel_for_deleted_account
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.messaging import files
from treffpunkt.messaging.models import Attachment, Conversation, Message
from treffpunkt.messaging.services import close_for_deleted_account
from treffpunkt.notifications.services import queue_mail


@dataclass(frozen=True)
class Fate:
    what: Any
    why: Any


DELETED = (
    Fate(
        gettext_lazy("Your login: e-mail address, name, password, second factor, settings"),
        gettext_lazy("At once."),
    ),
    Fate(
        gettext_lazy("Coming appointments and open requests"),
        gettext_lazy("Cancelled at once; the staff member is told."),
    ),
)
KEPT = (
    Fate(
        gettext_lazy("Past appointments"),
        gettext_lazy(
            "Your organization keeps its record of the consultation for its own retention "
            "time; nobody can sign in with your account any more."
        ),
    ),
    Fate(
        gettext_lazy("Messages and files"),
        gettext_lazy(
            "The conversations are closed and only the team sees them; they are deleted when "
            "your organization's message retention runs out."
        ),
    ),
    Fate(
        gettext_lazy("Terms and consents you accepted"),
        gettext_lazy("Kept as proof that you gave them, as long as the records they cover."),
    ),
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=_plain).encode("utf-8")


def member_archive(member: User) -> bytes:
    """Everything about ``member`` as a ZIP: profile, appointments, conversations with their
    messages, the files sent in them, accepted terms."""
    if not member.is_member:
        raise NotAllowed
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "profil.json",
            _json(
                {
                    "email": member.email,
                    "display_name": member.display_name,
                    "language": member.preferred_language,
                    "time_zone": member.time_zone,
                    "joined": member.date_joined,
                    "organization": member.organization.name if member.organization else "",
                }
            ),
        )
        appointments = [
            {
                "start": a.start,
                "end": a.end,
                "consultation": a.consultation_type.name,
                "with": a.staff.display_name,
                "status": a.status,
                "your_note": a.member_note,
                "requested_on": a.created_at,
                "cancelled_at": a.cancelled_at,
                "cancel_reason": a.cancel_reason,
            }
            for a in Appointment.objects.filter(member=member)
            .select_related("consultation_type", "staff")
            .order_by("start")
        ]
        archive.writestr("termine.json", _json(appointments))
        conversations = []
        for conversation in (
            Conversation.objects.filter(member=member).select_related("topic").order_by("pk")
        ):
            messages = []
            for message in (
                Message.objects.filter(conversation=conversation)
                .select_related("author")
                .prefetch_related("attachments")
                .order_by("pk")
            ):
                names = []
                for attachment in message.attachments.all():
                    name = f"dateien/{attachment.pk:06d}-{attachment.file_name}"
                    try:
                        with files.open_stored(attachment.stored_name) as stored:
                            archive.writestr(name, stored.read())
                    except FileNotFoundError:
                        continue
                    names.append(name)
                messages.append(
                    {
                        "at": message.created_at,
                        "from": _("you") if message.from_member else message.author.display_name,
                        "text": message.text,
                        "files": names,
                    }
                )
            conversations.append(
                {
                    "topic": conversation.topic.name if conversation.topic else "",
                    "status": conversation.status,
                    "messages": messages,
                }
            )
        archive.writestr("nachrichten.json", _json(conversations))
        archive.writestr(
            "zustimmungen.json",
            _json(
                [
                    {
                        "terms": str(acceptance.version),
                        "accepted_at": acceptance.accepted_at,
                    }
                    for acceptance in TermsAcceptance.objects.filter(user=member)
                    .select_related("version")
                    .order_by("accepted_at")
                ]
            ),
        )
    return buffer.getvalue()


def delete_member_account(*, member: User, password: str) -> dict[str, int]:
    """Delete the member's account as ``DELETED`` and ``KEPT`` say; the password confirms that
    it is really them. A last mail confirms it to the address that is about to go."""
    if not member.is_authenticated or not member.is_member:
        raise NotAllowed
    if not member.check_password(password):
        raise DomainError(_("The password is not right."), code="password")
    now = clock.now()
    counts = {"appointments_cancelled": 0, "conversations_closed": 0}
    with transaction.atomic():
        for appointment_id in Appointment.objects.filter(
            member=member, status__in=HOLDING_STATUSES, end__gt=now
        ).values_list("pk", flat=True):
            cancel_for_deleted_account(member=member, appointment_id=appointment_id)
            counts["appointments_cancelled"] += 1
        for conversation in Conversation.objects.filter(member=member, closed_at__isnull=True):
            close_for_deleted_account(member=member, conversation=conversation)
            counts["conversations_closed"] += 1
        queue_mail(
            template="portability/account_deleted",
            context={"name": member.display_name},
            to_address=member.email,
            language=member.preferred_language,
        )
        counts["attachments_kept"] = Attachment.objects.filter(
            message__conversation__member=member
        ).count()
        erase_login(user=member)
        audit.record("portability.member.deleted", actor=None, target=member, data=counts)
    return counts
