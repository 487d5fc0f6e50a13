from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from apps.ledger import chart, selectors, services
from apps.ledger.errors import AccountNotFound


class Command(BaseCommand):
    help = (
        "Create the missing system accounts of every supported currency (the Currency table)"
        " and provider (idempotent); --dry-run only lists them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="list, write nothing")

    def handle(self, *args: object, dry_run: bool = False, **options: object) -> None:
        missing = []
        for spec, _currency in chart.system_accounts(
            selectors.currency_codes() or settings.LEDGER_CURRENCIES, settings.LEDGER_PROVIDERS
        ):
            try:
                selectors.account_id_by_code(code=spec.code)
            except AccountNotFound:
                missing.append(spec.code)
        for code in missing:
            self.stdout.write(f"{'would create' if dry_run else 'create'} {code}")
        if not dry_run:
            created = services.chart_ensure()
            self.stdout.write(self.style.SUCCESS(f"ledger_bootstrap: {created} accounts created"))
