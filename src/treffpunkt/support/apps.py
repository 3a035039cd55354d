from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    """Fault tickets (P-SLA-2): reported by a customer's contacts, handled by the operator's
    support on a clock that counts service hours only."""

    name = "treffpunkt.support"
    label = "support"
    verbose_name = _("Support")

    def ready(self) -> None:
        from treffpunkt.support import contributions

        contributions.register()
