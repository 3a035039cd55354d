"""Blocking a customer's service wholly or partly (P-SLA-3): for abuse, legal reasons or
default, with a reason. Every block and unblock is recorded on the timeline of each live
contract and in the audit log; the organization's members and staff see a notice instead of
booking and calls; nothing is deleted and the fees stay due."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.contracts.models import (
    LIVE_STATES,
    Block,
    BlockReason,
    BlockScope,
    Contract,
    EventKind,
)
from treffpunkt.contracts.services import letters
from treffpunkt.contracts.services._common import add_event, require_operator, today
from treffpunkt.contracts.services.holds import sync_holds
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError
from treffpunkt.customers.models import Customer


def block_service(
    *, actor: User | None, customer: Customer, scope: str, reason: str, explanation: str
) -> Block:
    operator = require_operator(actor)
    scope, reason = BlockScope(scope), BlockReason(reason)
    if not explanation.strip():
        raise DomainError(_("Explain the block: the customer is told."), code="explanation")
    with transaction.atomic():
        Customer.objects.select_for_update().get(pk=customer.pk)
        if Block.objects.filter(customer=customer, scope=scope, lifted_at__isnull=True).exists():
            raise DomainError(
                _("This part of the service is already blocked."), code="already_blocked"
            )
        block = Block.objects.create(
            customer=customer,
            scope=scope,
            reason=reason,
            explanation=explanation.strip(),
            started_at=clock.now(),
            started_by=operator,
        )
        _on_timelines(
            customer,
            kind=EventKind.BLOCKED,
            summary=_("Blocked: %(scope)s (%(reason)s). %(explanation)s")
            % {"scope": scope.label, "reason": reason.label, "explanation": block.explanation},
        )
        audit.record(
            "contracts.block.started",
            actor=operator,
            target=customer,
            data={"block": block.pk, "scope": str(scope), "reason": str(reason)},
        )
        sync_holds(customer, actor=operator)
        with letters.in_language_of(customer) as language:
            letters.send_letter(
                customer=customer,
                language=language,
                subject=_("Your service is blocked: %(scope)s") % {"scope": scope.label},
                paragraphs=[
                    _(
                        "We have blocked part of the service for your organizations: "
                        "%(scope)s (reason: %(reason)s). Your members and staff see a notice "
                        "instead. No data is deleted, and the fees remain due while the block "
                        "lasts."
                    )
                    % {"scope": scope.label, "reason": reason.label},
                    block.explanation,
                ],
                actor=operator,
            )
    return block


def lift_block(*, actor: User | None, block: Block, note: str = "") -> Block:
    operator = require_operator(actor)
    with transaction.atomic():
        locked = Block.objects.select_for_update().select_related("customer").get(pk=block.pk)
        if locked.lifted_at is not None:
            raise DomainError(_("This block has already been lifted."), code="already_lifted")
        locked.lifted_at = clock.now()
        locked.lifted_by = operator
        locked.lift_note = note.strip()
        locked.save(update_fields=["lifted_at", "lifted_by", "lift_note"])
        _on_timelines(
            locked.customer,
            kind=EventKind.UNBLOCKED,
            summary=_("Block lifted: %(scope)s.") % {"scope": BlockScope(locked.scope).label},
        )
        audit.record(
            "contracts.block.lifted",
            actor=operator,
            target=locked.customer,
            data={"block": locked.pk, "scope": locked.scope},
        )
        sync_holds(locked.customer, actor=operator)
    return locked


def _on_timelines(customer: Customer, *, kind: EventKind, summary: str) -> None:
    for contract in Contract.objects.filter(customer=customer, state__in=LIVE_STATES):
        add_event(contract, kind=kind, on=today(), summary=summary)
