"""What the matching rules share: the weights, the noisy-OR, clean open invoices in the receipt's
currency, their age order and a customer's corporate group."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from otc.money import minor_units, quantize

from .types import Book, OpenInvoice

MAX_SUGGESTIONS = 5
CUT_WIDTHS = frozenset({15, 16, 26, 27, 34, 35})  # a name cut at 16, 27 or 35 characters (a space before it dropped)
MAX_VARIANT_KEYS = 400
NUMBER_WEIGHT = {"full": 0.85, "year": 0.80, "keyword": 0.55, "bare": 0.35}
FOREIGN_PREFIX_WEIGHT = 0.40
TYPO_KEEP = 0.45
AMOUNT_EXACT, AMOUNT_EXACT_AMBIGUOUS, AMOUNT_SHORT, AMOUNT_OVER = 0.80, 0.50, 0.60, 0.30
CONFLICT_KEEP = 0.35
FUZZY_CONFLICT = 0.3
STRONG_ID = 0.9
RIVAL = 0.6


def noisy_or(weights: Iterable[float]) -> float:
    doubt = 1.0
    for w in weights:
        doubt *= 1.0 - max(0.0, min(1.0, w))
    return 1.0 - doubt


def clean_invoices(invoices: Iterable[OpenInvoice], currency: str) -> list[OpenInvoice]:
    """Invoices in the receipt's currency with something open, amounts in the currency's minor unit."""
    exponent = -minor_units(currency)
    out = []
    for inv in invoices:
        if inv.currency != currency or inv.open_amount <= 0:
            continue  # rule 6: never across currencies, whatever a Book returns
        if inv.open_amount.as_tuple().exponent != exponent:
            inv = dataclasses.replace(inv, open_amount=quantize(inv.open_amount, currency))
        out.append(inv)
    return out


def age(inv: OpenInvoice) -> tuple:
    return inv.due_date, inv.issue_date, inv.id


def corporate_group(book: Book, customer_id: int) -> frozenset[int]:
    group_of = getattr(book, "group_of", None)
    return group_of(customer_id) if group_of is not None else frozenset({customer_id})
