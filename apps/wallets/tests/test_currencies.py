"""Wallets open only in currencies the ledger can book (the ledger's Currency table)."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from apps.core.models import OutboxEvent
from apps.ledger import selectors as ledger_selectors
from apps.ledger import services as ledger_services
from apps.wallets.models import Wallet
from apps.wallets.tests.factories import make_user, make_wallet
from apps.wallets.tests.test_api_transfers import send
from apps.wallets.tests.test_schema import codes

pytestmark = pytest.mark.django_db

NOT_SUPPORTED = {
    "error": {
        "code": "currency_not_supported",
        "message": "This currency is not supported.",
        "details": {"currency": "JPY"},
    }
}


def test_a_wallet_in_a_currency_without_system_accounts_is_refused_and_opens_nothing(
    auth_client,
):
    client = auth_client(make_user())  # given: JPY is a valid ISO code the ledger has no chart for
    accounts_before = ledger_selectors.trial_balance()

    response = client.post("/api/v1/wallets", {"currency": "JPY"}, format="json")  # when

    assert response.status_code == 422  # then
    assert response.json() == NOT_SUPPORTED
    assert not Wallet.objects.exists()
    assert ledger_selectors.trial_balance() == accounts_before  # no ledger account opened
    assert not OutboxEvent.objects.filter(type="wallets.wallet_created").exists()


def test_a_transfer_in_a_currency_without_system_accounts_is_refused(auth_client, money_state):
    source, target = make_wallet(funded=1_000), make_wallet()  # given
    before = money_state(source, target)

    response = send(auth_client(source.owner), source, target.pk, 100, currency="JPY")  # when

    assert response.status_code == 422  # then: no wallet can be in JPY, so none matches
    assert response.json() == {
        "error": {
            "code": "currency_mismatch",
            "message": "The wallets and the amount must be in one currency.",
            "details": {"wallet_currency": "EUR", "currency": "JPY"},
        }
    }
    assert money_state(source, target) == before


def test_a_disabled_currency_opens_no_new_wallet_but_its_money_still_moves(auth_client):
    alice, bob = make_user(), make_user()  # given: two USD wallets, then USD is disabled
    source, target = make_wallet(alice, "USD", funded=1_000), make_wallet(bob, "USD")
    ledger_services.currency_disable(code="USD")

    refused = auth_client(make_user()).post("/api/v1/wallets", {"currency": "USD"}, format="json")
    sent = send(auth_client(alice), source, target.pk, 250, key="usd-1", currency="USD")

    assert refused.status_code == 422  # then
    assert refused.json() == {
        "error": {
            "code": "currency_not_supported",
            "message": "This currency is not supported.",
            "details": {"currency": "USD"},
        }
    }
    assert Wallet.objects.filter(currency="USD").count() == 2
    assert sent.status_code == 201, sent.json()


def test_enabling_a_currency_creates_its_system_accounts_and_then_wallets_open_in_it():
    owner = make_user()  # given
    created = ledger_services.currency_enable(code="JPY")  # when
    wallet = make_wallet(owner, "JPY")

    assert created == 5  # then: clearing, fees, suspense, opening balances, adjustments
    assert {row.code for row in ledger_selectors.trial_balance(currency="JPY")} == {
        "bank_clearing:simulated:JPY",
        "fees_income:JPY",
        "suspense:JPY",
        "opening_balances:JPY",
        "adjustments:JPY",
        f"wallet:{wallet.pk}",
    }
    assert wallet.currency == "JPY"
    assert ledger_services.currency_enable(code="JPY") == 0  # idempotent


def test_the_wallet_endpoint_documents_currency_not_supported():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    responses = schema["paths"]["/api/v1/wallets"]["post"]["responses"]
    assert codes(responses, "422") == {"currency_not_supported"}
    assert codes(responses, "409") == {"wallet_exists"}
