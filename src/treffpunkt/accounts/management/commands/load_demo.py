from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from treffpunkt.accounts.demo import DEMO_PASSWORD, load_demo
from treffpunkt.booking.demo import demo_call_appointment


class Command(BaseCommand):
    help = "Create the demo organization and its people (idempotent) and print the logins."

    def handle(self, *args: Any, **options: Any) -> None:
        people = load_demo()
        self.stdout.write("")
        self.stdout.write(f"Treffpunkt runs at {settings.SITE_URL}/  (demo data, embedded mode)")
        self.stdout.write(f"Demo logins, all with the password: {DEMO_PASSWORD}")
        for person in people:
            self.stdout.write(f"  {person.role:<10} {person.email:<36} {person.display_name}")
        self.stdout.write("Mails are written to files in var/mail/ (EMAIL_URL changes that).")
        call = demo_call_appointment()
        if call is not None:
            self.stdout.write(
                "Video call demo: log in as mitglied1@example.org in one browser and as "
                "berater1@kasse-nord.example.org in another (or a private window), then open "
                f"{settings.SITE_URL}/termine/{call.pk}/gespraech/ in both."
            )
        self.stdout.write(
            "Messages demo: mitglied1@example.org has unread answers under "
            f"{settings.SITE_URL}/nachrichten/; the team's inbox is "
            f"{settings.SITE_URL}/nachrichten/posteingang/ (a question from mitglied2 waits)."
        )
        self.stdout.write("")
