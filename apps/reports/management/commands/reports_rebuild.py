from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.reports import services


class Command(BaseCommand):
    help = "Recompute the read models from the ledger (all, or from --since YYYY-MM-DD)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=date.fromisoformat)

    def handle(self, *args: Any, since: date | None, **options: Any) -> None:
        count = services.rebuild(since=since)
        self.stdout.write(f"rebuilt from {count} ledger transactions")
