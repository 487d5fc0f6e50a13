"""Money enters only in currencies the ledger can book, and only from a bank account in the
payment's currency: otherwise the bank would collect money that can never be posted."""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from drf_spectacular.generators import SchemaGenerator

from apps.accounts.tests.mobile import MobileClient, with_two_factor
from apps.core.models import IdempotencyRecord, OutboxEvent
from apps.core.money import Money
from apps.kyc import services as kyc_services
from apps.ledger import selectors as ledger_selectors
from apps.ledger import services as ledger_services
from apps.payments import services
from apps.payments.models import FundingSource, Payment
from apps.payments.tests.factories import balance, bank_answers, committed, customer, iban
from apps.wallets import services as wallet_services

pytestmark = pytest.mark.django_db


def codes(responses, status):
    schema = responses[status]["content"]["application/json"]["schema"]
    return set(schema["properties"]["error"]["properties"]["code"]["enum"])


def linked(user, currency, suffix="0001"):
    """A bank account in `currency`, older than a day (no "new funding source" review)."""
    source_id = services.funding_source_add(
        user_id=user.pk, iban=iban(suffix), holder_name="Cora Example", currency=currency
    )
    source = FundingSource.objects.get(pk=source_id)
    FundingSource.objects.filter(pk=source_id).update(
        created_at=source.created_at.replace(year=2025)
    )
    return source


def nothing_moved():
    """What a refused payment must not have written."""
    return (
        Payment.objects.count(),
        OutboxEvent.objects.count(),
        [(row.debits, row.credits) for row in ledger_selectors.trial_balance()],
    )


def money_call(client, path, wallet, source, amount, currency, key):
    return client.post(
        path,
        {
            "wallet": str(wallet),
            "funding_source": str(source),
            "amount": amount,
            "currency": currency,
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_a_bank_account_in_a_currency_without_system_accounts_is_refused():
    app = MobileClient()  # given: a customer with two-factor and a fresh login
    assert app.sign_up("jun@example.com").status_code == 200
    with_two_factor(app)

    response = app.call(  # when
        "post",
        "/api/v1/funding-sources",
        {"iban": iban(), "holder_name": "Jun Example", "currency": "JPY"},
    )

    assert response.status_code == 422  # then
    assert response.body == {
        "error": {
            "code": "currency_not_supported",
            "message": "This currency is not supported.",
            "details": {"currency": "JPY"},
        }
    }
    assert not FundingSource.objects.exists()


def test_a_deposit_to_a_eur_wallet_from_a_usd_bank_account_is_refused(auth_client):
    user, wallet = customer(funds=50_000)  # given: a EUR wallet and a USD bank account
    source = linked(user, "USD")
    before, wallet_balance = nothing_moved(), balance(wallet)

    response = money_call(  # when
        auth_client(user), "/api/v1/deposits", wallet, source.pk, 10_000, "EUR", "mix-1"
    )

    assert response.status_code == 422  # then
    assert response.json() == {
        "error": {
            "code": "currency_mismatch",
            "message": "The bank account is in another currency than the payment.",
            "details": {"funding_source_currency": "USD", "currency": "EUR"},
        }
    }
    assert nothing_moved() == before
    assert balance(wallet) == wallet_balance
    # What a retry with this key gets back is the refusal; no payment is behind it.
    assert list(IdempotencyRecord.objects.values_list("response_status", flat=True)) == [422]


def test_a_withdrawal_from_a_eur_wallet_to_a_usd_bank_account_is_refused():
    user, wallet = customer(funds=50_000)  # given
    source = linked(user, "USD")
    before, wallet_balance = nothing_moved(), balance(wallet)

    with pytest.raises(wallet_services.CurrencyMismatch) as refused:  # when
        services.withdrawal_create(
            user_id=user.pk,
            wallet_id=wallet,
            funding_source_id=source.pk,
            amount=Money(10_000, "EUR"),
            client_key="out-1",
        )

    assert refused.value.details == {"funding_source_currency": "USD", "currency": "EUR"}
    assert nothing_moved() == before  # then: no hold, no payment
    assert balance(wallet) == wallet_balance


def test_a_disabled_currency_takes_no_deposit_but_its_money_can_still_leave():
    user = get_user_model().objects.create_user("ula@example.com", "pw")  # given
    kyc_services.customer_tier_set(user_id=user.pk, level=1)
    wallet = wallet_services.wallet_create(owner_id=user.pk, currency="USD")
    source = linked(user, "USD")
    committed(
        services.deposit_create,
        user_id=user.pk,
        wallet_id=wallet,
        funding_source_id=source.pk,
        amount=Money(5_000, "USD"),
        client_key="in-1",
    )
    bank_answers(Payment.objects.get().pk)
    ledger_services.currency_disable(code="USD")
    before = nothing_moved()

    with pytest.raises(ledger_services.CurrencyNotSupported):  # when
        services.deposit_create(
            user_id=user.pk,
            wallet_id=wallet,
            funding_source_id=source.pk,
            amount=Money(1_000, "USD"),
            client_key="in-2",
        )
    assert nothing_moved() == before
    out = committed(
        services.withdrawal_create,
        user_id=user.pk,
        wallet_id=wallet,
        funding_source_id=source.pk,
        amount=Money(5_000, "USD"),
        client_key="out-1",
    )
    bank_answers(out)

    assert Payment.objects.get(pk=out).state == "succeeded"  # then
    assert balance(wallet) == (0, 0)


def test_enabling_jpy_in_the_admin_creates_its_accounts_then_a_jpy_deposit_settles(
    client, otp_login
):
    staff = get_user_model().objects.create_superuser("ops@finstack.test", "pw")  # given
    otp_login(client, staff)

    page = client.post("/admin/ledger/currency/add/", {"code": "JPY"})  # when

    assert page.status_code == 302, page.content.decode()[:2000]  # then
    assert ledger_selectors.currency_supported(code="JPY")
    assert {row.code for row in ledger_selectors.trial_balance(currency="JPY")} == {
        "bank_clearing:simulated:JPY",
        "fees_income:JPY",
        "suspense:JPY",
        "opening_balances:JPY",
        "adjustments:JPY",
    }
    entry = LogEntry.objects.get(content_type__app_label="ledger", object_pk="JPY")
    assert entry.actor == staff
    # ...and a JPY wallet takes a deposit end to end: collected, called back, posted.
    user = get_user_model().objects.create_user("jun@example.com", "pw")
    kyc_services.customer_tier_set(user_id=user.pk, level=1)
    wallet = wallet_services.wallet_create(owner_id=user.pk, currency="JPY")
    source = linked(user, "JPY")
    payment_id = committed(
        services.deposit_create,
        user_id=user.pk,
        wallet_id=wallet,
        funding_source_id=source.pk,
        amount=Money(12_000, "JPY"),
        client_key="jpy-1",
    )
    answers = bank_answers(payment_id)
    assert [a.status_code for a in answers] == [200] * len(answers)
    payment = Payment.objects.get(pk=payment_id)
    assert (payment.state, payment.needs_attention) == ("succeeded", False)
    assert balance(wallet) == (12_000, 12_000)


@pytest.mark.parametrize(
    ("path", "status", "expected"),
    [
        ("/api/v1/funding-sources", "422", {"currency_not_supported"}),
        ("/api/v1/deposits", "422", {"currency_mismatch", "currency_not_supported"}),
        ("/api/v1/withdrawals", "422", {"currency_mismatch", "currency_not_supported"}),
    ],
)
def test_the_money_endpoints_document_the_currency_codes(path, status, expected):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert expected <= codes(schema["paths"][path]["post"]["responses"], status)
