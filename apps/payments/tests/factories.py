"""Payments test helpers: customers with wallets and bank accounts, the simulated bank's
callbacks delivered through our real webhook endpoint."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import Client, TestCase

from apps.core.money import Money
from apps.kyc import services as kyc_services
from apps.ledger.tests.factories import fund
from apps.payments import services
from apps.payments.models import FundingSource
from apps.payments.providers import simulated
from apps.wallets import selectors as wallet_selectors
from apps.wallets import services as wallet_services


def iban(suffix: str = "0001") -> str:
    """A valid German IBAN ending in `suffix` (the simulated bank's scenario)."""
    bban = f"37040044000001{suffix}"
    numeric = "".join(str(int(c, 36)) for c in bban + "DE00")
    return f"DE{98 - int(numeric) % 97:02d}{bban}"


def customer(email: str = "cora@example.com", tier: int = 1, funds: int = 0):
    user = get_user_model().objects.create_user(email, "pw")
    kyc_services.customer_tier_set(user_id=user.pk, level=tier)
    wallet_id = wallet_services.wallet_create(owner_id=user.pk, currency="EUR")
    if funds:
        fund(wallet_selectors.ledger_account_of(wallet_id=wallet_id), Money(funds, "EUR"))
    return user, wallet_id


def bank_account(user, suffix: str = "0001", aged: bool = True) -> FundingSource:
    source_id = services.funding_source_add(
        user_id=user.pk, iban=iban(suffix), holder_name="Cora Example", currency="EUR"
    )
    source = FundingSource.objects.get(pk=source_id)
    if aged:  # older than a day: the "new funding source" risk rule does not apply
        FundingSource.objects.filter(pk=source_id).update(
            created_at=source.created_at.replace(year=2025)
        )
    return source


def committed(fn, *args, **kwargs):
    """Run as a request would: its after-commit work (queued steps) runs as after commit."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return fn(*args, **kwargs)


def bank_answers(payment_id) -> list:
    """The simulated bank settles and calls our webhook endpoint (really over the test
    client, signed); returns the responses."""
    client = Client()
    answers = []
    for body, headers in simulated.callbacks(str(payment_id)):
        with TestCase.captureOnCommitCallbacks(execute=True):
            answers.append(
                client.post(
                    "/api/v1/webhooks/simulated",
                    data=body,
                    content_type="application/json",
                    headers=headers,
                )
            )
    return answers


def balance(wallet_id) -> tuple[int, int]:
    """(posted, available) of a wallet, from the ledger."""
    from apps.ledger import selectors as ledger_selectors

    view = ledger_selectors.account_balance(
        account_id=wallet_selectors.ledger_account_of(wallet_id=wallet_id)
    )
    return view.posted.amount, view.available.amount


def bank_forgets(payment_id) -> None:
    """The simulated bank loses a settled payment from its books (for reconciliation)."""
    from apps.payments.models import SimulatedBankPayment

    SimulatedBankPayment.objects.filter(pk=payment_id).delete()


def bank_settles_unknown(amount: int, currency: str = "EUR") -> None:
    """The simulated bank settles a payment we never had."""
    from apps.payments.models import SimulatedBankPayment

    SimulatedBankPayment.objects.create(
        payment_id="00000000-0000-4000-8000-0000000000aa",
        kind="collect",
        token="t",
        amount=amount,
        currency=currency,
        state="succeeded",
    )


def deposit(user, wallet, source, amount: int = 10_000, key: str = "d-1"):
    """A deposit request as the API makes it, its after-commit step run."""
    return committed(
        services.deposit_create,
        user_id=user.pk,
        wallet_id=wallet,
        funding_source_id=source.pk,
        amount=Money(amount, "EUR"),
        client_key=key,
    )


def withdraw(user, wallet, source, amount: int = 10_000, key: str = "w-1"):
    """A withdrawal request as the API makes it, its after-commit step run."""
    return committed(
        services.withdrawal_create,
        user_id=user.pk,
        wallet_id=wallet,
        funding_source_id=source.pk,
        amount=Money(amount, "EUR"),
        client_key=key,
    )
