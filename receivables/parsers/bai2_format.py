"""BAI2 (Cash Management Balance Reporting Specifications, version 2) with the standard library.

Records: 01 file header, 02 group header, 03 account identifier (with summary/status amounts), 16
transaction detail, 88 continuation, 49 account trailer, 98 group trailer, 99 file trailer. Amounts are
in the currency's minor unit without a decimal point; the sign of a 16 record comes from its type code
(100-399 and 920-959 credits, 400-699 and 960-999 debits). Control totals and record counts of the 49,
98 and 99 trailers are checked; a file whose totals do not agree is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from .base import (
    ParsedStatement,
    ParsedTransaction,
    ReferenceHasher,
    check_currency,
    fail,
    from_minor_units,
    normalise_text,
)
from .narrative import is_swift_style, parse_swift, parse_us_text

RECORD_WIDTH = 80  # banks that fill records to 80 characters continue the text mid-word on the 88
RECORD_CODES = {"01", "02", "03", "16", "49", "88", "98", "99"}
FUNDS_TYPES = {"", "0", "1", "2", "Z", "V", "S", "D"}
_SIGNED = re.compile(r"^[+-]?\d+$")
_UNSIGNED = re.compile(r"^\d+$")
_TYPE_CODE = re.compile(r"^\d{3}$")


@dataclass
class _Record:
    code: str
    line: int
    parts: list[str] = field(default_factory=list)  # the text after "NN," of the record and its 88s
    lines: int = 1
    full: list[bool] = field(default_factory=list)  # a physical record filled to 80 characters (cut mid-word)

    @property
    def where(self) -> str:
        return f"Line {self.line} (record {self.code})"

    def fields(self) -> list[str]:
        """Fields of a non-16 record: each physical record ends at a field boundary, '/' ends a record."""
        out: list[str] = []
        for part in self.parts:
            text = part.rstrip()
            if text.endswith("/"):
                text = text[:-1]
            out.extend(value.strip() for value in text.split(","))
        return out


def credit_or_debit(type_code: str) -> int:
    """+1 for a credit type code, -1 for a debit, 0 for status/summary codes that carry no transaction."""
    code = int(type_code)
    if 100 <= code <= 399 or 920 <= code <= 959:
        return 1
    if 400 <= code <= 699 or 960 <= code <= 999:
        return -1
    return 0


def _date(value: str, where: str, what: str) -> date:
    if not re.fullmatch(r"\d{6}", value or ""):
        raise fail(where, f"{what} {value!r} is not a date (YYMMDD)")
    try:
        return datetime.strptime(value, "%y%m%d").date()  # noqa: DTZ007 - a calendar date, no time
    except ValueError:
        raise fail(where, f"{what} {value!r} is not a valid date (YYMMDD)")


def _int(value: str, where: str, what: str, *, signed: bool = False, required: bool = True) -> int | None:
    if value == "" and not required:
        return None
    if not (_SIGNED if signed else _UNSIGNED).match(value or ""):
        raise fail(where, f"{what} {value!r} is not a number")
    return int(value)


def _kept(raw: str, rest: str) -> str:
    """The record's text after its code with the trailing spaces the line had: a record filled to 80
    characters may end with the space between two words, which the continuation must not lose."""
    line = raw.rstrip("\r\n")
    return rest + " " * (len(line) - len(line.rstrip())) if line.rstrip().endswith(rest) else rest


def _records(text: str) -> list[_Record]:
    records: list[_Record] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        code, comma, rest = line.partition(",")
        if code not in RECORD_CODES or not comma:
            raise fail(f"Line {number}", f"{line[:20]!r} does not start with a BAI2 record code (01, 02, 03, 16, 88, 49, 98, 99)")
        if code == "88":
            if not records:
                raise fail(f"Line {number} (record 88)", "a continuation record cannot open the file")
            records[-1].parts.append(_kept(raw, rest))
            records[-1].full.append(len(raw.rstrip("\r\n")) == RECORD_WIDTH and not line.endswith("/"))
            records[-1].lines += 1
        else:
            records.append(_Record(code=code, line=number, parts=[_kept(raw, rest)],
                                   full=[len(raw.rstrip("\r\n")) == RECORD_WIDTH and not line.endswith("/")]))
    if not records:
        raise fail("", "the file is empty")
    return records


def _availability(funds_type: str, fields: list[str], where: str) -> tuple[date | None, list[str]]:
    """Consume the availability fields that follow a funds type; return a value date for type V."""
    if funds_type == "S":
        for value in fields[:3]:
            _int(value, where, "availability amount", signed=True, required=False)
        return None, fields[3:]
    if funds_type == "V":
        if len(fields) < 2:
            raise fail(where, "funds type V needs a value date and time")
        return _date(fields[0], where, "value date"), fields[2:]
    if funds_type == "D":
        count = _int(fields[0] if fields else "", where, "number of distributions") or 0
        return None, fields[1 + 2 * count :]
    return None, fields


class _Account:
    def __init__(self, record: _Record, group_currency: str, as_of: date) -> None:
        self.header = record
        fields = record.fields()
        where = record.where
        if len(fields) < 2 or not fields[0]:
            raise fail(where, "the account number is missing")
        self.number = fields[0]
        self.currency = check_currency(fields[1], where) if fields[1] else group_currency
        self.as_of = as_of
        self.control = 0
        self.records = record.lines
        self.opening: Decimal | None = None
        self.closing: Decimal | None = None
        rest = fields[2:]
        while rest and any(rest):
            if len(rest) < 4:
                raise fail(where, f"incomplete summary item {','.join(rest)!r} (type code, amount, item count, funds type)")
            type_code, amount_text, count, funds_type = rest[:4]
            if not _TYPE_CODE.match(type_code):
                raise fail(where, f"type code {type_code!r} is not a three-digit code")
            amount = _int(amount_text, where, "amount", signed=True, required=False)
            _int(count, where, "item count", required=False)
            if funds_type not in FUNDS_TYPES:
                raise fail(where, f"funds type {funds_type!r} is not one of 0, 1, 2, Z, V, S, D")
            _, rest = _availability(funds_type, rest[4:], where)
            if amount is not None:
                self.control += amount
                if type_code == "010":
                    self.opening = from_minor_units(amount, self.currency)
                elif type_code == "015":
                    self.closing = from_minor_units(amount, self.currency)
        self.transactions: list[ParsedTransaction] = []
        self.hasher = ReferenceHasher(self.number)

    def add_detail(self, record: _Record) -> None:
        where = record.where
        head, _, rest = record.parts[0].partition(",")
        fields = [head.strip()]
        # type code, amount, funds type, [availability], bank ref, customer ref, text (text may hold commas)
        for _ in range(2):
            value, _, rest = rest.partition(",")
            fields.append(value.strip())
        type_code, amount_text, funds_type = fields
        if not _TYPE_CODE.match(type_code):
            raise fail(where, f"type code {type_code!r} is not a three-digit code")
        sign = credit_or_debit(type_code)
        if not sign:
            raise fail(where, f"type code {type_code} is a status or summary code, not a transaction")
        units = _int(amount_text, where, "amount")
        if funds_type not in FUNDS_TYPES:
            raise fail(where, f"funds type {funds_type!r} is not one of 0, 1, 2, Z, V, S, D")
        value_date = None
        if funds_type in {"S", "V", "D"}:
            avail_count = {"S": 3, "V": 2}.get(funds_type)
            if avail_count is None:
                count_text, _, rest = rest.partition(",")
                count = _int(count_text.strip(), where, "number of distributions") or 0
                avail_count = 2 * count
                avail = [count_text.strip()]
            else:
                avail = []
            for _ in range(avail_count):
                value, _, rest = rest.partition(",")
                avail.append(value.strip())
            value_date, _ = _availability(funds_type, avail, where)
        bank_ref, _, rest = rest.partition(",")
        customer_ref, _, text = rest.partition(",")
        bank_ref, customer_ref = bank_ref.strip().rstrip("/"), customer_ref.strip().rstrip("/")
        segments: list[str] = []
        physical = [text, *record.parts[1:]]
        for index, part in enumerate(physical):
            piece = part.strip().removesuffix("/").strip()
            if index and record.full[index - 1] and segments:
                # the previous record was filled to the width: cut mid-word, or at a space it kept
                glue = " " if physical[index - 1].endswith(" ") or part.startswith(" ") else ""
                segments[-1] += glue + piece
            else:
                segments.append(piece)
        joined = normalise_text(*segments)
        found = parse_swift(joined) if is_swift_style(joined) else parse_us_text(segments)
        text = found.remittance
        assert units is not None
        self.control += units
        self.records += record.lines
        amount = sign * from_minor_units(units, self.currency)
        hashed = normalise_text(customer_ref, joined) if customer_ref and customer_ref not in joined else joined
        if customer_ref and customer_ref not in text:
            text = normalise_text(customer_ref, text)
        self.transactions.append(
            ParsedTransaction(
                bank_reference=bank_ref or self.hasher(self.as_of, amount, self.currency, hashed),
                value_date=value_date or self.as_of,
                booking_date=self.as_of,
                amount=amount,
                currency=self.currency,
                payer_name=found.payer_name or found.ultimate_payer,
                payer_account=found.payer_account,
                remittance=text,
                end_to_end_id=found.end_to_end_id,
                type_code=type_code,
                location=f"line {record.line}",
            )
        )


def _check(record: _Record, what: str, stated: int | None, counted: int) -> None:
    if stated != counted:
        raise fail(record.where, f"{what} is {stated} but the records add up to {counted}")


def parse_bai2(data: bytes) -> list[ParsedStatement]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    records = _records(text)
    statements: list[ParsedStatement] = []
    file_id = ""
    file_header: _Record | None = None
    group: dict | None = None
    account: _Account | None = None
    file_total = groups = file_records = 0
    finished = False

    for record in records:
        if finished:
            raise fail(record.where, "records after the file trailer (99)")
        where = record.where
        fields = record.fields() if record.code != "16" else []
        if file_header is None:
            if record.code != "01":
                raise fail(where, "the file must start with a file header (01)")
            if len(fields) < 8:
                raise fail(where, "the file header needs 8 fields")
            _date(fields[2], where, "creation date")
            if fields[7] != "2":
                raise fail(where, f"version {fields[7]!r} is not BAI version 2")
            file_header, file_id = record, fields[4]
            file_records += record.lines
        elif record.code == "02":
            if group is not None:
                raise fail(where, "a new group header (02) before the previous group's trailer (98)")
            if len(fields) < 4:
                raise fail(where, "the group header needs the receiver, originator, status and as-of date")
            as_of = _date(fields[3], where, "as-of date")
            currency = check_currency(fields[5], where) if len(fields) > 5 and fields[5] else "USD"
            group = {"record": record, "as_of": as_of, "currency": currency, "total": 0, "accounts": 0,
                     "records": record.lines}
        elif record.code == "03":
            if group is None or account is not None:
                raise fail(where, "an account identifier (03) must be inside a group and after the previous account's trailer (49)")
            account = _Account(record, group["currency"], group["as_of"])
        elif record.code == "16":
            if account is None:
                raise fail(where, "a transaction detail (16) must follow an account identifier (03)")
            account.add_detail(record)
        elif record.code == "49":
            if account is None or group is None:
                raise fail(where, "an account trailer (49) without an account identifier (03)")
            if len(fields) < 2:
                raise fail(where, "the account trailer needs the control total and the number of records")
            total = _int(fields[0], where, "account control total", signed=True)
            count = _int(fields[1], where, "number of records")
            _check(record, "the account control total", total, account.control)
            _check(record, "the number of records", count, account.records + record.lines)
            group["total"] += account.control
            group["accounts"] += 1
            group["records"] += account.records + record.lines
            statements.append(
                ParsedStatement(
                    format="bai2",
                    account_number=account.number,
                    currency=account.currency,
                    statement_id=file_id,
                    statement_date=account.as_of,
                    opening_balance=account.opening,
                    closing_balance=account.closing,
                    transactions=tuple(account.transactions),
                )
            )
            account = None
        elif record.code == "98":
            if group is None or account is not None:
                raise fail(where, "a group trailer (98) must close a group after its last account trailer (49)")
            if len(fields) < 3:
                raise fail(where, "the group trailer needs the control total, number of accounts and records")
            _check(record, "the group control total", _int(fields[0], where, "group control total", signed=True), group["total"])
            _check(record, "the number of accounts", _int(fields[1], where, "number of accounts"), group["accounts"])
            _check(record, "the number of records", _int(fields[2], where, "number of records"), group["records"] + record.lines)
            file_total += group["total"]
            groups += 1
            file_records += group["records"] + record.lines
            group = None
        elif record.code == "99":
            if group is not None:
                raise fail(where, "the file trailer (99) comes before the group trailer (98)")
            if len(fields) < 3:
                raise fail(where, "the file trailer needs the control total, number of groups and records")
            _check(record, "the file control total", _int(fields[0], where, "file control total", signed=True), file_total)
            _check(record, "the number of groups", _int(fields[1], where, "number of groups"), groups)
            _check(record, "the number of records", _int(fields[2], where, "number of records"), file_records + record.lines)
            finished = True
        else:  # a second 01
            raise fail(where, "a second file header (01)")
    if not finished:
        last = records[-1]
        raise fail(f"Line {last.line}", "the file ends without a file trailer (99)")
    if not statements:
        raise fail("", "the file holds no account (03)")
    return statements
