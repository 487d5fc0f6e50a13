"""Move stuck payments on now: one (--id) or every overdue one, as the recovery job would."""

from typing import Any
from uuid import UUID

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.payments import errors, selectors, services


class Command(BaseCommand):
    help = "Resume unfinished payment sagas: re-send lost requests, poll the bank, compensate."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--id", type=UUID, help="one payment, overdue or not")
        parser.add_argument("--dry-run", action="store_true", help="list what would be resumed")

    def handle(self, *args: Any, id: UUID | None, dry_run: bool, **options: Any) -> None:
        if dry_run:
            due = selectors.overdue(payment_id=id)
            for payment_id, state, step in due:
                self.stdout.write(f"would resume {payment_id} ({state}, step {step})")
            self.stdout.write(f"{len(due)} payment(s)")
            return
        if id is not None:
            try:
                outcome = services.payment_recover(payment_id=id, force=True)
            except errors.PaymentNotFound as exc:
                raise CommandError(f"No payment {id}.") from exc
            self.stdout.write(f"{id}: {outcome}")
            return
        counts = services.payments_recover()
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in counts.items()) or "nothing overdue")
