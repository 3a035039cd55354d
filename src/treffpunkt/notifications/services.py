"""The mail outbox: the only way Treffpunkt sends e-mail.

``queue_mail`` renders a mail in the recipient's language and stores it inside the caller's
transaction (or, with ``render_later``, stores what its rendering needs and leaves the
rendering to the delivery); after commit a task sends it. ``deliver`` sends one stored mail
at most once: it claims the row first, so two workers never send the same mail.
"""

from __future__ import annotations

import base64
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import encoders
from email.mime.base import MIMEBase
from email.mime.text import MIMEText
from email.utils import make_msgid, parseaddr
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import serializers
from django.core.mail import EmailMultiAlternatives
from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from treffpunkt.core import clock, lean
from treffpunkt.notifications.models import MailStatus, OutboxMail

if TYPE_CHECKING:
    from treffpunkt.accounts.models import User

logger = logging.getLogger(__name__)

# Mail servers name the refused address in their error; operators read the error (P-ACC-3).
ADDRESS_IN_ERROR = re.compile(r"[^\s<>'\"(),;:{}\[\]]+@[^\s<>'\"(),;:{}\[\]]+")


# How binary content is kept in the outbox row's JSON (which holds text only).
BASE64 = "base64"


@dataclass(frozen=True)
class MailAttachment:
    """One file of a mail: text (a calendar file) or bytes (a PDF), sent exactly as given."""

    filename: str
    mimetype: str
    content: str | bytes
    # Extra Content-Type parameters, e.g. {"method": "REQUEST"} for an iMIP calendar part.
    params: dict[str, str] = field(default_factory=dict)

    def as_stored(self) -> dict[str, Any]:
        """The attachment as the outbox stores it. Text stays as it is (rows written before
        binary attachments existed look the same); bytes go in as base64, marked as such."""
        stored: dict[str, Any] = {
            "filename": self.filename,
            "mimetype": self.mimetype,
            "content": self.content,
            "params": self.params,
        }
        if isinstance(self.content, bytes):
            stored["content"] = base64.b64encode(self.content).decode("ascii")
            stored["encoding"] = BASE64
        return stored


def queue_mail(
    *,
    template: str,
    context: dict[str, Any],
    recipient: User | None = None,
    to_address: str | None = None,
    language: str | None = None,
    attachments: list[MailAttachment] | None = None,
    render_later: bool = False,
) -> OutboxMail:
    """Render ``mail/<template>/`` in the recipient's language and store it for sending.

    Call inside the transaction of the change that causes the mail: if that change rolls
    back, the mail is never sent.

    ``render_later``: store what the templates need and let the delivery render it, off the
    request. The context's model instances are frozen as they are now (a request-received
    mail still says what the request was when it is rendered a minute later); what they
    point to (a consultation type's name) is read at rendering. Only model instances, text,
    numbers, booleans, moments (datetime) and None can be frozen.
    """
    address = to_address or (recipient.email if recipient is not None else "")
    if not address:
        raise ValueError("a mail needs a recipient or an address")
    lang = language or (recipient.preferred_language if recipient else settings.LANGUAGE_CODE)
    zone = recipient.time_zone if recipient is not None else settings.TIME_ZONE
    texts = ("", "", "")
    frozen: dict[str, Any] | None = None
    if render_later:
        # The recipient too, as addressed now (a name changed or an account closed meanwhile
        # does not change a mail already on its way).
        everything = {"recipient": recipient, **context} if recipient is not None else context
        frozen = {"context": _frozen_context(everything), "time_zone": zone}
    else:
        texts = _render(template, context, recipient=recipient, language=lang, zone=zone)
    # A lean insert (see core.lean): a booking queues two mails, and Django's create
    # compiled this statement anew for each.
    mail = lean.insert(
        OutboxMail(
            recipient=recipient,
            to_address=address,
            template=template,
            language=lang,
            subject=texts[0],
            body_text=texts[1],
            body_html=texts[2],
            render_context=frozen,
            attachments=[item.as_stored() for item in attachments or []],
            next_attempt_at=clock.now(),
            message_id=new_message_id(),
        )
    )
    _deliver_after_commit(mail.pk)
    return mail


def _render(
    template: str, context: dict[str, Any], *, recipient: User | None, language: str, zone: str
) -> tuple[str, str, str]:
    """Subject, text and HTML body of a mail, in the recipient's language and time zone."""
    full_context = {"site_url": settings.SITE_URL, "recipient": recipient, **context}
    with translation.override(language), timezone.override(zone):
        subject = render_to_string(f"mail/{template}/subject.txt", full_context)
        body_text = render_to_string(f"mail/{template}/body.txt", full_context)
        body_html = render_to_string(f"mail/{template}/body.html", full_context)
    return " ".join(subject.split()), body_text.strip() + "\n", body_html


# How a frozen model instance and a moment are kept in ``render_context``.
FROZEN = "frozen"
MOMENT = "datetime"
PLAIN_VALUES = (str, int, bool, type(None))
# Never written into an outbox row, whatever the template might want.
NOT_FROZEN = frozenset({"password"})


def _frozen_context(context: dict[str, Any]) -> dict[str, Any]:
    frozen: dict[str, Any] = {}
    for key, value in context.items():
        if isinstance(value, models.Model):
            if value.pk is None:
                raise TypeError(f"mail context {key!r}: an unsaved {type(value).__name__}")
            names = [
                field.name
                for field in value._meta.concrete_fields
                if not field.primary_key and field.name not in NOT_FROZEN
            ]
            (as_python,) = serializers.serialize("python", [value], fields=names)
            frozen[key] = {FROZEN: as_python}  # the row's JSON encoder writes its moments
        elif isinstance(value, datetime):
            frozen[key] = {MOMENT: value.isoformat()}
        elif isinstance(value, PLAIN_VALUES):
            frozen[key] = value
        else:
            raise TypeError(f"mail context {key!r}: {type(value).__name__} cannot be frozen")
    return frozen


def _thawed_context(frozen: dict[str, Any]) -> dict[str, Any]:
    """The context as queued: instances rebuilt from their frozen fields, not read again."""
    context: dict[str, Any] = {}
    for key, value in frozen.items():
        if isinstance(value, dict) and FROZEN in value:
            (restored,) = serializers.deserialize("python", [value[FROZEN]])
            context[key] = restored.object
        elif isinstance(value, dict) and MOMENT in value:
            context[key] = datetime.fromisoformat(value[MOMENT])
        else:
            context[key] = value
    return context


def _render_waiting(mail: OutboxMail) -> None:
    """Render a mail queued with ``render_later`` and keep the texts (in the claim's lease)."""
    if mail.render_context is None:
        return
    mail.subject, mail.body_text, mail.body_html = _render(
        mail.template,
        _thawed_context(mail.render_context["context"]),
        recipient=None,  # frozen in the context
        language=mail.language,
        zone=mail.render_context["time_zone"],
    )
    mail.render_context = None
    mail.save(update_fields=["subject", "body_text", "body_html", "render_context"])


class _MailBatch:
    """The mails one transaction queued: handed to one delivery task when it commits."""

    def __init__(self) -> None:
        self.mail_ids: list[int] = []

    def enqueue(self) -> None:
        # A mail rolled back with its savepoint may have left its id here (SQLite even gives
        # that id again): once is enough, and the delivery skips an id without a mail.
        _enqueue_delivery(list(dict.fromkeys(self.mail_ids)))


def _deliver_after_commit(mail_id: int) -> None:
    """One delivery task per transaction, not per mail (a booking queues two or three).

    The batch hangs on the connection while its on-commit hook is pending; a batch whose hook
    is gone (its transaction or savepoint rolled back) is not reused."""
    connection = transaction.get_connection()
    batch: _MailBatch | None = getattr(connection, "_treffpunkt_mail_batch", None)
    pending = batch is not None and any(
        hook[1] == batch.enqueue for hook in connection.run_on_commit
    )
    if batch is None or not pending or not connection.in_atomic_block:
        batch = _MailBatch()
        connection._treffpunkt_mail_batch = batch
        batch.mail_ids.append(mail_id)
        transaction.on_commit(batch.enqueue)  # outside a transaction: at once
        return
    batch.mail_ids.append(mail_id)


def new_message_id() -> str:
    """A Message-ID in the sender's domain (the part after the @ of DEFAULT_FROM_EMAIL)."""
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    domain = address.rpartition("@")[2] or "treffpunkt.invalid"
    return make_msgid(domain=domain)


def _enqueue_delivery(mail_ids: list[int]) -> None:
    from treffpunkt.notifications.tasks import deliver_mails

    try:
        deliver_mails.enqueue(mail_ids=mail_ids)
    except Exception:
        # The mails are safe in the outbox; the periodic sweep will pick them up.
        logger.exception("could not enqueue mails %s; the outbox sweep will send them", mail_ids)


def retry_delay(attempts: int) -> timedelta:
    """Pause before the next try: base, 2×base, 4×base, … capped at six hours."""
    seconds = settings.MAIL_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, 6 * 60 * 60))


def _claim(mail_id: int, *, at: datetime) -> OutboxMail | None:
    """Take a due mail for sending. Pushing ``next_attempt_at`` forward in the same statement
    keeps every other worker off it while this one talks to the mail server."""
    lease_until = at + timedelta(seconds=settings.EMAIL_TIMEOUT * 4)
    claimed = OutboxMail.objects.filter(
        pk=mail_id, status=MailStatus.PENDING, next_attempt_at__lte=at
    ).update(next_attempt_at=lease_until)
    if not claimed:
        return None
    return OutboxMail.objects.get(pk=mail_id)


def _as_message(mail: OutboxMail) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=mail.subject,
        body=mail.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[mail.to_address],
        headers={
            "Auto-Submitted": "auto-generated",
            # Mails queued before Message-IDs were stored get one now.
            "Message-ID": mail.message_id or new_message_id(),
            **mail.headers,
        },
    )
    if mail.body_html:
        message.attach_alternative(mail.body_html, "text/html")
    for item in mail.attachments:
        message.attach(_mime_part(item))
    return message


def _mime_part(item: dict[str, Any]) -> MIMEBase:
    maintype, subtype = item["mimetype"].split("/", 1)
    part: MIMEBase
    if item.get("encoding") == BASE64:
        # Bytes go out base64-encoded whatever their type, so they arrive unchanged.
        part = MIMEBase(maintype, subtype)
        part.set_payload(base64.b64decode(item["content"], validate=True))
        encoders.encode_base64(part)
    elif maintype == "text":
        part = MIMEText(item["content"], subtype, "utf-8")
    else:
        part = MIMEBase(maintype, subtype)
        part.set_payload(item["content"])
    for key, value in item.get("params", {}).items():
        part.set_param(key, value)
    part.add_header("Content-Disposition", "attachment", filename=item["filename"])
    return part


def deliver(*, mail_id: int) -> bool:
    """Send one mail if it is due. Returns True when it went out now."""
    mail = _claim(mail_id, at=clock.now())
    if mail is None:
        return False
    try:
        _render_waiting(mail)
    except Exception as exc:  # a broken template or frozen context: keep it for a look
        logger.exception("mail %s could not be rendered", mail.pk)
        _record_failure(mail, error=without_addresses(f"{type(exc).__name__}: {exc}"))
        return False
    try:
        _as_message(mail).send(fail_silently=False)
    except Exception as exc:  # any mail server failure: keep the mail and try again later
        _record_failure(mail, error=without_addresses(f"{type(exc).__name__}: {exc}"))
        return False
    OutboxMail.objects.filter(pk=mail.pk).update(
        status=MailStatus.SENT,
        attempts=mail.attempts + 1,
        sent_at=clock.now(),
        last_error="",
    )
    return True


def without_addresses(text: str) -> str:
    return ADDRESS_IN_ERROR.sub("<address>", text)


def _record_failure(mail: OutboxMail, *, error: str) -> None:
    attempts = mail.attempts + 1
    gave_up = attempts >= settings.MAIL_MAX_ATTEMPTS
    next_attempt_at = clock.now() + retry_delay(attempts)
    OutboxMail.objects.filter(pk=mail.pk).update(
        attempts=attempts,
        last_error=error[:2000],
        status=MailStatus.FAILED if gave_up else MailStatus.PENDING,
        next_attempt_at=next_attempt_at,
    )
    logger.warning("mail %s failed (attempt %s): %s", mail.pk, attempts, error)
    if not gave_up:
        _schedule_retry(mail.pk, at=next_attempt_at)


def _schedule_retry(mail_id: int, *, at: datetime) -> None:
    from treffpunkt.notifications.tasks import deliver_mail

    if not deliver_mail.get_backend().supports_defer:
        return  # the periodic sweep (send_due_mail) retries instead
    try:
        deliver_mail.using(run_after=at).enqueue(mail_id=mail_id)
    except Exception:
        logger.exception("could not schedule retry for mail %s", mail_id)


def send_due_mail(*, limit: int = 200) -> int:
    """Send every pending mail whose time has come. The scheduler runs this every minute as a
    safety net for lost tasks and for task backends that cannot delay a task."""
    due_ids = list(
        OutboxMail.objects.filter(status=MailStatus.PENDING, next_attempt_at__lte=clock.now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for mail_id in due_ids if deliver(mail_id=mail_id))
