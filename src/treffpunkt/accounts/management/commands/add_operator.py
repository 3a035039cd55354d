from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from treffpunkt.accounts.operator_services import add_operator
from treffpunkt.accounts.permissions import Capability
from treffpunkt.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Add a member of the operator's staff with capabilities (no superuser). Prints a "
        "one-time link to choose a password; the second factor is set up at the first sign-in."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("display_name")
        parser.add_argument(
            "--capability",
            action="append",
            choices=[c.value for c in Capability],
            required=True,
            help="repeat for several",
        )

    def handle(self, *args: Any, email: str, display_name: str, **options: Any) -> None:
        try:
            user, link = add_operator(
                actor=None,
                email=email,
                display_name=display_name,
                capabilities=[Capability(value) for value in options["capability"]],
            )
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(f"Added {user.display_name}. Password link (one use): {link}")
