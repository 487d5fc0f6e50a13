"""Wallet test helpers: users and wallets made through the public services."""

import uuid

from django.contrib.auth import get_user_model

from apps.core.money import Money
from apps.ledger.tests.factories import fund
from apps.wallets import services
from apps.wallets.models import Wallet


def make_user(email: str | None = None, **fields: object):
    return get_user_model().objects.create_user(
        email=email or f"user-{uuid.uuid4().hex[:8]}@finstack.test", password="pw", **fields
    )


def make_wallet(
    owner=None, currency: str = "EUR", *, funded: int = 0, shared: bool = False, name: str = ""
) -> Wallet:
    owner = owner or make_user()
    wallet_id = services.wallet_create(
        owner_id=owner.pk, currency=currency, shared=shared, name=name
    )
    wallet = Wallet.objects.get(pk=wallet_id)
    if funded:
        fund(wallet.ledger_account_id, Money(funded, currency))
    return wallet
