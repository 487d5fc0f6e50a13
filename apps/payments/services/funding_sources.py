"""Funding sources: the customer's bank accounts, checked and tokenised by the provider."""

from __future__ import annotations

import hashlib
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.ledger import selectors as ledger_selectors
from apps.payments import errors, providers
from apps.payments.models import (
    TERMINAL,
    FundingSource,
    Payment,
)
from apps.payments.services._common import (
    _source,
)


def _iban_valid(iban: str) -> bool:
    if not (iban.isascii() and iban.isalnum()):  # "١" and "１" are digits to int() as well
        return False
    if not (15 <= len(iban) <= 34) or not iban[:2].isalpha() or not iban[2:4].isdigit():
        return False
    digits = "".join(str(int(c, 36)) for c in iban[4:] + iban[:4])
    return digits.isdigit() and int(digits) % 97 == 1


def funding_source_add(
    *, user_id: int, iban: str, holder_name: str, currency: str, provider: str = "simulated"
) -> UUID:
    iban = iban.replace(" ", "").upper()
    if not _iban_valid(iban):
        raise errors.InvalidIban()
    # A disabled currency's bank accounts may still be linked: they are how its money leaves.
    ledger_selectors.currency_check(code=currency, incoming=False)
    fingerprint = hashlib.sha256(iban.encode()).hexdigest()
    if FundingSource.objects.filter(
        user_id=user_id, fingerprint=fingerprint, removed_at__isnull=True
    ).exists():
        raise errors.FundingSourceExists()
    try:  # a network call: before, not inside, the transaction
        token = providers.get(provider).tokenize(iban=iban, holder_name=holder_name)
    except providers.ProviderError as exc:
        raise errors.ProviderUnavailable() from exc
    try:
        with transaction.atomic():
            source = FundingSource.objects.create(
                user_id=user_id,
                provider=provider,
                provider_token=token,
                holder_name=holder_name,
                iban_last4=iban[-4:],
                fingerprint=fingerprint,
                currency=currency,
            )
    except IntegrityError as exc:  # a concurrent twin
        raise errors.FundingSourceExists() from exc
    return source.pk


@transaction.atomic
def funding_source_remove(*, user_id: int, source_id: UUID) -> None:
    source = _source(user_id, source_id, lock=True)
    busy = Payment.objects.filter(funding_source=source).exclude(state__in=TERMINAL).exists()
    if busy:
        raise errors.FundingSourceInUse()
    source.removed_at = timezone.now()
    source.save(update_fields=["removed_at"])
