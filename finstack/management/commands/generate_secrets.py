"""`manage.py generate_secrets --dir DIR`: the secrets a deployment needs, one file each, in
the formats the settings read; prints the NAME_FILE variables that point at them. Existing
files are kept. Runs on development settings (no secret needed to make the secrets)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from finstack import secrets


class Command(BaseCommand):
    help = "Write the deployment's secrets (SECRET_KEY, JWT key, MFA keys...) as files."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dir", required=True, help="e.g. ./secrets (kept out of git)")
        parser.add_argument(
            "--mount",
            default="",
            help="the directory as the containers see it (default: --dir), for the printout",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(options["dir"])
        mount = options["mount"] or str(directory.resolve())
        for name, made in secrets.generate(directory):
            self.stderr.write(f"{'made' if made else 'kept'} {directory / name}")
        for name, (variable, _) in secrets.SECRETS.items():
            self.stdout.write(f"{variable}_FILE={mount.rstrip('/')}/{name}")
