"""The demo shows availability and support: a late incident that puts the public body below
100 % last month, an insignificant one, a maintenance window ahead, and a fault ticket waiting
for the customer's answer; loading twice adds nothing."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from treffpunkt.availability import selectors
from treffpunkt.availability.models import Incident, MaintenanceWindow
from treffpunkt.core import clock
from treffpunkt.customers.models import Customer, CustomerKind
from treffpunkt.support.models import Ticket, TicketState

pytestmark = pytest.mark.django_db


def test_the_demo_shows_incidents_maintenance_and_a_waiting_ticket_once():
    call_command("load_demo", stdout=StringIO())
    counts = (Incident.objects.count(), MaintenanceWindow.objects.count(), Ticket.objects.count())
    assert counts == (2, 1, 1)
    assert Ticket.objects.get().state == TicketState.WAITING
    public_body = Customer.objects.filter(kind=CustomerKind.PUBLIC_BODY).order_by("pk").first()
    last_month = (clock.operator_today().replace(day=1) - timedelta(days=1)).replace(day=1)
    report = selectors.month_report(last_month, public_body)
    assert report.figure.minutes_unavailable > 0 and len(report.incidents) == 2
    call_command("load_demo", stdout=StringIO())
    assert (
        Incident.objects.count(),
        MaintenanceWindow.objects.count(),
        Ticket.objects.count(),
    ) == counts
