"""Automatic cash application: each receipt goes through the matching engine (receivables.matching,
rules in docs/cash-application.md) over the database `Book`; the best suggestion at or above the
policy's threshold is applied (rules, score and reasons recorded on the applications), anything
below waits with its ranked suggestions for a person on the workbench."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from customers.models import Customer
from otc.errors import DomainError
from receivables.matching import MatchPolicy, ReceiptFacts, Suggestion, match
from receivables.matching_book import DbBook
from receivables.models import Receipt

from .receipts import LIVE, _identify, receipt_apply

MAX_STORED = 5


@dataclass
class AutoMatchResult:
    applied: int = 0
    identified: int = 0
    suggested: int = 0
    unmatched: int = 0


def facts(receipt: Receipt) -> ReceiptFacts:
    return ReceiptFacts(
        id=receipt.pk, legal_entity_id=receipt.legal_entity_id, currency=receipt.currency,
        amount=receipt.unapplied_amount, value_date=receipt.value_date, payer_name=receipt.payer_name,
        payer_account=receipt.payer_account, remittance=receipt.remittance, customer_id=receipt.customer_id)


def suggestion_json(suggestion: Suggestion) -> dict[str, Any]:
    return {
        "customer_id": suggestion.customer_id, "score": round(suggestion.score, 3),
        "allocations": [{"invoice_id": a.invoice_id, "invoice_number": a.invoice_number, "amount": str(a.amount)}
                        for a in suggestion.allocations],
        "on_account": str(suggestion.on_account), "short": str(suggestion.short),
        "rules": list(suggestion.rules), "reasons": list(suggestion.reasons),
    }


def receipts_auto_match(*, receipt_ids: list[int], policy: MatchPolicy | None = None,
                        today: dt.date | None = None) -> AutoMatchResult:
    """Match the receipts one by one (each in its own savepoint, so one refusal never undoes the
    others): apply the best suggestion when it reaches the threshold, else store the suggestions."""
    policy = policy or MatchPolicy()
    book, result = DbBook(today=today), AutoMatchResult()
    for receipt in Receipt.objects.filter(pk__in=receipt_ids, status__in=LIVE).order_by("pk"):
        if receipt.unapplied_amount <= 0:
            continue
        suggestions = match(facts(receipt), book, policy)
        best = suggestions[0] if suggestions else None
        stored = [suggestion_json(s) for s in suggestions[:MAX_STORED]]
        applied = False
        if best is not None and best.score >= policy.auto_apply_threshold and best.allocations:
            try:
                with transaction.atomic():
                    receipt_apply(receipt_id=receipt.pk, by=None, rule="+".join(best.rules)[:40], score=best.score,
                                  reason="; ".join(best.reasons),
                                  allocations=[(a.invoice_id, a.amount) for a in best.allocations])
                    if best.on_account > 0:
                        Receipt.objects.filter(pk=receipt.pk, status=Receipt.Status.PARTIALLY_APPLIED).update(
                            status=Receipt.Status.ON_ACCOUNT)
                applied = True
                result.applied += 1
            except DomainError as exc:  # a race or a rule the engine could not see: leave it to a person
                stored.insert(0, {"score": 0, "rules": ["refused"], "reasons": [f"Not applied: {exc.message}"],
                                  "allocations": [], "customer_id": best.customer_id,
                                  "on_account": "0", "short": "0"})
        elif (best is not None and best.customer_id and receipt.customer_id is None
              and best.score >= policy.auto_apply_threshold):
            with transaction.atomic():
                locked = Receipt.objects.select_for_update(of=("self",)).get(pk=receipt.pk)
                _identify(locked, Customer.objects.get(pk=best.customer_id), None)
            result.identified += 1
        if not applied:
            status = Receipt.Match.SUGGESTED if suggestions else Receipt.Match.NONE
            result.suggested += bool(suggestions)
            result.unmatched += not suggestions
            Receipt.objects.filter(pk=receipt.pk).update(
                suggestions=stored, match_status=status,
                match_score=best.score if best is not None else None)
        else:
            Receipt.objects.filter(pk=receipt.pk).update(suggestions=stored)
    return result


def receipt_suggestions(*, receipt_id: int) -> list[Suggestion]:
    """Fresh ranked suggestions for one receipt (the workbench's "suggest again")."""
    receipt = Receipt.objects.get(pk=receipt_id)
    if receipt.unapplied_amount <= 0:
        return []
    return match(facts(receipt), DbBook(), MatchPolicy())


__all__ = ["AutoMatchResult", "facts", "receipt_suggestions", "receipts_auto_match", "suggestion_json"]
