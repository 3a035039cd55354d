"""The team's handling of a conversation: who has it, and whether it is open or closed."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.core import clock
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.messaging import realtime
from treffpunkt.messaging.models import Conversation, Status
from treffpunkt.messaging.services._common import _announce_assignment, _audit, _publish


def _team_member(actor: User, conversation: Conversation) -> None:
    if not (actor.is_team and actor.organization_id == conversation.organization_id):
        raise NotAllowed


def assign(*, actor: User, conversation: Conversation, staff: User | None) -> Conversation:
    """Give the conversation to a team member of its organization, or to nobody."""
    _team_member(actor, conversation)
    if staff is not None and not (
        staff.is_team and staff.is_active and staff.organization_id == conversation.organization_id
    ):
        raise DomainError(_("Please choose someone from your organization's team."))
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if locked.assigned_to_id == (staff.pk if staff else None):
            return locked
        locked.assigned_to = staff
        locked.save(update_fields=["assigned_to"])
        _audit(locked, "assigned", actor=actor, data={"to": staff.pk if staff else None})
        _announce_assignment(locked)
    return locked


def close(*, actor: User, conversation: Conversation) -> Conversation:
    """Done for now. The member may still write, which opens it again; messages are deleted
    the organization's retention time after closing."""
    _team_member(actor, conversation)
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if locked.status == Status.CLOSED:
            return locked
        locked.status = Status.CLOSED
        locked.closed_at = clock.now()
        locked.save(update_fields=["status", "closed_at"])
        _audit(locked, "closed", actor=actor)
        _publish(locked.pk, {"type": "status", "status": Status.CLOSED})
        realtime.recount_for_team(locked.organization_id)
    return locked


def reopen(*, actor: User, conversation: Conversation) -> Conversation:
    _team_member(actor, conversation)
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if locked.status == Status.OPEN:
            return locked
        locked.status = Status.OPEN
        locked.closed_at = None
        locked.save(update_fields=["status", "closed_at"])
        _audit(locked, "reopened", actor=actor)
        _publish(locked.pk, {"type": "status", "status": Status.OPEN})
        realtime.recount_for_team(locked.organization_id)
    return locked


def close_for_deleted_account(*, member: User, conversation: Conversation) -> Conversation:
    """The member deleted their account: their conversation closes, so that the organization's
    retention time starts; until then only the team sees it (P-DATA-1: blocked, then deleted)."""
    if conversation.member_id != member.pk:
        raise NotAllowed
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if locked.status == Status.CLOSED:
            return locked
        locked.status = Status.CLOSED
        locked.closed_at = clock.now()
        locked.save(update_fields=["status", "closed_at"])
        _audit(locked, "closed", actor=member, data={"account_deleted": True})
        realtime.recount_for_team(locked.organization_id)
    return locked
