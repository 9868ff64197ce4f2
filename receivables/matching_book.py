"""The matcher's view of the books: payer keys now; the database-backed `Book` for
`receivables.matching` joins it when the matching engine lands."""

from __future__ import annotations

import re


def payer_key(name: str) -> str:
    """A payer name as remembered in aliases: lower case, punctuation and extra spaces removed."""
    return " ".join(re.sub(r"[^\w\s]", " ", (name or "").lower()).split())
