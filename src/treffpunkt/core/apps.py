from datetime import time, timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "treffpunkt.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from treffpunkt.core.registries import AuditCode, DataRule, registry
        from treffpunkt.core.scheduler import Daily, Every, PeriodicJob
        from treffpunkt.core.tasks import forget_old_live_events, prune_scheduler_history

        registry.add_periodic_jobs(
            PeriodicJob(
                name="core.prune_scheduler_history",
                task=prune_scheduler_history,
                when=Every(timedelta(days=1)),
                description="Forget scheduler bookkeeping older than a week.",
            ),
            PeriodicJob(
                name="core.forget_old_live_events",
                task=forget_old_live_events,
                when=Daily(time(3, 20), "Europe/Berlin"),
                description="Delete live events kept for pages that missed them, after a day.",
            ),
        )
        registry.add_audit_codes(
            AuditCode("core.live_events.forgotten", _("Live events older than a day were deleted."))
        )
        registry.add_data_rules(
            DataRule(
                "core.live_events",
                _("Live notices to a person's open pages (what happened, with a link)"),
                _("Kept a day for pages that lost their connection, then deleted."),
                job="core.forget_old_live_events",
                audit_code="core.live_events.forgotten",
            )
        )
