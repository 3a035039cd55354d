from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "treffpunkt.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from treffpunkt.accounts import contributions
        from treffpunkt.accounts.permissions import ensure_capability_groups

        # After every app's migrations, not only these: the view permissions that platform
        # administration and the auditor hold are made per app.
        post_migrate.connect(ensure_capability_groups, dispatch_uid="accounts.capability_groups")
        contributions.register()
