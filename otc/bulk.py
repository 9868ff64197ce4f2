"""Set-based writes the ORM makes slow.

Django's `bulk_update` builds one `CASE WHEN id = ... THEN ...` expression per field per row and
resolves each in Python: issuing 1,000 invoices spent most of its time there. `bulk_update_rows`
sends one statement per batch instead, on PostgreSQL and SQLite alike:

    WITH v(id, f1, f2) AS (VALUES (%s, %s, %s), ...)
    UPDATE table SET f1 = v.f1, f2 = v.f2 FROM v WHERE table.id = v.id

Values go through each field's `get_db_prep_save`, so Decimals, dates, JSON and foreign keys are
stored exactly as `save()` would store them. On PostgreSQL every value is cast to its column
type (VALUES would otherwise type them as text), and each distinct JSON document of a statement is
sent once, in a second CTE the rows point into. On PostgreSQL the rows are also sent as one array
per column when every prepared value is a plain string, number, boolean, date or datetime
(`v AS (SELECT * FROM unnest(%s::bigint[], %s::date[], ...))`): the server parses a handful of
array literals instead of a VALUES list of thousands of cast constants. No signals are sent and
`auto_now` fields are not touched: set them on the objects and name them in `fields`.
"""

from __future__ import annotations

import datetime as dt
import enum
import gc
import io
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from operator import attrgetter
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections, router
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.fields.files import FileDescriptor
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init
from django.utils import timezone

# Values that `get_db_prep_save` returns unchanged on PostgreSQL, by the field's internal type
# and the value's exact type: bulk_update_rows passes them as they are (a month-end chunk writes
# about 15 columns of 1,000 invoices twice, and the field-by-field preparation was a twentieth
# of its CPU). Any other value (a naive datetime, a datetime in a DateField, a float in a
# DecimalField, a lazy string, an infinite Decimal) still goes through `get_db_prep_save`.
_AS_IS: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(("CharField", "TextField", "SlugField", "EmailField", "URLField"), (str,)),
    **dict.fromkeys(("AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField",
                     "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
                     "PositiveSmallIntegerField"), (int,)),
    "BooleanField": (bool,), "DateField": (dt.date,), "DateTimeField": (dt.datetime,), "DecimalField": (Decimal,),
}


def _as_is_types(field: Any) -> tuple[type, ...]:
    if not type(field).__module__.startswith("django.db.models.fields"):
        return ()  # a project's own field may prepare its values otherwise
    kind = field.get_internal_type()
    if kind in ("ForeignKey", "OneToOneField"):
        return _as_is_types(field.target_field)
    return _AS_IS.get(kind, ())


def _prepared_as_is(value: Any, types: tuple[type, ...]) -> bool:
    kind = type(value)
    if kind not in types:
        return False
    if kind is dt.datetime:
        return value.tzinfo is not None  # a naive datetime is made aware by the field (USE_TZ)
    if kind is Decimal:
        return value.is_finite()  # the field refuses NaN and infinity
    return True


def bulk_update_rows(objs: Sequence[Model], fields: Sequence[str], *, batch_size: int = 500) -> int:
    """Write `fields` of saved `objs` (one model) in one UPDATE per batch; returns rows updated."""
    if not objs:
        return 0
    return _update(type(objs[0]), fields, objs, None, batch_size)


def bulk_update_values(model: type[Model], fields: Sequence[str], rows: Sequence[Sequence[Any]], *,
                       batch_size: int = 500) -> int:
    """`bulk_update_rows` from plain rows: (primary key, value of each of `fields` by attname),
    for the hot paths where building a model instance per row cost more than the UPDATE."""
    if not rows:
        return 0
    return _update(model, fields, None, rows, batch_size)


def _update(model: type[Model], fields: Sequence[str], objs: Sequence[Model] | None,
            rows: Sequence[Sequence[Any]] | None, batch_size: int) -> int:
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
    # Per column, by position (a Field's __hash__ is Python code: a dict lookup per value cost
    # more than the value's preparation): (field, is it JSON, the types passed as they are).
    kinds = [(field, field.get_internal_type() == "JSONField", _as_is_types(field) if postgres and settings.USE_TZ
              else ()) for field in columns]
    # Rows often share one dict in a JSON field (an issued chunk's seller block, one bill-to block
    # per customer): it is dumped once per statement, and on PostgreSQL also parsed once: each
    # distinct document is one row of `j`, and a row's column holds the number of its document
    # (parsing a 1 KB jsonb value per row cost about a third of the issued UPDATE).
    shared = postgres and any(is_json for _, is_json, _ in kinds)
    if postgres:
        placeholder = "(" + ", ".join("%s::integer" if is_json and shared else f"%s::{field.db_type(connection)}"
                                      for field, is_json, _ in kinds) + ")"
        unnest = ", ".join("%s::integer[]" if is_json and shared else f"%s::{field.db_type(connection)}[]"
                           for field, is_json, _ in kinds)
    else:
        placeholder = "(" + ", ".join("%s" for _ in columns) + ")"
    assignments = ", ".join(f"{qn(field.column)} = j{i}.doc" if is_json and shared else
                            f"{qn(field.column)} = v.{qn(field.column)}"
                            for i, (field, is_json, _) in enumerate(kinds) if i)
    joins = "".join(f" LEFT JOIN j AS j{i} ON j{i}.k = v.{qn(field.column)}"
                    for i, (field, is_json, _) in enumerate(kinds) if is_json and shared)
    prepared: dict[tuple[str, int], tuple[Any, Any]] = {}
    updated = 0
    if rows is None:
        assert objs is not None
        attnames = [field.attname for field in columns]
        rows = list(map(_values_of(attnames), objs))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start:start + batch_size]
            params: list[Any] = []
            documents: dict[str, int] = {}  # JSON text -> its number in `j` (shared)
            for row in batch:
                for (field, is_json, as_is), value in zip(kinds, row, strict=True):
                    if is_json and value is not None:
                        key = (field.attname, id(value))
                        if key not in prepared:  # keep the value referenced, so its id stays its own
                            # On PostgreSQL the text, cast to jsonb by the statement (psycopg2's
                            # Json adapter would dump the dict again for every row it appears in).
                            text = (json.dumps(value, cls=field.encoder) if postgres
                                    else field.get_db_prep_save(value, connection))
                            prepared[key] = (value, text)
                        text = prepared[key][1]
                        params.append(documents.setdefault(text, len(documents)) if shared else text)
                    elif as_is and (value is None or _prepared_as_is(value, as_is)):
                        params.append(value)
                    else:
                        params.append(field.get_db_prep_save(value, connection))
            head, head_params = "", []
            if shared:
                head = "j (k, doc) AS (VALUES " + (", ".join(["(%s::integer, %s::jsonb)"] * len(documents))
                                                  or "(NULL::integer, NULL::jsonb)") + "), "
                head_params = [item for text, number in documents.items() for item in (number, text)]
            arrays = _array_columns(params, len(columns)) if postgres else None
            if arrays is not None:  # one array literal per column
                source, keys = f"SELECT * FROM unnest({unnest})", [arrays[0]]
                params = arrays
            else:
                source = "VALUES " + ", ".join([placeholder] * len(batch))
                keys = [array_literal(params[::len(columns)])] if postgres else []  # the prepared keys
            # On PostgreSQL the keys again as `= ANY(keys)`, which says what the join says, so that
            # the planner reads the batch's rows by key: from the join alone it hashed the whole
            # table for every batch (a month-end run's numbering and issuing, decision 0016).
            by_key = f" AND {table}.{qn(pk.column)} = ANY(%s::{pk.rel_db_type(connection)}[])" if postgres else ""
            cursor.execute(
                f"WITH {head}v ({names}) AS ({source}) "
                f"UPDATE {table} SET {assignments} FROM v{joins} "
                f"WHERE {table}.{qn(pk.column)} = v.{qn(pk.column)}{by_key}",
                [*head_params, *params, *keys],
            )
            if cursor.rowcount >= 0:
                updated += cursor.rowcount
            else:  # SQLite reports no row count for a statement that starts with WITH
                cursor.execute("SELECT changes()")
                updated += cursor.fetchone()[0]
    return updated


def _values_of(attnames: Sequence[str]) -> Any:
    """A function returning an object's values of `attnames` as a tuple, as `getattr` reads them
    (descriptors included), in one C call per object instead of a Python loop step per value."""
    if len(attnames) == 1:  # attrgetter of one name returns the value itself
        name = attnames[0]
        return lambda obj: (getattr(obj, name),)
    return attrgetter(*attnames)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# How a prepared value of exactly this type is written as an element of a PostgreSQL array
# literal: the text its column type's input function reads, as psycopg2 would send it.
_ELEMENT: dict[type, Any] = {
    type(None): lambda value: "NULL", str: _quoted, int: str, bool: lambda value: "t" if value else "f",
    Decimal: str, dt.date: dt.date.isoformat, dt.datetime: dt.datetime.isoformat,
}


def _array_columns(params: list[Any], width: int) -> list[str] | None:
    """The row-major `params` (`width` per row) as one array literal per column, or None when a
    value is of a type without a plain text form here (bytes, an adapter, a str subclass, a
    float...): the statement then sends the rows as VALUES. A choices enum member (an invoice's
    `Invoice.Status.ISSUED`) is written as its value, which is what psycopg2 sends for it."""
    element = _ELEMENT
    while True:
        try:
            texts = [element[type(value)](value) for value in params]
        except KeyError:
            if not _learn_enum(params):
                return None
        else:
            return ["{" + ",".join(texts[i::width]) + "}" for i in range(width)]


def _learn_enum(params: list[Any]) -> bool:
    """Add the enum types among `params` whose members are their plain values (Django's
    `TextChoices`, `IntegerChoices`) to `_ELEMENT`; False when some other type is left."""
    for value in params:
        kind = type(value)
        if kind in _ELEMENT:
            continue
        if not (isinstance(value, enum.Enum) and type(value.value) in (str, int) and isinstance(value, type(value.value))):
            return False
        _ELEMENT[kind] = (lambda member: _quoted(member.value)) if type(value.value) is str else \
            (lambda member: str(member.value))
    return True


# --- inserts ----------------------------------------------------------------------------------

_TEMPLATES: dict[type[Model], tuple[dict[str, int], list[Any], list[tuple[int, Any]], list[str] | None]] = {}
# Descriptors whose __set__ (if any) only stores the value in the instance's __dict__ (a foreign
# key's also forgets a cached object, which a new instance has not).
_PLAIN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute, FileDescriptor)


def _template(model: type[Model]) -> tuple[dict[str, int], list[Any], list[tuple[int, Any]], list[str] | None]:
    template = _TEMPLATES.get(model)
    if template is None:
        fields = model._meta.concrete_fields
        template = _TEMPLATES[model] = (
            {field.attname: i for i, field in enumerate(fields)}, [field.get_default() for field in fields],
            [(i, field) for i, field in enumerate(fields) if field.has_default() and callable(field.default)],
            [field.attname for field in fields] if all(type(model.__dict__.get(field.attname)) in _PLAIN_DESCRIPTORS
                                                       for field in fields) else None)
    return template


def instance_from_db(model: type[Model], db: str, field_names: Any, values: Any) -> Model:
    """`Model.from_db` for a model whose `from_db` calls this: a row read with every column (what
    a queryset of whole objects reads, e.g. `lock_invoices`) becomes the object without
    `Model.__init__`, as `new_instance` builds one, under the same conditions (no `pre_init` or
    `post_init` receiver, every descriptor only stores its value); anything else (deferred
    columns, a receiver) goes through Django's `from_db`. Same object, same state
    (`adding=False`, `db`)."""
    attnames = _without_init(model)
    if attnames is None or len(values) != len(attnames):
        return Model.from_db.__func__(model, db, field_names, values)  # type: ignore[attr-defined]
    obj = _built(model, attnames, values)
    obj._state.adding, obj._state.db = False, db
    return obj


def _without_init(model: type[Model]) -> list[str] | None:
    """The attnames of `model`'s columns, in order, when an instance may be built without
    `Model.__init__`: nobody listens to its signals and every field's descriptor only stores the
    value. None otherwise."""
    attnames = _template(model)[3]
    # A signal nobody is connected to has no listener for any model (its receiver list is empty):
    # asked first, it spares two `has_listeners` lookups per object built.
    if attnames is None or (pre_init.receivers and pre_init.has_listeners(model)) \
            or (post_init.receivers and post_init.has_listeners(model)):
        return None
    return attnames


def _built(model: type[Model], attnames: list[str], values: Sequence[Any]) -> Model:
    """What `Model.__init__` does with positional values under `_without_init`'s conditions: the
    state, then the values."""
    obj = model.__new__(model)
    obj._state = ModelState()
    obj.__dict__.update(zip(attnames, values, strict=True))
    return obj


M = TypeVar("M", bound=Model)


def new_instance(model: type[M], values: dict[str, Any], related: dict[str, Model | None] | None = None) -> M:
    """`model(**values)` for the bulk paths, built from every column's value in order (the
    positional constructor Django uses for rows it reads), which costs a third of building it
    from keywords: `values` by attname (`customer_id`, not `customer`); columns not given take
    their defaults (a callable default is called per instance). `related` (field name -> object
    or None) primes the related-object caches, as passing the objects as keywords would."""
    position, defaults, fresh, _attnames = _template(model)
    row = defaults.copy()
    for i, field in fresh:
        row[i] = field.get_default()
    for name, value in values.items():
        row[position[name]] = value
    attnames = _without_init(model)
    obj = model(*row) if attnames is None else _built(model, attnames, row)
    if related:
        cache = obj._state.fields_cache
        for name, value in related.items():
            where = _RELATED.get((model, name))
            if where is None:
                field = model._meta.get_field(name)
                where = _RELATED[(model, name)] = (position[field.attname], field.cache_name, field.attname)
            if (None if value is None else value.pk) != row[where[0]]:
                raise ValueError(f"{model.__name__}.{name}: the object and {where[2]} differ")
            cache[where[1]] = value  # what the field's set_cached_value does
    return obj


# (model, relation name) -> (its key's position in a row, its cache name, its key's attname)
_RELATED: dict[tuple[type[Model], str], tuple[int, str, str]] = {}


def relate(objs: Sequence[Model], name: str, values: Sequence[Model | None]) -> None:
    """`obj.<name> = value` for each object and value of a ForeignKey `name`, for the bulk paths
    (an issued chunk relates a thousand invoices to their entity, customer, entry, open item
    and issuer): the same key (`<name>_id`) and cached object as the descriptor leaves, without
    a descriptor call per assignment. Where the descriptor would do more than store them (a value
    of another model or database, an object not yet saved to a database, database routers, None
    over a cached object whose reverse cache it clears) it is the descriptor."""
    if not objs:
        return
    field = type(objs[0])._meta.get_field(name)
    if not field.many_to_one or len(field.local_related_fields) != 1:
        raise ValueError(f"relate sets a ForeignKey, not {name}")
    model, plain = field.remote_field.model._meta.concrete_model, not settings.DATABASE_ROUTERS
    attname, target, cache_name = field.attname, field.target_field.attname, field.cache_name
    for obj, value in zip(objs, values, strict=True):
        cache = obj._state.fields_cache
        if plain and obj._state.db is not None and (
                (value is None and cache.get(cache_name) is None)
                or (isinstance(value, model) and value._state.db == obj._state.db)):
            obj.__dict__[attname] = None if value is None else getattr(value, target)
            cache[cache_name] = value
        else:
            setattr(obj, name, value)


COPY_THRESHOLD = 20  # fewer rows: one INSERT costs less than taking keys first
_PLAIN = frozenset({  # str() of these never needs escaping
    "AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField", "SmallIntegerField",
    "PositiveIntegerField", "PositiveBigIntegerField", "PositiveSmallIntegerField", "DecimalField", "ForeignKey",
    "OneToOneField", "UUIDField",
})


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy_kind(field: Any) -> str:
    """How `_copy` writes a value of `field` as COPY text: "json", "bool", "iso" (a date or a
    datetime), "plain" (str() never needs escaping) or "text" (str(), escaped)."""
    kind = field.get_internal_type()
    if kind == "JSONField":
        return "json"
    if kind == "BooleanField":
        return "bool"
    if kind in ("DateField", "DateTimeField"):
        return "iso"
    return "plain" if kind in _PLAIN else "text"  # text: anything str() may put a tab or a backslash in


def _json_converter(field: Any) -> Any:
    """A JSON column's values as COPY text; rows often share one dict (an invoice run's seller
    block): it is dumped once per COPY."""
    encoder, seen = field.encoder, {}

    def convert(value: Any) -> str:
        if value is None:
            return "\\N"
        key = id(value)
        if key not in seen:  # keep the value referenced, so its id stays its own
            seen[key] = (value, _escape(json.dumps(value, cls=encoder)))
        return seen[key][1]
    return convert


# One expression per kind, of the value `v{i}` (NUL, TAB... are names: an f-string's
# expressions may not hold a backslash before Python 3.12).
_KIND_EXPRESSIONS = {
    "json": "c{i}(v{i})",
    "bool": "(NUL if v{i} is None else 't' if v{i} else 'f')",
    "iso": "(NUL if v{i} is None else v{i}.isoformat())",
    "plain": "(NUL if v{i} is None else str(v{i}))",
    "text": "(NUL if v{i} is None else str(v{i}).replace(BS, BS2).replace(TAB, ESC_TAB)"
            ".replace(LF, ESC_LF).replace(CR, ESC_CR))",
}
_FORMATTERS: dict[tuple[str, ...], Any] = {}


def _row_formatter(columns: list[Any]) -> Any:
    """A function turning one row (a sequence of Python values in `columns` order) into one line
    of PostgreSQL's COPY text format: the same text as converting value by value (`_copy_kind`),
    written as one generated f-string per column layout, without a call and a loop step per
    value (a month-end run writes about 90 values per invoice this way). A row of another
    length raises ValueError, as `zip(strict=True)` did."""
    kinds = tuple(_copy_kind(field) for field in columns)
    make = _FORMATTERS.get(kinds)
    if make is None:
        names = [f"v{i}" for i in range(len(kinds))]
        json_args = [f"c{i}" for i, kind in enumerate(kinds) if kind == "json"]
        line = "\t".join("{" + _KIND_EXPRESSIONS[kind].format(i=i) + "}" for i, kind in enumerate(kinds))
        source = (f"def make({', '.join(json_args)}):\n"
                  f"    def format_row(row):\n"
                  f"        ({', '.join(names)},) = row\n"
                  f'        return f"{line}\\n"\n'
                  f"    return format_row\n")
        namespace = {"NUL": "\\N", "BS": "\\", "BS2": "\\\\", "TAB": "\t", "ESC_TAB": "\\t", "LF": "\n",
                     "ESC_LF": "\\n", "CR": "\r", "ESC_CR": "\\r", "str": str}
        exec(compile(source, f"<otc.bulk COPY row {len(kinds)} columns>", "exec"), namespace)  # noqa: S102
        make = _FORMATTERS[kinds] = namespace["make"]
    return make(*(_json_converter(field) for field, kind in zip(columns, kinds, strict=True) if kind == "json"))


def _copy(connection: Any, table: str, columns: list[Any], rows: Any, batch_size: int) -> None:
    """Stream `rows` (tuples of Python values in `columns` order) into `table` with COPY."""
    qn = connection.ops.quote_name
    format_row = _row_formatter(columns)
    statement = f"COPY {qn(table)} ({', '.join(qn(field.column) for field in columns)}) FROM STDIN"
    with connection.cursor() as cursor:
        buffer, count = io.StringIO(), 0
        write = buffer.write
        for row in rows:
            write(format_row(row))
            count += 1
            if count == batch_size:
                _flush(connection, cursor, statement, buffer)
                buffer, count = io.StringIO(), 0
                write = buffer.write
        if count:
            _flush(connection, cursor, statement, buffer)


def _flush(connection: Any, cursor: Any, statement: str, buffer: io.StringIO) -> None:
    buffer.seek(0)
    with connection.wrap_database_errors:  # IntegrityError etc., as from execute()
        cursor.copy_expert(statement, buffer)


def _take_keys(connection: Any, meta: Any, count: int) -> list[int]:
    with connection.cursor() as cursor:
        # The sequence looked up once (OFFSET 0 keeps the subquery from being pulled up into the
        # outer query, where the stable function would be called again for every key).
        cursor.execute("SELECT nextval(s.seq) FROM (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq OFFSET 0) s "
                       "CROSS JOIN generate_series(1, %s)", [meta.db_table, meta.pk.column, count])
        return [value for (value,) in cursor.fetchall()]


def bulk_insert_rows(objs: Sequence[M], *, batch_size: int = 5000) -> list[M]:
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
    for obj, key in zip(objs, _take_keys(connection, meta, len(objs)), strict=True):
        obj.pk = key
    attnames = [field.attname for field in fields]
    _copy(connection, meta.db_table, fields, map(_values_of(attnames), objs), batch_size)
    for obj in objs:
        obj._state.adding, obj._state.db = False, alias
    return list(objs)


def history_insert(objs: Sequence[Model], *, created: bool, by: Any, reason: str, at: dt.datetime,
                   saved: bool = False) -> None:
    """The django-simple-history rows of `objs` (one model), as its `bulk_history_create` would
    write them ("+" when created, "~" when changed). On PostgreSQL they are streamed with COPY
    straight from `objs`, without building a historical object per row.

    `saved=True` says every tracked value of `objs` is what their rows hold now (they were just
    inserted or updated with all their changes, in this transaction): on PostgreSQL the database
    then copies those rows into the history table itself (`INSERT ... SELECT`), and no value is
    turned into COPY text and parsed back (the month-end run's issued invoices, 43 columns each)."""
    if not objs or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    history = type(objs[0]).history.model
    tracked = [field.attname for field in history.tracked_fields]
    kind = "+" if created else "~"
    user_id = by.pk if by is not None else None
    connection = connections[router.db_for_write(history)]
    if connection.vendor != "postgresql" or len(objs) < COPY_THRESHOLD:
        history.objects.bulk_create([
            history(history_date=at, history_user_id=user_id, history_change_reason=reason, history_type=kind,
                    **{name: getattr(obj, name) for name in tracked}) for obj in objs])
        return
    meta = history._meta
    extra = {"history_date": at, "history_user_id": user_id, "history_change_reason": reason, "history_type": kind}
    fields = [field for field in meta.concrete_fields if field.attname in extra or field.attname in tracked]
    if saved:
        _history_select(connection, type(objs[0]), history, fields, extra, [obj.pk for obj in objs])
        return
    keys = _take_keys(connection, meta, len(objs))
    pk_field = meta.pk
    columns = [pk_field] + fields
    rows = ([key] + [extra[f.attname] if f.attname in extra else getattr(obj, f.attname) for f in fields]
            for key, obj in zip(keys, objs, strict=True))
    _copy(connection, meta.db_table, columns, rows, 5000)


def _history_select(connection: Any, model: type[Model], history: Any, fields: list[Any], extra: dict[str, Any],
                    pks: list[Any]) -> None:
    """INSERT the history rows of `pks` from `model`'s table (tracked columns as they are, the
    `extra` values as parameters), keys from the history table's sequence, in `pks` order."""
    qn = connection.ops.quote_name
    source = {field.attname: field.column for field in model._meta.concrete_fields}
    select, params = [], []
    for field in fields:
        if field.attname in extra:
            select.append("%s")
            params.append(field.get_db_prep_save(extra[field.attname], connection))
        else:
            select.append(f"t.{qn(source[field.attname])}")
    pk_column, pk_type = qn(model._meta.pk.column), model._meta.pk.rel_db_type(connection)
    keys = array_literal(pks)
    # `WHERE t.id = ANY(keys)` says again what the join says, so that the planner reads the rows
    # by their primary key: from the join alone it hashed the whole table (a month-end run's
    # 16,000 invoices read for each chunk of 1,000: 20 ms against 1.5 ms per statement).
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {qn(history._meta.db_table)} ({', '.join(qn(field.column) for field in fields)}) "
            f"SELECT {', '.join(select)} FROM {qn(model._meta.db_table)} t "
            f"JOIN unnest(%s::{pk_type}[]) WITH ORDINALITY AS k(id, n) ON t.{pk_column} = k.id "
            f"WHERE t.{pk_column} = ANY(%s::{pk_type}[]) ORDER BY k.n",
            [*params, keys, keys],
        )
        if cursor.rowcount != len(pks):
            raise ValueError(f"{model.__name__}: {len(pks)} history rows wanted, {cursor.rowcount} rows found")


def array_literal(values: Sequence[Any]) -> Any:
    """Integer keys as one PostgreSQL array literal (`'{1,2,3}'`, cast by the statement): the
    server parses one value instead of an `ARRAY[...]` of thousands of constants. Other values
    are passed as the list they are (psycopg2 adapts it)."""
    if all(type(value) is int for value in values):
        return "{" + ",".join(map(str, values)) + "}"
    return list(values)


def _unnamed(meta: Any, names: Sequence[str]) -> list[Any]:
    """The concrete fields an insert naming `names` (names or attnames) leaves out: the bulk
    inserts write their defaults (the key and generated columns excepted)."""
    return [field for field in meta.concrete_fields if field.name not in names and field.attname not in names
            and not field.primary_key and not field.generated]


def _default(field: Any, stamp: dt.datetime) -> Any:
    """A left-out field's value: `stamp` for `auto_now(_add)`, else its (Python-side) default."""
    return stamp if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False) else field.get_default()


def bulk_insert_values(model: type[Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert rows given as value tuples in `fields` order, when nobody needs the objects back
    (journal lines, status rows, outbox events): on PostgreSQL straight into COPY, without a
    model object per row; the database assigns the keys. Fields not named take their defaults;
    `auto_now(_add)` fields not named are stamped now."""
    if not rows:
        return
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql" or len(rows) < COPY_THRESHOLD:
        model._default_manager.bulk_create([model(**dict(zip(fields, row, strict=True))) for row in rows],
                                           batch_size=2000)
        return
    named = [meta.get_field(name) for name in fields]
    # Model defaults are Python-side in Django: write them for the fields not named.
    rest = _unnamed(meta, fields)
    stamp = timezone.now()
    defaults = [_default(field, stamp) for field in rest]
    if any(callable(getattr(field, "default", None)) for field in rest):
        def with_defaults(row: Sequence[Any]) -> list[Any]:
            return [*row, *(stamp if value is stamp else field.get_default() for field, value in zip(rest, defaults,
                                                                                                  strict=True))]
    else:
        def with_defaults(row: Sequence[Any]) -> list[Any]:
            return [*row, *defaults]
    _copy(connection, meta.db_table, named + rest, (with_defaults(row) for row in rows), 5000)


def bulk_insert_columns(model: type[Model], constants: dict[str, Any], columns: dict[str, Sequence[Any]]) -> None:
    """Insert one row per position of `columns` (field name -> its values, one per row, all of
    one length) with `constants` (field name -> the one value of every row); fields named in
    neither take their defaults. On PostgreSQL the database builds the rows itself, `INSERT ...
    SELECT <constants>, <columns> FROM unnest(<one array per column>)`, in the given order:
    nothing is converted per row in Python (the month-end run's status rows: only the invoice
    key differs from row to row). Elsewhere, and where a default is computed per row, it is
    `bulk_insert_values`."""
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"{model.__name__}: columns of different lengths {sorted(lengths)}")
    count = lengths.pop() if lengths else 0
    if not count:
        return
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    named = [*constants, *columns]
    rest = _unnamed(meta, named)
    if (connection.vendor != "postgresql" or count < COPY_THRESHOLD
            or any(callable(getattr(field, "default", None)) for field in rest)):
        head = list(constants.values())
        bulk_insert_values(model, named, [[*head, *row] for row in zip(*columns.values(), strict=True)])
        return
    stamp = timezone.now()
    constants = {**constants, **{field.attname: _default(field, stamp) for field in rest}}
    qn = connection.ops.quote_name
    fields = [meta.get_field(name) for name in constants] + [meta.get_field(name) for name in columns]
    select = ["%s"] * len(constants) + [f"c.{qn(field.column)}" for field in fields[len(constants):]]
    arrays = [f"%s::{field.db_type(connection)}[]" for field in fields[len(constants):]]
    params = [field.get_db_prep_save(value, connection) for field, value in zip(fields, constants.values(), strict=False)]
    for field, values in zip(fields[len(constants):], columns.values(), strict=True):
        as_is = _as_is_types(field) if settings.USE_TZ else ()
        params.append(array_literal([value if value is None or _prepared_as_is(value, as_is)
                                     else field.get_db_prep_save(value, connection) for value in values]))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(field.column) for field in fields)}) "
            f"SELECT {', '.join(select)} FROM unnest({', '.join(arrays)}) WITH ORDINALITY "
            f"AS c({', '.join(qn(field.column) for field in fields[len(constants):])}, n) ORDER BY c.n",
            params,
        )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for a block that builds hundreds of thousands of
    objects and not one reference cycle (a book of open invoices, a batch's matching): else its
    passes, every 700 allocations over a growing heap, walk the new objects again and again.
    Restored as it was (a caller that had it off keeps it off), also when the block raises."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def increment_returning(model: type[Model], field: str, by: int, **where: Any) -> int | None:
    """Add `by` to `field` of the one row matching `where` and return its new value, in one
    statement (UPDATE ... RETURNING: PostgreSQL, SQLite 3.35+). The UPDATE takes the row's lock
    until the transaction ends. None when no row matches.

    A counter taken this way costs one round trip instead of four (a savepoint, the UPDATE, the
    read, the release), which is most of what issuing one document spends on its numbers."""
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    column = quote(meta.get_field(field).column)
    conditions = " AND ".join(f"{quote(meta.get_field(name).column)} = %s" for name in where)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {quote(meta.db_table)} SET {column} = {column} + %s WHERE {conditions} "
                       f"RETURNING {column}", [by, *where.values()])
        row = cursor.fetchone()
    return None if row is None else row[0]



def increment_or_create(model: type[Model], field: str, by: int, **where: Any) -> int:
    """`increment_returning`, creating the row first on its first use: one INSERT ... ON CONFLICT
    DO NOTHING (its other columns take their defaults) that yields to a concurrent first use, then
    the same UPDATE. What gapless series and named counters take their values with."""
    after = increment_returning(model, field, by, **where)
    if after is None:
        model._default_manager.bulk_create([model(**where)], ignore_conflicts=True)
        after = increment_returning(model, field, by, **where)
    if after is None:  # deleted between the two statements: these rows are never deleted
        raise RuntimeError(f"{model.__name__} {where} vanished while it was incremented.")
    return after

def analyze_if_stale(*models: type[Model]) -> list[str]:
    """ANALYZE the tables of `models` whose statistics autovacuum would renew now: never analyzed,
    or more rows changed since the last ANALYZE than `autovacuum_analyze_threshold` +
    `autovacuum_analyze_scale_factor` x rows. Returns the tables analyzed (none off PostgreSQL).

    For a phase that reads what the previous phase bulk-loaded: the month-end run writes its
    drafts within seconds, and autovacuum comes a minute later at best. Until then the planner
    takes a fresh invoice table for a tenth of its size (a never-analyzed table's rows are
    guessed from a wide row's declared widths) and hashes the whole table for every chunk instead
    of reading the chunk's rows by key. A table already analyzed and little changed (a database
    in use for months) is left alone. ANALYZE does not block reads or writes; a table this role
    does not own is skipped by the server with a warning."""
    connection = connections[router.db_for_write(models[0])]
    if connection.vendor != "postgresql":
        return []
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        # The statistics views answer from a snapshot taken at their first read in a transaction
        # (stats_fetch_consistency = cache): read them afresh, not as the caller's transaction last saw them.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE c.relname = ANY(%s) AND (c.reltuples < 0 OR s.n_mod_since_analyze > "
            "current_setting('autovacuum_analyze_threshold')::float8 "
            "+ current_setting('autovacuum_analyze_scale_factor')::float8 * c.reltuples) ORDER BY c.relname",
            [tables],
        )
        stale = [name for (name,) in cursor.fetchall()]
        for name in stale:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(name)}")
    return stale
