"""`manage.py health [--worker]`: the readiness checks for processes that serve no HTTP (an
exec probe for Celery workers: they need Redis and the broker as well as the database).
Prints the checks as JSON; exits 1 when not ready."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.core import health


class Command(BaseCommand):
    help = "Readiness of this process: database, migrations, Redis (and the broker with --worker)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--worker", action="store_true", help="also require Redis and the broker"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        status, found = health.checks(worker=options["worker"])
        self.stdout.write(json.dumps({"status": status, "checks": found}))
        if status == "unavailable":
            raise CommandError("not ready")
