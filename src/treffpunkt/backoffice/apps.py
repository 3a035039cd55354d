from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    """The operator's back office at /betrieb/ and the business customer's area at /kunde/:
    the shell (navigation from the registry), the list and detail pages other apps reuse, and
    the platform's own pages (audit log, mail outbox)."""

    name = "treffpunkt.backoffice"
    label = "backoffice"
    verbose_name = _("Back office")

    def ready(self) -> None:
        from treffpunkt.backoffice import contributions

        contributions.register()
