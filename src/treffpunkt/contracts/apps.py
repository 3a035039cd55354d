from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    """The operator's catalogue, its customers' orders and contracts with every deadline of the
    terms, change notices, transfers, consent requests and blocks (P-OP-2 … P-OP-7, P-SLA-3)."""

    name = "treffpunkt.contracts"
    label = "contracts"
    verbose_name = _("Contracts")

    def ready(self) -> None:
        from treffpunkt.contracts import contributions

        contributions.register()
