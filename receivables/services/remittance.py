"""Remittance advices: a CSV or XLSX file from the payer listing the invoices a payment is for,
attached to a receipt and applied by it.

Reading (`remittance_parse`): the first sheet (XLSX) or the file (CSV: UTF-8 or Windows-1252, the
delimiter sniffed among , ; tab |). The header row is the first of the top 20 rows naming both an
invoice column ("Invoice", "Invoice number", "Number", "Reference", "Document"...) and an amount
column ("Amount", "Paid", "Amount paid", "Payment"...); title lines above it are ignored, and so
are blank rows and a "Total" row. Amounts may be written "1,190.00", "1.190,00", "EUR 1190.00".
A file that cannot be read, has no such header, no rows, or a row without a number or with an
amount that is not a positive number is refused whole, naming the row.

Applying (`receipt_apply_remittance`): each number is looked up among the open invoices (issued or
partially paid) of the receipt's customer, or, for a receipt nobody has identified yet, of the
receipt's legal entity: first exactly, then in the tolerant forms payers write ("INV-2026-7",
"2026/000007", "#7"; receivables.matching.extract_invoice_numbers). Everything is applied through
`receipt_apply` in one transaction, or nothing: an unknown or ambiguous number, an amount above an
invoice's balance, or a total above what is left on the receipt is refused with the rows named.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from billing.models import Invoice
from ledger.models import OpenItem
from otc.errors import InvalidTransition, PermissionDenied, ValidationFailed
from otc.models import User
from otc.money import quantize
from receivables.matching import extract_invoice_numbers, parse_invoice_number
from receivables.models import ReceiptApplication

from .receipts import LIVE, lock_receipt, receipt_apply

OPEN_INVOICE_STATUSES = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)
HEADER_SCAN_ROWS = 20
MAX_ROWS = 5000
_INVOICE_HEADERS = ("invoice", "invoicenumber", "invoiceno", "invoicenr", "invoiceid", "invoiceref", "invoicereference",
                    "number", "no", "reference", "ref", "documentnumber", "document", "docno", "rechnung",
                    "rechnungsnummer", "rechnungsnr", "facture", "factura")
_AMOUNT_HEADERS = ("amount", "paid", "amountpaid", "paidamount", "paymentamount", "payment", "amountpaidnow", "sum",
                   "betrag", "zahlbetrag", "montant", "importe")
_TOTAL_WORDS = {"total", "totals", "sum", "grandtotal", "gesamt", "summe"}
_CURRENCY_NOISE = re.compile(r"[A-Za-z€$£¥\s\u00a0']")


def _fail(message: str, file_name: str, row: int | None = None) -> ValidationFailed:
    where = f"{file_name}, row {row}" if row is not None else file_name
    return ValidationFailed(f"{where}: {message}", fields={"file": [message]})


def _key(header: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(header or "").lower())


def _column(keys: list[str], names: tuple[str, ...], words: tuple[str, ...]) -> int | None:
    for name in names:  # an exact header first, in the order of preference
        if name in keys:
            return keys.index(name)
    for index, key in enumerate(keys):  # then one that contains the word ("Invoice No.", "Amount (EUR)")
        if any(word in key for word in words):
            return index
    return None


def _header(rows: list[list[Any]]) -> tuple[int, int, int] | None:
    """(row index, invoice column, amount column) of the header row."""
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        keys = [_key(cell) for cell in row]
        invoice = _column(keys, _INVOICE_HEADERS, ("invoice", "rechnung", "reference", "document"))
        amount = _column(keys, _AMOUNT_HEADERS, ("amount", "paid", "betrag", "payment"))
        if invoice is not None and amount is not None and invoice != amount:
            return index, invoice, amount
    return None


def _amount(value: Any) -> Decimal:
    """A written amount as a Decimal; raises ValueError when it is not one."""
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):  # a spreadsheet number: its shortest decimal form, never the binary value
        return Decimal(repr(value))
    text = _CURRENCY_NOISE.sub("", str(value))
    if not text:
        raise ValueError
    if "," in text and "." in text:  # the last separator is the decimal one
        text = text.replace(",", "") if text.rfind(".") > text.rfind(",") else text.replace(".", "").replace(",", ".")
    elif "," in text:
        text = text.replace(",", "") if re.fullmatch(r"-?\d{1,3}(,\d{3})+", text) else text.replace(",", ".")
    elif re.fullmatch(r"-?\d{1,3}(\.\d{3}){2,}", text):
        text = text.replace(".", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError from None
    if not amount.is_finite():
        raise ValueError
    return amount


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value if value is not None else "").strip()


def _read_rows(data: bytes, file_name: str) -> list[list[Any]]:
    is_xlsx = file_name.lower().endswith((".xlsx", ".xlsm")) or data[:4] == b"PK\x03\x04"
    if is_xlsx:
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise _fail(f"not a readable XLSX workbook ({type(exc).__name__}).", file_name) from None
        try:
            sheet = book.worksheets[0]
            return [list(row) for _, row in zip(range(MAX_ROWS + HEADER_SCAN_ROWS + 1),
                                                sheet.iter_rows(values_only=True), strict=False)]
        finally:
            book.close()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes nearly everything; latin-1 decodes all
        text = data.decode("latin-1")
    if "\x00" in text:
        raise _fail("not a CSV or XLSX file.", file_name)
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        return list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise _fail(f"not a readable CSV file ({exc}).", file_name) from None


def _parse(data: bytes, file_name: str) -> list[tuple[int, str, Decimal]]:
    """(row number as a spreadsheet shows it, invoice number, amount) per listed invoice."""
    if not data:
        raise _fail("the file is empty.", file_name)
    rows = _read_rows(data, file_name)
    found = _header(rows)
    if found is None:
        raise _fail("no header row with an invoice number column (Invoice, Number, Reference) and an amount "
                    "column (Amount, Paid).", file_name)
    start, invoice_col, amount_col = found
    parsed: list[tuple[int, str, Decimal]] = []
    for index, row in enumerate(rows[start + 1:], start=start + 2):
        cells = [cell for cell in row if _number(cell)]
        if not cells:
            continue
        number = _number(row[invoice_col]) if invoice_col < len(row) else ""
        raw_amount = row[amount_col] if amount_col < len(row) else None
        if _key(number) in _TOTAL_WORDS or (not number and any(_key(c) in _TOTAL_WORDS for c in cells)):
            continue
        if not number:
            raise _fail("no invoice number.", file_name, index)
        if raw_amount is None or _number(raw_amount) == "":
            raise _fail(f"no amount for {number}.", file_name, index)
        try:
            amount = _amount(raw_amount)
        except ValueError:
            raise _fail(f"{_number(raw_amount)!r} is not an amount.", file_name, index) from None
        if amount <= 0:
            raise _fail(f"the amount for {number} is not positive ({amount}).", file_name, index)
        parsed.append((index, number, amount))
        if len(parsed) > MAX_ROWS:
            raise _fail(f"more than {MAX_ROWS} invoices; split the advice.", file_name)
    if not parsed:
        raise _fail("no invoices are listed under the header.", file_name)
    return parsed


def remittance_parse(data: bytes, file_name: str) -> list[tuple[str, Decimal]]:
    """The (invoice number as written, amount) pairs of a CSV or XLSX remittance advice, in file
    order; a malformed file is refused whole (ValidationFailed naming the row)."""
    return [(number, amount) for _, number, amount in _parse(data, file_name)]


def _resolve(numbers: list[str], open_invoices) -> dict[str, list[Invoice]]:
    """What each written number may mean among the open invoices: the exact number, else the
    invoices whose (year, sequence) match the strongest tolerant form written."""
    exact = {inv.number.upper(): inv for inv in open_invoices.filter(number__in={n.upper() for n in numbers})}
    found: dict[str, list[Invoice]] = {}
    for written in numbers:
        if written.upper() in exact:
            found[written] = [exact[written.upper()]]
            continue
        found[written] = []
        for key in extract_invoice_numbers(written):
            candidates = open_invoices.filter(number__endswith=f"{key.sequence:06d}")
            if key.year is not None:
                candidates = candidates.filter(number__contains=str(key.year))
            matches = []
            for invoice in candidates[:20]:
                parsed = parse_invoice_number(invoice.number)
                if parsed and parsed[2] == key.sequence and (key.year is None or parsed[1] == key.year):
                    matches.append(invoice)
            if matches:
                found[written] = matches
                break
    return found


@transaction.atomic(durable=True)
def receipt_apply_remittance(*, receipt_id: int, data: bytes, file_name: str, by: User) -> list[ReceiptApplication]:
    """Apply a receipt by its remittance advice (rules in the module docstring): all rows or none."""
    if by is None or not by.has_perm("receivables.apply_receipt"):
        raise PermissionDenied("Your role may not apply receipts.")
    rows = _parse(data, file_name)
    receipt = lock_receipt(receipt_id)
    if receipt.status not in LIVE:
        raise InvalidTransition(f"{receipt.number} is {receipt.get_status_display().lower()}: nothing can be applied.")
    open_invoices = Invoice.objects.filter(legal_entity_id=receipt.legal_entity_id, status__in=OPEN_INVOICE_STATUSES)
    whose = f"{receipt.legal_entity.code}'s open invoices"
    if receipt.customer is not None:
        open_invoices = open_invoices.filter(customer=receipt.customer)
        whose = f"{receipt.customer.legal_name}'s open invoices"
    resolved: dict = _resolve([number for _, number, _ in rows], open_invoices)
    # open items without invoices (opening balances), written as their document number
    missing = {number.strip().upper(): number for _, number, _ in rows if not resolved.get(number)}
    if missing:
        items = (OpenItem.objects.filter(legal_entity_id=receipt.legal_entity_id, currency=receipt.currency,
                                         account__role="ar", open_amount__gt=0, document_number__in=list(missing))
                 .exclude(document_type="invoice"))
        if receipt.customer_id is not None:
            items = items.filter(customer_id=receipt.customer_id)
        for item in items:
            resolved[missing[item.document_number.upper()]] = [_ItemDue(-item.pk, item.document_number,
                                                                        item.open_amount, item.currency)]
    problems: list[str] = []
    wanted: dict[int, Decimal] = defaultdict(Decimal)
    invoices: dict[int, Any] = {}
    for row, number, amount in rows:
        matches = resolved.get(number) or []
        if not matches:
            problems.append(f"row {row}: {number} is not among {whose}")
            continue
        if len(matches) > 1:
            problems.append(f"row {row}: {number} could be {', '.join(inv.number for inv in matches)}")
            continue
        invoice = matches[0]
        if quantize(amount, receipt.currency) != amount:
            problems.append(f"row {row}: {amount} has more decimals than {receipt.currency} allows")
            continue
        invoices[invoice.pk] = invoice
        wanted[invoice.pk] += amount
    for invoice_id, amount in wanted.items():
        invoice = invoices[invoice_id]
        if amount > invoice.balance_due:
            problems.append(f"{invoice.number}: {amount} is more than its balance of "
                            f"{quantize(invoice.balance_due, invoice.currency)} {invoice.currency}")
    if problems:
        raise ValidationFailed(f"{file_name} was not applied: " + "; ".join(problems) + ".",
                               fields={"file": problems})
    total = sum(wanted.values(), Decimal(0))
    if total > receipt.unapplied_amount:
        raise ValidationFailed(
            f"{file_name} lists {total} {receipt.currency}; {receipt.number} has only "
            f"{quantize(receipt.unapplied_amount, receipt.currency)} {receipt.currency} left to apply.",
            fields={"file": ["total above the receipt"]})
    return receipt_apply(receipt_id=receipt.pk, allocations=sorted(wanted.items()), by=by, rule="remittance",
                         reason=f"Remittance advice {file_name}: {len(rows)} row(s)")


@dataclass(frozen=True)
class _ItemDue:
    """An open item without an invoice as the advice resolves it (pk: the negative allocation id)."""

    pk: int
    number: str
    balance_due: Decimal
    currency: str


__all__ = ["receipt_apply_remittance", "remittance_parse"]
