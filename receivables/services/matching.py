"""Automatic cash application: each receipt goes through the matching engine (receivables.matching,
rules in docs/cash-application.md) over the database `Book`; the best suggestion at or above the
policy's threshold is applied (rules, score and reasons recorded on the applications), anything
below waits with its ranked suggestions for a person on the workbench."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from customers.models import Customer
from otc.bulk import bulk_update_rows, collector_paused
from otc.errors import DomainError, ValidationFailed
from receivables.matching import MatchPolicy, ReceiptFacts, Suggestion, match
from receivables.matching.engine import match_and_identify
from receivables.matching_book import DbBook, PreloadedBook
from receivables.models import Receipt

from .batch import Decision, receipts_apply_batch
from .receipts import LIVE, receipt_identify_locked

MAX_STORED = 5
IDENTIFY_AT = 0.93  # payer identification confident enough to move a receipt out of suspense


@dataclass
class AutoMatchResult:
    applied: int = 0
    identified: int = 0
    suggested: int = 0
    unmatched: int = 0


END_TO_END_WIDTH = 35  # camt EndToEndId, MT940 /EREF/: what a longer reference is cut to
_COMPLETE_NUMBER = re.compile(r"\d{6,}$")


def split_cut_tail(end_to_end_id: str) -> tuple[str, str]:
    """(the end-to-end id without its last word, that word) when the bank cut the id at its width
    in the middle of a word ("INV DE-RE-2026-000411 INV DE-RE-2026-0001"); else (the id, "").
    A last word ending in a whole six-digit sequence is not cut."""
    text = " ".join(end_to_end_id.split())
    if len(end_to_end_id) < END_TO_END_WIDTH or end_to_end_id[-1:].isspace():
        return text, ""
    head, _, tail = text.rpartition(" ")
    if _COMPLETE_NUMBER.search(tail):
        return text, ""
    return head, tail


def facts(receipt: Receipt) -> ReceiptFacts:
    # the end-to-end id often is the invoice number the payer's system sent, cut at 35 characters
    end_to_end, cut_tail = split_cut_tail(receipt.end_to_end_id) if receipt.end_to_end_id else ("", "")
    return ReceiptFacts(
        id=receipt.pk, legal_entity_id=receipt.legal_entity_id, currency=receipt.currency,
        amount=receipt.unapplied_amount, value_date=receipt.value_date, payer_name=receipt.payer_name,
        payer_account=receipt.payer_account, customer_id=receipt.customer_id,
        remittance=(f"{receipt.remittance} {end_to_end}" if end_to_end
                    and receipt.end_to_end_id not in receipt.remittance else receipt.remittance),
        cut_tail=cut_tail if receipt.end_to_end_id not in receipt.remittance else "")


def suggestion_json(suggestion: Suggestion) -> dict[str, Any]:
    return {
        "customer_id": suggestion.customer_id, "score": round(suggestion.score, 3),
        "allocations": [{"invoice_id": a.invoice_id, "invoice_number": a.invoice_number, "amount": str(a.amount)}
                        for a in suggestion.allocations],
        "on_account": str(suggestion.on_account), "short": str(suggestion.short),
        "rules": list(suggestion.rules), "reasons": list(suggestion.reasons),
        "auto": suggestion.auto, "other_customer": suggestion.other_customer,
    }


PRELOAD_ABOVE = 200  # receipts in one call above which the open invoices are read into memory once
APPLY_CHUNK = 500


def matching_book_for(receipts: list[Receipt], *, today: dt.date | None = None) -> DbBook | PreloadedBook:
    """The Book for matching these receipts: their entities' open invoices read into memory once for
    more than PRELOAD_ABOVE receipts (a background import passes it to every chunk), else queries."""
    if len(receipts) > PRELOAD_ABOVE:
        return PreloadedBook({r.legal_entity_id for r in receipts}, today=today)
    return DbBook(today=today)  # per call: what it remembers as consumed is applied at the end of the call


def receipts_auto_match(*, receipt_ids: list[int], policy: MatchPolicy | None = None,
                        today: dt.date | None = None, book: Any = None) -> AutoMatchResult:
    """Match each receipt; apply the best suggestion at or above the threshold, store the ranked
    suggestions of the others. Decisions are applied set-based in chunks (receivables.services.
    batch); a chunk refused by a rule the engine could not see (another person was quicker) is
    retried receipt by receipt, and a receipt still refused keeps its suggestions with the reason.
    `book`: a Book shared by the chunks of one import (`matching_book_for`), read once."""
    policy = policy or MatchPolicy()
    result = AutoMatchResult()
    receipts = list(Receipt.objects.filter(pk__in=receipt_ids, status__in=LIVE).order_by("pk"))
    receipts = [r for r in receipts if r.unapplied_amount > 0]
    if not receipts:
        return result
    if not isinstance(book, PreloadedBook) or not {r.legal_entity_id for r in receipts} <= book.legal_entity_ids:
        book = matching_book_for(receipts, today=today)
    decisions: list[Decision] = []
    stored: dict[int, tuple[list[dict[str, Any]], str, float | None]] = {}
    identify: list[tuple[int, int]] = []
    # The matching creates no reference cycles (as the book's build): the cyclic collector is paused
    # for it, else its full passes walk the book's hundreds of thousands of rows again and again (a
    # fifth of an import's CPU for 10,000 receipts against 200,000 open invoices).
    with collector_paused():
        for receipt in receipts:
            suggestions, payer = match_and_identify(facts(receipt), book, policy)
            best = suggestions[0] if suggestions else None
            kept = [suggestion_json(s) for s in suggestions[:MAX_STORED]]
            if best is not None and best.score >= policy.auto_apply_threshold and best.allocations and best.auto:
                allocations = tuple((a.invoice_id, a.amount) for a in best.allocations)
                decisions.append(Decision(receipt_id=receipt.pk, allocations=allocations, rule="+".join(best.rules),
                                          score=best.score, reason="; ".join(best.reasons), on_account=best.on_account > 0))
                book.consume(list(allocations))
                stored[receipt.pk] = (kept, Receipt.Match.AUTO, best.score)
                continue
            if receipt.customer_id is None and payer is not None and payer.confidence >= IDENTIFY_AT:
                # the payer is known even though its invoices are not: out of suspense, onto the
                # customer's unapplied cash (its balance, statement and dunning see the money)
                identify.append((receipt.pk, payer.customer_id))
            stored[receipt.pk] = (kept, Receipt.Match.SUGGESTED if suggestions else Receipt.Match.NONE,
                                  best.score if best is not None else None)

    for start in range(0, len(decisions), APPLY_CHUNK):
        chunk = decisions[start:start + APPLY_CHUNK]
        try:
            with transaction.atomic():
                result.applied += receipts_apply_batch(decisions=chunk)
        except DomainError:
            for decision in chunk:
                try:
                    with transaction.atomic():
                        result.applied += receipts_apply_batch(decisions=[decision])
                except DomainError as exc:
                    kept, _, score = stored[decision.receipt_id]
                    kept.insert(0, {"score": 0, "rules": ["refused"], "reasons": [f"Not applied: {exc.message}"],
                                    "allocations": [], "customer_id": None, "on_account": "0", "short": "0"})
                    stored[decision.receipt_id] = (kept, Receipt.Match.SUGGESTED, score)
    for receipt_id, customer_id in identify:
        with transaction.atomic():
            locked = Receipt.objects.select_for_update(of=("self",)).get(pk=receipt_id)
            if locked.customer_id is None:
                receipt_identify_locked(locked, Customer.objects.get(pk=customer_id), None)
                result.identified += 1
    applied_rows, waiting_rows = [], []
    for receipt_id, (kept, status, score) in stored.items():
        if status == Receipt.Match.AUTO:
            applied_rows.append(Receipt(pk=receipt_id, suggestions=kept))
        else:
            waiting_rows.append(Receipt(pk=receipt_id, suggestions=kept, match_status=status, match_score=score))
            result.suggested += status == Receipt.Match.SUGGESTED
            result.unmatched += status == Receipt.Match.NONE
    bulk_update_rows(applied_rows, ["suggestions"])
    bulk_update_rows(waiting_rows, ["suggestions", "match_status", "match_score"])
    return result


def receipt_suggestions(*, receipt_id: int) -> list[Suggestion]:
    """Fresh ranked suggestions for one receipt (the workbench's "suggest again")."""
    receipt = Receipt.objects.filter(pk=receipt_id).first()
    if receipt is None:
        raise ValidationFailed(f"Receipt {receipt_id} does not exist.")
    if receipt.unapplied_amount <= 0:
        return []
    return match(facts(receipt), DbBook(), MatchPolicy())


__all__ = ["AutoMatchResult", "facts", "matching_book_for", "receipt_suggestions", "receipts_auto_match", "suggestion_json"]
