"""Set-based writes the ORM makes slow.

Django's `bulk_update` builds one `CASE WHEN id = ... THEN ...` expression per field per row and
resolves each in Python: issuing 1,000 invoices spent most of its time there. `bulk_update_rows`
sends one statement per batch instead, on PostgreSQL and SQLite alike:

    WITH v(id, f1, f2) AS (VALUES (%s, %s, %s), ...)
    UPDATE table SET f1 = v.f1, f2 = v.f2 FROM v WHERE table.id = v.id

Values go through each field's `get_db_prep_save`, so Decimals, dates, JSON and foreign keys are
stored exactly as `save()` would store them. On PostgreSQL every value is cast to its column
type (VALUES would otherwise type them as text). No signals are sent and `auto_now` fields are
not touched: set them on the objects and name them in `fields`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connections, router
from django.db.models import Model


def bulk_update_rows(objs: Sequence[Model], fields: Sequence[str], *, batch_size: int = 500) -> int:
    """Write `fields` of saved `objs` (one model) in one UPDATE per batch; returns rows updated."""
    if not objs:
        return 0
    model = type(objs[0])
    meta = model._meta
    alias = router.db_for_write(model)
    connection = connections[alias]
    pk = meta.pk
    columns = [pk] + [meta.get_field(name) for name in fields]
    if any(not field.concrete or field.many_to_many for field in columns):
        raise ValueError("bulk_update_rows writes concrete, non-m2m fields only")
    postgres = connection.vendor == "postgresql"
    qn = connection.ops.quote_name
    table = qn(meta.db_table)
    names = ", ".join(qn(field.column) for field in columns)
    if postgres:
        placeholder = "(" + ", ".join(f"%s::{field.db_type(connection)}" for field in columns) + ")"
    else:
        placeholder = "(" + ", ".join("%s" for _ in columns) + ")"
    assignments = ", ".join(f"{qn(field.column)} = v.{qn(field.column)}" for field in columns[1:])
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            batch = objs[start:start + batch_size]
            params: list[Any] = []
            for obj in batch:
                for field in columns:
                    params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
            values = ", ".join([placeholder] * len(batch))
            cursor.execute(
                f"WITH v ({names}) AS (VALUES {values}) "
                f"UPDATE {table} SET {assignments} FROM v WHERE {table}.{qn(pk.column)} = v.{qn(pk.column)}",
                params,
            )
            if cursor.rowcount >= 0:
                updated += cursor.rowcount
            else:  # SQLite reports no row count for a statement that starts with WITH
                cursor.execute("SELECT changes()")
                updated += cursor.fetchone()[0]
    return updated


# --- inserts ----------------------------------------------------------------------------------

COPY_THRESHOLD = 20  # fewer rows: one INSERT costs less than taking keys first

def _copy_text(field: Any, value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    kind = field.get_internal_type()
    if kind == "JSONField":
        text = json.dumps(value, cls=field.encoder)
    elif kind == "BooleanField":
        return "t" if value else "f"
    elif isinstance(value, dt.date):  # date and aware datetime
        return value.isoformat()
    elif isinstance(value, int | Decimal | uuid.UUID):
        return str(value)
    else:
        text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def bulk_insert_rows(objs: Sequence[Model], *, batch_size: int = 5000) -> list[Model]:
    """Insert new `objs` (one model, primary keys unset) and set their primary keys.

    On PostgreSQL the keys are taken from the table's sequence first and the rows streamed with
    COPY, several times faster than `bulk_create` for the month-end run's hundreds of thousands
    of rows; elsewhere it is `bulk_create`. `auto_now(_add)` fields are stamped as `save()` would;
    no signals are sent (history rows are written by `history_insert`)."""
    if not objs:
        return list(objs)
    model = type(objs[0])
    meta = model._meta
    alias = router.db_for_write(model)
    connection = connections[alias]
    fields = [field for field in meta.concrete_fields if not field.generated]
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            for obj in objs:
                field.pre_save(obj, add=True)
    if connection.vendor != "postgresql" or len(objs) < COPY_THRESHOLD:
        return model._default_manager.using(alias).bulk_create(objs, batch_size=batch_size)
    pk = meta.pk
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [meta.db_table, pk.column, len(objs)])
        for obj, (value,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = value
        columns = ", ".join(qn(field.column) for field in fields)
        for start in range(0, len(objs), batch_size):
            buffer = io.StringIO()
            for obj in objs[start:start + batch_size]:
                buffer.write("\t".join(_copy_text(field, getattr(obj, field.attname)) for field in fields))
                buffer.write("\n")
            buffer.seek(0)
            with connection.wrap_database_errors:  # IntegrityError etc., as from execute()
                cursor.copy_expert(f"COPY {qn(meta.db_table)} ({columns}) FROM STDIN", buffer)
    for obj in objs:
        obj._state.adding, obj._state.db = False, alias
    return list(objs)


def history_insert(objs: Sequence[Model], *, created: bool, by: Any, reason: str, at: dt.datetime) -> None:
    """The django-simple-history rows of `objs` (one model), as its `bulk_history_create` would
    write them ("+" when created, "~" when changed), through `bulk_insert_rows`."""
    if not objs or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    history = type(objs[0]).history.model
    tracked = [field.attname for field in history.tracked_fields]
    rows = [history(history_date=at, history_user=by, history_change_reason=reason,
                    history_type="+" if created else "~",
                    **{name: getattr(obj, name) for name in tracked}) for obj in objs]
    bulk_insert_rows(rows)
