"""The demo shows contracts in the states the back office must handle: a telephony contract
whose consent request is due, a video contract inside its notice period, an order waiting for
acceptance; the demo organization stays switched on; loading twice changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from tests.conftest import client_for
from treffpunkt.accounts.demo import demo_organization
from treffpunkt.accounts.models import Role, User
from treffpunkt.contracts import selectors
from treffpunkt.contracts.models import Contract, ContractEvent, Order, OrderState, ProductKind
from treffpunkt.contracts.services._common import today

pytestmark = pytest.mark.django_db


def test_the_demo_shows_a_consent_due_a_notice_period_and_an_order_to_accept():
    call_command("load_demo", stdout=StringIO())
    counts = (Contract.objects.count(), ContractEvent.objects.count(), Order.objects.count())
    call_command("load_demo", stdout=StringIO())
    assert (Contract.objects.count(), ContractEvent.objects.count(), Order.objects.count()) == (
        counts
    )

    telephony = Contract.objects.get(kind=ProductKind.TELEPHONY)
    video = Contract.objects.get(kind=ProductKind.VIDEO)
    assert telephony.consent_due is not None and telephony.consent_requested_on is None
    assert video.notice_deadline is not None and today() <= video.notice_deadline
    assert (video.notice_deadline - today()).days <= 31
    assert Order.objects.filter(state=OrderState.RECEIVED).count() == 1

    found = selectors.deadlines_ahead()
    references = {row.reference for row in found.rows}
    assert {telephony.number, video.number} <= references
    # (The billing demo adds an accepted hardware order of its own.)
    assert Order.objects.get(state=OrderState.RECEIVED).number in references
    # The public body's video contract runs: its organization (the demo one) is not held.
    assert demo_organization().service_hold == ""

    operator = User.objects.filter(role=Role.OPERATOR).first()
    assert client_for(operator).get("/betrieb/fristen/").status_code == 200
