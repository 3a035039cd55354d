from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "treffpunkt.documents"
    label = "documents"
    verbose_name = _("Documents")

    def ready(self) -> None:
        from treffpunkt.documents import contributions

        contributions.register()
