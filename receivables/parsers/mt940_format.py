"""SWIFT MT940 through the ``mt-940`` library, wrapped so that errors name the line.

The file is split here into statements (one per ``:20:`` block) with the line of every tag; each block
goes through ``mt940.models.Transactions`` whose ``_process_match`` is wrapped to report the tag and line
that failed (the library itself raises a bare RuntimeError/ValueError without a position). The library
parses the ``:61:`` statement lines (value date, entry date across a year end, C/D/RC/RD marks, amount,
transaction type, references) and the balances. The ``:86:`` narrative is read here: the library's
German-style processor maps ``?31`` (the payer's account) into the payer's name, so ``?xx`` subfields
and the SEPA keywords (EREF+, SVWZ+, ...) are parsed by this module instead.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

import mt940

from .base import (
    ParsedStatement,
    ParsedTransaction,
    ReferenceHasher,
    check_currency,
    check_places,
    fail,
    normalise_text,
)
from .narrative import is_swift_style, parse_swift

_TAG = re.compile(r"^:(?P<tag>\d{2}[A-Z]?|NS):(?P<value>.*)$")
_SWIFT_BLOCK = re.compile(r"^\{[1-5]:")
_SUBFIELD = re.compile(r"\?(\d{2})")
_SEPA_KEYWORD = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC|PURP|COAM|OAMT|SQTP|ORCR|ORMR)\+")
_STATEMENT_LINE = re.compile(
    r"^\d{6}(?:\d{4}|\s{4})?R?[CD][A-Z]?(?P<amount>\d[\d,]{0,14})(?:[NSF][A-Z0-9]{3}|[A-Z][A-Z0-9 ]{3})"
)
_BALANCE = re.compile(r"^[CD]\d{6}[A-Za-z]{3}(?P<amount>[\d,]{1,15})$")
_AMOUNT = re.compile(r"^\d+,\d*$")
_WRAP_WIDTH = 65  # a :86: line this long was wrapped mid-word by the bank


@dataclass
class _Tag:
    tag: str
    line: int
    lines: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"Line {self.line} (:{self.tag}:)"


class _TagFailed(Exception):
    def __init__(self, offset: int, tag: str, error: Exception) -> None:
        super().__init__(str(error))
        self.offset, self.tag, self.error = offset, tag, error


class _LocatingTransactions(mt940.models.Transactions):
    def _process_match(self, match, i, valid_matches, data):  # type: ignore[override]
        try:
            super()._process_match(match, i, valid_matches, data)
        except (RuntimeError, ValueError, ArithmeticError, KeyError, TypeError) as exc:
            raise _TagFailed(match.start(), match.group("full_tag"), exc)


def _tags(text: str) -> list[_Tag]:
    tags: list[_Tag] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip() or line.strip() in ("-", "-}") or _SWIFT_BLOCK.match(line):
            if _SWIFT_BLOCK.match(line) and ":20:" in line:  # "{4::20:..." on one line
                line = line[line.index(":20:"):]
            else:
                continue
        match = _TAG.match(line)
        if match:
            tags.append(_Tag(match.group("tag"), number, [match.group("value")]))
        elif tags:
            tags[-1].lines.append(line)
        else:
            raise fail(f"Line {number}", f"{line[:20]!r} is not an MT940 tag such as :20:")
    if not tags:
        raise fail("", "the file is empty")
    return tags


def _split(tags: list[_Tag]) -> list[list[_Tag]]:
    blocks: list[list[_Tag]] = []
    for tag in tags:
        if tag.tag == "20":
            blocks.append([tag])
        elif not blocks:
            raise fail(tag.where, "a statement must start with :20:")
        else:
            blocks[-1].append(tag)
    return blocks


def _first(block: list[_Tag], *names: str) -> _Tag | None:
    return next((tag for tag in block if tag.tag in names), None)


def _describe(error: Exception) -> str:
    if isinstance(error, RuntimeError) and len(error.args) >= 3:
        return f"{str(error.args[2])[:60]!r} does not follow the MT940 layout of this tag"
    if isinstance(error, ArithmeticError):
        return "the amount is not a number (use a decimal comma, e.g. 1500,00)"
    if isinstance(error, ValueError) and ("month" in str(error) or "day" in str(error) or "year" in str(error)):
        return f"invalid date ({error})"
    return str(error)


def _check_layout(tag: _Tag) -> None:
    """Layout checks the library does not make (it may read a bad :61: as a shorter one, or skip it)."""
    if tag.tag == "61":
        match = _STATEMENT_LINE.match(tag.lines[0].strip())
        if not match:
            raise fail(tag.where, "the statement line does not follow the MT940 layout "
                                  "(YYMMDD[MMDD] C/D amount type reference, e.g. 2603020302C1500,00NTRFNONREF)")
    elif tag.tag[:2] in ("60", "62", "64", "65"):
        match = _BALANCE.match(tag.lines[0].strip())
        if not match:
            raise fail(tag.where, "the balance does not follow the MT940 layout (C/D YYMMDD currency amount, "
                                  "e.g. C260301EUR1000,00)")
    else:
        return
    if not _AMOUNT.match(match.group("amount")):
        raise fail(tag.where, f"amount {match.group('amount')!r} is not a number (use one decimal comma, e.g. 1500,00)")


def _parse_block(block: list[_Tag]) -> mt940.models.Transactions:
    for tag in block:
        _check_layout(tag)
    text_lines: list[str] = []
    line_numbers: list[int] = []
    starts: list[int] = []
    offset = 0
    for tag in block:
        for index, line in enumerate(tag.lines):
            physical = f":{tag.tag}:{line}" if index == 0 else line
            starts.append(offset)
            line_numbers.append(tag.line + index)
            text_lines.append(physical)
            offset += len(physical) + 1
    transactions = _LocatingTransactions()
    try:
        transactions.parse("\n".join(text_lines))
    except _TagFailed as exc:
        line = line_numbers[bisect_right(starts, exc.offset) - 1]
        owner = next(tag for tag in reversed(block) if tag.line <= line)
        raise fail(owner.where, _describe(exc.error))
    return transactions


def _details(lines: list[str]) -> tuple[str, str, str, str]:
    """``:86:`` lines -> (payer name, payer account, remittance, end-to-end id)."""
    joined = "".join(lines)
    if re.match(r"^\d{3}\?", joined) or "?20" in joined:
        fields: dict[str, list[str]] = {}
        pieces = _SUBFIELD.split(joined)
        for number, value in zip(pieces[1::2], pieces[2::2], strict=False):
            fields.setdefault(number, []).append(value)
        purpose = "".join(v for key in sorted(fields) if "20" <= key <= "29" or "60" <= key <= "63" for v in fields[key])
        name = normalise_text("".join(fields.get("32", []) + fields.get("33", [])))
        account = "".join(fields.get("31", [])).strip()
    else:
        purpose = _unwrap(lines)
        if is_swift_style(purpose):
            found = parse_swift(purpose)
            return (found.payer_name or found.ultimate_payer, found.payer_account, found.remittance,
                    found.end_to_end_id)
        name, account = "", ""
    end_to_end = ""
    keywords = list(_SEPA_KEYWORD.finditer(purpose))
    if keywords:
        segments = {m.group(1): purpose[m.end(): (keywords[i + 1].start() if i + 1 < len(keywords) else None)]
                    for i, m in enumerate(keywords)}
        end_to_end = normalise_text(segments.get("EREF", ""))
        remittance = normalise_text(purpose[: keywords[0].start()], segments.get("SVWZ", ""))
        account = account or "".join(segments.get("IBAN", "").split())
        name = name or normalise_text(segments.get("ABWA", ""))
    else:
        remittance = normalise_text(purpose)
    if end_to_end.upper() == "NOTPROVIDED":
        end_to_end = ""
    return name, account, remittance, end_to_end


def _unwrap(lines: list[str]) -> str:
    """Join :86: lines; a line filled to the width (65, or 61 after the ``:86:`` tag) was cut mid-word."""
    out = ""
    for index, line in enumerate(lines):
        out += line
        full = len(line) == _WRAP_WIDTH or (index == 0 and len(line) == _WRAP_WIDTH - 4)
        if index + 1 < len(lines) and not full:
            out += " "
    return out


def _balance(transactions: mt940.models.Transactions, tag: _Tag, key: str) -> tuple[Decimal, str, date]:
    balance = transactions.data.get(key)
    if balance is None:
        raise fail(tag.where, "the balance could not be read")
    currency = check_currency(balance.amount.currency, tag.where)
    amount = check_places(balance.amount.amount, currency, tag.where, tag.lines[0])
    return amount, currency, date(balance.date.year, balance.date.month, balance.date.day)


def _statement(block: list[_Tag]) -> ParsedStatement:
    head = block[0]
    account_tag = _first(block, "25")
    number_tag = _first(block, "28C", "28")
    opening_tag = _first(block, "60F", "60M")
    closing_tag = _first(block, "62F", "62M")
    for tag, what in ((account_tag, ":25: account"), (number_tag, ":28C: statement number"),
                      (opening_tag, ":60F: opening balance"), (closing_tag, ":62F: closing balance")):
        if tag is None:
            raise fail(head.where, f"the statement {normalise_text(head.lines[0])!r} has no {what}")
    assert account_tag and number_tag and opening_tag and closing_tag
    parsed = _parse_block(block)
    opening, currency, _ = _balance(parsed, opening_tag, "final_opening_balance" if opening_tag.tag == "60F"
                                    else "intermediate_opening_balance")
    closing, closing_currency, closing_date = _balance(parsed, closing_tag, "final_closing_balance"
                                                       if closing_tag.tag == "62F" else "intermediate_closing_balance")
    if closing_currency != currency:
        raise fail(closing_tag.where, f"currency {closing_currency} differs from the opening balance's {currency}")
    lines = [tag for tag in block if tag.tag == "61"]
    if len(lines) != len(parsed):
        raise fail(head.where, f"{len(lines)} :61: lines but {len(parsed)} transactions were read")
    account = normalise_text(account_tag.lines[0])
    hasher = ReferenceHasher(account)
    transactions: list[ParsedTransaction] = []
    position = {id(tag): index for index, tag in enumerate(block)}  # block.index() per line was quadratic
    for tag, item in zip(lines, parsed, strict=True):
        data = item.data
        try:
            amount = check_places(Decimal(data["amount"].amount), currency, tag.where, tag.lines[0])
        except InvalidOperation:
            raise fail(tag.where, "the amount is not a number")
        value_date = date(data["date"].year, data["date"].month, data["date"].day)
        entry = data.get("entry_date")
        after = position[id(tag)] + 1
        details_tag = block[after] if after < len(block) else None
        details = details_tag.lines if details_tag is not None and details_tag.tag == "86" else []
        name, payer_account, remittance, end_to_end = _details(details)
        customer_ref = (data.get("customer_reference") or "").strip()
        if customer_ref.upper() == "NONREF":
            customer_ref = ""
        reference = (data.get("bank_reference") or "").strip() or customer_ref
        transactions.append(
            ParsedTransaction(
                bank_reference=reference or hasher(value_date, amount, currency, remittance),
                value_date=value_date,
                booking_date=date(entry.year, entry.month, entry.day) if entry else None,
                amount=amount,
                currency=currency,
                payer_name=name,
                payer_account=payer_account,
                remittance=remittance,
                end_to_end_id=end_to_end,
                type_code=(data.get("id") or "").strip(),
                location=f"line {tag.line}",
            )
        )
    moved = sum((tx.amount for tx in transactions), Decimal(0))
    if opening + moved != closing:
        raise fail(closing_tag.where, f"opening balance {opening} + movements {moved} = {opening + moved}, "
                                      f"but the closing balance is {closing}")
    return ParsedStatement(
        format="mt940",
        account_number=account,
        currency=currency,
        statement_id=normalise_text(number_tag.lines[0]),
        statement_date=closing_date,
        opening_balance=opening,
        closing_balance=closing,
        transactions=tuple(transactions),
    )


def parse_mt940(data: bytes) -> list[ParsedStatement]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return [_statement(block) for block in _split(_tags(text))]
