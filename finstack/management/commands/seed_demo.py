"""Demo data for `make run`: idempotent, and only for development databases."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.accounts import services as accounts_services
from apps.core.money import Money
from apps.kyc import services as kyc_services
from apps.ledger import selectors as ledger_selectors
from apps.ledger import services as ledger_services
from apps.wallets import selectors as wallets_selectors
from apps.wallets import services as wallets_services

DEMO_PASSWORD = "finstack-demo-2026"  # noqa: S105 - printed for the developer on purpose
DEMO_USERS = [
    # email, is_staff, is_superuser, opening balance (EUR cents), what it is for
    ("admin@finstack.local", True, True, 0, "superuser (Django admin)"),
    ("alice@finstack.local", False, False, 100_000, "customer, tier 2, 1,000.00 EUR"),
    ("bob@finstack.local", False, False, 0, "customer"),
]


class Command(BaseCommand):
    help = "Create demo users, wallets and money (idempotent). Refused with DEBUG off."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--force", action="store_true", help="allow with DEBUG off")

    def handle(self, *args: object, force: bool = False, **options: object) -> None:
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo writes known passwords: refused with DEBUG off.")
        users = get_user_model()
        self.admin_enrolment = None
        opening = ledger_selectors.system_account_id(purpose="opening_balances", currency="EUR")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, is_staff, is_superuser, funds, role in DEMO_USERS:
            user = users.objects.filter(email=email).first()
            if user is None:
                user_id = accounts_services.user_create(
                    email=email,
                    password=DEMO_PASSWORD,
                    is_staff=is_staff,
                    is_superuser=is_superuser,
                    email_verified=True,
                )
                if is_staff:
                    self.admin_enrolment = accounts_services.staff_otp_enrol(user_id=user_id)
            else:
                user_id = user.pk
                if is_staff:
                    self.admin_enrolment = _enrolment_of(user)
            wallet_id = wallets_services.default_wallet_ensure(owner_id=user_id, currency="EUR")
            if funds:
                kyc_services.customer_tier_set(user_id=user_id, level=2)
                account = wallets_selectors.ledger_account_of(wallet_id=wallet_id)
                ledger_services.transfer_post(
                    debit_account_id=opening,
                    credit_account_id=account,
                    amount=Money(funds, "EUR"),
                    idempotency_key=f"demo:fund:{email}",
                    kind="opening",
                    description="Demo money",
                )
            self.stdout.write(f"  {email:<24} {role}")
        if self.admin_enrolment:
            self.stdout.write("The admin asks for a TOTP code after the password. Scan this into")
            self.stdout.write("an authenticator app (demo data: printed on every start):")
            self.stdout.write(f"  {self.admin_enrolment['otpauth_uri']}")
            tokens = " ".join(self.admin_enrolment["backup_tokens"])
            self.stdout.write(f"  or use a backup token (pick 'backup' as device): {tokens}")


def _enrolment_of(user: object) -> dict[str, object] | None:
    from django_otp.plugins.otp_static.models import StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user).first()
    if device is None:
        return None
    tokens = StaticToken.objects.filter(device__user=user).values_list("token", flat=True)
    return {"otpauth_uri": device.config_url, "backup_tokens": list(tokens)}
