from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from apps.core.commands import maybe_dry_run
from apps.reports import services


class Command(BaseCommand):
    help = "Reconcile a day (default: yesterday, UTC); exits 1 when there are breaks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=date.fromisoformat)
        parser.add_argument(
            "--dry-run", action="store_true", help="report; store and alert nothing"
        )

    def handle(self, *args: Any, date: date | None, dry_run: bool, **options: Any) -> None:
        day = date or timezone.now().date() - timedelta(days=1)
        with maybe_dry_run(dry_run):
            run = services.reconcile(day=day)
            breaks = [(b.kind, b.reference, b.detail) for b in run.breaks.all()]
        for kind, reference, detail in breaks:
            self.stdout.write(f"BREAK {kind} {reference} {detail}")
        self.stdout.write(f"{day}: {'clean' if not breaks else f'{len(breaks)} break(s)'}")
        if breaks:
            raise SystemExit(1)
