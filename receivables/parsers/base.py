"""Shared shapes and helpers of the bank-statement parsers (no models, no database)."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from otc.errors import InvalidAmount, ValidationFailed
from otc.money import minor_units, validate_currency


@dataclass(frozen=True)
class ParsedTransaction:
    bank_reference: str
    value_date: date
    booking_date: date | None
    amount: Decimal  # signed: + money in (credit), - money out (debit)
    currency: str
    payer_name: str
    payer_account: str
    remittance: str
    end_to_end_id: str
    type_code: str
    location: str


@dataclass(frozen=True)
class ParsedStatement:
    format: str  # "bai2" | "camt053" | "camt054" | "mt940" | "csv"
    account_number: str
    currency: str
    statement_id: str
    statement_date: date
    opening_balance: Decimal | None
    closing_balance: Decimal | None
    transactions: tuple[ParsedTransaction, ...]
    missing_columns: tuple[str, ...] = ()  # CSV: mapped optional columns the file does not have (left out)


class StatementParseError(ValidationFailed):
    """The file is refused as a whole; the message names the line/element and the problem."""

    code = "statement_parse_error"

    def __init__(self, message: str, *, location: str = "", fields: dict | None = None) -> None:
        super().__init__(message, fields=fields)
        self.location = location


@dataclass(frozen=True)
class CsvMapping:
    """Column mapping for CSV statements (names are header names)."""

    date: str
    amount: str
    currency: str | None = None
    default_currency: str = ""
    payer_name: str | None = None
    payer_account: str | None = None
    remittance: str | tuple[str, ...] | None = None
    bank_reference: str | None = None
    value_date: str | None = None
    date_format: str = "%Y-%m-%d"
    decimal_separator: str = "."
    thousands_separator: str = ""
    delimiter: str = ","
    credit: str | None = None  # alternative to a signed amount column: two columns
    debit: str | None = None
    account_number: str = ""  # the account this CSV belongs to (CSV files rarely say)
    encoding: str = "utf-8-sig"


def fail(where: str, problem: str) -> StatementParseError:
    """Build the error: ``"<where>: <problem>"`` (``where`` e.g. "Line 14 (record 16)")."""
    return StatementParseError(f"{where}: {problem}" if where else problem, location=where)


def normalise_text(*parts: str | None) -> str:
    """Join text parts with one space, collapsing all whitespace."""
    return " ".join(word for part in parts if part for word in part.split())


def check_currency(code: str | None, where: str) -> str:
    text = (code or "").strip()
    if len(text) != 3 or not text.isalpha() or not text.isupper():
        raise fail(where, f"currency {text!r} is not an ISO 4217 code")
    try:
        return validate_currency(text)
    except InvalidAmount:
        raise fail(where, f"unknown currency code {text!r}")


def check_places(amount: Decimal, currency: str, where: str, raw: str) -> Decimal:
    """The amount at the currency's minor unit; refuses digits beyond it (``12.505`` USD)."""
    if amount.adjusted() >= 16:
        raise fail(where, f"amount {raw!r} is too large")
    places = minor_units(currency)
    quantised = amount.quantize(Decimal(1).scaleb(-places))
    if quantised != amount:
        raise fail(where, f"amount {raw!r} has more decimals than {currency} allows ({places})")
    return quantised


def from_minor_units(units: int, currency: str) -> Decimal:
    """BAI2-style implied decimals: 150000 USD -> 1500.00, 1500 JPY -> 1500."""
    return Decimal(units).scaleb(-minor_units(currency))


class ReferenceHasher:
    """Stable references for transactions the bank sent without one.

    The hash covers the account, dates, amount, currency, payer and text, plus an occurrence counter so
    two identical rows in one statement stay distinct and a re-import yields the same references.
    """

    def __init__(self, account: str) -> None:
        self.account = account
        self.seen: Counter[str] = Counter()

    def __call__(self, *parts: object) -> str:
        key = "|".join([self.account, *(str(part) for part in parts)])
        self.seen[key] += 1
        digest = hashlib.sha256(f"{key}|{self.seen[key]}".encode()).hexdigest()[:24]
        return f"H-{digest}"
