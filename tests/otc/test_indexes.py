"""The database's indexes are the ones the models declare, and the keys whose own index was
dropped are served by a declared index that leads with them (decision 0016, session 12).

Every index is an entry written with each row: the month-end run writes an invoice, its lines, a
journal entry with its lines, an open item, history and status rows per invoice. An index left in
the database that no model declares (the journal entry's three foreign-key indexes that
`ledger/migrations/0001_squashed_0004` kept, decision 0016) costs that on every row and is
invisible in the code."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

from billing.models import BillingException, InvoiceLine
from ledger.models import JournalEntry, JournalLine, OpenItem

pytestmark = pytest.mark.django_db


def _undeclared_indexes() -> list[tuple[str, str, list[str]]]:
    found = []
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            if model._meta.proxy or not model._meta.managed:
                continue
            table = model._meta.db_table
            declared = {index.name for index in model._meta.indexes} | {c.name for c in model._meta.constraints}
            single = {f.column for f in model._meta.local_fields if f.unique or f.db_index}
            together = {tuple(model._meta.get_field(name).column for name in fields)
                        for fields in model._meta.unique_together}
            for name, info in connection.introspection.get_constraints(cursor, table).items():
                if not (info["index"] or info["unique"]) or info["primary_key"] or name in declared:
                    continue
                columns = info["columns"]
                if (len(columns) == 1 and columns[0] in single) or tuple(columns) in together:
                    continue
                found.append((table, name, columns))
    return found


def test_every_index_in_the_database_is_declared_by_a_model():
    assert _undeclared_indexes() == []


def _leading_columns(model) -> list[tuple[str, ...]]:
    """The columns of each declared index and unique constraint that covers every row (no condition)."""
    meta = model._meta
    out = [tuple(meta.get_field(name).column for name in index.fields) for index in meta.indexes
           if index.condition is None]
    out += [tuple(meta.get_field(name).column for name in constraint.fields) for constraint in meta.constraints
            if getattr(constraint, "fields", None) and getattr(constraint, "condition", None) is None]
    return out


@pytest.mark.parametrize(("model", "field", "covered_by"), [
    (JournalEntry, "legal_entity", ("legal_entity_id", "entry_date")),
    (JournalEntry, "source_type", ("source_type_id", "source_id")),
    (JournalLine, "account", ("account_id", "currency")),
    (OpenItem, "legal_entity", ("legal_entity_id", "customer_id", "currency")),
    (OpenItem, "customer", ("customer_id", "due_date")),
    (InvoiceLine, "invoice", ("invoice_id", "position")),
    (BillingException, "run", ("run_id", "contract_id", "code")),
])
def test_a_key_without_its_own_index_leads_a_declared_one(model, field, covered_by):
    column = model._meta.get_field(field).column
    assert not model._meta.get_field(field).db_index
    assert covered_by in _leading_columns(model) and covered_by[0] == column
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, model._meta.db_table)
    assert [name for name, info in indexes.items() if info["index"] and info["columns"] == [column]] == []
    assert any(info["columns"][:len(covered_by)] == list(covered_by) for info in indexes.values())
