from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.core.commands import maybe_dry_run
from apps.reports import services


class Command(BaseCommand):
    help = "Recompute the read models from the ledger (all, or from --since YYYY-MM-DD)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=date.fromisoformat)
        parser.add_argument("--dry-run", action="store_true", help="recompute, then roll back")

    def handle(self, *args: Any, since: date | None, dry_run: bool, **options: Any) -> None:
        with maybe_dry_run(dry_run):
            count = services.rebuild(since=since)
        verb = "would rebuild" if dry_run else "rebuilt"
        self.stdout.write(f"{verb} from {count} ledger transactions")
