from datetime import timedelta

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "treffpunkt.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from treffpunkt.core.registries import registry
        from treffpunkt.core.scheduler import Every, PeriodicJob
        from treffpunkt.core.tasks import prune_scheduler_history

        registry.add_periodic_jobs(
            PeriodicJob(
                name="core.prune_scheduler_history",
                task=prune_scheduler_history,
                when=Every(timedelta(days=1)),
                description="Forget scheduler bookkeeping older than a week.",
            )
        )
