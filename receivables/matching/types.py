"""The matching engine's vocabulary: what it reads (open invoices, receipt facts, a Book) and what it
returns (ranked suggestions). Plain frozen dataclasses, no ORM: the receivables services build them
from rows and turn an accepted suggestion into applications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

ZERO = Decimal("0")


@dataclass(frozen=True)
class NumberKey:
    """One invoice-number candidate read from remittance text, shaped for an index lookup.

    A Book finds invoices by ``(year, sequence)`` when ``year`` is set and by ``sequence`` alone when
    it is None (the payer wrote "Inv 123" or "000123"). ``prefix_hint`` (upper-case alphanumerics
    written before the year, "US01INV" or "INV") and ``form`` only weigh the evidence; Books may
    ignore them. ``variant`` is empty for a number as written and names the one-digit edit for a
    typo candidate the engine derived from it ("two digits swapped").
    """

    sequence: int
    year: int | None = None
    raw: str = ""
    prefix_hint: str = ""
    form: str = "full"  # "full" prefix+year+seq, "year" year+seq, "keyword" "Inv 123", "bare" "000123"
    variant: str = ""
    digits: str = ""  # the sequence digits as written (typos are measured on them)


@dataclass(frozen=True)
class OpenInvoice:
    id: int
    number: str
    customer_id: int
    legal_entity_id: int
    currency: str
    open_amount: Decimal  # > 0, what is still due
    gross_total: Decimal
    due_date: date
    issue_date: date


@dataclass(frozen=True)
class ReceiptFacts:
    id: int
    legal_entity_id: int
    currency: str
    amount: Decimal  # > 0, what is left to apply
    value_date: date
    payer_name: str
    payer_account: str
    remittance: str
    customer_id: int | None = None  # already identified (manual or earlier step)
    # the last word of a reference the bank cut at its field's width (camt EndToEndId, 35
    # characters): "DE-RE-2026-0001" of DE-RE-2026-000123. Read as the beginning of an invoice
    # number, and matched only among the identified payer's open invoices
    cut_tail: str = ""


@dataclass(frozen=True)
class Allocation:
    invoice_id: int
    invoice_number: str
    amount: Decimal


@dataclass(frozen=True)
class Suggestion:
    """A way to place the receipt. ``sum(allocations) + on_account + unapplied == receipt.amount``.

    ``short`` is set only for a short payment within the policy's tolerance: the residual left open on
    the last allocated invoice, which the caller may route as a deduction. A partial payment beyond
    the tolerance leaves its remainder open with ``short == 0`` and says so in ``reasons``.
    ``unapplied`` is what the suggestion does not place at all (a refused currency mismatch).
    """

    customer_id: int | None
    allocations: tuple[Allocation, ...]
    on_account: Decimal  # overpayment left on account (>= 0)
    short: Decimal  # short payment left open on the last invoice (>= 0)
    score: float  # 0..1 confidence
    rules: tuple[str, ...]
    reasons: tuple[str, ...]
    unapplied: Decimal = ZERO
    # False when a hard rule forbids applying it without a person (docs/cash-application.md,
    # "Never the wrong customer"): it names another customer's invoice than the identified payer's,
    # or rests on a near-match reference without the payer identified as that customer
    auto: bool = True
    other_customer: bool = False  # names an invoice of a customer other than the identified payer

    @property
    def allocated(self) -> Decimal:
        return sum((a.amount for a in self.allocations), ZERO)


class Book(Protocol):
    def invoices_by_numbers(
        self, legal_entity_id: int, currency: str, candidates: list[NumberKey]
    ) -> list[OpenInvoice]: ...

    def open_invoices(
        self, customer_id: int, legal_entity_id: int, currency: str, limit: int = 200
    ) -> list[OpenInvoice]: ...

    def customers_by_account(self, payer_account: str) -> list[int]: ...

    def customers_by_alias(self, normalized_payer: str) -> list[int]: ...

    def customer_names(self, legal_entity_id: int) -> list[tuple[int, str]]: ...

    def currency_mismatch(self, customer_id: int, legal_entity_id: int, currency: str) -> bool: ...

    # Optional (a Book without them answers "none"/"only itself"):
    # customers_by_email_domain(domain) -> list[int]; group_of(customer_id) -> frozenset[int]


@dataclass(frozen=True)
class MatchPolicy:
    auto_apply_threshold: float = 0.9
    short_pay_tolerance_percent: Decimal = Decimal("2")
    short_pay_tolerance_amount: Decimal = Decimal("50")
    max_combination_invoices: int = 6
    max_combination_candidates: int = 200  # a payer's open items searched for a lump (nearest due first)
    combination_budget: int = 60_000  # subset-sum nodes per receipt
