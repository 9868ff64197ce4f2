"""The customer list as an Excel workbook. The header row holds the field names the import
understands, so an exported file can be edited and uploaded again as is."""

from __future__ import annotations

from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.styles import Font

from otc.exports import sheet_append, workbook_bytes
from otc.money import quantize

from .models import Customer
from .services import EDITABLE_FIELDS

EXPORT_COLUMNS: tuple[str, ...] = ("account_number", *EDITABLE_FIELDS)


def _value(customer: Customer, field: str):
    if field == "parent":
        return customer.parent.account_number if customer.parent_id else ""
    if field == "sales_owner":
        return customer.sales_owner.username if customer.sales_owner_id else ""
    if field == "credit_limit":
        return quantize(customer.credit_limit, customer.default_currency)
    value = getattr(customer, field)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else value


def customers_xlsx(customers: Iterable[Customer]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Customers"
    sheet_append(sheet, EXPORT_COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    limit_column = EXPORT_COLUMNS.index("credit_limit") + 1
    for row, customer in enumerate(customers, start=2):
        sheet_append(sheet, [_value(customer, field) for field in EXPORT_COLUMNS])
        sheet.cell(row=row, column=limit_column).number_format = "#,##0.00"
    for column in ("A", "B", "C"):
        sheet.column_dimensions[column].width = 24
    return workbook_bytes(workbook)
