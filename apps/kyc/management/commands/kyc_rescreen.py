"""Screen customers against the watch list as it is now (after a new list is loaded).

manage.py kyc_rescreen            # every customer with a profile
manage.py kyc_rescreen --user 42  # one customer
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.kyc import errors, services


class Command(BaseCommand):
    help = "Re-screen one customer or all against the current watch list; prints new hits."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", type=int, dest="user_id", default=None)

    def handle(self, *args: Any, user_id: int | None, **options: Any) -> None:
        try:
            found = services.rescreen(user_id=user_id)
        except errors.ProfileNotFound as error:
            raise CommandError(f"{error.message} (user {user_id})") from error
        self.stdout.write(f"{found} new screening hit(s)")
