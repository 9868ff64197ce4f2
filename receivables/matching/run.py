"""One receipt's matching run: the candidates the rules propose, and the evidence the payer adds to
a customer's candidate."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from otc.money import format_amount, minor_units, quantize

from .common import CONFLICT_KEEP, FUZZY_CONFLICT, STRONG_ID, age, corporate_group
from .payer import Payer
from .types import ZERO, Allocation, Book, MatchPolicy, NumberKey, OpenInvoice, ReceiptFacts


@dataclass
class Candidate:
    customer_id: int | None
    allocations: list[Allocation]
    score: float
    rules: list[str]
    reasons: list[str]
    on_account: Decimal = ZERO
    short: Decimal = ZERO
    unapplied: Decimal = ZERO
    amount_agrees: bool = False

    def key(self) -> tuple:
        return self.customer_id, frozenset((a.invoice_id, a.amount) for a in self.allocations)


@dataclass
class Hit:
    invoice: OpenInvoice
    key: NumberKey
    weight: float
    reason: str


@dataclass
class Run:
    receipt: ReceiptFacts
    book: Book
    policy: MatchPolicy
    amount: Decimal
    payer: Payer
    candidates: list[Candidate] = field(default_factory=list)

    def money(self, value: Decimal) -> str:
        return format_amount(value, self.receipt.currency)

    def q(self, value: Decimal) -> Decimal:
        return quantize(value, self.receipt.currency)

    def tolerance(self, due: Decimal) -> Decimal:
        """Short payment tolerated on `due`: the smaller of the percentage and the absolute amount."""
        percent = due * self.policy.short_pay_tolerance_percent / Decimal(100)
        return self.q(min(percent, self.policy.short_pay_tolerance_amount))

    def cents(self, value: Decimal) -> int:
        return int(value.scaleb(minor_units(self.receipt.currency)).to_integral_value())

    # allocation shapes -----------------------------------------------------------------------

    def allocate_oldest_first(self, invoices: list[OpenInvoice]) -> tuple[list[Allocation], Decimal]:
        """Allocate the receipt over `invoices` oldest first; returns allocations and what is left."""
        left = self.amount
        allocations = []
        for inv in sorted(invoices, key=age):
            if left <= 0:
                break
            part = min(left, inv.open_amount)
            allocations.append(Allocation(inv.id, inv.number, part))
            left -= part
        return allocations, left

    def payer_evidence(self, customer_id: int) -> tuple[float, float, list[str], list[str]]:
        """(noisy-OR weight, multiplicative factor, rules, reasons) the payer adds to a customer."""
        known = self.payer.confidence(customer_id)
        if known is not None:
            return 0.9 * known.confidence, 1.0, [known.rule], [known.reason]
        other = self.payer.candidates[0] if self.payer.candidates else None
        if other is not None and other.confidence >= STRONG_ID and customer_id in corporate_group(self.book, other.customer_id):
            return 0.85 * other.confidence, 1.0, ["payer_group"], [
                f"{other.reason}; the invoice is of customer {customer_id}, in the same corporate group"]
        if other is not None and other.confidence >= 0.5:  # the payer points at someone else
            # an account, alias or given customer vetoes; a fuzzy name only doubts (bank names get cut)
            severity = 1 - CONFLICT_KEEP if other.rule != "payer_name" else FUZZY_CONFLICT
            keep = 1 - severity / 0.97 * min(other.confidence, 0.97)
            return 0.0, keep, ["payer_conflict"], [
                f"{other.reason}, but the invoice belongs to customer {customer_id} "
                f"(customer {other.customer_id} expected)"]
        if self.payer.names is not None and self.payer.normalized:
            sim = self.payer.names.similarity(self.payer.normalized, customer_id)
            if sim >= 80:
                weight = 0.6 if sim >= 90 else 0.3
                name = self.payer.names.display.get(customer_id, "")
                return weight, 1.0, ["payer_name"], [
                    f"Payer '{self.receipt.payer_name}' resembles the customer's name '{name}' ({sim:.0f}%)"]
        return 0.0, 1.0, [], []
