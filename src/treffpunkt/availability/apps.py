from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AvailabilityConfig(AppConfig):
    """Measured availability (P-SLA-1): the platform's own probes, incidents, maintenance
    windows and the monthly report per customer against the 97.0 % of the terms."""

    name = "treffpunkt.availability"
    label = "availability"
    verbose_name = _("Availability")

    def ready(self) -> None:
        from treffpunkt.availability import contributions

        contributions.register()
