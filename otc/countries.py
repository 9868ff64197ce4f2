"""ISO 3166 countries (names from babel), and EU membership for VAT rules."""

from __future__ import annotations

from functools import lru_cache

from babel import Locale

EU_COUNTRIES = frozenset(
    ["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"]
)


@lru_cache(maxsize=1)
def country_choices() -> list[tuple[str, str]]:
    names = Locale("en").territories
    codes = [c for c in names if len(c) == 2 and c.isalpha() and c not in {"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"}]
    return sorted(((c, names[c]) for c in codes), key=lambda item: item[1])


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    return dict(Locale("en").territories)


def country_name(code: str) -> str:
    return _names().get(code, code)
