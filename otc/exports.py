"""Spreadsheet exports that cannot run formulas (CSV/formula injection, OWASP).

A cell whose text starts with = + - @ tab or carriage return is read as a formula by Excel,
LibreOffice and Google Sheets; a customer named `=HYPERLINK(...)` would run in the reader's
spreadsheet. Every export writes its cells through this module:

    from otc.exports import safe_cell, safe_row, csv_writer, sheet_append

    writer = csv_writer(stream)          # like csv.writer, every row neutralised
    writer.writerow([name, amount])

    sheet_append(sheet, [name, amount])  # openpyxl: like sheet.append, neutralised
    return workbook_bytes(book)          # every workbook is saved through this: it walks every
                                         # cell of every sheet (however written) and neutralises it

Only text is changed, by a leading apostrophe (which spreadsheets show as "text"); numbers,
decimals, dates and booleans pass as they are, and so does text that is a plain number
("-120.50"), which no spreadsheet evaluates."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """The value, with text that a spreadsheet would evaluate prefixed by an apostrophe."""
    if isinstance(value, str) and value.startswith(TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


class _SafeWriter:
    def __init__(self, writer) -> None:
        self._writer = writer

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]):
        return self._writer.writerows(safe_row(r) for r in rows)


def csv_writer(stream, **kwargs) -> _SafeWriter:
    """`csv.writer(stream, **kwargs)` whose rows are neutralised."""
    return _SafeWriter(csv.writer(stream, **kwargs))


def sheet_append(sheet, values: Iterable[Any]) -> None:
    """`sheet.append(values)` for an openpyxl worksheet, neutralised. (openpyxl stores any text
    starting with "=" as a formula: this is what keeps it text.)"""
    sheet.append(safe_row(values))


def neutralise_workbook(book) -> None:
    """Make every cell of every sheet safe, however it was written (`sheet.cell(value=...)`,
    `sheet["A1"] = ...`, `append`): a text cell a spreadsheet would evaluate, and any formula
    cell (openpyxl stores text starting with "=" as a formula), becomes text with an apostrophe.
    Exports write no formulas of their own."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str) and (cell.data_type == "f" or value.startswith(TRIGGERS)):
                    safe = safe_cell(value)
                    if cell.data_type == "f" and safe == value:
                        safe = "'" + value
                    cell.value = safe
                    cell.data_type = "s"


def workbook_bytes(book) -> bytes:
    """The openpyxl workbook as .xlsx bytes, every cell neutralised first (the one way exports save)."""
    import io

    neutralise_workbook(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
