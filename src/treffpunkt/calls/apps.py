from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallsConfig(AppConfig):
    name = "treffpunkt.calls"
    verbose_name = _("video calls")

    def ready(self) -> None:
        from treffpunkt.calls import contributions

        contributions.register()
