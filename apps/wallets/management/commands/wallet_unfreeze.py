from typing import Any

from django.core.management.base import CommandParser

from apps.wallets.management.commands import wallet_freeze


class Command(wallet_freeze.Command):
    help = "Unfreeze a wallet; the reason and the acting staff member are kept."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(unfreeze=True)

    def handle(self, *args: Any, **options: Any) -> None:
        super().handle(*args, **{**options, "unfreeze": True})
