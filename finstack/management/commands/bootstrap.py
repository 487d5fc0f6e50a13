"""Everything a fresh database needs besides migrations; safe to run again at any time."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from apps.accounts import services as accounts_services
from apps.core.commands import maybe_dry_run
from apps.kyc import services as kyc_services
from apps.ledger import services as ledger_services


class Command(BaseCommand):
    help = "Ensure system ledger accounts, staff roles and KYC tiers (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="show, then roll back")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        with maybe_dry_run(dry_run):
            created = ledger_services.chart_ensure()
            roles = accounts_services.roles_ensure()
            kyc_services.tiers_ensure()
        prefix = "would create" if dry_run else "created"
        self.stdout.write(f"ledger: {prefix} {created} system account(s)")
        self.stdout.write("roles: " + ", ".join(f"{r} ({n} permissions)" for r, n in roles.items()))
        self.stdout.write("KYC tiers: ensured")
        jobs = ", ".join(sorted(settings.CELERY_BEAT_SCHEDULE))
        self.stdout.write(f"periodic tasks (Celery beat, from settings): {jobs}")
