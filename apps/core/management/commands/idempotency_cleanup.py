from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.core.commands import maybe_dry_run
from apps.core.idempotency import idempotency_cleanup


class Command(BaseCommand):
    help = "Delete Idempotency-Key records past IDEMPOTENCY_TTL_HOURS (beat does it hourly)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        with maybe_dry_run(dry_run):
            deleted = idempotency_cleanup()
        self.stdout.write(f"{'would delete' if dry_run else 'deleted'} {deleted} record(s)")
