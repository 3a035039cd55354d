"""The org admin's setup of messages: the inquiry topics members choose from, and how long
messages of closed conversations are kept."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.core import audit
from treffpunkt.core.errors import DomainError, NotAllowed
from treffpunkt.messaging.models import InquiryTopic, MessagingPolicy


def _org_admin(admin: User) -> None:
    if not admin.is_org_admin:
        raise NotAllowed


def _save_topic(topic: InquiryTopic) -> None:
    try:
        with transaction.atomic():
            topic.save()
    except IntegrityError as exc:
        raise DomainError(
            _("A topic with this name exists already."), code="duplicate_topic"
        ) from exc


def add_topic(*, admin: User, name: str, is_active: bool = True) -> InquiryTopic:
    _org_admin(admin)
    with transaction.atomic():
        topic = InquiryTopic(
            organization=admin.organization, name=name.strip(), is_active=is_active
        )
        _save_topic(topic)
        audit.record(
            "messaging.topic.added",
            actor=admin,
            target=topic,
            organization=admin.organization,
            data={"name": topic.name},
        )
    return topic


def change_topic(*, admin: User, topic: InquiryTopic, name: str, is_active: bool) -> InquiryTopic:
    """Rename or withdraw a topic. Conversations already on it keep it."""
    _org_admin(admin)
    if topic.organization_id != admin.organization_id:
        raise NotAllowed
    with transaction.atomic():
        topic.name = name.strip()
        topic.is_active = is_active
        _save_topic(topic)
        audit.record(
            "messaging.topic.changed",
            actor=admin,
            target=topic,
            organization=admin.organization,
            data={"name": topic.name, "active": is_active},
        )
    return topic


def set_retention(*, admin: User, months: int) -> MessagingPolicy:
    _org_admin(admin)
    if not 1 <= months <= 120:
        raise DomainError(_("Please enter between 1 and 120 months."), code="retention")
    with transaction.atomic():
        policy, _created = MessagingPolicy.objects.select_for_update().get_or_create(
            organization=admin.organization
        )
        before = policy.retention_months
        policy.retention_months = months
        policy.save(update_fields=["retention_months"])
        audit.record(
            "messaging.retention.changed",
            actor=admin,
            target=policy,
            organization=admin.organization,
            data={"before": before, "months": months},
        )
    return policy
