from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class MailStatus(models.TextChoices):
    PENDING = "pending", _("waiting to be sent")
    SENT = "sent", _("sent")
    FAILED = "failed", _("given up")


class OutboxMail(models.Model):
    """An e-mail, stored in the same transaction as the change that caused it: rendered, or
    with what its rendering needs (``render_context``), rendered by the delivery.

    A background task sends it; failures are retried with growing pauses, so a mail server
    that is down loses nothing. The row is the proof of what was sent, when, and how often
    it was tried.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    to_address = models.EmailField(_("to"))
    template = models.CharField(_("template"), max_length=100)
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=250)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"), blank=True)
    # Extra MIME parts such as calendar invitations or PDF documents:
    # [{"filename", "mimetype", "content", "params"}]; binary content is base64 text, marked
    # with "encoding": "base64" (see services.MailAttachment).
    attachments: models.JSONField[Any] = models.JSONField(default=list, blank=True)
    headers: models.JSONField[Any] = models.JSONField(default=dict, blank=True)
    # Made when the mail is queued, not at each try: a mail sent again (its worker died after
    # the mail server took it) is recognizably the same mail, and a mail client shows it once.
    message_id = models.CharField(_("Message-ID"), max_length=250, blank=True)
    # A mail queued with ``render_later``: what its templates need, frozen when it was queued
    # ({"context": …, "time_zone": …}; see services.queue_mail). The delivery renders it into
    # subject and texts and clears this, so a request does not pay for the rendering.
    render_context: models.JSONField[Any] = models.JSONField(
        null=True, blank=True, default=None, encoder=DjangoJSONEncoder
    )
    status = models.CharField(
        _("status"), max_length=10, choices=MailStatus.choices, default=MailStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("queued"), auto_now_add=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outgoing mail")
        verbose_name_plural = _("mail outbox")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.template} #{self.pk} ({self.status})"
