"""Run by test_pgbouncer.py in its own process with DATABASE_URL pointing at a PgBouncer in
transaction mode, with fewer server connections than threads: threads send P2P transfers and
read histories at once, deposits run their saga to the end (request, the bank's signed
callbacks, booking), the outbox relay sweeps, and a beat job's lock is taken and released
while others try. Prints, as JSON, what went wrong (if anything), the balances, the ledger's
own verification and what the lock let through."""

from __future__ import annotations

import json
import sys
import threading
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from apps.accounts.tests.mobile import access_token  # noqa: E402
from apps.core import deliveries, outbox  # noqa: E402
from apps.core.events import handlers_for  # noqa: E402
from apps.core.models import OutboxEvent  # noqa: E402
from apps.core.money import Money  # noqa: E402
from apps.kyc.tests.factories import set_limits  # noqa: E402
from apps.ledger import selectors as ledger_selectors  # noqa: E402
from apps.ledger import services as ledger_services  # noqa: E402
from apps.payments import selectors as payments_selectors  # noqa: E402
from apps.payments import services as payments_services  # noqa: E402
from apps.payments.providers import simulated  # noqa: E402
from apps.wallets import services as wallet_services  # noqa: E402
from apps.wallets.tests.factories import make_user, make_wallet  # noqa: E402

THREADS, EACH, AMOUNT, FUNDS = 8, 25, 100, 100_000
DEPOSITS, DEPOSIT = 2, 1_000  # per payer thread
RUN = uuid.uuid4().hex[:8]  # each run its own customers in the shared database

set_limits(per_transaction=10**9, daily=10**9, monthly=10**9, max_balance=10**9)
payers = [make_user(f"payer-{n}-{RUN}@example.com") for n in range(THREADS)]
sources = [make_wallet(p, funded=FUNDS) for p in payers]
payees = [make_wallet(make_user(f"payee-{n}-{RUN}@example.com")) for n in range(2)]
tokens = [access_token(p) for p in payers]
banks = [
    payments_services.funding_source_add(
        user_id=p.pk, iban="DE89370400440532013000", holder_name="Payer", currency="EUR"
    )
    for p in payers
]
for payer, bank in zip(payers, banks, strict=True):  # old, trusted accounts: no review
    payments_selectors.funding_sources(user_id=payer.pk).filter(pk=bank).update(
        created_at="2025-01-01T00:00:00Z"
    )
connection.close()
errors: list[str] = []


def deposit(n: int, i: int, source: object) -> None:
    payment_id = payments_services.deposit_create(
        user_id=payers[n].pk,
        wallet_id=sources[n].pk,
        funding_source_id=source,
        amount=Money(DEPOSIT, "EUR"),
        client_key=f"bouncer-deposit-{RUN}-{n}-{i}",
    )
    payments_services.step_run(payment_id=payment_id)
    for body, headers in simulated.callbacks(str(payment_id)):
        payments_services.webhook_receive(provider="simulated", body=body, headers=headers)
    for row in payments_selectors.webhooks_unprocessed(payment_id=payment_id):
        payments_services.webhook_process(webhook_id=row)
    state = payments_selectors.payment_get(user_id=payers[n].pk, payment_id=payment_id).state
    if state != "succeeded":
        errors.append(f"deposit {state}")


def work(n: int) -> None:
    client = Client()
    try:
        for i in range(DEPOSITS):
            deposit(n, i, banks[n])
        for i in range(EACH):
            wallet_services.transfer_create(
                source_wallet_id=sources[n].pk,
                destination=str(payees[i % 2].pk),
                amount=Money(AMOUNT, "EUR"),
                requested_by_id=payers[n].pk,
                idempotency_key=f"bouncer-{RUN}-{n}-{i}",
            )
            page = client.get(
                f"/api/v1/wallets/{sources[n].pk}/transactions",
                headers={"Authorization": f"Bearer {tokens[n]}"},
            )
            if page.status_code != 200:
                errors.append(f"history {page.status_code}")
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()


threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()


def lock_rounds(rounds: int = 20) -> dict[str, int]:
    """Another run tries while one holds the job's lock, then the next tick after release."""
    seen = {"refused_while_held": 0, "granted_after_release": 0}
    for _ in range(rounds):
        holding, release = threading.Event(), threading.Event()

        def holder(holding: threading.Event = holding, release: threading.Event = release) -> None:
            with deliveries.singleton("bouncer.job") as held:
                if held:
                    holding.set()
                    release.wait(10)
            connection.close()

        thread = threading.Thread(target=holder)
        thread.start()
        if holding.wait(10):
            with deliveries.singleton("bouncer.job") as held:
                seen["refused_while_held"] += not held
        release.set()
        thread.join()
        with deliveries.singleton("bouncer.job") as held:
            seen["granted_after_release"] += held
    return seen


swept = outbox.sweep()
locks = lock_rounds()


def balance(wallet) -> int:
    return ledger_selectors.account_balance(account_id=wallet.ledger_account_id).posted.amount


result = {
    "errors": sorted(set(errors))[:5],
    "error_count": len(errors),
    "payers": sum(balance(w) for w in sources),
    "payees": sum(balance(w) for w in payees),
    "verified": ledger_services.verify().ok,
    "swept": swept,
    # Events nobody subscribes to are marked by a later sweep, after its grace period.
    "undispatched": sorted(
        (event_type, error)
        for event_type, error in OutboxEvent.objects.filter(dispatched_at__isnull=True).values_list(
            "type", "last_error"
        )
        if handlers_for(event_type)
    ),
    **locks,
    "server_side_binding": bool(
        connection.settings_dict.get("OPTIONS", {}).get("server_side_binding")
    ),
}
sys.stdout.write(json.dumps(result) + "\n")
