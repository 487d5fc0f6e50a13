import pytest

from apps.core.models import OutboxEvent
from apps.ledger import selectors as ledger_selectors
from apps.wallets.models import Transfer


def balance_of(wallet) -> int:
    return ledger_selectors.account_balance(account_id=wallet.ledger_account_id).posted.amount


@pytest.fixture
def money_state():
    """Everything a refused transfer must leave untouched."""

    def snapshot(*wallets):
        return (
            [balance_of(w) for w in wallets],
            [(row.debits, row.credits) for row in ledger_selectors.trial_balance()],
            Transfer.objects.count(),
            OutboxEvent.objects.filter(type="wallets.transfer_completed").count(),
        )

    return snapshot
