"""Create a staff member with a role and enrol their TOTP device for the admin.

    manage.py create_staff_user --email ana@example.com --role compliance

Prints the otpauth:// URI (scan it into an authenticator app) and ten one-time backup tokens.
The password is asked for interactively unless --password-file is given.
"""

from getpass import getpass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts import services
from apps.accounts.roles import ROLES


class Command(BaseCommand):
    help = "Create a staff user with a role and print their TOTP enrolment."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, choices=[*ROLES, "superuser"])
        parser.add_argument("--password-file", type=Path, help="read the password from a file")

    def handle(self, *args: Any, email: str, role: str, password_file: Path | None, **kw: Any):
        if password_file:
            password = password_file.read_text().strip()
        else:
            password = getpass("Password: ")
            if password != getpass("Password (again): "):
                raise CommandError("The passwords differ.")
        if not password:
            raise CommandError("A password is required.")
        try:
            user_id = services.staff_user_create(email=email, role=role, password=password)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        enrolment = services.staff_otp_enrol(user_id=user_id)
        self.stdout.write(f"Created {email} ({role}).")
        self.stdout.write("Scan into an authenticator app:")
        self.stdout.write(f"  {enrolment.otpauth_uri}")
        self.stdout.write("One-time backup tokens (store them safely):")
        for token in enrolment.backup_tokens:
            self.stdout.write(f"  {token}")
