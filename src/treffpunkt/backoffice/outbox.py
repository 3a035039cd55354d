"""The mail outbox in the back office: what the platform sent, what waits, why a mail failed.

Read only: the sending task retries mails by itself. Neither the address nor the text of a mail
is shown (decision 0001, P-ACC-3): operators are users too, and a text can hold a live link
that confirms an address, resets a password or accepts an invitation. The recipient appears
by their display name, as everywhere else in the back office.
"""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django.conf import settings
from django.db import models
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from treffpunkt.accounts.permissions import Capability, capability_required
from treffpunkt.backoffice.filters import since_filter, until_filter
from treffpunkt.backoffice.listing import Column, DetailPage, Fact, ListPage
from treffpunkt.notifications.models import MailStatus, OutboxMail

# A mail server's refusal often quotes the address ("550 <anna@example.org>: unknown user").
ADDRESS = re.compile(r"[^\s<>()\"',;:@]+@[^\s<>()\"',;:@]+\.[^\s<>()\"',;:@]+")


def recipient_name(mail: OutboxMail) -> str:
    if mail.recipient is None:
        # Sent to someone without an account (an invitation), or whose account is gone.
        return _("(no account)")
    return mail.recipient.display_name


def error_without_addresses(error: str) -> str:
    return ADDRESS.sub(_("[address]"), error)


def subject_of(mail: OutboxMail) -> str:
    """A mail queued to be rendered by its delivery has no subject until then."""
    return mail.subject or _("(written when it is sent)")


def _mail_url(mail: OutboxMail) -> str:
    return reverse("backoffice:outbox_mail", args=[mail.pk])


class OutboxFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=MailStatus.choices, label=gettext_lazy("State"), empty_label=gettext_lazy("all")
    )
    since = since_filter("created_at", gettext_lazy("Queued from"))
    until = until_filter("created_at", gettext_lazy("Queued until"))

    class Meta:
        model = OutboxMail
        fields: list[str] = []


@method_decorator(capability_required(Capability.PLATFORM), name="dispatch")
class OutboxPage(ListPage[OutboxMail]):
    title = gettext_lazy("Outbox")
    caption = gettext_lazy("Mails in the outbox")
    empty_text = gettext_lazy("No mails match.")
    filterset_class = OutboxFilter
    default_sort = "-queued"
    csv_filename = "postausgang"
    columns = (
        Column(gettext_lazy("Queued"), lambda m: m.created_at, "queued", order_by=("created_at",)),
        Column(gettext_lazy("Recipient"), recipient_name),
        Column(gettext_lazy("Subject"), lambda m: subject_of(m), "subject", href=_mail_url),
        Column(gettext_lazy("State"), lambda m: m.get_status_display(), "state", ("status",)),
        Column(gettext_lazy("Attempts"), lambda m: m.attempts, "attempts"),
        Column(
            gettext_lazy("Next attempt"),
            lambda m: m.next_attempt_at if m.status == MailStatus.PENDING else None,
            "next",
            order_by=("next_attempt_at",),
        ),
        Column(gettext_lazy("Sent"), lambda m: m.sent_at, "sent", order_by=("sent_at",)),
        Column(gettext_lazy("Template"), lambda m: m.template, "template", code=True),
    )

    def get_queryset(self) -> models.QuerySet[OutboxMail]:
        # Only the columns shown: the texts and attachments (PDFs as base64) are large.
        return OutboxMail.objects.select_related("recipient").only(
            "created_at",
            "subject",
            "status",
            "attempts",
            "next_attempt_at",
            "sent_at",
            "template",
            "recipient__display_name",
        )


@method_decorator(capability_required(Capability.PLATFORM), name="dispatch")
class OutboxMailPage(DetailPage[OutboxMail]):
    list_url_name = "backoffice:outbox"
    back_text = gettext_lazy("Back to the outbox")

    def get_object(self) -> OutboxMail:
        return get_object_or_404(
            OutboxMail.objects.select_related("recipient"), pk=self.kwargs["pk"]
        )

    def get_record_title(self, mail: OutboxMail) -> str:
        return _("Mail no. %(id)s") % {"id": mail.pk}

    def get_facts(self, mail: OutboxMail) -> list[Fact]:
        attachments: Any = [part.get("filename") or "–" for part in mail.attachments]
        return [
            Fact(_("Subject"), subject_of(mail)),
            Fact(_("Recipient"), recipient_name(mail)),
            Fact(_("Template"), mail.template),
            Fact(_("Language"), dict(settings.LANGUAGES).get(mail.language, mail.language)),
            Fact(_("State"), mail.get_status_display()),
            Fact(_("Attempts"), mail.attempts),
            Fact(_("Queued"), mail.created_at),
            Fact(
                _("Next attempt"),
                mail.next_attempt_at if mail.status == MailStatus.PENDING else None,
            ),
            Fact(_("Sent"), mail.sent_at),
            Fact(_("Last error"), error_without_addresses(mail.last_error) or None, block=True),
            Fact(_("Attachments"), attachments or None),
            Fact(
                _("Text"),
                _(
                    "Not shown: the address and the text are for the recipient only, and a "
                    "text can hold a link that works once (confirming an address, a new "
                    "password, an invitation)."
                ),
            ),
        ]
