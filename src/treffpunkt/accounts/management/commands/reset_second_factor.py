from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from treffpunkt.accounts.models import User
from treffpunkt.accounts.second_factor import reset_second_factor, second_factor_required


class Command(BaseCommand):
    help = (
        "Remove a person's second factor (authenticator app and recovery codes) when they lost "
        "both, after checking who they are outside the app. They set up a new one at their next "
        "login. Writes an audit entry."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="the login (e-mail address) of the person")
        parser.add_argument(
            "--reason",
            default="",
            help='why, for the audit log, e.g. "phone lost, identity checked by call-back"',
        )

    def handle(self, *args: Any, email: str, reason: str, **options: Any) -> None:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No account with the login {email!r}.")
        had_one = reset_second_factor(user=user, reason=reason.strip())
        if had_one:
            self.stdout.write(
                f"The second factor of {user.display_name} is removed. At the next login they "
                "set up a new one"
                + (
                    " (required for them)."
                    if second_factor_required(user)
                    else " if they want one."
                )
            )
        else:
            self.stdout.write(
                f"{user.display_name} had no second factor; nothing removed (noted in the log)."
            )
