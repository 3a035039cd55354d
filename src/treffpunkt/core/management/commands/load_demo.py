from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from treffpunkt.core.registries import registry


class Command(BaseCommand):
    help = (
        "Load the demo data every app registers, in order (idempotent), and print the logins "
        "and where to look."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        loaders = registry.sorted_demo_loaders()
        for loader in loaders:
            loader.load()
        self.stdout.write("")
        self.stdout.write(f"Treffpunkt runs at {settings.SITE_URL}/  (demo data, embedded mode)")
        for loader in loaders:
            for line in loader.describe() if loader.describe else []:
                self.stdout.write(line)
        self.stdout.write("Mails are written to files in var/mail/ (EMAIL_URL changes that).")
        self.stdout.write("")
