"""Posted entries and lines never change: the model, the queryset and (on PostgreSQL) the
database refuse updates and deletes."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from ledger.models import JournalEntry, JournalLine
from otc.errors import DomainError
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import LegalEntityFactory, post_invoice

pytestmark = pytest.mark.django_db


def test_save_and_delete_of_a_posted_entry_raise():
    entry = post_invoice(LegalEntityFactory(), CustomerFactory(), "50.00")
    entry.memo = "changed"
    with pytest.raises(DomainError, match="immutable"):
        entry.save()
    with pytest.raises(DomainError, match="cannot be deleted"):
        entry.delete()
    line = entry.lines.first()
    line.amount = Decimal("1.00")
    with pytest.raises(DomainError):
        line.save()
    assert JournalEntry.objects.get().memo == ""


def test_queryset_update_and_delete_raise():
    post_invoice(LegalEntityFactory(), CustomerFactory(), "50.00")
    with pytest.raises(DomainError):
        JournalLine.objects.update(amount=Decimal("1.00"))
    with pytest.raises(DomainError):
        JournalEntry.objects.all().delete()
    assert JournalLine.objects.filter(amount=Decimal("50.00")).count() == 1


@pytest.mark.postgres
def test_raw_sql_update_is_refused_by_the_database_trigger():
    entry = post_invoice(LegalEntityFactory(), CustomerFactory(), "50.00")
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_journalline SET amount = 1 WHERE entry_id = %s", [entry.id])
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_journalentry WHERE id = %s", [entry.id])
    assert JournalLine.objects.filter(entry=entry, amount=Decimal("50.00")).count() == 1
