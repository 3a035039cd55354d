"""The availability demo: last month a late, significant incident for the public body (so its
report shows a figure below 100 % and the incident behind it), an insignificant one for all,
and a maintenance window planned for next week (announced to every contact)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from treffpunkt.accounts.models import Role, User
from treffpunkt.availability import services
from treffpunkt.availability.models import Incident, MaintenanceWindow
from treffpunkt.core import clock
from treffpunkt.customers.models import Customer, CustomerKind

LATE = "Videoserver in Frankfurt nicht erreichbar"
SMALL = "Langsame Anmeldung am Morgen"
WINDOW = "Umzug der Datenbank auf neue Server"


def _at(day: datetime, hour: int) -> datetime:
    return datetime.combine(day.date(), time(hour), tzinfo=timezone.get_default_timezone())


def load_availability_demo() -> None:
    operator = User.objects.filter(role=Role.OPERATOR, is_active=True).order_by("pk").first()
    public_body = Customer.objects.filter(kind=CustomerKind.PUBLIC_BODY).order_by("pk").first()
    if operator is None or public_body is None:
        return
    now = timezone.localtime(clock.now())
    last_month = (now.replace(day=1) - timedelta(days=1)).replace(day=10)
    if not Incident.objects.filter(title=LATE).exists():
        # A Wednesday-ish morning outage of a day and a half: most of it past the fix time.
        services.open_incident(
            actor=operator,
            title=LATE,
            description="Ein Netzwerkfehler im Rechenzentrum; behoben durch Tausch des Switches.",
            started_at=_at(last_month, 8),
            ended_at=_at(last_month + timedelta(days=1), 20),
            customers=[public_body],
        )
    if not Incident.objects.filter(title=SMALL).exists():
        services.open_incident(
            actor=operator,
            title=SMALL,
            started_at=_at(last_month + timedelta(days=5), 8),
            ended_at=_at(last_month + timedelta(days=5), 10),
            significant=False,
        )
    if not MaintenanceWindow.objects.filter(title=WINDOW).exists():
        start = _at(now + timedelta(days=7), 22)
        services.plan_maintenance(
            actor=operator,
            title=WINDOW,
            description="Der Dienst ist in dieser Zeit nicht erreichbar.",
            starts_at=start,
            ends_at=start + timedelta(hours=3),
        )


def describe_availability_demo() -> list[str]:
    return [
        "Availability: /betrieb/verfuegbarkeit/ (last month's late incident puts the public "
        "body below 100 %; a maintenance window next week); the contact sees it at "
        "/kunde/verfuegbarkeit/?monat=<last month>."
    ]
