from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "treffpunkt.messaging"
    verbose_name = _("messages")

    def ready(self) -> None:
        from treffpunkt.messaging import contributions

        contributions.register()
