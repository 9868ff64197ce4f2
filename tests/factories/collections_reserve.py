"""Factories and helpers for the bad-debt reserve tests: an entity with its aging buckets, open
items placed in buckets, snapshots taken by the aging service, write-offs posted to the ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ledger.models import JournalEntry, LegalEntity, OpenItem
from ledger.services import LineSpec, journal_post
from receivables.aging.services import aging_snapshot_take
from receivables.models import AgingPolicy, AgingSnapshot
from tests.factories.ledger import LegalEntityFactory, post_invoice

IFRS_BUCKETS = "..0, 1-30, 31-60, 61-90, 91.."


def reserve_entity(code: str = "R1", buckets: str = IFRS_BUCKETS, currency: str = "EUR") -> LegalEntity:
    entity = LegalEntityFactory(code=code, functional_currency=currency)
    AgingPolicy.objects.update_or_create(legal_entity=entity, defaults={"buckets": buckets})
    return entity


def item_in_bucket(entity: LegalEntity, customer, amount: str | Decimal, *, as_of: dt.date, days_past_due: int,
                   currency: str | None = None) -> OpenItem:
    """An invoice whose due date makes it `days_past_due` old on `as_of` (negative: not yet due)."""
    due = as_of - dt.timedelta(days=days_past_due)
    issued = min(due, as_of) - dt.timedelta(days=30)
    entry = post_invoice(entity, customer, amount, date=issued, due=due, currency=currency)
    return OpenItem.objects.get(lines__entry=entry)


def snapshot(entity: LegalEntity, as_of: dt.date) -> AgingSnapshot:
    aging_snapshot_take(as_of=as_of, legal_entity_ids=[entity.id])
    return AgingSnapshot.objects.get(legal_entity=entity, as_of=as_of, status="complete")


def write_off(item: OpenItem, amount: str | Decimal, *, date: dt.date) -> JournalEntry:
    """What a write-off posts (whatever service posts it): debit the allowance, credit AR."""
    amount = Decimal(amount)
    return journal_post(legal_entity_id=item.legal_entity_id, kind="write_off", document_date=date,
                        currency=item.currency, by=None, lines=[
                            LineSpec(amount=amount, role="allowance"),
                            LineSpec(amount=-amount, role="ar", customer_id=item.customer_id, settle_item_id=item.id),
                        ])
