from uuid import UUID

from auditlog.context import set_actor
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts import selectors as accounts_selectors
from apps.core.commands import maybe_dry_run
from apps.wallets import services

ROLES = ("compliance", "operations")


class Command(BaseCommand):
    help = "Freeze (or with --unfreeze, unfreeze) a wallet; the reason is kept with it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("wallet_id", type=UUID)
        parser.add_argument("--reason", required=True)
        parser.add_argument("--unfreeze", action="store_true")
        parser.add_argument(
            "--by", required=True, help="e-mail of the compliance/operations staff member acting"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check everything, change nothing"
        )

    def handle(
        self,
        *args: object,
        wallet_id: UUID,
        reason: str,
        unfreeze: bool,
        by: str,
        dry_run: bool = False,
        **kw: object,
    ) -> None:
        staff = accounts_selectors.user_find_by_email(email=by)
        if staff is None or not accounts_selectors.staff_has_role(user_id=staff.id, roles=ROLES):
            raise CommandError(f"{by} is not a compliance or operations staff member.")
        status = "active" if unfreeze else "frozen"
        # The staff action log names who did it, as it does for admin changes.
        with maybe_dry_run(dry_run), set_actor(get_user_model().objects.get(pk=staff.id)):
            try:
                services.wallet_set_status(
                    wallet_id=wallet_id, status=status, reason=reason, changed_by_id=staff.id
                )
            except services.WalletNotFound:
                raise CommandError(f"No wallet {wallet_id}.") from None
        if dry_run:
            self.stdout.write(f"would set wallet {wallet_id} to {status}")
            return
        self.stdout.write(self.style.SUCCESS(f"wallet {wallet_id} is {status}"))
