import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.ledger import services
from apps.ledger.verification import checkpoint_export


class Command(BaseCommand):
    help = (
        "Seal every whole day not sealed yet; with --export DAY, write that day's checkpoint as "
        "JSON for an auditor (verify offline with scripts/verify_checkpoints.py)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--export", metavar="YYYY-MM-DD", help="export this day instead")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(
        self, *args: object, export: str | None = None, output: str | None = None, **options: object
    ) -> None:
        if export is None:
            sealed = services.checkpoints_seal_due()
            self.stdout.write(self.style.SUCCESS(f"ledger_checkpoint: {sealed} days sealed"))
            return
        try:
            day = date.fromisoformat(export)
        except ValueError:
            raise CommandError(f"--export takes a date as YYYY-MM-DD, not {export!r}") from None
        document = checkpoint_export(day=day)
        if document is None:
            raise CommandError(f"{day} is not sealed")
        text = json.dumps(document, indent=2)
        if output:
            with open(output, "w") as handle:
                handle.write(text + "\n")
        else:
            self.stdout.write(text)
