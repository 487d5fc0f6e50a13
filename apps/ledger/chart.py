"""The chart of system accounts: the same definition for the data migrations and for
`manage.py ledger_bootstrap` and `currency_enable` (the currencies are the Currency table's)."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SystemAccount:
    code: str  # "<purpose>:<currency>" or "<purpose>:<provider>:<currency>"
    name: str
    type: str
    shards: int = 1


# Every deposit and withdrawal touches its provider's clearing account: shard it so postings
# do not queue behind one row lock (docs/performance.md, ledger case c).
CLEARING_SHARDS = 16


def system_accounts(currencies: list[str], providers: list[str]) -> list[tuple[SystemAccount, str]]:
    rows: list[tuple[SystemAccount, str]] = []
    for currency in currencies:
        for provider in providers:
            rows.append(
                (
                    SystemAccount(
                        f"bank_clearing:{provider}:{currency}",
                        f"Bank clearing at {provider} ({currency})",
                        "asset",
                        CLEARING_SHARDS,
                    ),
                    currency,
                )
            )
        rows += [
            (
                SystemAccount(f"fees_income:{currency}", f"Fee income ({currency})", "income", 4),
                currency,
            ),
            (
                SystemAccount(f"suspense:{currency}", f"Suspense ({currency})", "liability"),
                currency,
            ),
            (
                SystemAccount(
                    f"opening_balances:{currency}", f"Opening balances ({currency})", "equity"
                ),
                currency,
            ),
            (
                SystemAccount(
                    f"adjustments:{currency}", f"Manual adjustments ({currency})", "expense"
                ),
                currency,
            ),
        ]
    return rows


def ensure(
    account_model: type[Any], balance_model: type[Any], currencies: list[str], providers: list[str]
) -> int:
    """Create missing system accounts and their balance shards; returns how many were new."""
    created = 0
    for spec, currency in system_accounts(currencies, providers):
        account, new = account_model.objects.get_or_create(
            code=spec.code,
            defaults={
                "name": spec.name,
                "type": spec.type,
                "currency": currency,
                "owner_type": "system",
                "shards": spec.shards,
            },
        )
        created += new
        for shard in range(account.shards):
            balance_model.objects.get_or_create(account=account, shard=shard)
    return created
