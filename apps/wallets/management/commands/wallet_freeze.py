from uuid import UUID

from django.core.management.base import BaseCommand, CommandError

from apps.wallets import services


class Command(BaseCommand):
    help = "Freeze (or with --unfreeze, unfreeze) a wallet; the reason is kept with it."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("wallet_id", type=UUID)
        parser.add_argument("--reason", required=True)
        parser.add_argument("--unfreeze", action="store_true")

    def handle(
        self, *args: object, wallet_id: UUID, reason: str, unfreeze: bool, **options: object
    ) -> None:
        status = "active" if unfreeze else "frozen"
        try:
            services.wallet_set_status(
                wallet_id=wallet_id, status=status, reason=reason, changed_by_id=None
            )
        except services.WalletNotFound:
            raise CommandError(f"No wallet {wallet_id}.") from None
        self.stdout.write(self.style.SUCCESS(f"wallet {wallet_id} is {status}"))
