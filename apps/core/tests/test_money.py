from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.core.money import EXPONENTS, Money, MoneyError, round_to_minor


def test_exponents_follow_iso_4217():
    assert (EXPONENTS["EUR"], EXPONENTS["JPY"], EXPONENTS["KWD"], EXPONENTS["USD"]) == (2, 0, 3, 2)
    assert "XAU" not in EXPONENTS  # gold has no minor unit: not money we hold


@pytest.mark.parametrize("amount", [10.5, 1.0, Decimal("1"), True, "100", None])
def test_money_rejects_non_integer_amounts(amount):
    with pytest.raises(MoneyError):
        Money(amount, "EUR")


@pytest.mark.parametrize("currency", ["eur", "EURO", "XXX", "", "XAU"])
def test_money_rejects_unknown_currencies(currency):
    with pytest.raises(MoneyError):
        Money(1, currency)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("10.50", "EUR", 1050),
        ("10.5", "EUR", 1050),
        ("1000", "JPY", 1000),
        ("1.234", "KWD", 1234),
        ("-0.01", "EUR", -1),
        ("0", "EUR", 0),
        ("12345678901234567.89", "EUR", 1234567890123456789),
    ],
)
def test_from_major_parses_exactly(text, currency, minor):
    assert Money.from_major(text, currency) == Money(minor, currency)


@pytest.mark.parametrize(
    ("value", "currency"),
    [
        ("10.005", "EUR"),
        ("1.5", "JPY"),
        ("1.2345", "KWD"),
        ("abc", "EUR"),
        ("NaN", "EUR"),
        ("Infinity", "EUR"),
        (1.5, "EUR"),
        (True, "EUR"),
    ],
)
def test_from_major_refuses_inexact_or_non_numbers(value, currency):
    with pytest.raises(MoneyError):
        Money.from_major(value, currency)


def test_arithmetic_stays_in_one_currency():
    assert Money(100, "EUR") + Money(5, "EUR") == Money(105, "EUR")
    assert Money(100, "EUR") - Money(150, "EUR") == Money(-50, "EUR")
    assert -Money(3, "EUR") == Money(-3, "EUR")
    assert Money(1, "EUR") < Money(2, "EUR")
    with pytest.raises(MoneyError):
        Money(1, "EUR") + Money(1, "USD")
    with pytest.raises(TypeError):
        Money(1, "EUR") + 1


def test_round_to_minor_is_bankers_rounding():
    assert round_to_minor(Decimal("0.125"), "EUR") == Money(12, "EUR")
    assert round_to_minor(Decimal("0.135"), "EUR") == Money(14, "EUR")
    assert round_to_minor(Decimal("2.5"), "JPY") == Money(2, "JPY")
    with pytest.raises(MoneyError):
        round_to_minor(0.1, "EUR")


def test_str_shows_major_units():
    assert str(Money(1050, "EUR")) == "10.50 EUR"
    assert str(Money(5, "JPY")) == "5 JPY"
    assert str(Money(1, "KWD")) == "0.001 KWD"


@given(
    amount=st.integers(min_value=-(10**18), max_value=10**18),
    currency=st.sampled_from(sorted(EXPONENTS)),
)
def test_major_round_trip_is_exact(amount, currency):
    money = Money(amount, currency)
    assert Money.from_major(str(money.to_major()), currency) == money
