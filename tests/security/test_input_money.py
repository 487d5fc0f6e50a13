"""Bad money input, generated: `apps.core.money` parses exactly or refuses, and every money
endpoint (transfers, deposits, withdrawals) answers any wrong amount or currency with 400
`validation_error` in the one error shape, never a 5xx, and moves nothing."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.accounts.tests.mobile import MobileClient, with_two_factor
from apps.core.models import IdempotencyRecord, OutboxEvent
from apps.core.money import CURRENCY_CODES, EXPONENTS, MAX_MINOR, Money, MoneyError
from apps.ledger import selectors as ledger_selectors
from apps.ledger.models import Entry, Hold, Transaction
from apps.payments.models import Payment
from apps.payments.tests.factories import bank_account
from apps.wallets.models import Transfer
from apps.wallets.tests.factories import make_wallet

BIGINT = 2**63 - 1
CURRENCIES = st.sampled_from(sorted(EXPONENTS))
FIXED = {"JPY": 0, "EUR": 2, "KWD": 3, "USD": 2, "BHD": 3, "CLP": 0, "GBP": 2}
DB_EXAMPLES = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- apps.core.money ------------------------------------------------------------------------


def test_exponent_table():
    assert {code: EXPONENTS[code] for code in FIXED} == FIXED
    assert sorted(EXPONENTS) == CURRENCY_CODES


@given(currency=CURRENCIES, amount=st.integers(-MAX_MINOR, MAX_MINOR))
def test_major_units_round_trip_exactly(currency, amount):
    money = Money(amount, currency)
    major = money.to_major()
    assert isinstance(major, Decimal)
    assert Money.from_major(str(major), currency) == money
    assert Money.from_major(major, currency) == money
    assert major.as_tuple().exponent == -EXPONENTS[currency] or amount == 0


@given(
    currency=CURRENCIES,
    whole=st.integers(0, 10**12),
    data=st.data(),
)
def test_a_decimal_string_with_the_right_places_is_parsed_exactly(currency, whole, data):
    places = EXPONENTS[currency]
    fraction = data.draw(st.text("0123456789", min_size=places, max_size=places))
    text = f"{whole}.{fraction}" if places else str(whole)
    assert Money.from_major(text, currency).amount == int(f"{whole}{fraction}")
    assert Money.from_major(f"-{text}", currency).amount == -int(f"{whole}{fraction}")


@given(currency=CURRENCIES, whole=st.integers(0, 10**9), extra=st.integers(1, 6), data=st.data())
def test_more_places_than_the_currency_has_are_refused(currency, whole, extra, data):
    places = EXPONENTS[currency] + extra
    digits = data.draw(st.text("0123456789", min_size=places - 1, max_size=places - 1))
    last = data.draw(st.sampled_from("123456789"))  # a real, non-zero extra digit
    with pytest.raises(MoneyError, match="decimal places"):
        Money.from_major(f"{whole}.{digits}{last}", currency)


@given(currency=CURRENCIES, value=st.floats(allow_nan=True, allow_infinity=True))
def test_floats_are_never_money(currency, value):
    with pytest.raises(MoneyError):
        Money.from_major(value, currency)
    with pytest.raises(MoneyError):
        Money(value, currency)


@pytest.mark.parametrize("value", [True, False])
def test_bools_are_never_money(value):
    with pytest.raises(MoneyError):
        Money.from_major(value, "EUR")
    with pytest.raises(MoneyError):
        Money(value, "EUR")


@given(value=st.one_of(st.decimals(allow_nan=False), st.integers()), currency=CURRENCIES)
def test_only_integer_amounts_make_money(value, currency):
    if type(value) is int:
        assert Money(value, currency).amount == value
    else:
        with pytest.raises(MoneyError):
            Money(value, currency)


@given(
    currency=st.text(max_size=5).filter(lambda c: c not in EXPONENTS),
    amount=st.integers(),
)
@example(currency="eur", amount=1)
@example(currency="XAU", amount=1)
@example(currency="EUR ", amount=1)
@example(currency="ЕUR", amount=1)  # a Cyrillic "Е"
def test_unknown_currencies_are_refused(currency, amount):
    with pytest.raises(MoneyError):
        Money(amount, currency)
    with pytest.raises(MoneyError):
        Money.from_major(str(amount), currency)


@given(
    currency=CURRENCIES,
    value=st.one_of(
        st.integers(min_value=MAX_MINOR + 1).map(str),
        st.integers(19, 10**7).map(lambda e: f"1e{e}"),
        st.integers(19, 10**7).map(lambda e: f"-9.5E+{e}"),
    ),
)
@example(currency="EUR", value="1e5000000")  # decimal.Overflow without the check
@example(currency="EUR", value="1e100000")  # a 100,000-digit int without the check
@example(currency="JPY", value=str(MAX_MINOR + 1))
def test_amounts_beyond_bigint_are_refused_as_money_errors(currency, value):
    with pytest.raises(MoneyError, match="out of range"):
        Money.from_major(value, currency)


@given(
    value=st.one_of(
        st.text(max_size=20),
        st.sampled_from(["NaN", "sNaN", "Infinity", "-inf", "", " ", "1,50", "1.2.3", "0x10"]),
    ),
    currency=CURRENCIES,
)
def test_from_major_answers_any_string_with_money_or_money_error(value, currency):
    try:
        money = Money.from_major(value, currency)
    except MoneyError:
        return
    assert money == Money.from_major(Decimal(value.strip()), currency)  # exact, as Decimal reads it


# --- the money endpoints ---------------------------------------------------------------------

INVALID_INT = ["A valid integer is required."]
NOT_NULL = ["This field may not be null."]
TOO_SMALL = ["Ensure this value is greater than or equal to 1."]


def _too_large(limit: int) -> list[str]:
    return [f"Ensure this value is less than or equal to {limit}."]


def bad_amounts(limit: int) -> st.SearchStrategy[tuple[Any, list[str]]]:
    """(amount, DRF's message for it) for every wrong kind of amount."""
    return st.one_of(
        st.integers(max_value=0).map(lambda a: (a, TOO_SMALL)),
        st.integers(min_value=limit + 1, max_value=10**40).map(lambda a: (a, _too_large(limit))),
        st.integers(min_value=BIGINT - 5, max_value=BIGINT + 5).map(
            lambda a: (a, _too_large(limit))
        ),
        st.floats(allow_nan=False, allow_infinity=False).map(lambda a: (a, INVALID_INT)),
        st.integers(1, 1000).map(lambda a: (float(a), INVALID_INT)),  # 100.0 was taken as 100
        st.integers(1, 1000).map(lambda a: (str(a), INVALID_INT)),  # "100" was taken as 100
        st.integers(1, 1000).map(lambda a: (f"{a}.00", INVALID_INT)),  # major units
        st.integers(1, 99).map(lambda a: (f"{a}".translate(_FULLWIDTH), INVALID_INT)),
        st.booleans().map(lambda a: (a, INVALID_INT)),
        st.text(_STORABLE, max_size=10).map(lambda a: (a, INVALID_INT)),
        st.lists(st.integers(1, 10), max_size=2).map(lambda a: (a, INVALID_INT)),
        st.just(({"amount": 100, "currency": "EUR"}, INVALID_INT)),
        st.just((None, NOT_NULL)),
    )


_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")  # "１００" was taken as 100
_STORABLE = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
bad_currencies = st.one_of(
    st.text(_STORABLE, max_size=6).filter(lambda c: c not in EXPONENTS),
    st.sampled_from(sorted(EXPONENTS)).map(str.lower),
    st.sampled_from(["XAU", "XXX", "XTS", "EURO", " EUR", "EUR\n", "ЕUR", "€"]),
)


def invalid(field: str, messages: list[str]) -> dict[str, Any]:
    return {
        "error": {
            "code": "validation_error",
            "message": "The request is invalid.",
            "details": {field: messages},
        }
    }


def money_state() -> tuple:
    """Everything a refused money request must leave untouched."""
    return (
        [(row.debits, row.credits) for row in ledger_selectors.trial_balance()],
        Transaction.objects.count(),
        Entry.objects.count(),
        Hold.objects.count(),
        OutboxEvent.objects.count(),
        Transfer.objects.count(),
        Payment.objects.count(),
        IdempotencyRecord.objects.count(),
    )


@pytest.fixture(autouse=True)
def _no_money_throttle(settings):
    """Hundreds of refused requests by one user here: the money rate limit (its own tests in
    test_rate_limits.py) would answer 429 from the 61st on."""
    rest = copy.deepcopy(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"]["money"] = None
    settings.REST_FRAMEWORK = rest


@pytest.fixture
def transfer_post(auth_client):
    source, target = make_wallet(funded=10_000), make_wallet()
    client = auth_client(source.owner)

    def post(**changes: Any):
        body = {
            "source_wallet": str(source.pk),
            "destination": str(target.pk),
            "amount": 100,
            "currency": "EUR",
            **changes,
        }
        return client.post("/api/v1/transfers", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    return post


@pytest.fixture
def mobile_customer():
    app = MobileClient()
    assert app.sign_up("mona@example.com").status_code == 200
    with_two_factor(app)
    from django.contrib.auth import get_user_model

    from apps.kyc import services as kyc_services

    user = get_user_model().objects.get(email="mona@example.com")
    kyc_services.customer_tier_set(user_id=user.pk, level=1)
    wallet = app.call("get", "/api/v1/wallets").body["results"][0]["id"]
    source = bank_account(user)
    from apps.ledger.tests.factories import fund
    from apps.wallets import selectors as wallet_selectors

    fund(wallet_selectors.ledger_account_of(wallet_id=wallet), Money(10_000, "EUR"))
    return app, wallet, str(source.pk)


@pytest.fixture(params=["deposits", "withdrawals"])
def payment_post(request, mobile_customer):
    app, wallet, source = mobile_customer
    app.http.credentials(HTTP_IDEMPOTENCY_KEY="k-1")

    def post(**changes: Any):
        body = {
            "wallet": wallet,
            "funding_source": source,
            "amount": 100,
            "currency": "EUR",
            **changes,
        }
        return app.call("post", f"/api/v1/{request.param}", body)

    return post


def refused(response, body: dict[str, Any]) -> None:
    assert (response.status_code, response.json()) == (400, body)


@pytest.mark.django_db
def test_the_happy_paths_still_work(transfer_post, mobile_customer):
    """The fixtures are right: a good request goes through (so a refusal below is the input's)."""
    assert transfer_post().status_code == 201
    app, wallet, source = mobile_customer
    app.http.credentials(HTTP_IDEMPOTENCY_KEY="ok-1")
    body = {"wallet": wallet, "funding_source": source, "amount": 100, "currency": "EUR"}
    assert app.call("post", "/api/v1/deposits", body).status_code == 201
    app.http.credentials(HTTP_IDEMPOTENCY_KEY="ok-2")
    assert app.call("post", "/api/v1/withdrawals", body).status_code == 201


@pytest.mark.django_db
@DB_EXAMPLES
@given(case=bad_amounts(limit=10**15))
def test_transfer_refuses_every_bad_amount(transfer_post, case):
    amount, messages = case
    before = money_state()
    refused(transfer_post(amount=amount), invalid("amount", messages))
    assert money_state() == before


@pytest.mark.django_db
@DB_EXAMPLES
@given(currency=bad_currencies)
def test_transfer_refuses_every_bad_currency(transfer_post, currency):
    before = money_state()
    refused(
        transfer_post(currency=currency),
        invalid("currency", [f'"{currency}" is not a valid choice.']),
    )
    assert money_state() == before


@pytest.mark.django_db
@DB_EXAMPLES
@given(case=bad_amounts(limit=10**13), currency=st.one_of(st.just("EUR"), bad_currencies))
def test_deposits_and_withdrawals_refuse_every_bad_amount(payment_post, case, currency):
    amount, messages = case
    before = money_state()
    response = payment_post(amount=amount, currency=currency)
    expected = invalid("amount", messages)
    if currency != "EUR":
        expected["error"]["details"]["currency"] = [f'"{currency}" is not a valid choice.']
    refused(response, expected)
    assert money_state() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("10.50", "EUR"),  # major units with the right places: still not minor units
        ("10.505", "EUR"),  # too many places for EUR
        ("1.5", "JPY"),  # JPY has none
        ("1.2345", "KWD"),  # KWD has three
        (10.5, "EUR"),
        (1.0, "JPY"),
    ],
)
def test_amounts_in_major_units_are_refused_whatever_the_exponent(transfer_post, amount, currency):
    before = money_state()
    refused(transfer_post(amount=amount, currency=currency), invalid("amount", INVALID_INT))
    assert money_state() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("NaN", "parse_error"),
        ("-Infinity", "parse_error"),
        ("1" + "0" * 5000, "parse_error"),  # beyond Python's int-from-text limit
        ("1e400", "parse_error"),  # reads as float infinity: was a 500 from jsonb
        ("100.0", "validation_error"),
    ],
)
def test_non_integer_json_numbers_are_refused(auth_client, amount, code):
    source, target = make_wallet(funded=1_000), make_wallet()
    before = money_state()
    raw = (
        f'{{"source_wallet": "{source.pk}", "destination": "{target.pk}",'
        f' "amount": {amount}, "currency": "EUR"}}'
    )
    response = auth_client(source.owner).post(
        "/api/v1/transfers", raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, code)
    if code == "validation_error":
        assert response.json() == invalid("amount", INVALID_INT)
    else:
        assert set(response.json()["error"]) == {"code", "message", "details"}
        assert response.json()["error"]["message"].startswith("JSON parse error")
    assert money_state() == before


@pytest.mark.django_db
def test_a_multipart_money_post_cannot_smuggle_a_string_amount(auth_client):
    """Money endpoints read JSON only (more in test_input_multipart.py)."""
    source, target = make_wallet(funded=1_000), make_wallet()
    before = money_state()
    response = auth_client(source.owner).post(
        "/api/v1/transfers",
        {
            "source_wallet": str(source.pk),
            "destination": str(target.pk),
            "amount": "100",
            "currency": "EUR",
        },
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert (response.status_code, response.json()["error"]["code"]) == (
        415,
        "unsupported_media_type",
    )
    assert money_state() == before
