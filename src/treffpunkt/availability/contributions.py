"""What availability brings to the whole (see ``treffpunkt.core.registries``)."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.permissions import Capability, may_read
from treffpunkt.core.registries import (
    Area,
    AuditCode,
    DataRule,
    DemoLoader,
    NavEntry,
    registry,
)
from treffpunkt.core.scheduler import Daily, Every, Monthly, PeriodicJob


def _reads_availability(user: Any) -> bool:
    return may_read(user, Capability.AVAILABILITY)


def _contact_of_a_customer(user: Any) -> bool:
    from treffpunkt.customers.selectors import customer_of_contact

    return customer_of_contact(user) is not None


NAVIGATION = (
    NavEntry(
        "availability.overview",
        Area.BACKOFFICE,
        _("Availability"),
        "backoffice:availability:overview",
        _reads_availability,
        150,
    ),
    NavEntry(
        "availability.incidents",
        Area.BACKOFFICE,
        _("Incidents"),
        "backoffice:availability:incidents",
        _reads_availability,
        151,
    ),
    NavEntry(
        "availability.maintenance",
        Area.BACKOFFICE,
        _("Maintenance windows"),
        "backoffice:availability:maintenance",
        _reads_availability,
        152,
    ),
    NavEntry(
        "availability.customer_report",
        Area.CUSTOMER,
        _("Availability"),
        "customer_area:availability:report",
        _contact_of_a_customer,
        45,
    ),
)

AUDIT_CODES = (
    AuditCode("availability.incident.opened", _("The incident %(target)s was opened.")),
    AuditCode("availability.incident.closed", _("The incident %(target)s is over.")),
    AuditCode(
        "availability.incident.classified", _("%(actor)s classified the incident %(target)s.")
    ),
    AuditCode("availability.results.cleaned", _("Old probe results were deleted.")),
    AuditCode(
        "availability.month.flagged",
        _("The customers below the promised availability last month were named to the operator."),
    ),
    AuditCode(
        "availability.maintenance.planned",
        _("%(actor)s planned and announced the maintenance window %(target)s."),
    ),
)


def register() -> None:
    from treffpunkt.availability.tasks import (
        clean_probe_results_task,
        flag_months_below_goal_task,
        run_probe_task,
    )

    registry.add_data_rules(
        DataRule(
            "availability.probe_results",
            _("Probe results (no personal data; the evidence behind incidents)"),
            _("Deleted after 400 days; incidents and maintenance windows stay."),
            job="availability.clean_probe_results",
            audit_code="availability.results.cleaned",
        )
    )

    from treffpunkt.availability.demo import describe_availability_demo, load_availability_demo

    registry.add_nav(*NAVIGATION)
    registry.add_audit_codes(*AUDIT_CODES)
    registry.add_demo_loader(
        DemoLoader(
            "availability", load_availability_demo, order=80, describe=describe_availability_demo
        )
    )
    registry.add_periodic_jobs(
        PeriodicJob(
            name="availability.run_probe",
            task=run_probe_task,
            when=Every(timedelta(minutes=1)),
            description="Check every main function and open or close incidents.",
        ),
        PeriodicJob(
            name="availability.clean_probe_results",
            task=clean_probe_results_task,
            when=Daily(time(3, 30), "Europe/Berlin"),
            description="Delete probe results older than 400 days.",
        ),
        PeriodicJob(
            name="availability.flag_months_below_goal",
            task=flag_months_below_goal_task,
            when=Monthly(1, time(7, 0), "Europe/Berlin"),
            description="Name the customers whose last month stayed below 97.0 % to the operator.",
        ),
    )
