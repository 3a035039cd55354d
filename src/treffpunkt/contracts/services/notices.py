"""Change notices and transfers (§ 11 (IV), § 20 (III), (IV), § 21 (I), § 23 (I); P-OP-7).

A change of terms, service description or prices takes effect no sooner than one month and no
later than two months after the notice reaches the customer. Unless the change is only to the
customer's benefit, purely administrative, required by law or a VAT-only price increase, the
notice states the special cancellation right and that the change counts as accepted without a
cancellation. A transfer of the contract to a third party is announced six weeks ahead; for
video conferencing the customer may object within four weeks, for telephony the special
cancellation right applies.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.contracts import deadlines
from treffpunkt.contracts.models import (
    ChangeClass,
    ChangeNotice,
    ChangeSubject,
    Channel,
    Contract,
    EventKind,
    ProductKind,
    Transfer,
)
from treffpunkt.contracts.services import letters
from treffpunkt.contracts.services._common import add_event, iso, require_operator, today
from treffpunkt.core import audit
from treffpunkt.core.errors import DomainError
from treffpunkt.documents.models import Document


def _live(contract: Contract) -> Contract:
    locked = Contract.objects.select_for_update().get(pk=contract.pk)
    if not locked.is_live:
        raise DomainError(_("This contract has already ended."), code="contract_state")
    return locked


def check_change_window(received_on: date, effective_on: date) -> None:
    """Refuse an effective day outside the window of § 11 (IV), with both limits named."""
    window = deadlines.change_notice_window(received_on)
    if window.earliest <= effective_on <= window.latest:
        return
    raise DomainError(
        _(
            "A change announced by a notice that reaches the customer on %(received)s may take "
            "effect from %(earliest)s to %(latest)s (at least one month, at most two months "
            "later, § 11 (IV) of the terms); %(effective)s is %(days)s days after the notice."
        )
        % {
            "received": letters.long_date(received_on),
            "earliest": letters.long_date(window.earliest),
            "latest": letters.long_date(window.latest),
            "effective": letters.long_date(effective_on),
            "days": (effective_on - received_on).days,
        },
        code="change_window",
    )


def announce_change(
    *,
    actor: User | None,
    contract: Contract,
    subject: str,
    classification: str,
    description: str,
    received_on: date,
    effective_on: date,
) -> ChangeNotice:
    """Announce a change to ``contract`` by a letter that reaches the customer on
    ``received_on`` (today for e-mail) and takes effect on ``effective_on``."""
    operator = require_operator(actor)
    subject, classification = ChangeSubject(subject), ChangeClass(classification)
    if not description.strip():
        raise DomainError(_("Describe the change."), code="description")
    if received_on < today():
        raise DomainError(
            _("A notice cannot reach the customer before it is sent."), code="received_on"
        )
    check_change_window(received_on, effective_on)
    with transaction.atomic():
        locked = _live(contract)
        special = None
        if classification not in (
            ChangeClass.BENEFIT,
            ChangeClass.ADMINISTRATIVE,
            ChangeClass.LAW,
            ChangeClass.VAT_ONLY,
        ):
            special = deadlines.special_cancellation_end(received_on, effective_on)
        notice = ChangeNotice.objects.create(
            contract=locked,
            subject=subject,
            classification=classification,
            description=description.strip(),
            received_on=received_on,
            effective_on=effective_on,
            special_right_until=special.cancel_by if special else None,
            created_by=operator,
        )
        letter = _change_letter(locked, notice, actor=operator)
        notice.letter = letter
        notice.save(update_fields=["letter"])
        add_event(
            locked,
            kind=EventKind.CHANGE_NOTICE,
            on=received_on,
            summary=_("Change of %(subject)s announced (%(kind)s), in effect from %(day)s.")
            % {
                "subject": subject.label,
                "kind": classification.label,
                "day": letters.long_date(effective_on),
            }
            + (
                " "
                + _("Special cancellation right until %(day)s.")
                % {"day": letters.long_date(special.cancel_by)}
                if special
                else ""
            ),
            document=letter,
        )
        audit.record(
            "contracts.change.announced",
            actor=operator,
            target=locked,
            data={
                "subject": str(subject),
                "classification": str(classification),
                "received_on": received_on.isoformat(),
                "effective_on": effective_on.isoformat(),
                "special_right_until": iso(notice.special_right_until),
            },
        )
    return notice


def _change_letter(contract: Contract, notice: ChangeNotice, *, actor: User) -> Document:
    with letters.in_language_of(contract.customer) as language:
        paragraphs = [
            _(
                "We are changing the %(subject)s for your contract %(contract)s (%(product)s). "
                "The change takes effect on %(day)s:"
            )
            % {
                "subject": ChangeSubject(notice.subject).label,
                "contract": contract.number,
                "product": contract.product.name,
                "day": letters.long_date(notice.effective_on),
            },
            notice.description,
        ]
        if notice.special_right_until is not None:
            paragraphs += [
                _(
                    "You have a special right to cancel: within three months of receiving this "
                    "notice, that is by %(until)s, you may cancel the contract without notice "
                    "period and at no cost (§ 20 (III) of our terms). The contract then ends "
                    "when the change would take effect, on %(last_day)s at the earliest."
                )
                % {
                    "until": letters.long_date(notice.special_right_until),
                    "last_day": letters.long_date(notice.effective_on - deadlines.ONE_DAY),
                },
                _(
                    "If you do not cancel in writing within these three months, the change "
                    "becomes part of your contract when it takes effect (§ 20 (IV) of our terms)."
                ),
            ]
        else:
            paragraphs.append(
                _(
                    "This change gives no special cancellation right (§ 20 (III) of our "
                    "terms). Kind of change: %(kind)s."
                )
                % {"kind": ChangeClass(notice.classification).label}
            )
        subject = _("Change to your contract %(contract)s from %(day)s") % {
            "contract": contract.number,
            "day": letters.long_date(notice.effective_on),
        }
    return letters.send_letter(
        customer=contract.customer,
        language=language,
        subject=subject,
        paragraphs=paragraphs,
        contract=contract,
        actor=actor,
    )


def transfer_latest_receipt(effective_on: date) -> date:
    """The last day the announcement may reach the customer: six whole weeks before."""
    return effective_on - timedelta(weeks=deadlines.TRANSFER_ANNOUNCEMENT_WEEKS) - deadlines.ONE_DAY


def announce_transfer(
    *,
    actor: User | None,
    contract: Contract,
    transferee: str,
    received_on: date,
    effective_on: date,
) -> Transfer:
    """Announce the transfer of ``contract`` to ``transferee`` six weeks ahead."""
    operator = require_operator(actor)
    if not transferee.strip():
        raise DomainError(_("Name the new contract partner."), code="transferee")
    if received_on < today():
        raise DomainError(
            _("A notice cannot reach the customer before it is sent."), code="received_on"
        )
    latest = transfer_latest_receipt(effective_on)
    if received_on > latest:
        raise DomainError(
            _(
                "A transfer taking effect on %(effective)s must be announced six weeks ahead: "
                "the notice must reach the customer by %(latest)s (§ 21 (I), § 23 (I) of the "
                "terms)."
            )
            % {"effective": letters.long_date(effective_on), "latest": letters.long_date(latest)},
            code="transfer_window",
        )
    with transaction.atomic():
        locked = _live(contract)
        video = locked.kind == ProductKind.VIDEO
        transfer = Transfer.objects.create(
            contract=locked,
            transferee=transferee.strip(),
            received_on=received_on,
            effective_on=effective_on,
            objection_until=deadlines.transfer_objection_deadline(received_on) if video else None,
            special_right_until=None
            if video
            else deadlines.next_working_day(
                deadlines.add_months(received_on, deadlines.SPECIAL_CANCELLATION_MONTHS)
            ),
            created_by=operator,
        )
        letter = _transfer_letter(locked, transfer, actor=operator)
        transfer.letter = letter
        transfer.save(update_fields=["letter"])
        add_event(
            locked,
            kind=EventKind.TRANSFER_NOTICE,
            on=received_on,
            summary=_("Transfer to %(who)s announced, in effect from %(day)s.")
            % {"who": transfer.transferee, "day": letters.long_date(effective_on)},
            document=letter,
        )
        audit.record(
            "contracts.transfer.announced",
            actor=operator,
            target=locked,
            data={
                "transferee": transfer.transferee,
                "received_on": received_on.isoformat(),
                "effective_on": effective_on.isoformat(),
                "objection_until": iso(transfer.objection_until),
                "special_right_until": iso(transfer.special_right_until),
            },
        )
    return transfer


def _transfer_letter(contract: Contract, transfer: Transfer, *, actor: User) -> Document:
    with letters.in_language_of(contract.customer) as language:
        paragraphs = [
            _(
                "We are transferring your contract %(contract)s (%(product)s) to %(who)s. The "
                "transfer takes effect on %(day)s."
            )
            % {
                "contract": contract.number,
                "product": contract.product.name,
                "who": transfer.transferee,
                "day": letters.long_date(transfer.effective_on),
            }
        ]
        if transfer.objection_until is not None:
            paragraphs += [
                _(
                    "You may object to the transfer in writing within four weeks of receiving "
                    "this notice, that is by %(until)s (§ 23 (I) of our terms). Without an "
                    "objection the contract counts as agreed with the new partner; using the "
                    "service after the transfer does not change that."
                )
                % {"until": letters.long_date(transfer.objection_until)},
                _(
                    "If you do not want to continue the contract with the new partner, you may "
                    "also cancel it at once with immediate effect."
                ),
            ]
        else:
            until = transfer.special_right_until or transfer.received_on
            paragraphs += [
                _(
                    "You have a special right to cancel: within three months of receiving this "
                    "notice, that is by %(until)s, without notice period and at no cost. The "
                    "contract then ends when the transfer takes effect at the earliest "
                    "(§ 21 (I), § 20 (III) of our terms)."
                )
                % {"until": letters.long_date(until)},
                _(
                    "If you do not cancel within these three months, the contract counts as "
                    "agreed with the new partner; using the service after the transfer does not "
                    "change that."
                ),
            ]
        subject = _("Transfer of your contract %(contract)s") % {"contract": contract.number}
    return letters.send_letter(
        customer=contract.customer,
        language=language,
        subject=subject,
        paragraphs=paragraphs,
        contract=contract,
        actor=actor,
    )


def record_transfer_objection(
    *, actor: User | None, transfer: Transfer, received_on: date, channel: str
) -> Transfer:
    """The customer's objection to a transfer of a video contract (§ 23 (I))."""
    operator = require_operator(actor)
    channel = Channel(channel)
    with transaction.atomic():
        locked = Transfer.objects.select_for_update().select_related("contract").get(pk=transfer.pk)
        if locked.objection_until is None:
            raise DomainError(
                _("A telephony transfer has no objection, only the special cancellation right."),
                code="no_objection",
            )
        if locked.objected_on is not None:
            raise DomainError(_("The objection is already recorded."), code="already_objected")
        if received_on > today() or received_on < locked.received_on:
            raise DomainError(
                _("The objection must arrive between the notice and today."), code="received_on"
            )
        if received_on > locked.objection_until:
            raise DomainError(
                _("The four weeks for an objection ended on %(day)s.")
                % {"day": letters.long_date(locked.objection_until)},
                code="objection_late",
            )
        locked.objected_on = received_on
        locked.save(update_fields=["objected_on"])
        add_event(
            locked.contract,
            kind=EventKind.TRANSFER_OBJECTION,
            on=received_on,
            summary=_("The customer objected (%(channel)s) to the transfer to %(who)s.")
            % {"channel": channel.label, "who": locked.transferee},
        )
        audit.record(
            "contracts.transfer.objected",
            actor=operator,
            target=locked.contract,
            data={"transfer": locked.pk, "received_on": received_on.isoformat()},
        )
    return locked


def bring_into_effect(*, on: date) -> int:
    """Mark the changes and transfers whose day has come as in effect (the daily run)."""
    done = 0
    changes = ChangeNotice.objects.filter(in_effect=False, effective_on__lte=on)
    for notice in changes.select_related("contract"):
        with transaction.atomic():
            if not ChangeNotice.objects.filter(pk=notice.pk, in_effect=False).update(
                in_effect=True
            ):
                continue
            if not notice.contract.is_live:
                continue  # ended before the change (e.g. by the special cancellation right)
            add_event(
                notice.contract,
                kind=EventKind.CHANGE_EFFECTIVE,
                on=notice.effective_on,
                summary=_("The announced change of %(subject)s is in effect.")
                % {"subject": ChangeSubject(notice.subject).label},
            )
            audit.record(
                "contracts.change.in_effect",
                actor=None,
                target=notice.contract,
                data={"notice": notice.pk, "effective_on": notice.effective_on.isoformat()},
            )
            done += 1
    transfers = Transfer.objects.filter(in_effect=False, effective_on__lte=on)
    for transfer in transfers.select_related("contract"):
        with transaction.atomic():
            if not Transfer.objects.filter(pk=transfer.pk, in_effect=False).update(in_effect=True):
                continue
            if not transfer.contract.is_live:
                continue
            add_event(
                transfer.contract,
                kind=EventKind.TRANSFER_EFFECTIVE,
                on=transfer.effective_on,
                summary=(
                    _("Transfer to %(who)s in effect.") % {"who": transfer.transferee}
                    if transfer.objected_on is None
                    else _("Transfer day passed; the customer had objected, so it does not apply.")
                ),
            )
            audit.record(
                "contracts.transfer.in_effect",
                actor=None,
                target=transfer.contract,
                data={"transfer": transfer.pk, "objected": transfer.objected_on is not None},
            )
            done += 1
    return done
