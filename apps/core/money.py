"""Exact money: integer minor units plus an ISO 4217 currency. Never a float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from iso4217 import Currency

# Minor-unit exponents from ISO 4217 (EUR 2, JPY 0, KWD 3). Codes without one (gold, SDR,
# test codes) are not money this platform holds.
EXPONENTS: dict[str, int] = {c.code: c.exponent for c in Currency if c.exponent is not None}
CURRENCY_CODES: list[str] = sorted(EXPONENTS)  # one enum ("Currency") in the API schema
MAX_MINOR = 2**63 - 1  # amount columns are BIGINT: a parsed amount beyond it is no money of ours


class MoneyError(ValueError):
    """An amount or currency that is not exact money."""


def exponent(currency: str) -> int:
    try:
        return EXPONENTS[currency]
    except KeyError:
        raise MoneyError(f"Unknown currency {currency!r}.") from None


def round_to_minor(value: Decimal, currency: str, rounding: str = ROUND_HALF_EVEN) -> Money:
    """The one rounding function: a Decimal in major units to the nearest minor unit."""
    if not isinstance(value, Decimal):
        raise MoneyError("Only Decimal values can be rounded to money.")
    minor = value.scaleb(exponent(currency)).quantize(Decimal(1), rounding=rounding)
    return Money(int(minor), currency)


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if type(self.amount) is not int:  # rejects float, Decimal and bool
            raise MoneyError(f"Money amounts are integers in minor units, not {type(self.amount)}.")
        exponent(self.currency)

    @classmethod
    def from_major(cls, value: str | Decimal | int, currency: str) -> Money:
        """Parse major units exactly ("10.50" EUR -> 1050); more decimals than allowed fail."""
        if isinstance(value, bool | float):
            raise MoneyError("Major-unit amounts must be given as a string, Decimal or int.")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise MoneyError(f"{value!r} is not a number.") from None
        if not number.is_finite():
            raise MoneyError(f"{value!r} is not a finite number.")
        try:
            minor = number.scaleb(exponent(currency))
        except ArithmeticError:  # decimal.Overflow for e.g. "1e5000000"
            raise MoneyError(f"{value!r} is out of range.") from None
        if minor != minor.to_integral_value():
            raise MoneyError(f"{currency} has {exponent(currency)} decimal places: {value!r}.")
        if abs(minor) > MAX_MINOR:  # before int(): "1e100000" would build a huge integer
            raise MoneyError(f"{value!r} is out of range.")
        return cls(int(minor), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def to_major(self) -> Decimal:
        return Decimal(self.amount).scaleb(-exponent(self.currency))

    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"Cannot combine Money with {type(other).__name__}.")
        if other.currency != self.currency:
            raise MoneyError(f"Currency mismatch: {self.currency} and {other.currency}.")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def __str__(self) -> str:
        return f"{self.to_major():,.{exponent(self.currency)}f} {self.currency}"
