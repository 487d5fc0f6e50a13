"""Ledger test helpers: accounts opened and funded through the ledger's own services."""

import uuid
from uuid import UUID

from apps.core.money import Money
from apps.ledger import selectors, services


def open_wallet_account(currency: str = "EUR", *, funded: int = 0, name: str = "") -> UUID:
    """A customer wallet's account (liability, no overdraft), optionally funded."""
    code = f"wallet:test-{uuid.uuid4()}"
    account_id = services.account_create(
        code=code,
        name=name or code,
        type="liability",
        currency=currency,
        owner_type="wallet",
        owner_id=code,
        rule="debits_must_not_exceed_credits",
    )
    if funded:
        fund(account_id, Money(funded, currency))
    return account_id


def fund(account_id: UUID, amount: Money) -> UUID:
    """Credit an account from the opening-balances equity account."""
    opening = selectors.system_account_id(purpose="opening_balances", currency=amount.currency)
    return services.transfer_post(
        debit_account_id=opening,
        credit_account_id=account_id,
        amount=amount,
        idempotency_key=f"fund:{uuid.uuid4()}",
        kind="opening",
    ).transaction_id


def clearing(currency: str = "EUR") -> UUID:
    return selectors.system_account_id(
        purpose="bank_clearing", currency=currency, provider="simulated"
    )
