"""PostgreSQL: a posted write-off and its lines are immutable in the database (only the recovered
amounts move); billing's invoice guard lets the written-off amount move after issue."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from collections_app.models import WriteOff, WriteOffLine
from collections_app.services.writeoffs import writeoff_approve, writeoff_post, writeoff_request
from tests.factories.collections_writeoffs import book

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def posted(today):
    today(dt.date(2026, 6, 30))
    b = book()
    write_off = writeoff_request(invoice_ids=[b["invoices"][0].pk], reason="bankruptcy", explanation="x",
                                 by=b["collector"])
    writeoff_approve(write_off_id=write_off.pk, by=b["manager"])
    return writeoff_post(write_off_id=write_off.pk, by=b["controller"]), b


def sql(statement: str, *params) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_a_posted_write_off_refuses_changes_and_deletes_but_recoveries_move(posted):
    write_off, b = posted
    with pytest.raises(DatabaseError, match="immutable"):
        sql("UPDATE collections_app_writeoff SET amount = 1 WHERE id = %s", write_off.pk)
    with pytest.raises(DatabaseError, match="immutable"):
        sql("UPDATE collections_app_writeoff SET status = 'rejected' WHERE id = %s", write_off.pk)
    with pytest.raises(DatabaseError, match="immutable"):
        sql("DELETE FROM collections_app_writeoffline WHERE write_off_id = %s", write_off.pk)
    with pytest.raises(DatabaseError, match="immutable"):
        sql("UPDATE collections_app_writeoffline SET amount = 1 WHERE write_off_id = %s", write_off.pk)
    sql("UPDATE collections_app_writeoff SET recovered_amount = 10 WHERE id = %s", write_off.pk)
    sql("UPDATE collections_app_writeoffline SET recovered_amount = 10 WHERE write_off_id = %s", write_off.pk)
    assert WriteOff.objects.get(pk=write_off.pk).recovered_amount == Decimal("10")
    assert WriteOffLine.objects.get(write_off=write_off).amount == Decimal("1190.0000")


def test_the_invoice_guard_lets_only_the_written_off_amount_move(posted):
    _, b = posted
    invoice = b["invoices"][0]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_written_off) == ("written_off", Decimal("1190.0000"))
    with pytest.raises(DatabaseError, match="printed columns"):
        sql("UPDATE billing_invoice SET gross_total = 1 WHERE id = %s", invoice.pk)
