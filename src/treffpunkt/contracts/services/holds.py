"""What of a customer's service is held back, written onto its organizations (P-OP-3, P-SLA-3):
the union of the active blocks, or the whole service while no video contract is switched on."""

from __future__ import annotations

from treffpunkt.accounts.models import ServiceHold, User
from treffpunkt.accounts.operator_services import set_service_hold
from treffpunkt.contracts.models import Block, BlockScope, Contract, ContractState, ProductKind
from treffpunkt.customers.models import Customer, CustomerOrganization

SWITCHED_ON = (ContractState.ACTIVE, ContractState.ENDING)


def hold_for(customer: Customer) -> ServiceHold:
    scopes = set(
        Block.objects.filter(customer=customer, lifted_at__isnull=True).values_list(
            "scope", flat=True
        )
    )
    if BlockScope.ALL in scopes or {BlockScope.BOOKING, BlockScope.CALLS} <= scopes:
        return ServiceHold.ALL
    if scopes:
        return ServiceHold(scopes.pop())
    video = Contract.objects.filter(customer=customer, kind=ProductKind.VIDEO)
    switched_on = video.filter(state__in=SWITCHED_ON, switched_on_at__isnull=False)
    if video.exists() and not switched_on.exists():
        # Contracted but not (yet, or any longer) switched on.
        return ServiceHold.ALL
    return ServiceHold.NONE


def sync_holds(customer: Customer, *, actor: User | None) -> ServiceHold:
    """Write ``hold_for(customer)`` onto each of the customer's organizations."""
    hold = hold_for(customer)
    links = CustomerOrganization.objects.filter(customer=customer).select_related("organization")
    for link in links:
        set_service_hold(organization=link.organization, hold=hold, actor=actor)
    return hold
