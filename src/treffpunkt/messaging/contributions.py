"""What messaging brings to the whole (see ``treffpunkt.core.registries``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec
from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import is_member, is_team
from treffpunkt.booking.models import Appointment
from treffpunkt.booking.page_parts import AppointmentPagePart, add_appointment_page_part
from treffpunkt.core.registries import Area, AuditCode, DemoLoader, LiveEvent, NavEntry, registry
from treffpunkt.core.scheduler import Every, PeriodicJob

UNREAD_BADGE = "messaging/_unread_badge.html"


class NewMessageEvent(msgspec.Struct, forbid_unknown_fields=True):
    """A message arrived while the member was not on its conversation's page."""

    type: str
    url: str


class UnreadCountEvent(msgspec.Struct, forbid_unknown_fields=True):
    """The number of conversations with unread messages, for the navigation's badge."""

    type: str
    count: int


def _team_groups(user: Any) -> list[str]:
    """A member's message is unread for everyone who could answer it: team members also hear
    their organization's unread changes."""
    from treffpunkt.messaging.realtime import team_group

    return [team_group(user.organization_id)] if user.is_team else []


def _conversation_link(
    appointment: Appointment, viewer: User, now: datetime
) -> dict[str, Any] | None:
    """The appointment's page leads to its conversation (whoever may see the page takes part)."""
    from treffpunkt.messaging.models import Conversation

    conversation = Conversation.objects.filter(appointment=appointment).first()
    return {"conversation": conversation} if conversation is not None else None


NAVIGATION = (
    NavEntry(
        "messaging.list",
        Area.MAIN,
        _("Messages"),
        "messaging:list",
        is_member,
        20,
        badge_template=UNREAD_BADGE,
    ),
    NavEntry(
        "messaging.inbox",
        Area.MAIN,
        _("Messages"),
        "messaging:inbox",
        is_team,
        20,
        badge_template=UNREAD_BADGE,
    ),
)

LIVE_EVENTS = (
    LiveEvent("messages.new", NewMessageEvent, _("You have a new message – open it")),
    LiveEvent("unread", UnreadCountEvent),
)

AUDIT_CODES = (
    AuditCode("messaging.conversation.opened", _("%(actor)s opened %(target)s.")),
    AuditCode("messaging.conversation.assigned", _("%(actor)s assigned %(target)s.")),
    AuditCode("messaging.conversation.closed", _("%(actor)s closed %(target)s.")),
    AuditCode("messaging.conversation.reopened", _("%(actor)s reopened %(target)s.")),
    AuditCode("messaging.message.posted", _("%(actor)s wrote a message in %(target)s.")),
    AuditCode(
        "messaging.conversation.contents_deleted",
        _("The messages and files of %(target)s were deleted after the retention time."),
    ),
    AuditCode("messaging.digest.changed", _("%(actor)s changed their message digest.")),
    AuditCode("messaging.retention.changed", _("%(actor)s changed how long messages are kept.")),
    AuditCode("messaging.topic.added", _("%(actor)s added a topic for questions.")),
    AuditCode("messaging.topic.changed", _("%(actor)s changed a topic for questions.")),
)


def _open_conversation(sender: Any, *, appointment: Appointment, **_: Any) -> None:
    """Every appointment has its conversation from the start (P-MSG-1). The signal is sent
    once, by the transaction that inserted the appointment."""
    from treffpunkt.messaging.services import open_for_appointment

    open_for_appointment(appointment=appointment, new=True)


def register() -> None:
    from treffpunkt.messaging.demo import describe_messaging_demo, load_messaging_demo

    registry.add_demo_loader(
        DemoLoader("messaging", load_messaging_demo, order=30, describe=describe_messaging_demo)
    )
    from treffpunkt.booking.signals import appointment_created

    appointment_created.connect(_open_conversation, dispatch_uid="messaging.open_conversation")
    from treffpunkt.messaging.tasks import (
        delete_expired_messages,
        send_member_notices,
        send_staff_digests,
    )

    registry.add_nav(*NAVIGATION)
    registry.add_live_events(*LIVE_EVENTS)
    registry.add_audit_codes(*AUDIT_CODES)
    registry.add_event_groups("messaging", _team_groups)
    add_appointment_page_part(
        AppointmentPagePart(
            "messaging.conversation_link",
            "messaging/_appointment_link.html",
            _conversation_link,
            order=10,
        )
    )
    registry.add_periodic_jobs(
        PeriodicJob(
            name="messaging.send_member_notices",
            task=send_member_notices,
            when=Every(timedelta(minutes=1)),
            description="Tell members by mail (without content) that a message waits, once per "
            "batching window and only if still unread.",
        ),
        PeriodicJob(
            name="messaging.send_staff_digests",
            task=send_staff_digests,
            when=Every(timedelta(minutes=1)),
            description="Send the opt-in digest to staff whose inbox has new member messages.",
        ),
        PeriodicJob(
            name="messaging.delete_expired_messages",
            task=delete_expired_messages,
            when=Every(timedelta(hours=6)),
            description="Delete messages and files of conversations closed longer ago than the "
            "organization keeps them.",
        ),
    )
