"""A contract's life: switched on by its first invoice (P-OP-3), cancelled (P-OP-6), the
telephony consent to a renewal (P-OP-5), renewed or ended at the end of a term (P-OP-4)."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.contracts import deadlines
from treffpunkt.contracts.models import (
    Cancellation,
    CancellationKind,
    ChangeNotice,
    Channel,
    Contract,
    ContractState,
    EndReason,
    EventKind,
    ProductKind,
    Transfer,
)
from treffpunkt.contracts.services import letters
from treffpunkt.contracts.services._common import (
    add_event,
    iso,
    require_contact_of,
    require_operator,
    today,
)
from treffpunkt.contracts.services.holds import sync_holds
from treffpunkt.contracts.services.terms import term_dates
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError
from treffpunkt.documents.models import Document

END_REASON = {
    CancellationKind.ORDINARY: EndReason.CANCELLED,
    CancellationKind.GOOD_CAUSE: EndReason.GOOD_CAUSE,
    CancellationKind.SPECIAL: EndReason.SPECIAL,
    CancellationKind.TRANSFER: EndReason.TRANSFER,
}


# --- switching on (P-OP-3) --------------------------------------------------------------------


def switch_on(
    *, contract: Contract, invoice_number: str, actor: User | None = None, because: str = ""
) -> bool:
    """The provisioning hook: the billing calls it right after it issued the contract's first
    invoice; a provider switch calls it on the agreed day (``because`` says so, no invoice
    yet). The service goes on; a second call changes nothing. Returns whether it switched."""
    if not invoice_number.strip() and not because:
        raise ValueError("the invoice that switches a service on has a number")
    with transaction.atomic():
        locked = Contract.objects.select_for_update().get(pk=contract.pk)
        if locked.switched_on_at is not None or locked.state == ContractState.ENDED:
            return False
        if locked.state == ContractState.WAITING:
            locked.state = ContractState.ACTIVE  # a contract cancelled meanwhile stays ENDING
        locked.switched_on_at = clock.now()
        locked.switched_on_by_invoice = invoice_number
        locked.save(update_fields=["state", "switched_on_at", "switched_on_by_invoice"])
        add_event(
            locked,
            kind=EventKind.SWITCHED_ON,
            on=today(),
            summary=because
            or _("Service switched on after invoice %(invoice)s was issued.")
            % {"invoice": invoice_number},
        )
        audit.record(
            "contracts.contract.switched_on",
            actor=actor,
            target=locked,
            data={"invoice": invoice_number, "because": because},
        )
        sync_holds(locked.customer, actor=actor)
    contract.state = locked.state
    contract.switched_on_at = locked.switched_on_at
    return True


# --- cancellations (P-OP-6) -------------------------------------------------------------------


def cancel_in_customer_area(
    *, actor: User | None, contract: Contract, reason: str = ""
) -> Cancellation:
    """An ordinary cancellation sent by one of the customer's contacts in the customer area:
    received today, in text form (§ 24 (VI) of the terms)."""
    contact = require_contact_of(actor, contract.customer)
    return _record(
        contract=contract,
        kind=CancellationKind.ORDINARY,
        received_on=today(),
        channel=Channel.CUSTOMER_AREA,
        sender=contact.name,
        reason=reason,
        actor=actor,
    )


def record_cancellation(
    *,
    actor: User | None,
    contract: Contract,
    kind: str,
    received_on: date,
    channel: str,
    sender: str,
    reason: str = "",
) -> Cancellation:
    """A cancellation that reached the operator by letter, fax or e-mail, recorded by the
    operator with the day it arrived."""
    operator = require_operator(actor)
    if not sender.strip():
        raise DomainError(_("Say who sent the cancellation."), code="sender")
    return _record(
        contract=contract,
        kind=CancellationKind(kind),
        received_on=received_on,
        channel=Channel(channel),
        sender=sender.strip(),
        reason=reason,
        actor=operator,
    )


def _record(
    *,
    contract: Contract,
    kind: CancellationKind,
    received_on: date,
    channel: Channel,
    sender: str,
    reason: str,
    actor: User | None,
) -> Cancellation:
    if received_on > today():
        raise DomainError(_("A cancellation cannot arrive in the future."), code="received_on")
    with transaction.atomic():
        locked = Contract.objects.select_for_update().get(pk=contract.pk)
        if not locked.is_live:
            raise DomainError(_("This contract has already ended."), code="contract_state")
        effective, late, in_doubt = _effective_day(locked, kind, received_on, reason)
        if locked.ends_on is not None and locked.ends_on <= effective:
            raise DomainError(
                _("The contract already ends on %(day)s; this cancellation changes nothing.")
                % {"day": letters.long_date(locked.ends_on)},
                code="already_ending",
            )
        cancellation = Cancellation.objects.create(
            contract=locked,
            kind=kind,
            received_on=received_on,
            channel=channel,
            sender=sender,
            reason=reason.strip(),
            effective_on=effective,
            late=late,
            in_doubt=in_doubt,
            recorded_by=actor,
        )
        locked.state = ContractState.ENDING
        locked.ends_on = effective
        locked.end_reason = END_REASON[kind]
        locked.save(update_fields=["state", "ends_on", "end_reason"])
        letter = _confirmation(locked, cancellation, actor=actor)
        cancellation.confirmation = letter
        cancellation.save(update_fields=["confirmation"])
        add_event(
            locked,
            kind=EventKind.CANCELLATION,
            on=received_on,
            summary=_(
                "%(kind)s received by %(channel)s from %(sender)s; the contract ends at the end "
                "of %(day)s."
            )
            % {
                "kind": cancellation.get_kind_display(),
                "channel": cancellation.get_channel_display(),
                "sender": sender,
                "day": letters.long_date(effective),
            },
            document=letter,
        )
        audit.record(
            "contracts.cancellation.recorded",
            actor=actor,
            target=locked,
            data={
                "kind": str(kind),
                "received_on": received_on.isoformat(),
                "channel": str(channel),
                "effective_on": effective.isoformat(),
                "late": late,
                "in_doubt": in_doubt,
            },
        )
    contract.state, contract.ends_on = locked.state, locked.ends_on
    return cancellation


def _effective_day(
    contract: Contract, kind: CancellationKind, received: date, reason: str
) -> tuple[date, bool, bool]:
    """The contract's last day after a cancellation of ``kind`` received on ``received``,
    whether it came too late for the current term's end, and whether that is in doubt."""
    if kind == CancellationKind.GOOD_CAUSE:
        if not reason.strip():
            raise DomainError(_("A cancellation for good cause needs its reason."), code="reason")
        return received, False, False  # § 20 (II), § 22 (II): at once
    if kind == CancellationKind.SPECIAL:
        return _special_end(contract, received), False, False
    if kind == CancellationKind.TRANSFER:
        transfer = _open_transfer(contract, received)
        if contract.kind == ProductKind.TELEPHONY:
            # § 21 (I) with § 20 (III): the special right; ends when the transfer takes effect.
            return (
                deadlines.special_cancellation_last_day(
                    transfer.received_on, transfer.effective_on, received
                ),
                False,
                False,
            )
        return received, False, False  # § 23 (I): "mit sofortiger Wirkung"
    if contract.kind == ProductKind.TELEPHONY:
        # No renewal without consent: an ordinary cancellation ends the current term, or the
        # one already agreed by a consent.
        end = contract.term_end
        if contract.consent_given_on is not None and received > contract.consent_given_on:
            end = deadlines.renewed_term(end).end
        return end, end != contract.term_end, False
    effective = deadlines.late_cancellation_effective(received, contract.term_end)
    late = effective != contract.term_end
    return effective, late, deadlines.cancellation_in_doubt(received, contract.term_end)


def _special_end(contract: Contract, received: date) -> date:
    notices = ChangeNotice.objects.filter(
        contract=contract, special_right_until__gte=received, received_on__lte=received
    ).order_by("effective_on")
    notice = notices.first()
    if notice is None:
        raise DomainError(
            _(
                "No change notice gives this contract a special cancellation right on that day "
                "(it lasts three months from the notice, § 20 (III) of the terms)."
            ),
            code="no_special_right",
        )
    return deadlines.special_cancellation_last_day(
        notice.received_on, notice.effective_on, received
    )


def _open_transfer(contract: Contract, received: date) -> Transfer:
    transfer = (
        Transfer.objects.filter(contract=contract, received_on__lte=received)
        .order_by("-received_on")
        .first()
    )
    if transfer is None:
        raise DomainError(_("No transfer of this contract has been announced."), code="no_transfer")
    if transfer.special_right_until is not None and received > transfer.special_right_until:
        raise DomainError(
            _("The special cancellation right after the transfer ended on %(day)s.")
            % {"day": letters.long_date(transfer.special_right_until)},
            code="no_special_right",
        )
    return transfer


def _confirmation(
    contract: Contract, cancellation: Cancellation, *, actor: User | None
) -> Document:
    with letters.in_language_of(contract.customer) as language:
        paragraphs = [
            _(
                "We received your cancellation of contract %(contract)s (%(product)s) on "
                "%(received)s (%(channel)s). The contract ends at the end of %(day)s."
            )
            % {
                "contract": contract.number,
                "product": contract.product.name,
                "received": letters.long_date(cancellation.received_on),
                "channel": cancellation.get_channel_display(),
                "day": letters.long_date(cancellation.effective_on),
            }
        ]
        if cancellation.late:
            paragraphs.append(
                _(
                    "Your cancellation reached us after the notice deadline for the end of the "
                    "current term on %(term_end)s (at the latest three months before, § 22 (I) "
                    "of our terms). The contract has therefore renewed once more and ends at "
                    "the end of the following term."
                )
                % {"term_end": letters.long_date(contract.term_end)}
            )
        if cancellation.kind == CancellationKind.GOOD_CAUSE:
            paragraphs.append(_("The cancellation for good cause takes effect at once."))
        paragraphs.append(
            _("Fees remain due until the contract ends. Your data stays available until then.")
        )
        subject = _("Confirmation of your cancellation of contract %(contract)s") % {
            "contract": contract.number
        }
    return letters.send_letter(
        customer=contract.customer,
        language=language,
        subject=subject,
        paragraphs=paragraphs,
        contract=contract,
        actor=actor,
    )


# --- telephony consent (§ 20 (I), P-OP-5) -----------------------------------------------------


def give_consent_in_customer_area(*, actor: User | None, contract: Contract) -> Contract:
    contact = require_contact_of(actor, contract.customer)
    return _consent(
        contract, on=today(), channel=Channel.CUSTOMER_AREA, sender=contact.name, actor=actor
    )


def record_consent(
    *, actor: User | None, contract: Contract, received_on: date, channel: str, sender: str
) -> Contract:
    operator = require_operator(actor)
    if received_on > today():
        raise DomainError(_("A consent cannot arrive in the future."), code="received_on")
    if not sender.strip():
        raise DomainError(_("Say who gave the consent."), code="sender")
    return _consent(
        contract, on=received_on, channel=Channel(channel), sender=sender.strip(), actor=operator
    )


def _consent(
    contract: Contract, *, on: date, channel: Channel, sender: str, actor: User | None
) -> Contract:
    with transaction.atomic():
        locked = Contract.objects.select_for_update().get(pk=contract.pk)
        if locked.kind != ProductKind.TELEPHONY:
            raise DomainError(
                _("Only a telephony contract needs a consent to renew."), code="not_telephony"
            )
        if locked.state not in (ContractState.ACTIVE, ContractState.WAITING):
            raise DomainError(
                _("This contract ends; a consent can no longer renew it."),
                code="contract_state",
            )
        if locked.consent_given_on is not None:
            raise DomainError(
                _("The consent to renew this term was already given on %(day)s.")
                % {"day": letters.long_date(locked.consent_given_on)},
                code="already_consented",
            )
        if on > locked.term_end:
            raise DomainError(
                _("The term ended on %(day)s; a consent after it comes too late.")
                % {"day": letters.long_date(locked.term_end)},
                code="consent_late",
            )
        locked.consent_given_on = on
        locked.save(update_fields=["consent_given_on"])
        next_term = deadlines.renewed_term(locked.term_end)
        add_event(
            locked,
            kind=EventKind.CONSENT_GIVEN,
            on=on,
            summary=_("%(sender)s consented (%(channel)s) to renewing the contract until %(end)s.")
            % {
                "sender": sender,
                "channel": channel.label,
                "end": letters.long_date(next_term.end),
            },
        )
        audit.record(
            "contracts.consent.given",
            actor=actor,
            target=locked,
            data={"on": on.isoformat(), "channel": str(channel), "until": iso(next_term.end)},
        )
    return locked


# --- the end of a term (the daily run) --------------------------------------------------------


def close_term(contract: Contract, *, on: date) -> str:
    """Renew or end ``contract`` if a term or its last day lies before ``on``. Returns what
    happened: "renewed", "ended" or "" (nothing due; a second run finds nothing)."""
    with transaction.atomic():
        locked = Contract.objects.select_for_update().select_related("customer", "product")
        return close_locked_term(locked.get(pk=contract.pk), on=on)


def close_locked_term(locked: Contract, *, on: date) -> str:
    """``close_term`` for a contract read under a row lock in the caller's transaction (the
    daily run locks a batch at once)."""
    if not locked.is_live:
        return ""
    if locked.ends_on is not None and locked.ends_on < on:
        if locked.switches.filter(direction="out", done_at__isnull=True).exists():
            # § 19 (I): the service is not interrupted before the new provider's is active;
            # the contract ends when the switch is done (``switching.switch_out_done``).
            return ""
        _end(locked, reason=EndReason(locked.end_reason or EndReason.CANCELLED))
        return "ended"
    if locked.term_end >= on:
        return ""
    while locked.term_end < on:
        # A consent renews one term only (§ 20 (I)): after a long pause, a telephony
        # contract renewed once ends at the next end it has no consent for.
        if locked.kind == ProductKind.TELEPHONY and locked.consent_given_on is None:
            locked.ends_on = locked.term_end
            _end(locked, reason=EndReason.NO_CONSENT)
            return "ended"
        _renew(locked)
    return "renewed"


def _renew(contract: Contract) -> None:
    previous_end = contract.term_end
    fields = term_dates(contract.kind, previous_end + deadlines.ONE_DAY)
    for name, value in fields.items():
        setattr(contract, name, value)
    contract.save(update_fields=list(fields))
    add_event(
        contract,
        kind=EventKind.RENEWED,
        on=contract.term_start,
        summary=_("Renewed by one year, until %(end)s.")
        % {"end": letters.long_date(contract.term_end)},
    )
    audit.record(
        "contracts.contract.renewed",
        actor=None,
        target=contract,
        data={"term_start": iso(contract.term_start), "term_end": iso(contract.term_end)},
    )


def end_contract(contract: Contract, *, reason: EndReason) -> None:
    """End a locked contract now (its ``ends_on`` set by the caller)."""
    _end(contract, reason=reason)


def _end(contract: Contract, *, reason: EndReason) -> None:
    contract.state = ContractState.ENDED
    contract.end_reason = reason
    contract.save(update_fields=["state", "end_reason", "ends_on"])
    add_event(
        contract,
        kind=EventKind.ENDED,
        on=contract.ends_on or contract.term_end,
        summary=_("The contract ended (%(reason)s).") % {"reason": reason.label},
    )
    audit.record(
        "contracts.contract.ended",
        actor=None,
        target=contract,
        data={"reason": str(reason), "ends_on": iso(contract.ends_on)},
    )
    if reason == EndReason.NO_CONSENT:
        with letters.in_language_of(contract.customer) as language:
            letters.send_letter(
                customer=contract.customer,
                language=language,
                subject=_("Contract %(contract)s has ended") % {"contract": contract.number},
                paragraphs=[
                    _(
                        "Contract %(contract)s (%(product)s) ended on %(day)s because we did "
                        "not receive your consent to renew it (§ 20 (I) of our terms)."
                    )
                    % {
                        "contract": contract.number,
                        "product": contract.product.name,
                        "day": letters.long_date(contract.term_end),
                    }
                ],
                contract=contract,
                actor=None,
            )
    sync_holds(contract.customer, actor=None)


# --- termination for payment default (§ 8 (VI), billing P-BILL-2) -----------------------------


def end_for_default(*, contract: Contract, on: date, actor: User | None) -> Contract:
    """The operator's termination without notice for payment default, effective ``on``: the
    contract runs until the end of that day, like a cancellation for good cause (ENDING, then
    ENDED by the daily run). The billing checks who may act and writes the letter and the
    claim; this records the end on the contract, its timeline and the audit log."""
    with transaction.atomic():
        locked = Contract.objects.select_for_update().get(pk=contract.pk)
        if not locked.is_live:
            raise DomainError(_("This contract has already ended."), code="contract_state")
        if locked.ends_on is not None and locked.ends_on <= on:
            raise DomainError(
                _("The contract already ends on %(day)s.")
                % {"day": letters.long_date(locked.ends_on)},
                code="already_ending",
            )
        locked.state = ContractState.ENDING
        locked.ends_on = on
        locked.end_reason = EndReason.GOOD_CAUSE
        locked.save(update_fields=["state", "ends_on", "end_reason"])
        add_event(
            locked,
            kind=EventKind.CANCELLATION,
            on=on,
            summary=_(
                "Terminated by us without notice for payment default (§ 8 (VI) of the terms); "
                "the contract ends at the end of %(day)s."
            )
            % {"day": letters.long_date(on)},
        )
        audit.record(
            "contracts.cancellation.recorded",
            actor=actor,
            target=locked,
            data={"kind": "payment_default", "effective_on": on.isoformat(), "by": "operator"},
        )
    contract.state, contract.ends_on, contract.end_reason = (
        locked.state,
        locked.ends_on,
        locked.end_reason,
    )
    return locked
