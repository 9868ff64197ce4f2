"""Bank-statement parsers: BAI2, ISO 20022 camt.053/camt.054, SWIFT MT940 and mapped CSV.

A pure module (no models, no database): bytes in, ``ParsedStatement`` values out, one per account
statement in the file. A malformed file is refused as a whole with ``StatementParseError`` whose message
names the line or element and the problem; there is never a partial result. Amounts are ``Decimal`` at
the currency's minor unit, signed (+ money in, - money out). See docs/bank-formats.md for the field map.

Libraries, as evaluated (the pins live in pyproject.toml):

- ``mt-940`` 5.1.1 (maintained): used for the ``:61:``/balance tags (value and entry dates across a year
  end, C/D/RC/RD marks, amounts as Decimal). Wrapped: the file is split into statements and tags here so
  errors name the line; ``:86:`` is parsed here because the library's German processor puts ``?31``
  (the payer's account) into the payer's name.
- ``bai2`` 0.15.0: rejected. Its errors carry no position (blank lines are dropped before records are
  numbered; a bad amount surfaces as ``invalid literal for int()``), it refuses every bank-specific type
  code 900-999 (NotSupportedYetException), and amounts stay integers. BAI2 is a small comma format, so
  ``bai2_format`` reads it with the standard library and checks the 49/98/99 totals and counts itself.
- ``pycamt`` 1.1.1: rejected. It turns debit balances into ``float``, reads no camt.054, loses the
  unstructured remittance when a structured one is present, takes the first ``Amt`` anywhere below a
  TxDtls, and reports no element on error. ``camt_format`` uses defusedxml's ElementTree instead.
"""

from __future__ import annotations

import re

from .bai2_format import parse_bai2
from .base import CsvMapping, ParsedStatement, ParsedTransaction, StatementParseError, fail
from .camt_format import parse_camt
from .csv_format import parse_csv
from .mt940_format import parse_mt940

__all__ = [
    "FORMATS",
    "CsvMapping",
    "ParsedStatement",
    "ParsedTransaction",
    "StatementParseError",
    "detect_format",
    "parse_statement",
]

FORMATS = ("bai2", "camt053", "camt054", "mt940", "csv")

_CAMT_ROOT = re.compile(rb"<(?:[\w.-]+:)?Document\b[^>]*xmlns(?::[\w.-]+)?=[\"']urn:iso:std:iso:20022:tech:xsd:camt\.05([34])\.")
_MT940_TAG = re.compile(rb"^:(?:20|25|28C?|60[FM]|61|62[FM]|86):", re.MULTILINE)


def detect_format(data: bytes) -> str:
    """bai2 / camt053 / camt054 / mt940 / csv, by content (never by file name)."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise fail("", "the file is empty")
    if head.startswith(b"<"):
        match = _CAMT_ROOT.search(head[:4096])
        if not match:
            raise fail("", "the XML is not a camt.053 or camt.054 document")
        return "camt053" if match.group(1) == b"3" else "camt054"
    if head.startswith(b"01,"):
        return "bai2"
    if head.startswith(b"{1:") or len(_MT940_TAG.findall(head[:8192])) >= 3:
        return "mt940"
    return "csv"


def parse_statement(data: bytes, *, format: str | None = None, csv_mapping: CsvMapping | None = None) -> list[ParsedStatement]:  # noqa: A002
    """Parse a whole statement file; refuse it whole (StatementParseError) if any part is malformed."""
    kind = format or detect_format(data)
    if kind not in FORMATS:
        raise fail("", f"unknown statement format {kind!r} (use one of {', '.join(FORMATS)})")
    if kind == "bai2":
        statements = parse_bai2(data)
    elif kind == "mt940":
        statements = parse_mt940(data)
    elif kind == "csv":
        if csv_mapping is None:
            raise fail("", "a CSV statement needs a column mapping")
        statements = parse_csv(data, csv_mapping)
    else:
        statements = parse_camt(data)
        found = statements[0].format
        if found != kind:
            raise fail("Document", f"the file is {found[:4]}.{found[4:]}, not {kind[:4]}.{kind[4:]}")
    return statements
