"""Demo data for `make run`: idempotent, and only for development databases."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_PASSWORD = "finstack-demo-2026"  # noqa: S105 - printed for the developer on purpose
DEMO_USERS = [
    # email, is_staff, is_superuser, what it is for
    ("admin@finstack.local", True, True, "superuser (Django admin)"),
    ("alice@finstack.local", False, False, "customer"),
    ("bob@finstack.local", False, False, "customer"),
]


class Command(BaseCommand):
    help = "Create the demo users (idempotent). Refuses to run with DEBUG off unless --force."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--force", action="store_true", help="allow with DEBUG off")

    def handle(self, *args: object, force: bool = False, **options: object) -> None:
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo writes known passwords: refused with DEBUG off.")
        users = get_user_model()
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, is_staff, is_superuser, role in DEMO_USERS:
            user, created = users.objects.get_or_create(
                email=email, defaults={"is_staff": is_staff, "is_superuser": is_superuser}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            self.stdout.write(f"  {email:<24} {role}{'' if created else ' (existing)'}")
