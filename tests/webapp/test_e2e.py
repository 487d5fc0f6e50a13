"""The customer web app in real Chromium against the real stack: gunicorn serving Django and
the built app (web/dist), a Celery worker, the test PostgreSQL and Redis. web/e2e/run.mjs
drives the browser (playwright-core, Debian's chromium); this module seeds, starts the
processes, and checks the books afterwards. Screenshots of a failed step go to
E2E_ARTIFACTS (default web/e2e/artifacts), for CI to keep."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.db import transaction
from PIL import Image

from apps.accounts import services as accounts_services
from apps.core.money import Money
from apps.kyc import services as kyc_services
from apps.ledger.tests.factories import fund
from apps.wallets import selectors as wallet_selectors
from apps.wallets import services as wallet_services
from apps.wallets.models import Transfer, Wallet
from tests.stack import running

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PASSWORD = "e2e-password-2026"  # noqa: S105
DANA_FUNDS = 100_000
DANA_TOP_UPS = 40


def _needs() -> None:
    """Chromium and the built app; missing ones skip locally and fail in CI."""
    missing = [
        what
        for what, ok in (
            (f"chromium at {CHROMIUM}", Path(CHROMIUM).exists()),
            ("web/dist (npm run build)", (WEB / "dist" / "index.html").exists()),
            ("web/node_modules (npm ci)", (WEB / "node_modules" / "playwright-core").exists()),
        )
        if not ok
    ]
    if missing and os.environ.get("CI"):
        pytest.fail("end-to-end test needs " + ", ".join(missing))
    if missing:
        pytest.skip("needs " + ", ".join(missing))


@pytest.fixture
def stack(tmp_path):
    """gunicorn and a Celery worker on the test database; yields the base URL and mail dir."""
    _needs()
    mail = tmp_path / "mail"
    mail.mkdir()
    extra = {
        "E2E_MAIL_DIR": str(mail),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "THROTTLE_MONEY": "1000/min",
    }
    with running(tmp_path, "tests.webapp.settings", **extra) as base:
        yield {"base": base, "mail": mail, "logs": tmp_path}


def _dana() -> tuple[int, Wallet]:
    with transaction.atomic():
        user_id = accounts_services.user_create(
            email="dana@example.test",
            password=PASSWORD,
            email_verified=True,
            first_name="Dana",
            last_name="Demo",
        )
        kyc_services.customer_tier_set(user_id=user_id, level=1)
        wallet_id = wallet_services.default_wallet_ensure(owner_id=user_id, currency="EUR")
    account = wallet_selectors.ledger_account_of(wallet_id=wallet_id)
    for _ in range(DANA_TOP_UPS):  # a history longer than one page (25 rows in the app)
        fund(account, Money(DANA_FUNDS // DANA_TOP_UPS, "EUR"))
    return user_id, Wallet.objects.get(pk=wallet_id)


def _available(wallet: Wallet) -> int:
    return wallet_selectors.wallet_get(
        wallet_id=wallet.pk, user_id=wallet.owner_id
    ).balance.available.amount


def test_customer_app_end_to_end(stack, tmp_path):
    _, dana_wallet = _dana()
    photo = tmp_path / "passport.png"
    Image.new("RGB", (64, 48), (30, 120, 110)).save(photo)
    artifacts = Path(os.environ.get("E2E_ARTIFACTS", WEB / "e2e" / "artifacts"))
    shutil.rmtree(artifacts, ignore_errors=True)
    done = subprocess.run(  # noqa: S603
        ["node", str(WEB / "e2e" / "run.mjs")],  # noqa: S607
        env={
            **os.environ,
            "E2E_BASE_URL": stack["base"],
            "E2E_MAIL_DIR": str(stack["mail"]),
            "E2E_PASSWORD": PASSWORD,
            "E2E_PHOTO": str(photo),
            "E2E_ARTIFACTS": str(artifacts),
            "CHROMIUM": CHROMIUM,
        },
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    logs = "".join(
        f"\n--- {name}\n{(stack['logs'] / name).read_text()[-3000:]}"
        for name in ("gunicorn.log", "worker.log")
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}{logs}"

    # The books, read from the database: Dana sent 25.00, Nina sent back 10.50 and then 1.00
    # (double-tapped and retried after a lost answer: once), and 1000.00 was refused.
    nina_wallet = Wallet.objects.get(owner__email="nina@example.test", currency="EUR")
    assert _available(nina_wallet) == 2_500 - 1_050 - 100
    assert _available(dana_wallet) == DANA_FUNDS - 2_500 + 1_050 + 100
    sent_by_nina = Transfer.objects.filter(source_wallet=nina_wallet).order_by("created_at")
    assert [t.amount for t in sent_by_nina] == [1_050, 100]
    assert "passed" in done.stdout
