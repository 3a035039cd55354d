from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    """The operator's business customers (P-OP-1): companies and public bodies with their
    master data, their contacts (who log in to the customer area) and their organizations of
    the consultation platform."""

    name = "treffpunkt.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from treffpunkt.customers import contributions

        contributions.register()
