"""A Controller's manual journal: the durable entry point the manual-journal form calls.

Policy: a manual journal may touch any active account of the entity, including the customer
subledger accounts (AR, unapplied cash), but a line on those carries a customer and opens or
settles an open item exactly like an automatic posting, so AR control still equals the sum of
open items. It never posts into a closed period (no roll-forward) and needs the permission
`ledger.post_manual_journal`.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from ledger.models import JournalEntry
from otc.errors import PermissionDenied, ValidationFailed
from otc.models import User

from .posting import LineSpec, journal_post


@transaction.atomic(durable=True)
def journal_post_manual(
    *, legal_entity_id: int, document_date: dt.date, lines: list[LineSpec], by: User, memo: str,
    currency: str | None = None, reference: str = "",
) -> JournalEntry:
    """Post a manual journal entry for `by` (a Controller); a memo saying why is required."""
    if by is None or not by.has_perm("ledger.post_manual_journal"):
        raise PermissionDenied("Your role may not post manual journal entries.")
    if not (memo or "").strip():
        raise ValidationFailed("A manual journal needs a memo explaining it.", fields={"memo": ["required"]})
    return journal_post(
        legal_entity_id=legal_entity_id, kind=JournalEntry.Kind.MANUAL, document_date=document_date, lines=lines,
        by=by, currency=currency, memo=memo.strip(), source=None, source_reference=reference,
        roll_forward=False,
    )
