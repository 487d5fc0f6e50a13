"""The demo world `make run` starts with (used by seed_demo). Every step is idempotent: ledger
keys, payment client keys and get-or-create."""

from __future__ import annotations

import io
from collections.abc import Callable
from uuid import UUID

from django.contrib.auth import get_user_model
from PIL import Image

from apps.accounts import services as accounts_services
from apps.core.money import Money
from apps.kyc import selectors as kyc_selectors
from apps.kyc import services as kyc_services
from apps.ledger import selectors as ledger_selectors
from apps.ledger import services as ledger_services
from apps.payments import selectors as payments_selectors
from apps.payments import services as payments_services
from apps.payments.providers import simulated
from apps.wallets import selectors as wallets_selectors
from apps.wallets import services as wallets_services

PASSWORD = "finstack-demo-2026"  # noqa: S105 - printed for the developer on purpose
ALICE_IBAN = "DE89370400440532013000"
# Ends in 0008: the simulated bank fails a payment from it, then reports it paid after all.
ALICE_SECOND_IBAN = "DE72370400440532010008"


def user(
    email: str, *, staff_role: str | None = None
) -> tuple[int, accounts_services.StaffEnrolment | None]:
    """(user id, TOTP enrolment for staff created now or before)."""
    existing = get_user_model().objects.filter(email=email).first()
    if existing is None:
        if staff_role:
            user_id = accounts_services.staff_user_create(
                email=email, role=staff_role, password=PASSWORD
            )
            return user_id, accounts_services.staff_otp_enrol(user_id=user_id)
        return accounts_services.user_create(
            email=email, password=PASSWORD, email_verified=True
        ), None
    return existing.pk, _enrolment(existing) if staff_role else None


def _enrolment(staff: object) -> accounts_services.StaffEnrolment | None:
    from django_otp.plugins.otp_static.models import StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=staff).first()
    if device is None:
        return None
    tokens = StaticToken.objects.filter(device__user=staff).values_list("token", flat=True)
    return accounts_services.StaffEnrolment(
        otpauth_uri=device.config_url, backup_tokens=tuple(tokens)
    )


def wallet(user_id: int) -> UUID:
    return wallets_services.default_wallet_ensure(owner_id=user_id, currency="EUR")


def opening_balance(user_id: int, amount: int) -> None:
    ledger_services.transfer_post(
        debit_account_id=ledger_selectors.system_account_id(
            purpose="opening_balances", currency="EUR"
        ),
        credit_account_id=wallets_selectors.ledger_account_of(wallet_id=wallet(user_id)),
        amount=Money(amount, "EUR"),
        idempotency_key=f"demo:fund:{user_id}",
        kind="opening",
        description="Demo money",
    )


def bank_account(user_id: int, iban: str = ALICE_IBAN) -> UUID:
    known = payments_selectors.funding_sources(user_id=user_id).filter(iban_last4=iban[-4:])
    if known.exists():
        return known.first().pk  # type: ignore[union-attr]
    source_id = payments_services.funding_source_add(
        user_id=user_id, iban=iban, holder_name="Alice Demo", currency="EUR"
    )
    payments_selectors.funding_sources(user_id=user_id).filter(pk=source_id).update(
        created_at="2025-01-01T00:00:00Z"  # an old, trusted account: no "new account" review
    )
    return source_id


def settled(create: Callable[..., UUID], **kwargs: object) -> UUID:
    """A payment driven to its end here and now: the request step, then the simulated bank's
    signed callbacks through our webhook service (the queued tasks later find nothing to do)."""
    payment_id = create(**kwargs)
    payments_services.step_run(payment_id=payment_id)
    for body, headers in simulated.callbacks(str(payment_id)):
        payments_services.webhook_receive(provider="simulated", body=body, headers=headers)
    for row in payments_selectors.webhooks_unprocessed(payment_id=payment_id):
        payments_services.webhook_process(webhook_id=row)
    return payment_id


def history(alice: int, bob: int) -> None:
    source = bank_account(alice)
    common = {"user_id": alice, "wallet_id": wallet(alice), "funding_source_id": source}
    settled(
        payments_services.deposit_create,
        amount=Money(20_000, "EUR"),
        client_key="demo:deposit:1",
        **common,
    )
    wallets_services.transfer_create(
        source_wallet_id=wallet(alice),
        destination=str(wallet(bob)),
        amount=Money(2_500, "EUR"),
        requested_by_id=alice,
        idempotency_key="demo:p2p:1",
        note="Pizza night",
    )
    settled(
        payments_services.withdrawal_create,
        amount=Money(5_000, "EUR"),
        client_key="demo:withdrawal:1",
        **common,
    )


def shared_wallet(owner: int, member: int) -> UUID:
    """Alice's "Household" wallet; Bob accepted her invitation and spends up to 50 a day."""
    shared = [w for w in wallets_selectors.wallet_list(user_id=owner) if w.is_shared]
    if shared:
        return shared[0].id
    wallet_id = wallets_services.wallet_create(
        owner_id=owner, currency="EUR", name="Household", shared=True
    )
    invitation = wallets_services.wallet_invitation_create(
        wallet_id=wallet_id,
        owner_id=owner,
        contact="bob@finstack.local",
        daily_limit=Money(5_000, "EUR"),
    )
    wallets_services.wallet_invitation_answer(
        invitation_id=invitation["id"], user_id=member, accept=True
    )
    return wallet_id


def money_request(requester: int) -> None:
    """Bob asks Alice for his share of the pizza; she has not answered yet."""
    if wallets_selectors.money_request_list(user_id=requester, direction="outgoing"):
        return
    wallets_services.money_request_create(
        requester_id=requester,
        contact="alice@finstack.local",
        amount=Money(1_250, "EUR"),
        note="My half of the pizza",
    )


def payment_needing_attention(user_id: int) -> None:
    """A deposit the bank first failed, then reported paid: it waits for operations in the
    admin (Payments, "needs attention"), with both of the bank's answers on its timeline."""
    source = bank_account(user_id, ALICE_SECOND_IBAN)
    settled(
        payments_services.deposit_create,
        user_id=user_id,
        wallet_id=wallet(user_id),
        funding_source_id=source,
        amount=Money(3_000, "EUR"),
        client_key="demo:deposit:late-success",
    )


def kyc_case_waiting(user_id: int) -> None:
    """Bob asks for tier 2: profile, documents, submitted; compliance finds it in the queue."""
    if kyc_selectors.status(user_id=user_id)["case"]:
        return
    from datetime import date

    kyc_services.profile_save(
        user_id=user_id,
        legal_first_name="Bob",
        legal_last_name="Demo",
        date_of_birth=date(1988, 5, 17),
        nationality="DE",
        address_line="Demostrasse 1",
        postal_code="10115",
        city="Berlin",
        country="DE",
        tax_id="DE 987 654 321",
    )
    get_user_model().objects.filter(pk=user_id).update(phone="+4915100000002", phone_verified=True)
    for kind in ("passport", "selfie", "proof_of_address"):
        kyc_services.document_add(user_id=user_id, type=kind, data=_picture())
    kyc_services.case_submit(user_id=user_id, target_tier=2)


def _picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (40, 90, 200)).save(out, format="JPEG")
    return out.getvalue()
