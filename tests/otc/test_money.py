"""otc.money: quantising per currency, summing within one currency, strict parsing, no floats."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from otc.errors import CurrencyMismatch, InvalidAmount
from otc.money import Money, format_amount, minor_units, money_sum, parse_amount, quantize

CURRENCIES = ["JPY", "USD", "EUR", "KWD", "GBP", "BHD"]

amounts = st.decimals(min_value=Decimal("-1000000000000"), max_value=Decimal("1000000000000"),
                      places=4, allow_nan=False, allow_infinity=False)
currencies = st.sampled_from(CURRENCIES)


def half_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency)) / 2


def test_minor_units_per_currency():
    assert (minor_units("JPY"), minor_units("USD"), minor_units("EUR"), minor_units("KWD")) == (0, 2, 2, 3)
    assert minor_units("usd") == 2


def test_unknown_currency_is_refused():
    with pytest.raises(InvalidAmount, match="Unknown currency code 'XXQ'"):
        minor_units("XXQ")


@given(amount=amounts, currency=currencies)
def test_quantize_is_idempotent_and_within_half_a_minor_unit(amount, currency):
    once = quantize(amount, currency)

    assert quantize(once, currency) == once
    assert abs(once - amount) <= half_unit(currency)
    assert once.as_tuple().exponent == -minor_units(currency)


@given(amount=amounts, currency=currencies)
def test_quantize_rounds_half_away_from_zero_symmetrically(amount, currency):
    assert quantize(-amount, currency) == -quantize(amount, currency)


@pytest.mark.parametrize(("amount", "currency", "expected"), [
    ("2.345", "USD", "2.35"),
    ("-2.345", "USD", "-2.35"),
    ("2.344", "USD", "2.34"),
    ("0.5", "JPY", "1"),
    ("-0.5", "JPY", "-1"),
    ("1.4999", "JPY", "1"),
    ("1.2345", "KWD", "1.235"),
    ("0.005", "EUR", "0.01"),
])
def test_round_half_up_cases(amount, currency, expected):
    result = quantize(Decimal(amount), currency)
    assert result == Decimal(expected)
    assert str(result) == expected


@given(items=st.lists(amounts, max_size=20), currency=currencies, data=st.data())
def test_money_sum_is_commutative_and_associative_in_one_currency(items, currency, data):
    money = [Money(a, currency) for a in items]
    shuffled = data.draw(st.permutations(money))
    cut = data.draw(st.integers(min_value=0, max_value=len(money)))

    total = money_sum(money, currency)

    assert money_sum(shuffled, currency) == total
    assert money_sum([money_sum(money[:cut], currency), money_sum(money[cut:], currency)], currency) == total
    assert total.amount == sum(items, Decimal(0))
    assert total.currency == currency


@given(items=st.lists(amounts, max_size=20), currency=currencies)
def test_sum_of_quantized_equals_quantized_sum_when_nothing_rounds(items, currency):
    exact = [quantize(a, currency) for a in items]  # already at the minor unit: no rounding left

    assert sum((quantize(a, currency) for a in exact), Decimal(0)) == quantize(sum(exact, Decimal(0)), currency)


def test_sum_of_quantized_differs_from_quantized_sum_when_rounding_happens():
    items = [Decimal("0.005"), Decimal("0.005")]

    assert sum(quantize(a, "USD") for a in items) == Decimal("0.02")
    assert quantize(sum(items), "USD") == Decimal("0.01")


def test_money_sum_of_nothing_is_zero():
    assert money_sum([], "EUR") == Money(Decimal("0"), "EUR")


def test_mixing_currencies_raises():
    with pytest.raises(CurrencyMismatch, match="Cannot combine USD with EUR"):
        Money(Decimal("1"), "USD") + Money(Decimal("1"), "EUR")
    with pytest.raises(CurrencyMismatch):
        Money(Decimal("1"), "USD") - Money(Decimal("1"), "EUR")
    with pytest.raises(CurrencyMismatch):
        money_sum([Money(Decimal("1"), "EUR"), Money(Decimal("2"), "USD")], "EUR")
    with pytest.raises(CurrencyMismatch):
        money_sum([Money(Decimal("1"), "USD")], "EUR")
    with pytest.raises(CurrencyMismatch):
        _ = Money(Decimal("1"), "USD") < Money(Decimal("2"), "JPY")


def test_builtin_sum_of_money_works_within_one_currency():
    assert sum([Money(Decimal("1.10"), "EUR"), Money(Decimal("2.20"), "EUR")]) == Money(Decimal("3.30"), "EUR")


def test_floats_are_refused_everywhere():
    with pytest.raises(InvalidAmount):
        Money(0.1, "USD")
    with pytest.raises(InvalidAmount):
        quantize(0.1, "USD")
    with pytest.raises(InvalidAmount):
        parse_amount(0.1)
    with pytest.raises(TypeError):
        Money(Decimal("1"), "USD") * 0.5


def test_money_quantized_and_formatted():
    assert Money(Decimal("2.345"), "USD").quantized() == Money(Decimal("2.35"), "USD")
    assert format_amount(Decimal("1234567.891"), "USD") == "1,234,567.89"
    assert format_amount(Decimal("1234.5"), "JPY") == "1,235"
    assert format_amount(Decimal("1.2345"), "KWD") == "1.235"
    assert str(Money(Decimal("1234.5"), "USD")) == "1,234.50 USD"  # as money_text: one way in messages


@pytest.mark.parametrize(("text", "currency", "expected"), [
    ("1234.56", None, "1234.56"),
    ("1,234.56", None, "1234.56"),
    ("-12", None, "-12"),
    ("12.34", "EUR", "12.34"),
    ("1,000,000", "JPY", "1000000"),
    ("0.125", "KWD", "0.125"),
    ("  7.50 ", "USD", "7.50"),
])
def test_parse_amount_accepts(text, currency, expected):
    assert parse_amount(text, currency) == Decimal(expected)


@pytest.mark.parametrize(("text", "currency"), [
    ("1,2,3", None),
    ("1.2.3", None),
    ("1e5", None),
    ("NaN", None),
    ("Infinity", None),
    ("", None),
    ("   ", None),
    ("12,34", None),
    ("abc", None),
    ("12.345", "EUR"),
    ("0.5", "JPY"),
    ("1.2345", "KWD"),
    ("99999999999999999", None),
])
def test_parse_amount_refuses(text, currency):
    with pytest.raises(InvalidAmount):
        parse_amount(text, currency)


def test_parse_amount_names_the_problem():
    with pytest.raises(InvalidAmount, match="'12.345' has more than 2 decimal places, which EUR does not allow"):
        parse_amount("12.345", "EUR")


@given(amount=amounts, currency=currencies)
def test_parse_amount_round_trips_quantized_amounts(amount, currency):
    value = quantize(amount, currency)
    assert parse_amount(format(value, "f"), currency) == value
    assert parse_amount(format_amount(value, currency), currency) == value
