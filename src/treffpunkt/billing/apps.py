from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    """Invoices and credit notes as e-invoices (ZUGFeRD, XRechnung), their delivery and the
    monthly billing run (P-BILL-1, P-OP-3)."""

    name = "treffpunkt.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from treffpunkt.billing import contributions

        contributions.register()
