"""The only write path of availability (P-SLA-1): probe results, incidents and maintenance.

A failed check opens an incident for its function (once: a running incident is not opened
again); the next working check of that function closes it. Incidents are significant until the
operator classifies them; the fix deadline counts service hours from the start (the agreed fix
time, ``SUPPORT_FIX_HOURS``). Maintenance windows are planned ahead and announced to the
affected customers' contacts by mail. Every change is a transaction with an audit entry."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from treffpunkt.accounts.models import User
from treffpunkt.accounts.permissions import Capability, require_capability
from treffpunkt.availability.models import (
    Check,
    Incident,
    MaintenanceWindow,
    ProbeResult,
    ProbeSource,
)
from treffpunkt.availability.probes import CheckResult, run_checks
from treffpunkt.core import audit, clock
from treffpunkt.core.errors import DomainError
from treffpunkt.core.service_hours import add_service_time
from treffpunkt.customers.models import Customer, CustomerContact
from treffpunkt.notifications.services import queue_mail

MAX_TEXT = 5000
# Announced at least this long ahead, so that customers can plan around it.
MIN_NOTICE = timedelta(hours=24)
MAX_WINDOW = timedelta(hours=24)


def require_availability(user: User | None) -> User:
    return require_capability(user, Capability.AVAILABILITY)


def fix_deadline(started_at: datetime) -> datetime:
    return add_service_time(started_at, timedelta(hours=settings.SUPPORT_FIX_HOURS))


# --- probe results ----------------------------------------------------------------------------


def run_probe() -> dict[str, int]:
    """Check every main function once and record the results (the job of every minute)."""
    results = run_checks()
    record_results(results, at=clock.now(), source=ProbeSource.INTERNAL)
    return {"checks": len(results), "failed": sum(1 for result in results if not result.ok)}


def record_results(results: Sequence[CheckResult], *, at: datetime, source: str) -> None:
    """Store the results of one round and open or close the incidents they show."""
    with transaction.atomic():
        ProbeResult.objects.bulk_create(
            ProbeResult(
                function=result.function,
                at=at,
                ok=result.ok,
                duration_ms=result.duration_ms,
                detail=result.detail,
                source=source,
            )
            for result in results
        )
        for result in results:
            _follow(result, at=at)


def record_external_result(
    *, function: str, ok: bool, at: datetime | None, detail: str = ""
) -> None:
    """A result from the operator's outside monitor (the token is checked by the view)."""
    if function not in Check.values:
        raise DomainError(
            _("Unknown function; known are: %(names)s.") % {"names": ", ".join(Check.values)},
            code="function",
        )
    now = clock.now()
    moment = at or now
    if moment > now + timedelta(minutes=5) or moment < now - timedelta(days=1):
        raise DomainError(_("A result is taken from the last day only."), code="at")
    record_results(
        [CheckResult(Check(function), ok, 0, detail[:300])],
        at=moment,
        source=ProbeSource.EXTERNAL,
    )


def _follow(result: CheckResult, *, at: datetime) -> None:
    running = (
        Incident.objects.select_for_update()
        .filter(function=result.function, opened_automatically=True, ended_at__isnull=True)
        .order_by("started_at")
        .first()
    )
    if result.ok and running is not None and at >= running.started_at:
        running.ended_at = at
        running.save(update_fields=["ended_at"])
        audit.record(
            "availability.incident.closed",
            actor=None,
            target=running,
            data={"function": result.function, "automatically": True},
        )
    elif not result.ok and running is None:
        incident = Incident.objects.create(
            title=_("%(function)s: check failed") % {"function": result.function.label},
            description=result.detail,
            function=result.function,
            started_at=at,
            fix_due_at=fix_deadline(at),
            opened_automatically=True,
            created_at=clock.now(),
        )
        audit.record(
            "availability.incident.opened",
            actor=None,
            target=incident,
            data={"function": result.function, "detail": result.detail},
        )


# --- incidents by hand ------------------------------------------------------------------------


def _text(value: str, *, code: str, required: bool = True) -> str:
    text = value.strip()
    if required and not text:
        raise DomainError(_("This field is required."), code=code)
    if len(text) > MAX_TEXT:
        raise DomainError(_("At most %(limit)s characters.") % {"limit": MAX_TEXT}, code=code)
    return text


def open_incident(
    *,
    actor: User | None,
    title: str,
    description: str = "",
    started_at: datetime,
    ended_at: datetime | None = None,
    significant: bool = True,
    customers: Iterable[Customer] = (),
) -> Incident:
    """An incident the probe did not see (reported by customers, found by the operator)."""
    operator = require_availability(actor)
    if started_at > clock.now():
        raise DomainError(_("An incident cannot start in the future."), code="started_at")
    if ended_at is not None and ended_at < started_at:
        raise DomainError(_("An incident cannot end before it starts."), code="ended_at")
    with transaction.atomic():
        incident = Incident.objects.create(
            title=_text(title, code="title")[:200],
            description=_text(description, code="description", required=False),
            started_at=started_at,
            ended_at=ended_at,
            significant=significant,
            fix_due_at=fix_deadline(started_at),
            opened_by=operator,
            created_at=clock.now(),
        )
        incident.customers.set(list(customers))
        audit.record(
            "availability.incident.opened",
            actor=operator,
            target=incident,
            data={"significant": significant, "customers": [c.pk for c in customers]},
        )
    return incident


def classify_incident(*, actor: User | None, incident: Incident, significant: bool) -> Incident:
    """Significant incidents count against availability once late; insignificant ones not."""
    operator = require_availability(actor)
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        locked.significant = significant
        locked.save(update_fields=["significant"])
        audit.record(
            "availability.incident.classified",
            actor=operator,
            target=locked,
            data={"significant": significant},
        )
    return locked


def close_incident(*, actor: User | None, incident: Incident, ended_at: datetime) -> Incident:
    operator = require_availability(actor)
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if locked.ended_at is not None:
            raise DomainError(_("This incident is already over."), code="ended_at")
        if ended_at < locked.started_at or ended_at > clock.now():
            raise DomainError(_("The end lies between the start and now."), code="ended_at")
        locked.ended_at = ended_at
        locked.save(update_fields=["ended_at"])
        audit.record("availability.incident.closed", actor=operator, target=locked)
    return locked


# --- maintenance ------------------------------------------------------------------------------


def plan_maintenance(
    *,
    actor: User | None,
    title: str,
    description: str,
    starts_at: datetime,
    ends_at: datetime,
    customers: Iterable[Customer] = (),
) -> MaintenanceWindow:
    """Plan a maintenance window at least a day ahead and announce it to the contacts of the
    customers it affects (everyone when ``customers`` is empty)."""
    operator = require_availability(actor)
    now = clock.now()
    if starts_at < now + MIN_NOTICE:
        raise DomainError(
            _("Maintenance is planned at least 24 hours ahead, so customers can prepare."),
            code="starts_at",
        )
    if ends_at <= starts_at:
        raise DomainError(_("A maintenance window ends after it starts."), code="ends_at")
    if ends_at - starts_at > MAX_WINDOW:
        raise DomainError(_("A maintenance window lasts at most 24 hours."), code="ends_at")
    scope = list(customers)
    with transaction.atomic():
        window = MaintenanceWindow.objects.create(
            title=_text(title, code="title")[:200],
            description=_text(description, code="description", required=False),
            starts_at=starts_at,
            ends_at=ends_at,
            planned_by=operator,
            announced_at=now,
            created_at=now,
        )
        window.customers.set(scope)
        mails = _announce(window, scope)
        audit.record(
            "availability.maintenance.planned",
            actor=operator,
            target=window,
            data={"customers": [c.pk for c in scope], "announced_to": mails},
        )
    return window


def _announce(window: MaintenanceWindow, scope: list[Customer]) -> int:
    contacts = CustomerContact.objects.select_related("user")
    if scope:
        contacts = contacts.filter(customer__in=scope)
    url = settings.SITE_URL + reverse("customer_area:availability:report")
    count = 0
    for contact in contacts.order_by("pk"):
        queue_mail(
            template="availability/maintenance",
            context={
                "title": window.title,
                "description": window.description,
                "starts_at": window.starts_at,
                "ends_at": window.ends_at,
                "contact_name": contact.name,
                "url": url,
            },
            recipient=contact.user,
            to_address=contact.email,
            language=contact.user.preferred_language if contact.user else None,
        )
        count += 1
    return count


# --- data rules -------------------------------------------------------------------------------

# The report shows twelve months; the incidents, not the single results, carry the figure.
RESULTS_KEPT = timedelta(days=400)


def clean_probe_results(*, now: datetime | None = None) -> int:
    cutoff = (now or clock.now()) - RESULTS_KEPT
    with transaction.atomic():
        deleted, _per_model = ProbeResult.objects.filter(at__lt=cutoff).delete()
        audit.record("availability.results.cleaned", actor=None, data={"deleted": deleted})
    return deleted


# --- the month below the promise --------------------------------------------------------------


def flag_months_below_goal(*, today: date | None = None) -> dict[str, int]:
    """On the first of a month: every customer whose last month stayed below 97.0 % is named
    to the operator by mail (``OPERATOR_CONTACT_EMAIL``), with the figure; the overview page
    shows them too. Run twice, it mails twice (a reminder does no harm); nothing when all met."""
    from treffpunkt.availability import selectors

    day = today or clock.operator_today()
    last_month = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
    below = []
    for customer in Customer.objects.order_by("legal_name"):
        report = selectors.month_report(last_month, customer)
        if report.below_goal:
            below.append((customer.legal_name, f"{report.figure.percent:.2f} %"))
    if below and settings.OPERATOR_CONTACT_EMAIL:
        with transaction.atomic():
            queue_mail(
                template="availability/below_goal",
                context={
                    "month": f"{last_month:%m/%Y}",
                    "rows": below,
                    "url": settings.SITE_URL
                    + reverse("backoffice:availability:overview")
                    + f"?monat={last_month:%Y-%m}",
                },
                to_address=settings.OPERATOR_CONTACT_EMAIL,
                language=settings.LANGUAGE_CODE,
            )
            audit.record(
                "availability.month.flagged",
                actor=None,
                data={"month": f"{last_month:%Y-%m}", "customers": len(below)},
            )
    return {"customers_below": len(below)}
