"""Send domain events to their handlers again (e.g. after their Celery tasks were lost with a
broker). Handlers run at most once per event, so a replay only completes what is missing."""

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.core import outbox
from apps.core.models import OutboxEvent


class Command(BaseCommand):
    help = "Re-dispatch outbox events created since a time (optionally of one type)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since",
            required=True,
            type=datetime.fromisoformat,
            help="ISO time, e.g. 2026-11-24T00:00:00+00:00",
        )
        parser.add_argument("--type", help="only this event type, e.g. payments.payment_failed")
        parser.add_argument("--dry-run", action="store_true", help="count, send nothing")

    def handle(
        self, *args: Any, since: datetime, type: str | None, dry_run: bool, **kw: Any
    ) -> None:
        if since.tzinfo is None:
            raise CommandError("--since needs a time zone, e.g. 2026-11-24T00:00:00+00:00")
        rows = OutboxEvent.objects.filter(created_at__gte=since).order_by("created_at")
        if type:
            rows = rows.filter(type=type)
        events = list(rows.values_list("pk", "type"))
        if dry_run:
            self.stdout.write(f"would re-dispatch {len(events)} event(s)")
            return
        sent = sum(
            outbox.dispatch(event_id, event_type)
            for event_id, event_type in tqdm(events, disable=len(events) < 100)
        )
        self.stdout.write(f"re-dispatched {sent} of {len(events)} event(s)")
        if sent < len(events):
            raise CommandError("the broker refused some: the sweeper sends them later")
