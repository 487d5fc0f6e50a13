from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.ledger import services


class Command(BaseCommand):
    help = (
        "Recompute every balance, sequence, running balance, hash link and checkpoint from the "
        "entries; name each break. Exit status 1 when anything is broken."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-store", action="store_true", help="do not store a report")

    def handle(self, *args: object, no_store: bool = False, **options: object) -> None:
        result = services.verify(store=not no_store)
        for item in result.breaks:
            self.stdout.write(f"BREAK {item['check']} {item['subject']}: {item['detail']}")
        stats = ", ".join(f"{count:,} {name}" for name, count in result.stats.items())
        if not result.ok:
            raise CommandError(f"ledger_verify: {len(result.breaks)} breaks ({stats})")
        self.stdout.write(self.style.SUCCESS(f"ledger_verify: clean ({stats})"))
