"""otc.bulk: the set-based writes store exactly what save() would (on PostgreSQL through COPY)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction

from otc import bulk
from otc.models import OutboxEvent, StatusChange, User

TRICKY = "tab\there\nnew line\\back slash \\N \r ünïcødé ' \" ;"


@pytest.fixture(autouse=True)
def always_copy(monkeypatch):
    monkeypatch.setattr(bulk, "COPY_THRESHOLD", 0)  # even two rows take the COPY path on PostgreSQL


@pytest.mark.django_db
def test_insert_sets_keys_and_round_trips_every_kind_of_value():
    payload = {"text": TRICKY, "amount": "1234.56", "none": None, "list": [1, "a\tb"], "nested": {"x": True}}
    events = bulk.bulk_insert_rows([
        OutboxEvent(topic="t.one", subject_type="invoice", subject_id=7, payload=payload, last_error=TRICKY),
        OutboxEvent(topic="t.two", subject_type="invoice", subject_id=8, payload={}, attempts=3),
    ])
    assert all(event.pk for event in events) and events[0].pk != events[1].pk
    first, second = OutboxEvent.objects.get(pk=events[0].pk), OutboxEvent.objects.get(pk=events[1].pk)
    assert first.payload == payload and first.last_error == TRICKY and first.delivered_at is None
    assert first.created_at is not None  # auto_now_add stamped as save() would
    assert (second.topic, second.subject_id, second.attempts, second.payload) == ("t.two", 8, 3, {})


@pytest.mark.postgres  # keys are taken from the sequence first only on PostgreSQL
@pytest.mark.django_db
def test_keys_are_taken_from_the_tables_sequence_one_per_row_and_the_next_row_follows_them():
    from django.db import connection

    events = bulk.bulk_insert_rows([OutboxEvent(topic=f"t.{i}", subject_type="invoice", subject_id=i, payload={})
                                    for i in range(30)])
    keys = [event.pk for event in events]
    assert len(set(keys)) == 30 and keys == sorted(keys)
    assert sorted(OutboxEvent.objects.filter(pk__in=keys).values_list("subject_id", flat=True)) == list(range(30))
    with connection.cursor() as cursor:  # the sequence moved past every key taken
        cursor.execute("SELECT last_value FROM otc_outboxevent_id_seq")
        assert cursor.fetchone()[0] == keys[-1]
    later = OutboxEvent.objects.create(topic="t.later", subject_type="invoice", subject_id=99, payload={})
    assert later.pk > keys[-1]


@pytest.mark.django_db
def test_insert_then_update_rows_writes_dates_decimals_and_foreign_keys():
    from tests.factories.billing import InvoiceFactory

    user = User.objects.create(username="bulk-user")
    invoices = [InvoiceFactory(), InvoiceFactory()]
    stamp = dt.datetime(2026, 11, 27, 8, 30, tzinfo=dt.UTC)
    for n, invoice in enumerate(invoices, start=1):
        invoice.number, invoice.issue_date = f"X-2026-{n:06d}", dt.date(2026, 11, 30)
        invoice.net_total, invoice.tax_total = Decimal("1000.10") * n, Decimal("190.02")
        invoice.gross_total = invoice.net_total + invoice.tax_total
        invoice.bill_to, invoice.issued_by, invoice.issued_at = {"legal_name": TRICKY}, user, stamp
    fields = ["number", "issue_date", "net_total", "tax_total", "gross_total", "bill_to", "issued_by", "issued_at"]
    assert bulk.bulk_update_rows(invoices, fields) == 2
    for n, invoice in enumerate(invoices, start=1):
        invoice.refresh_from_db()
        assert invoice.number == f"X-2026-{n:06d}" and invoice.issue_date == dt.date(2026, 11, 30)
        assert invoice.gross_total == Decimal("1000.10") * n + Decimal("190.02")
        assert invoice.bill_to == {"legal_name": TRICKY} and invoice.issued_by == user and invoice.issued_at == stamp

    bulk.history_insert(invoices, created=False, by=user, reason="issued", at=stamp)
    latest = invoices[0].history.order_by("-history_id").first()
    assert (latest.history_type, latest.history_user, latest.history_change_reason) == ("~", user, "issued")
    assert latest.number == "X-2026-000001" and latest.gross_total == Decimal("1190.12")


@pytest.mark.django_db
def test_update_rows_writes_shared_distinct_equal_and_null_json_documents():
    """JSON values shared by rows (one object), distinct, equal but separate objects, and None
    (SQL NULL), in two JSON columns and across batches: each row gets its own value, as save()
    would store it (on PostgreSQL each distinct document is sent and parsed once per statement)."""
    from billing.models import Invoice
    from otc.models import IdempotencyKey
    from tests.factories.billing import InvoiceFactory

    invoices = [InvoiceFactory() for _ in range(5)]
    seller = {"legal_name": TRICKY, "vat": ["DE1", None], "n": 1.5}
    bill_to = [{"legal_name": "A"}, {"legal_name": "B"}, {"legal_name": "A"}, [], {}]
    for invoice, document in zip(invoices, bill_to, strict=True):
        invoice.seller, invoice.bill_to = seller, document
    invoices[4].seller = {"legal_name": "other"}
    assert bulk.bulk_update_rows(invoices, ["bill_to", "seller"], batch_size=2) == 5
    stored = dict(Invoice.objects.filter(pk__in=[i.pk for i in invoices]).values_list("pk", "bill_to"))
    assert [stored[i.pk] for i in invoices] == bill_to
    assert [Invoice.objects.get(pk=i.pk).seller for i in invoices] == [seller] * 4 + [{"legal_name": "other"}]

    user = User.objects.create(username="bulk-json")
    keys = [IdempotencyKey.objects.create(user=user, key=f"k{n}", request_hash="h", method="POST", path="/")
            for n in range(3)]
    for key, body in zip(keys, [{"ok": TRICKY}, None, {"ok": TRICKY}], strict=True):
        key.response_body = body
    assert bulk.bulk_update_rows(keys, ["response_body"]) == 3
    assert [IdempotencyKey.objects.get(pk=k.pk).response_body for k in keys] == [{"ok": TRICKY}, None, {"ok": TRICKY}]
    assert IdempotencyKey.objects.filter(response_body__isnull=True).count() == 1  # SQL NULL, not JSON null
    assert bulk.bulk_update_rows(keys[:1], ["response_body"]) == 1 and keys[0].response_body == {"ok": TRICKY}
    keys[0].response_body = None
    assert bulk.bulk_update_rows(keys[:1], ["response_body"]) == 1  # a batch with no document at all
    assert IdempotencyKey.objects.get(pk=keys[0].pk).response_body is None


@pytest.mark.postgres  # the database copies the rows itself only on PostgreSQL
@pytest.mark.django_db
def test_history_of_saved_rows_copied_by_the_database_equals_the_history_streamed_from_the_objects():
    """`history_insert(saved=True)` (INSERT ... SELECT from the rows) writes the same history rows
    as the COPY from the objects: every tracked column, the user, reason, type and date; in the
    order of the objects."""
    from billing.models import Invoice
    from tests.factories.billing import InvoiceFactory

    user = User.objects.create(username="bulk-history")
    invoices = [InvoiceFactory() for _ in range(3)]
    stamp = dt.datetime(2026, 11, 27, 8, 30, tzinfo=dt.UTC)
    for n, invoice in enumerate(reversed(invoices), start=1):  # not in key order
        invoice.number, invoice.issue_date = f"H-2026-{n:06d}", dt.date(2026, 11, 30)
        invoice.net_total, invoice.tax_total, invoice.gross_total = Decimal(n), Decimal("0.19"), Decimal(n) + Decimal("0.19")
        invoice.bill_to, invoice.issued_by, invoice.issued_at = {"legal_name": TRICKY, "n": n}, user, stamp
    invoices = list(reversed(invoices))
    bulk.bulk_update_rows(invoices, ["number", "issue_date", "net_total", "tax_total", "gross_total", "bill_to",
                                     "issued_by", "issued_at"])
    history = Invoice.history.model
    columns = [field.attname for field in history._meta.concrete_fields if field.attname != "history_id"]

    def written(**options) -> list[tuple]:
        before = history.objects.order_by("-history_id").values_list("history_id", flat=True).first() or 0
        bulk.history_insert(invoices, created=False, by=user, reason=f"issued {TRICKY}", at=stamp, **options)
        return list(history.objects.filter(history_id__gt=before).order_by("history_id").values_list(*columns))

    streamed, copied = written(), written(saved=True)
    assert len(copied) == 3 and copied == streamed
    assert [row[columns.index("id")] for row in copied] == [invoice.pk for invoice in invoices]
    assert {row[columns.index("history_change_reason")] for row in copied} == {f"issued {TRICKY}"}


@pytest.mark.django_db
def test_insert_columns_writes_the_rows_insert_values_writes_in_the_order_given():
    """`bulk_insert_columns` (on PostgreSQL INSERT ... SELECT FROM unnest) writes what
    `bulk_insert_values` writes from the same rows: constants, per-row columns (keys not in
    order, text with tabs and quotes, NULL), defaults of the fields not named; keys in row order."""
    kind = ContentType.objects.get_for_model(User)
    user = User.objects.create(username="bulk-columns")
    keys, states = [5, 2, 9, 2**40], ["issued", TRICKY[:40], "paid", "issued"]  # to_state: 40 characters
    constants = {"content_type_id": kind.pk, "field": "status", "from_state": "draft", "by_id": user.pk}
    columns = ["content_type_id", "object_id", "field", "from_state", "to_state", "by_id", "note", "at"]

    def written(insert) -> list[tuple]:
        before = StatusChange.objects.order_by("-id").values_list("id", flat=True).first() or 0
        insert()
        return list(StatusChange.objects.filter(id__gt=before).order_by("id").values_list(*columns))

    by_values = written(lambda: bulk.bulk_insert_values(
        StatusChange, [*constants, "object_id", "to_state"],
        [(*constants.values(), key, state) for key, state in zip(keys, states, strict=True)]))
    by_columns = written(lambda: bulk.bulk_insert_columns(StatusChange, constants,
                                                          {"object_id": keys, "to_state": states}))
    assert [row[:-1] for row in by_columns] == [row[:-1] for row in by_values]  # but `at`: stamped now
    assert [(row[1], row[4], row[5], row[6]) for row in by_columns] == [
        (key, state, user.pk, "") for key, state in zip(keys, states, strict=True)]
    assert by_values[0][-1] <= by_columns[0][-1] <= by_columns[-1][-1]  # stamped now, as auto_now_add
    with_null_user = written(lambda: bulk.bulk_insert_columns(StatusChange, {**constants, "by_id": None, "note": TRICKY},
                                                              {"object_id": [3, 1], "to_state": ["a", "b"]}))
    assert [(row[1], row[4], row[5], row[6]) for row in with_null_user] == [(3, "a", None, TRICKY), (1, "b", None, TRICKY)]
    with pytest.raises(ValueError, match="different lengths"):
        bulk.bulk_insert_columns(StatusChange, constants, {"object_id": [1, 2], "to_state": ["a"]})


@pytest.mark.django_db
def test_record_status_changes_writes_one_row_per_object_with_its_state():
    from otc.services import record_status_changes

    kind = ContentType.objects.get_for_model(User)
    users = [User.objects.create(username=f"status-{n}", first_name=state)
             for n, state in enumerate(["issued", "issued", "paid"])]
    record_status_changes(users, by=users[0], from_state="draft", field="first_name", note="batch")
    rows = list(StatusChange.objects.filter(content_type=kind).order_by("id")
                .values_list("object_id", "field", "from_state", "to_state", "by_id", "note"))
    assert rows == [(u.pk, "first_name", "draft", u.first_name, users[0].pk, "batch") for u in users]
    record_status_changes(users[:2], by=None, from_state="", field="first_name")  # one state for all: a constant
    assert list(StatusChange.objects.filter(content_type=kind, by=None).order_by("id")
                .values_list("object_id", "to_state", "from_state")) == [(u.pk, "issued", "") for u in users[:2]]


@pytest.mark.django_db
def test_a_constraint_violation_is_a_django_integrity_error_and_rolls_back():
    content_type = ContentType.objects.get_for_model(User)
    rows = [StatusChange(content_type=content_type, object_id=1, to_state="ok"),
            StatusChange(content_type=content_type, object_id=2, to_state=None)]  # NOT NULL
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.bulk_insert_rows(rows)
    assert not StatusChange.objects.filter(to_state="ok").exists()


@pytest.mark.django_db
def test_insert_values_fills_the_model_defaults_of_fields_not_named():
    bulk.bulk_insert_values(OutboxEvent, ["topic", "subject_type", "subject_id", "payload"],
                            [("t.v", "invoice", n, {"n": n, "text": TRICKY}) for n in range(3)])
    rows = list(OutboxEvent.objects.filter(topic="t.v").order_by("subject_id"))
    assert [(r.subject_id, r.payload["n"], r.payload["text"], r.attempts, r.last_error, r.delivered_at)
            for r in rows] == [(n, n, TRICKY, 0, "", None) for n in range(3)]
    assert all(r.created_at is not None for r in rows)


@pytest.mark.postgres  # one array per column only on PostgreSQL
@pytest.mark.django_db
def test_update_rows_sent_as_arrays_store_every_value_as_save_would_and_other_values_as_values_rows():
    """Strings with the characters an array literal quotes, NULLs, booleans, dates, datetimes in
    another zone with microseconds, exponent Decimals, keys: sent as one array per
    column, stored exactly, a choices enum member as its value. A value without a plain text form
    (another str subclass) sends the batch as VALUES rows, stored the same."""
    from zoneinfo import ZoneInfo

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils.safestring import mark_safe

    from billing.models import Invoice
    from tests.factories.billing import InvoiceFactory

    user = User.objects.create(username="bulk-arrays")
    texts = [TRICKY, "", "NULL", '{a,"b"}\\', "  padded  "]
    invoices = [InvoiceFactory() for _ in texts]
    berlin = dt.datetime(2026, 7, 1, 14, 5, 6, 123456, tzinfo=ZoneInfo("Europe/Berlin"))
    for n, (invoice, text) in enumerate(zip(invoices, texts, strict=True)):
        invoice.notes, invoice.po_number, invoice.on_hold = text, text[:60], n % 2 == 0
        invoice.issue_date, invoice.issued_at = dt.date(2026, 11, 30) + dt.timedelta(days=n), berlin
        invoice.gross_total = [Decimal("12.3400"), Decimal("1E+3"), Decimal("0"), Decimal("99999.9999"),
                               Decimal("0.0001")][n]
        invoice.net_total, invoice.tax_total = invoice.gross_total, Decimal("0")
        invoice.issued_by, invoice.payment_terms_days = (user if n % 2 else None), n * 7
        invoice.status = Invoice.Status.DRAFT  # a choices enum member: sent as its value
    fields = ["notes", "po_number", "on_hold", "issue_date", "issued_at", "net_total", "tax_total", "gross_total",
              "issued_by", "payment_terms_days", "status"]
    with CaptureQueriesContext(connection) as queries:
        assert bulk.bulk_update_rows(invoices, fields) == 5
    assert [q["sql"] for q in queries.captured_queries if "UPDATE" in q["sql"]][0].count("unnest(") == 1
    rows = dict(Invoice.objects.filter(pk__in=[i.pk for i in invoices]).values_list("pk", "notes"))
    stored = {row[0]: row[1:] for row in Invoice.objects.filter(pk__in=[i.pk for i in invoices]).values_list(
        "pk", *[f if f != "issued_by" else "issued_by_id" for f in fields])}
    for invoice in invoices:
        assert stored[invoice.pk] == (invoice.notes, invoice.po_number, invoice.on_hold, invoice.issue_date,
                                      berlin, invoice.gross_total, Decimal("0"), invoice.gross_total,
                                      invoice.issued_by_id, invoice.payment_terms_days, "draft")
    assert rows[invoices[1].pk] == "" and rows[invoices[2].pk] == "NULL"

    invoices[0].notes = mark_safe("<b>safe</b> \"quoted\"")  # a str subclass: not sent as an array element
    with CaptureQueriesContext(connection) as queries:
        assert bulk.bulk_update_rows(invoices[:2], ["notes", "gross_total"]) == 2
    sql = [q["sql"] for q in queries.captured_queries if "UPDATE" in q["sql"]][0]
    assert "unnest(" not in sql and "VALUES" in sql
    assert Invoice.objects.get(pk=invoices[0].pk).notes == '<b>safe</b> "quoted"'
    assert Invoice.objects.get(pk=invoices[1].pk).gross_total == Decimal("1000")


@pytest.mark.postgres  # the values are passed as they are only on PostgreSQL (SQLite's fields prepare dates as text)
def test_values_passed_as_they_are_are_exactly_what_the_field_would_prepare():
    """bulk_update_rows passes some values without `get_db_prep_save` on PostgreSQL: only where
    the field would return them unchanged. A datetime in a DateField, a naive datetime, a float or
    a NaN in a DecimalField, a bool in an IntegerField go through the field."""
    from django.db import connection

    from billing.models import Invoice

    meta = Invoice._meta
    aware = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
    cases = [("number", "X-1"), ("journal_entry", 12), ("issue_date", dt.date(2026, 11, 30)), ("issued_at", aware),
             ("gross_total", Decimal("119.0000")), ("on_hold", True), ("payment_terms_days", 30), ("id", 5),
             ("notes", TRICKY)]
    for name, value in cases:
        field = meta.get_field(name)
        assert bulk._prepared_as_is(value, bulk._as_is_types(field)), name
        assert field.get_db_prep_save(value, connection) == value, name
    through_the_field = [("issue_date", aware), ("issued_at", dt.datetime(2026, 11, 30, 8, 0)),
                         ("gross_total", 1.5), ("gross_total", Decimal("NaN")), ("payment_terms_days", True),
                         ("bill_to", {"a": 1}), ("pdf", "invoices/x.pdf")]
    for name, value in through_the_field:
        assert not bulk._prepared_as_is(value, bulk._as_is_types(meta.get_field(name))), name


@pytest.mark.postgres  # statistics are PostgreSQL's
@pytest.mark.django_db
def test_analyze_if_stale_analyzes_a_table_never_analyzed_and_then_leaves_it_alone():
    from django.db import connection

    def reltuples() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'otc_outboxevent'")
            return cursor.fetchone()[0]

    with connection.cursor() as cursor:  # as a new database's table is (undone with the test's transaction)
        cursor.execute("UPDATE pg_class SET reltuples = -1 WHERE relname = 'otc_outboxevent'")
    OutboxEvent.objects.bulk_create([OutboxEvent(topic="t", subject_type="invoice", subject_id=i, payload={})
                                     for i in range(30)])
    assert reltuples() == -1
    assert bulk.analyze_if_stale(OutboxEvent, StatusChange) in (["otc_outboxevent"],
                                                                  ["otc_outboxevent", "otc_statuschange"])
    assert reltuples() == OutboxEvent.objects.count()  # the rows counted: the planner's size of the table
    assert bulk.analyze_if_stale(OutboxEvent) == []  # analyzed and not changed since: left alone


def test_collector_paused_restores_the_collector_as_it_was_even_when_the_block_raises():
    import gc

    from otc.bulk import collector_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("book failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()


@pytest.mark.postgres
@pytest.mark.django_db
def test_analyze_if_stale_reads_the_statistics_afresh_inside_a_transaction_that_read_them():
    """The statistics views answer from a snapshot taken at their first read in a transaction: a
    table analyzed since must not still look stale because of writes made before the ANALYZE."""
    import psycopg2
    from django.db import connection

    other = psycopg2.connect(**connection.get_connection_params())  # writes committed by someone else
    try:
        with other, other.cursor() as cursor:
            cursor.execute("INSERT INTO otc_outboxevent (topic, subject_type, subject_id, payload, created_at, attempts, "
                           "last_error) SELECT 't', 'invoice', n, '{}', now(), 0, '' FROM generate_series(1, 200) n")
            cursor.execute("DELETE FROM otc_outboxevent WHERE topic = 't'")
            cursor.execute("SELECT pg_stat_force_next_flush()")  # the 400 changes reach the shared statistics
    finally:
        other.close()
    assert bulk.analyze_if_stale(OutboxEvent) == ["otc_outboxevent"]  # 400 changes since the last ANALYZE
    assert bulk.analyze_if_stale(OutboxEvent) == []  # analyzed a moment ago, nothing changed since


@pytest.mark.postgres  # the keys are repeated as `= ANY(...)` only on PostgreSQL
@pytest.mark.django_db
def test_update_rows_restricts_each_statement_to_its_batchs_keys_and_leaves_other_rows_alone():
    """Each UPDATE names its batch's keys again (`id = ANY(...)`, so the planner reads the rows by
    key), on the arrays path, on the VALUES path and with shared JSON documents: every row of every
    batch is written, and a row of the table that is in no batch is not touched."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils.safestring import mark_safe

    from billing.models import Invoice
    from tests.factories.billing import InvoiceFactory

    bystander = InvoiceFactory(notes="left alone")
    invoices = [InvoiceFactory() for _ in range(5)]
    for n, invoice in enumerate(invoices):
        invoice.notes, invoice.bill_to = f"note {n}", {"n": n % 2}
    invoices[3].notes = mark_safe("note 3")  # a str subclass: that batch goes as VALUES rows
    for fields in (["notes"], ["notes", "bill_to"]):
        with CaptureQueriesContext(connection) as queries:
            assert bulk.bulk_update_rows(invoices, fields, batch_size=2) == 5
        updates = [q["sql"] for q in queries.captured_queries if "UPDATE" in q["sql"]]
        assert len(updates) == 3 and all('"billing_invoice"."id" = ANY(' in sql for sql in updates)
        assert any("VALUES (" in sql and "unnest(" not in sql for sql in updates)
        stored = dict(Invoice.objects.filter(pk__in=[i.pk for i in invoices]).values_list("pk", "notes"))
        assert [stored[i.pk] for i in invoices] == [str(i.notes) for i in invoices]
        for invoice in invoices:
            invoice.notes = invoice.notes + "+"
        invoices[3].notes = mark_safe(invoices[3].notes)
    assert [Invoice.objects.get(pk=i.pk).bill_to for i in invoices] == [{"n": n % 2} for n in range(5)]
    bystander_now = Invoice.objects.get(pk=bystander.pk)
    assert bystander_now.notes == "left alone" and bystander_now.updated_at == bystander.updated_at


def _copy_text_value_by_value(columns, row):
    """The COPY text of one row as `_copy` wrote it before its rows were formatted by a generated
    function: one converter call per value (the reference the generated formatter must equal)."""
    import json

    out = []
    for field, value in zip(columns, row, strict=True):
        kind = field.get_internal_type()
        if value is None:
            out.append("\\N")
        elif kind == "JSONField":
            out.append(bulk._escape(json.dumps(value, cls=field.encoder)))
        elif kind == "BooleanField":
            out.append("t" if value else "f")
        elif kind in ("DateField", "DateTimeField"):
            out.append(value.isoformat())
        elif kind in bulk._PLAIN:
            out.append(str(value))
        else:
            out.append(bulk._escape(str(value)))
    return "\t".join(out) + "\n"


def test_copy_rows_formatted_by_the_generated_function_are_the_text_of_value_by_value_conversion():
    """Every kind of column (key, foreign key, decimal, text with tabs, newlines, carriage returns
    and backslashes, boolean, date, zoned datetime, JSON shared and not, a file name, NULL in
    each): the generated row formatter writes exactly the text of converting value by value; a
    row of the wrong length is refused as zip(strict=True) refused it."""
    from zoneinfo import ZoneInfo

    from billing.models import Invoice

    columns = list(Invoice._meta.concrete_fields)
    kinds = {field.get_internal_type() for field in columns}
    assert {"BigAutoField", "ForeignKey", "DecimalField", "CharField", "TextField", "BooleanField", "DateField",
            "DateTimeField", "JSONField", "FileField"} <= kinds
    shared = {"legal_name": TRICKY, "lines": [1, "a\tb", None]}
    samples = {
        "BigAutoField": [1, 2 ** 40], "ForeignKey": [7, None], "DecimalField": [Decimal("1E+3"), Decimal("-0.0001")],
        "CharField": [TRICKY, ""], "TextField": ["\\N", "plain"], "BooleanField": [True, False],
        "DateField": [dt.date(2026, 11, 30), None],
        "DateTimeField": [dt.datetime(2026, 7, 1, 14, 5, 6, 123456, tzinfo=ZoneInfo("Europe/Berlin")), None],
        "JSONField": [shared, {"other": "x\\y"}], "FileField": ["invoices/2026/a\tb.pdf", ""],
    }
    rows = []
    for n in range(4):
        row = []
        for i, field in enumerate(columns):
            values = samples.get(field.get_internal_type(), [f"v{i}\r\n", 5])
            row.append(None if (n + i) % 7 == 0 else values[(n + i) % len(values)])
        rows.append(row)
    format_row = bulk._row_formatter(columns)
    assert [format_row(row) for row in rows] == [_copy_text_value_by_value(columns, row) for row in rows]
    assert bulk._row_formatter(columns)(rows[0]) == format_row(rows[0])  # the cached function, fresh JSON state
    with pytest.raises(ValueError):
        format_row(rows[0][:-1])
    with pytest.raises(ValueError):
        format_row([*rows[0], 1])


def test_values_of_reads_what_getattr_reads_one_name_or_many():
    """The rows the bulk writes take from objects: each attname's value as `getattr` reads it
    (a file field through its descriptor, a foreign key's id, a default), one name or many."""
    from billing.models import Invoice

    invoice = Invoice(pdf="invoices/x.pdf", currency="EUR", customer_id=7, net_total=Decimal("1.10"))
    names = [field.attname for field in Invoice._meta.concrete_fields]
    assert bulk._values_of(names)(invoice) == tuple(getattr(invoice, name) for name in names)
    assert bulk._values_of(["pdf"])(invoice) == (invoice.pdf,) and bulk._values_of(["pdf"])(invoice)[0].name == "invoices/x.pdf"
    assert bulk._values_of(["customer_id", "currency"])(invoice) == (7, "EUR")


@pytest.mark.django_db
def test_relate_leaves_each_object_as_the_foreign_key_descriptor_leaves_it():
    """`relate(objs, name, values)` against `obj.name = value`: the same key and cached related
    object for a saved object and value, None over nothing cached, and where the descriptor does
    more (None over a cached object, a value not saved, an object not saved, a value of another
    model) the same outcome, the same error."""
    from billing.models import Invoice
    from tests.factories.billing import InvoiceFactory

    def state(invoice):
        return (invoice.customer_id, invoice.issued_by_id, invoice._state.fields_cache, invoice._state.db)

    user = User.objects.create(username="relate-user")
    invoices = [InvoiceFactory() for _ in range(3)]
    customers = [invoice.customer for invoice in invoices[::-1]]
    by_descriptor = [Invoice.objects.get(pk=invoice.pk) for invoice in invoices]
    by_relate = [Invoice.objects.get(pk=invoice.pk) for invoice in invoices]
    for invoice, customer in zip(by_descriptor, customers, strict=True):
        invoice.customer, invoice.issued_by = customer, None
    bulk.relate(by_relate, "customer", customers)
    bulk.relate(by_relate, "issued_by", [None] * 3)
    assert [state(i) for i in by_relate] == [state(i) for i in by_descriptor]
    assert by_relate[0].customer is customers[0] and by_relate[0].issued_by is None

    for invoices_ in (by_descriptor, by_relate):  # None over a cached object: its reverse cache is cleared too
        invoices_[0].issued_by = user
    by_descriptor[0].issued_by = None
    bulk.relate(by_relate[:1], "issued_by", [None])
    assert state(by_relate[0]) == state(by_descriptor[0])

    unsaved = Invoice(customer_id=invoices[0].customer_id)
    bulk.relate([unsaved], "issued_by", [user])  # an object of no database yet: the descriptor's own path
    assert unsaved.issued_by_id == user.pk and unsaved._state.db == "default"
    with pytest.raises(ValueError, match="must be a \"Customer\" instance"):
        bulk.relate(by_relate[:1], "customer", [user])
    with pytest.raises(ValueError, match="ForeignKey"):
        bulk.relate(by_relate[:1], "lines", [None])
