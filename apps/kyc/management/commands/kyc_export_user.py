"""Subject access: everything KYC holds about one user, as JSON on stdout.

manage.py kyc_export_user 42 > user-42-kyc.json
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.kyc import selectors


class Command(BaseCommand):
    help = "Export one user's KYC data (profile, cases and their trail, documents) as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user_id", type=int)

    def handle(self, *args: Any, user_id: int, **options: Any) -> None:
        data = selectors.export_user(user_id=user_id)
        if not data["profile"] and not data["cases"]:
            raise CommandError(f"No KYC data for user {user_id}.")
        self.stdout.write(json.dumps(data, indent=2, default=str))
