"""Bulk update of customer files from an uploaded spreadsheet (XLSX or CSV).

The first row names the columns: a key column (`account_number` or `external_crm_id`) that
finds the customer, and any editable customer fields by name (or by their label, e.g.
"Credit limit"). `parent` holds the parent's account number and `sales_owner` a username.
A cell is the new value of that field; an empty cell empties it (an export re-imports as is).

`customers_import_preview` validates every row with the same rules as the form and stores the
result: the changes (field: old -> new) or the errors (row, column, problem).
`customers_import_apply` is all-or-nothing: refused while any row has errors or when a
customer changed after the preview; otherwise every row is written in one transaction with the
history reason "bulk import #<id>"."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from typing import Any

import tablib
from django.db import transaction
from simple_history.utils import bulk_update_with_history

from otc.dates import now
from otc.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from otc.models import User
from otc.services import outbox_emit_many
from otc.validation import field_label

from ..models import Customer, CustomerImport
from .customers import customer_event_payload, lock_customers
from .fields import EDITABLE_FIELDS, customer_errors

KEY_COLUMNS = ("account_number", "external_crm_id")
MAX_ROWS = 10_000


def _display(customer: Customer, field: str) -> str:
    if field == "parent":
        return customer.parent.account_number if customer.parent is not None else ""
    if field == "sales_owner":
        return customer.sales_owner.username if customer.sales_owner is not None else ""
    value = getattr(customer, field)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def _cell(value: Any) -> str:
    """Spreadsheet cells as text: numbers in their shortest form (12.5, 30), never via Decimal(float)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).strip()


def _load(file_name: str, content: bytes) -> tablib.Dataset:
    lowered = file_name.lower()
    try:
        if lowered.endswith(".xlsx"):
            return tablib.Dataset().load(io.BytesIO(content), format="xlsx")
        if lowered.endswith(".csv"):
            return tablib.Dataset().load(content.decode("utf-8-sig"), format="csv")
    except UnicodeDecodeError:
        raise ValidationFailed("The CSV file is not UTF-8 text: save it as 'CSV UTF-8'.", fields={"file": ["encoding"]})
    except Exception as exc:
        raise ValidationFailed(f"{file_name} could not be read as a spreadsheet: {exc}", fields={"file": ["unreadable"]})
    raise ValidationFailed("Upload an .xlsx or .csv file.", fields={"file": ["unsupported file type"]})


def _columns(headers: list[Any]) -> list[str]:
    by_name = {f: f for f in (*KEY_COLUMNS, *EDITABLE_FIELDS)}
    by_name.update({field_label(Customer, f).lower(): f for f in (*KEY_COLUMNS, *EDITABLE_FIELDS)})
    columns: list[str] = []
    unknown: list[str] = []
    for header in headers:
        text = _cell(header)
        field = by_name.get(text) or by_name.get(text.lower()) or by_name.get(text.lower().replace(" ", "_"))
        if field is None:
            unknown.append(text or "(empty header)")
        else:
            columns.append(field)
    if unknown:
        raise ValidationFailed(
            f"Unknown column(s): {', '.join(unknown)}. Use customer field names such as legal_name or credit_limit.",
            fields={"columns": unknown},
        )
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise ValidationFailed(f"Column(s) appear twice: {', '.join(duplicates)}.", fields={"columns": duplicates})
    return columns


def _evaluate(customer: Customer, values: dict[str, str]) -> tuple[list[dict], list[dict]]:
    """Apply `values` to `customer` in memory: (changes, errors)."""
    before = {f: _display(customer, f) for f in values}
    errors = customer_errors(customer, values)
    problems = [
        {"column": f if f != "__all__" else "", "field": field_label(Customer, f) if f != "__all__" else "", "message": m}
        for f, messages in errors.items() for m in messages
    ]
    if problems:
        return [], problems
    changes = []
    for field in values:
        after = _display(customer, field)
        if after != before[field]:
            changes.append({"field": field, "label": field_label(Customer, field), "old": before[field], "new": after})
    return changes, []


@transaction.atomic(durable=True)
def customers_import_preview(*, file_name: str, content: bytes, by: User) -> CustomerImport:
    if not by.has_perm("customers.import_customers"):
        raise PermissionDenied("Your role may not import customer files.")
    dataset = _load(file_name, content)
    if not dataset.headers:
        raise ValidationFailed("The file is empty: the first row must name the columns.", fields={"file": ["empty"]})
    columns = _columns(list(dataset.headers))
    keys = [c for c in columns if c in KEY_COLUMNS]
    if not keys:
        raise ValidationFailed(
            "Add an account_number or external_crm_id column to say which customer each row updates.",
            fields={"columns": ["no key column"]},
        )
    key = "account_number" if "account_number" in keys else keys[0]
    raw_rows = [[_cell(v) for v in row] for row in dataset]
    raw_rows = [r for r in raw_rows if any(r)]
    if len(raw_rows) > MAX_ROWS:
        raise ValidationFailed(f"The file has {len(raw_rows)} rows; split it into files of at most {MAX_ROWS}.")
    key_values = [row[columns.index(key)] for row in raw_rows]
    customers = {
        getattr(c, key): c
        for c in Customer.objects.select_related("parent", "sales_owner").filter(**{f"{key}__in": key_values})
    }
    results, seen = [], set()
    for index, row in enumerate(raw_rows):
        number = index + 2  # row 1 holds the headers
        key_value = row[columns.index(key)]
        values = {c: v for c, v in zip(columns, row, strict=False) if c not in KEY_COLUMNS or (c != key and c in EDITABLE_FIELDS)}
        result = {"row": number, "key": key_value, "customer_id": None, "updated_at": None,
                  "values": values, "changes": [], "errors": []}
        customer = customers.get(key_value)
        if not key_value:
            result["errors"] = [{"column": key, "field": field_label(Customer, key), "message": "Empty: say which customer this row updates."}]
        elif key_value in seen:
            result["errors"] = [{"column": key, "field": field_label(Customer, key), "message": f"{key_value} appears in an earlier row too."}]
        elif customer is None or not by.has_perm("customers.access_customer", customer):
            result["errors"] = [{"column": key, "field": field_label(Customer, key), "message": f"No customer {key_value}."}]
        elif not by.has_perm("customers.edit_customer", customer):
            result["errors"] = [{"column": key, "field": field_label(Customer, key), "message": f"You may not change {key_value}."}]
        else:
            result["customer_id"] = customer.pk
            result["updated_at"] = customer.updated_at.isoformat()
            result["changes"], result["errors"] = _evaluate(customer, values)
        seen.add(key_value)
        results.append(result)
    return CustomerImport.objects.create(
        file_name=file_name[:255], content=content, key_column=key, columns=columns, rows=results,
        total_rows=len(results), changed_rows=sum(1 for r in results if r["changes"]),
        error_rows=sum(1 for r in results if r["errors"]), created_by=by,
    )


@transaction.atomic(durable=True)
def customers_import_apply(*, import_id: int, by: User) -> CustomerImport:
    if not by.has_perm("customers.import_customers"):
        raise PermissionDenied("Your role may not import customer files.")
    upload = CustomerImport.objects.select_for_update().filter(pk=import_id).first()
    if upload is None:
        raise NotFound("No such import.")
    if upload.status != CustomerImport.Status.PREVIEWED:
        raise InvalidTransition(f"Import #{upload.pk} was already applied.")
    if upload.error_rows:
        raise ValidationFailed(
            f"Import #{upload.pk} has {upload.error_rows} row(s) with errors: correct the file and upload it again.",
            fields={"rows": [r["row"] for r in upload.rows if r["errors"]]},
        )
    changed = [r for r in upload.rows if r["changes"]]
    customers = {c.pk: c for c in lock_customers([r["customer_id"] for r in changed])}
    stale = [r["key"] for r in changed
             if r["customer_id"] not in customers or customers[r["customer_id"]].updated_at.isoformat() != r["updated_at"]]
    if stale:
        raise Conflict(
            f"Changed since the preview: {', '.join(stale)}. Upload the file again to see the current values.",
            fields={"rows": stale},
        )
    stamp, fields, objs, problems = now(), {"updated_at"}, [], {}
    for row in changed:
        customer = customers[row["customer_id"]]
        if not by.has_perm("customers.edit_customer", customer):
            raise PermissionDenied(f"You may not change {row['key']}.")
        _, errors = _evaluate(customer, row["values"])
        if errors:
            problems[row["key"]] = [e["message"] for e in errors]
        fields.update(c["field"] for c in row["changes"])
        customer.updated_at = stamp
        objs.append(customer)
    if problems:
        raise ValidationFailed("Rows no longer valid: upload the file again.", fields=problems)
    model_fields = sorted(fields)
    bulk_update_with_history(
        objs, Customer, model_fields, batch_size=500, default_user=by,
        default_change_reason=f"bulk import #{upload.pk}", default_date=stamp,
    )
    upload.status, upload.applied_by, upload.applied_at = CustomerImport.Status.APPLIED, by, stamp
    upload.save(update_fields=["status", "applied_by", "applied_at"])
    outbox_emit_many(topic="customer.updated", subject_type="customer",
                     events=[(c.pk, customer_event_payload(c)) for c in objs])
    return upload
