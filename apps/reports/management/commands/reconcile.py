from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from apps.reports import services


class Command(BaseCommand):
    help = "Reconcile a day (default: yesterday, UTC); exits 1 when there are breaks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=date.fromisoformat)

    def handle(self, *args: Any, date: date | None, **options: Any) -> None:
        day = date or timezone.now().date() - timedelta(days=1)
        run = services.reconcile(day=day)
        for item in run.breaks.all():
            self.stdout.write(f"BREAK {item.kind} {item.reference} {item.detail}")
        self.stdout.write(f"{day}: {'clean' if run.clean else f'{run.breaks.count()} break(s)'}")
        if not run.clean:
            raise SystemExit(1)
