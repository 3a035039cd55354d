from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from treffpunkt.accounts.operator_services import open_organization
from treffpunkt.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Open an organization of the consultation platform and invite its first organization "
        "admin by mail."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--slug", default="", help="short name in addresses (from the name)")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-name", required=True)

    def handle(self, *args: Any, name: str, slug: str, **options: Any) -> None:
        try:
            organization, _ = open_organization(
                actor=None,
                name=name,
                slug=slug,
                admin_email=options["admin_email"],
                admin_name=options["admin_name"],
            )
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(
            f"Opened {organization.name} ({organization.slug}); the invitation is in the outbox."
        )
