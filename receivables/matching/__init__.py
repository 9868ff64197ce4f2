"""Cash-application matching: a pure engine (no ORM) that ranks ways to apply a receipt.

The receivables services plug it in through a :class:`Book` (a database-backed one in production,
an in-memory one in tests) and apply the best suggestion automatically when its score reaches the
policy's threshold. The rules and the scoring are described in docs/cash-application.md.
"""

from .engine import identify_payer, match
from .names import normalize_payer
from .numbers import extract_invoice_numbers, parse_invoice_number, typo_variants
from .types import (
    Allocation,
    Book,
    MatchPolicy,
    NumberKey,
    OpenInvoice,
    ReceiptFacts,
    Suggestion,
)

__all__ = [
    "Allocation",
    "Book",
    "MatchPolicy",
    "NumberKey",
    "OpenInvoice",
    "ReceiptFacts",
    "Suggestion",
    "extract_invoice_numbers",
    "identify_payer",
    "match",
    "normalize_payer",
    "parse_invoice_number",
    "typo_variants",
]
