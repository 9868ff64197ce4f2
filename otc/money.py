"""Decimal money per ISO 4217 currency.

Amounts are stored with four decimal places and quantised to the currency's minor unit
(JPY 0, USD 2, KWD 3) with ROUND_HALF_UP at defined points: line totals, tax per line and
document totals. Adding across currencies raises. User input is parsed strictly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision, list_currencies

from .errors import CurrencyMismatch, InvalidAmount

STORAGE_PLACES = 4
MAX_DIGITS = 20
ZERO = Decimal("0")

_AMOUNT_RE = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$", re.ASCII)  # ASCII digits only


@lru_cache(maxsize=512)
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def validate_currency(currency: str) -> str:
    code = (currency or "").upper()
    if code not in _known_currencies():
        raise InvalidAmount(f"Unknown currency code {currency!r}: use an ISO 4217 code such as EUR or USD.")
    return code


@lru_cache(maxsize=512)
def minor_units(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (USD 2, JPY 0, KWD 3)."""
    return get_currency_precision(validate_currency(currency))


@lru_cache(maxsize=512)
def _minor_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))  # 0.01 for USD


def quantize(amount: Decimal | int, currency: str) -> Decimal:
    """Round to the currency's minor unit, half away from zero (ROUND_HALF_UP)."""
    if isinstance(amount, float):
        raise InvalidAmount("Money never comes from a float; pass a Decimal or a string.")
    return Decimal(amount).quantize(_minor_unit(currency), rounding=ROUND_HALF_UP)


def to_decimal(value: Decimal | int | str) -> Decimal:
    if isinstance(value, float):
        raise InvalidAmount("Money never comes from a float; pass a Decimal or a string.")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return parse_amount(value)


def parse_amount(text: str | Decimal | int | float | None, currency: str | None = None) -> Decimal:
    """Parse a user-typed amount strictly.

    Accepts ``1234.56``, ``-12``, ``1,234.56`` (thousands grouped by three). Refuses floats,
    malformed grouping (``1,2,3``), exponents, NaN/Infinity and, when a currency is given, more
    decimal places than its minor unit allows.
    """
    if isinstance(text, float):
        raise InvalidAmount("Money never comes from a float; type the amount as text.")
    if isinstance(text, Decimal | int):
        text = str(text)
    cleaned = (text or "").strip()
    if not cleaned:
        raise InvalidAmount("Enter an amount.")
    if not _AMOUNT_RE.match(cleaned):
        raise InvalidAmount(f"{text!r} is not an amount: use digits with an optional '.' for decimals, e.g. 1234.56.")
    try:
        value = Decimal(cleaned.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the regex already refuses these
        raise InvalidAmount(f"{text!r} is not an amount.")
    if currency is not None:
        places = minor_units(currency)
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            raise InvalidAmount(f"{text!r} has more than {places} decimal places, which {currency.upper()} does not allow.")
    # adjusted() counts digits before the point without quantize(), which raises past 28 digits
    integer_digits = max(value.adjusted() + 1, 1)
    if integer_digits > MAX_DIGITS - STORAGE_PLACES:
        raise InvalidAmount(f"{text!r} is too large.")
    return value


# Plausible sizes (settings, docs/decisions/0013): anything larger is a typing or integration error,
# refused with a clear message rather than posted. OTC_PLAUSIBLE_AMOUNT_MAX maps a currency code
# to its largest plausible amount in major units; "default" is the limit of a two-decimal currency
# (a trillion), scaled by 100 per minor-unit place a currency lacks (JPY 10^14, KWD 10^11).
# OTC_PLAUSIBLE_QUANTITY_MAX maps a UN/ECE unit code to the most units on one line or usage record
# ("default": a billion; transactions and gigabytes are counted in the trillions).
DEFAULT_PLAUSIBLE_AMOUNT_MAX: dict[str, str] = {"default": "1000000000000"}
DEFAULT_PLAUSIBLE_QUANTITY_MAX: dict[str, str] = {"default": "1000000000", "E48": "1000000000000",
                                                  "E34": "1000000000000"}


def _limits(name: str, fallback: dict[str, str]) -> dict[str, str]:
    from django.conf import settings

    return {**fallback, **(getattr(settings, name, None) or {})}


def plausible_max(currency: str) -> Decimal:
    """The largest plausible amount (exclusive) of one document, line or receipt in `currency`."""
    code = validate_currency(currency)
    limits = _limits("OTC_PLAUSIBLE_AMOUNT_MAX", DEFAULT_PLAUSIBLE_AMOUNT_MAX)
    if code in limits:
        return Decimal(str(limits[code]))
    return Decimal(str(limits["default"])) * Decimal(10) ** (2 - minor_units(code))


def check_plausible(amount: Decimal, currency: str, *, what: str = "The amount", field: str | None = None) -> Decimal:
    """Refuse an amount whose size is beyond plausible_max(currency), naming the limit."""
    limit = plausible_max(currency)
    if abs(amount) >= limit:
        raise InvalidAmount(f"{what} {amount} {currency.upper()} is beyond the plausible maximum of "
                            f"{limit:,} {currency.upper()}.", fields={field: ["implausibly large"]} if field else None)
    return amount


def plausible_quantity_max(unit: str | None = None) -> Decimal:
    limits = _limits("OTC_PLAUSIBLE_QUANTITY_MAX", DEFAULT_PLAUSIBLE_QUANTITY_MAX)
    return Decimal(str(limits.get(unit or "default", limits["default"])))


def check_plausible_quantity(quantity: Decimal, unit: str | None = None, *, field: str | None = None) -> Decimal:
    """Refuse a quantity beyond the plausible maximum for its unit, naming the limit."""
    limit = plausible_quantity_max(unit)
    if abs(quantity) >= limit:
        raise InvalidAmount(f"A quantity of {quantity} is beyond the plausible maximum of {limit:,}"
                            f"{' ' + unit if unit else ''} per line.",
                            fields={field: ["implausibly large"]} if field else None)
    return quantity


def amount_in(value: Decimal | int | str, currency: str, *, what: str = "The amount",
              field: str | None = None) -> Decimal:
    """An amount given for `currency`: strictly parsed, at most the currency's decimals, plausible."""
    amount = to_decimal(value)
    places = minor_units(currency)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places and amount != quantize(amount, currency):
        raise InvalidAmount(f"{value} has more than {places} decimal places, which {currency.upper()} does not allow.",
                            fields={field: ["too many decimal places"]} if field else None)
    return check_plausible(amount, currency, what=what, field=field)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, float):
            raise InvalidAmount("Money never comes from a float; pass a Decimal or a string.")
        object.__setattr__(self, "amount", to_decimal(self.amount))
        object.__setattr__(self, "currency", validate_currency(self.currency))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(ZERO, currency)

    def _check(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"Cannot combine Money with {type(other).__name__}.")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"Cannot combine {self.currency} with {other.currency}.")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._check(other).amount, self.currency)

    def __radd__(self, other: object) -> Money:
        if other == 0:  # lets sum() start from 0
            return self
        return self.__add__(other)  # type: ignore[arg-type]

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._check(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, float | Money):
            raise TypeError("Multiply money by a Decimal or an int only.")
        return Money(self.amount * Decimal(factor), self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._check(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._check(other).amount

    def quantized(self) -> Money:
        return Money(quantize(self.amount, self.currency), self.currency)

    def __str__(self) -> str:
        return money_text(self.amount, self.currency)


def money_sum(items: Iterable[Money], currency: str) -> Money:
    """Sum money of one currency; an item in another currency raises CurrencyMismatch."""
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total


def format_money(amount: Decimal | None, currency: str, locale: str = "en_US") -> str:
    """A locale's own currency format ('€1,190.00') for documents addressed in that locale. Pages,
    messages and refusals use `money_text` ('1,190.00 EUR')."""
    if amount is None:
        return ""
    return format_currency(quantize(amount, currency), currency, locale=locale)


def money_text(amount: Decimal | None, currency: str) -> str:
    """'1,234.50 EUR': the amount with grouping and the currency's decimals, then its code (pages,
    messages and refusals all write money this way)."""
    if amount is None:
        return ""
    return f"{format_amount(amount, currency)} {currency}"


def format_amount(amount: Decimal | None, currency: str) -> str:
    """Amount with grouping and the currency's decimals, without the symbol (for tables)."""
    if amount is None:
        return ""
    value = quantize(amount, currency)
    places = minor_units(currency)
    return f"{value:,.{places}f}"
