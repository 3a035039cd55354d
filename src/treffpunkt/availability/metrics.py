"""``/metrics`` in the Prometheus text format: the latest result of each check, open incidents,
waiting mails and open fault tickets. Built per scrape in a registry of its own, from the
database, so that every process answers the same and nothing is kept in memory between."""

from __future__ import annotations

from django.db import models
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from treffpunkt.availability.models import Check, Incident, ProbeResult
from treffpunkt.notifications.models import MailStatus, OutboxMail


def exposition() -> tuple[bytes, str]:
    registry = CollectorRegistry(auto_describe=True)
    up = Gauge(
        "treffpunkt_check_up",
        "1 if the latest check of the function worked, 0 if it failed",
        ["function"],
        registry=registry,
    )
    checked = Gauge(
        "treffpunkt_check_timestamp_seconds",
        "when the function was last checked (Unix time)",
        ["function"],
        registry=registry,
    )
    for function in Check:
        latest = (
            ProbeResult.objects.filter(function=function).order_by("-at").only("ok", "at").first()
        )
        if latest is not None:
            up.labels(function=function.value).set(1 if latest.ok else 0)
            checked.labels(function=function.value).set(latest.at.timestamp())
    Gauge(
        "treffpunkt_incidents_open",
        "incidents not yet over",
        registry=registry,
    ).set(Incident.objects.filter(ended_at__isnull=True).count())
    Gauge(
        "treffpunkt_outbox_pending",
        "mails waiting in the outbox",
        registry=registry,
    ).set(OutboxMail.objects.filter(status=MailStatus.PENDING).count())
    open_tickets = Gauge(
        "treffpunkt_tickets_open", "fault tickets not resolved", ["state"], registry=registry
    )
    from django.apps import apps

    ticket_model = apps.get_model("support", "Ticket")
    for row in (
        ticket_model.objects.exclude(state="resolved")
        .values("state")
        .annotate(count=models.Count("pk"))
    ):
        open_tickets.labels(state=row["state"]).set(row["count"])
    return generate_latest(registry), CONTENT_TYPE_LATEST
