from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingConfig(AppConfig):
    name = "treffpunkt.booking"
    label = "booking"
    verbose_name = _("Appointments")

    def ready(self) -> None:
        from treffpunkt.booking import contributions

        contributions.register()
