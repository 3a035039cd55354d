"""Messages between a member and their organization (P-MSG-1 … P-MSG-3).

A ``Conversation`` belongs to one member and one organization: either to an appointment (opened
with the request) or to a topic the organization offers for general inquiries. Everyone on the
organization's team may read and answer; no other member and no other organization ever sees it.

Unread state is a ``ReadMarker`` per user and conversation (the highest message id they have
seen). The conversation keeps the id of the newest message of each side, so "unread" is one
comparison and the navigation count one query.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.models import Organization
from treffpunkt.booking.models import Appointment


class InquiryTopic(models.Model):
    """What members may write about outside an appointment; offered by the org admin."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="inquiry_topics"
    )
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("offered to members"), default=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("inquiry topic")
        verbose_name_plural = _("inquiry topics")
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="unique_topic_name")
        ]

    def __str__(self) -> str:
        return self.name


class MessagingPolicy(models.Model):
    """An organization's message rules. Created with defaults the first time they are needed."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="messaging_policy"
    )
    retention_months = models.PositiveSmallIntegerField(
        _("delete messages after closing (months)"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )

    class Meta:
        verbose_name = _("message rules")
        verbose_name_plural = _("message rules")

    def __str__(self) -> str:
        return f"message rules of organization {self.organization_id}"


class Status(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")


class Conversation(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="conversations"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="conversations"
    )
    appointment = models.OneToOneField(
        Appointment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="conversation",
    )
    topic = models.ForeignKey(
        InquiryTopic, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_conversations",
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("opened"))
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    contents_deleted_at = models.DateTimeField(_("contents deleted"), null=True, blank=True)
    # The newest message id of each side (0: none yet). Unread = newer than the reader's marker.
    last_member_message_id = models.PositiveBigIntegerField(default=0)
    last_staff_message_id = models.PositiveBigIntegerField(default=0)
    # The number of the newest event of this conversation's live stream (messages, read marks,
    # assignment, open/closed): each event takes the next one in its transaction, so an open
    # page that sees a number skipped knows it missed something and fetches it.
    event_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-last_message_at", "-pk"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(appointment__isnull=False) | models.Q(topic__isnull=False),
                name="conversation_has_appointment_or_topic",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "status", "last_message_at"]),
            models.Index(fields=["member", "last_message_at"]),
            models.Index(fields=["status", "closed_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"

    def get_absolute_url(self) -> str:
        return f"/nachrichten/{self.pk}/"

    @property
    def is_open(self) -> bool:
        return self.status == Status.OPEN


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_member = models.BooleanField()
    text = models.TextField(blank=True)
    created_at = models.DateTimeField()
    # Its number in the conversation's event stream (``Conversation.event_seq``).
    seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["author", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "seq"], name="messaging_message_unique_seq"
            )
        ]

    def __str__(self) -> str:
        return f"message {self.pk} in conversation {self.conversation_id}"


class Attachment(models.Model):
    """A file sent with a message. The bytes live outside the public paths
    (``settings.PRIVATE_FILES_DIR``) under a random name; only the download view serves them."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file_name = models.CharField(_("file name"), max_length=120)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    stored_name = models.CharField(max_length=80, unique=True)
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.file_name


class ReadMarker(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="read_markers"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_read_id = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="one_marker_per_reader")
        ]

    def __str__(self) -> str:
        return (
            f"user {self.user_id} read conversation {self.conversation_id} to {self.last_read_id}"
        )


class ConversationPresence(models.Model):
    """An open conversation page (one row per socket), so mails skip people who are reading."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel_name = models.CharField(max_length=200, unique=True)
    seen_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["conversation", "user"])]

    def __str__(self) -> str:
        return f"user {self.user_id} on conversation {self.conversation_id}"


class MemberNotice(models.Model):
    """The notification mail to a member about one conversation: when the next one is due (the
    end of the batching window that the first unread message opened) and when the last went."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="one_notice_per_reader")
        ]

    def __str__(self) -> str:
        return f"notice to user {self.user_id} about conversation {self.conversation_id}"


class StaffDigest(models.Model):
    """A staff member's opt-in digest: one mail per batching window when conversations in
    their inbox (assigned to them or to nobody) have new messages from members."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="message_digest"
    )
    enabled = models.BooleanField(_("e-mail me a digest of new messages"), default=False)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    # Member messages up to this id were in a digest already (or read): no second mail for them.
    covered_up_to = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"message digest of user {self.user_id}"
