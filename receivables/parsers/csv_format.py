"""CSV statements with a configurable column mapping (``CsvMapping``), standard library ``csv``.

One statement per currency found in the file (most files hold one). Amounts are a signed column, or a
credit and a debit column (a debit is money out whatever its sign in the file). Rows that are blank in
every column are skipped; any other row that cannot be read refuses the whole file.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from datetime import date, datetime
from decimal import Decimal

from .base import (
    CsvMapping,
    ParsedStatement,
    ParsedTransaction,
    ReferenceHasher,
    check_currency,
    check_places,
    fail,
    normalise_text,
)

_FORMAT_NAMES = {"%Y": "yyyy", "%y": "yy", "%m": "mm", "%d": "dd", "%b": "Mon"}


def _date_hint(date_format: str) -> str:
    hint = date_format
    for code, name in _FORMAT_NAMES.items():
        hint = hint.replace(code, name)
    return hint


def _amount_pattern(mapping: CsvMapping) -> re.Pattern[str]:
    decimal = re.escape(mapping.decimal_separator)
    if mapping.thousands_separator:
        thousands = re.escape(mapping.thousands_separator)
        integer = rf"(?:\d{{1,3}}(?:{thousands}\d{{3}})+|\d+)"
    else:
        integer = r"\d+"
    return re.compile(rf"^(?P<sign>[+-]?)(?P<int>{integer})(?:{decimal}(?P<frac>\d+))?(?P<trailing>-?)$")


def parse_amount_text(raw: str, mapping: CsvMapping, where: str) -> Decimal | None:
    """Amount text in the mapping's notation; None when blank. ``1.234,56-`` (trailing minus) is negative."""
    text = raw.strip().replace("\u00a0", "").replace(" ", "") if raw else ""
    if not text:
        return None
    match = _amount_pattern(mapping).match(text)
    if not match or (match.group("sign") and match.group("trailing")):
        raise fail(where, f"amount {raw!r} is not a number")
    digits = match.group("int").replace(mapping.thousands_separator, "") if mapping.thousands_separator else match.group("int")
    value = Decimal(f"{digits}.{match.group('frac')}" if match.group("frac") else digits)
    return -value if match.group("sign") == "-" or match.group("trailing") else value


def _parse_date(raw: str, mapping: CsvMapping, where: str, what: str) -> date:
    try:
        return datetime.strptime(raw.strip(), mapping.date_format).date()  # noqa: DTZ007 - a calendar date
    except ValueError:
        raise fail(where, f"{what} {raw!r} is not a date in the format {_date_hint(mapping.date_format)}")


def parse_csv(data: bytes, mapping: CsvMapping) -> list[ParsedStatement]:
    if mapping.amount and (mapping.credit or mapping.debit):
        raise fail("", "map either a signed amount column or credit and debit columns, not both")
    if not mapping.amount and not (mapping.credit and mapping.debit):
        raise fail("", "map an amount column, or both a credit and a debit column")
    try:
        text = data.decode(mapping.encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise fail(f"Line {line}", f"the file is not {mapping.encoding} text")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise fail("", "the file is empty")
    except csv.Error as exc:
        raise fail("Line 1", f"the header cannot be read ({exc})")
    header = [name.strip() for name in header]
    remittance_columns = (mapping.remittance,) if isinstance(mapping.remittance, str) else (mapping.remittance or ())
    # only the date and the amount (or credit and debit) are required; any other mapped column the
    # file does not have is left out (missing_columns says which), so a layout fits files without them
    required = [mapping.date, mapping.amount, mapping.credit, mapping.debit]
    for column in filter(None, required):
        if column not in header:
            raise fail("Line 1", f"column {column!r} is missing (the file has {', '.join(header)})")
    if mapping.currency and mapping.currency not in header and not mapping.default_currency:
        raise fail("Line 1", f"column {mapping.currency!r} is missing and no currency is given for the file "
                             f"(the file has {', '.join(header)})")
    optional = {"currency": mapping.currency, "payer_name": mapping.payer_name,
                "payer_account": mapping.payer_account, "bank_reference": mapping.bank_reference,
                "value_date": mapping.value_date}
    missing = [column for column in [*optional.values(), *remittance_columns] if column and column not in header]
    if missing:
        mapping = dataclasses.replace(mapping, **{name: None for name, column in optional.items() if column in missing},
                                      remittance=tuple(c for c in remittance_columns if c not in missing))
        remittance_columns = mapping.remittance
    index = {name: position for position, name in enumerate(header)}
    by_currency: dict[str, list[ParsedTransaction]] = {}
    hasher = ReferenceHasher(mapping.account_number)
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise fail(f"Line {start}", f"the row cannot be read ({exc})")
        where = f"Line {start}"
        line = start
        start = reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise fail(where, f"{len(row)} columns where the header has {len(header)}")

        def cell(column: str | None, row: list[str] = row) -> str:
            return row[index[column]].strip() if column else ""

        currency = check_currency(cell(mapping.currency) or mapping.default_currency, where)
        if mapping.amount:
            amount = parse_amount_text(cell(mapping.amount), mapping, where)
            if amount is None:
                raise fail(where, f"the amount ({mapping.amount}) is empty")
        else:
            credit = parse_amount_text(cell(mapping.credit), mapping, where)
            debit = parse_amount_text(cell(mapping.debit), mapping, where)
            if credit and debit:
                raise fail(where, f"both {mapping.credit!r} and {mapping.debit!r} hold an amount")
            if credit is None and debit is None:
                raise fail(where, f"neither {mapping.credit!r} nor {mapping.debit!r} holds an amount")
            amount = abs(credit) if credit else -abs(debit or Decimal(0))
        amount = check_places(amount, currency, where, cell(mapping.amount or mapping.credit) or cell(mapping.debit))
        raw_date = cell(mapping.date)
        if not raw_date:
            raise fail(where, f"the date ({mapping.date}) is empty")
        booking = _parse_date(raw_date, mapping, where, "date")
        value = _parse_date(cell(mapping.value_date), mapping, where, "value date") if cell(mapping.value_date) else booking
        payer = normalise_text(cell(mapping.payer_name))
        account = normalise_text(cell(mapping.payer_account))
        remittance = normalise_text(*(cell(column) for column in remittance_columns))
        reference = cell(mapping.bank_reference)
        by_currency.setdefault(currency, []).append(
            ParsedTransaction(
                bank_reference=reference or hasher(booking, value, amount, currency, payer, account, remittance),
                value_date=value,
                booking_date=booking,
                amount=amount,
                currency=currency,
                payer_name=payer,
                payer_account=account,
                remittance=remittance,
                end_to_end_id="",
                type_code="",
                location=f"line {line}",
            )
        )
    if not by_currency:
        raise fail("", "the file holds no transactions")
    return [
        ParsedStatement(
            missing_columns=tuple(missing),
            format="csv",
            account_number=mapping.account_number,
            currency=currency,
            statement_id="",
            statement_date=max(tx.booking_date or tx.value_date for tx in items),
            opening_balance=None,
            closing_balance=None,
            transactions=tuple(items),
        )
        for currency, items in by_currency.items()
    ]
