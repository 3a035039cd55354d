from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortabilityConfig(AppConfig):
    """A business customer takes all its data with it (P-DATA-3): one archive of master data,
    contracts, letters, invoices as PDF and XML, fault tickets and availability."""

    name = "treffpunkt.portability"
    label = "portability"
    verbose_name = _("Data export")

    def ready(self) -> None:
        from treffpunkt.portability import contributions

        contributions.register()
