"""Demo data for `make run`: idempotent, and only for development databases."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from apps.core.commands import maybe_dry_run
from apps.kyc import services as kyc_services
from finstack import demo

CUSTOMERS = [
    (
        "alice@finstack.local",
        "tier 2, money, history, a shared wallet, a deposit needing attention",
    ),
    ("bob@finstack.local", "member of Alice's wallet, asks her for money; KYC waits for review"),
]
STAFF = [
    ("admin@finstack.local", "superuser", "superuser (everything in the admin)"),
    ("compliance@finstack.local", "compliance", "compliance officer (KYC queue, risk reviews)"),
    ("ops@finstack.local", "operations", "operations (payments, breaks, dashboard)"),
]


class Command(BaseCommand):
    help = (
        "Create demo users, wallets (one shared), money, history, a money request, a payment "
        "needing attention and a KYC case (idempotent)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="allow with DEBUG off")
        parser.add_argument("--dry-run", action="store_true", help="build it, then roll back")

    def handle(self, *args: Any, force: bool, dry_run: bool, **options: Any) -> None:
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo writes known passwords: refused with DEBUG off.")
        with maybe_dry_run(dry_run):
            self._seed()
        if dry_run:
            self.stdout.write("(dry run: everything above was rolled back)")

    def _seed(self) -> None:
        with transaction.atomic():
            enrolments = {email: demo.user(email, staff_role=role)[1] for email, role, _ in STAFF}
            alice, _ = demo.user("alice@finstack.local")
            bob, _ = demo.user("bob@finstack.local")
            for user_id in (alice, bob):
                demo.wallet(user_id)
            kyc_services.customer_tier_set(user_id=alice, level=2)
            demo.opening_balance(alice, 100_000)
        # Payments call the (simulated) bank: outside the transaction, each step its own.
        demo.history(alice, bob)
        demo.shared_wallet(alice, bob)
        demo.money_request(bob)
        demo.payment_needing_attention(alice)
        demo.kyc_case_waiting(bob)
        self.stdout.write(f"Demo logins (password for all: {demo.PASSWORD}):")
        for email, role in CUSTOMERS:
            self.stdout.write(f"  {email:<28} {role}")
        for email, _, role in STAFF:
            self.stdout.write(f"  {email:<28} {role}")
        self.stdout.write("Staff log in to /admin/ with the password, then a TOTP code. Scan a")
        self.stdout.write("staff member's URI into an authenticator app, or use a backup token")
        self.stdout.write("(pick 'backup' as the device). Demo data: printed on every start.")
        for email, enrolment in enrolments.items():
            if enrolment:
                self.stdout.write(f"  {email}: {enrolment.otpauth_uri}")
                self.stdout.write(f"    backup tokens: {' '.join(enrolment.backup_tokens)}")
