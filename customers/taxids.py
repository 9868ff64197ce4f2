"""Tax ids validated per country with python-stdnum, where stdnum has a validator."""

from __future__ import annotations

from functools import cache

from django.core.exceptions import ValidationError
from stdnum import get_cc_module
from stdnum.exceptions import ValidationError as StdnumError

from otc.countries import EU_COUNTRIES

# Non-EU countries whose VAT ids are written with their country prefix in e-invoices (EN 16931
# BR-CO-09): stored with it too, so "GB980780684" and not "980780684".
VAT_PREFIXED = frozenset({"GB"})

# The module to use per country: VAT for the EU and countries with a national VAT/GST number;
# otherwise the business/tax number stdnum knows.
_MODULE_NAMES = ("vat", "tin", "ein", "abn", "bn", "gst", "ruc", "rfc", "cnpj", "uen", "nif", "orgnr")


@cache  # the module per country never changes; looking it up tries up to 12 imports (a run checks thousands of ids)
def _validator(country: str):
    if country == "GR":
        country = "gr"
    for name in _MODULE_NAMES:
        module = get_cc_module(country.lower(), name)
        if module is not None and hasattr(module, "validate"):
            return module
    return None


def validate_tax_id(value: str, country: str) -> str:
    """Return the tax id in its compact form, or raise ValidationError naming the problem.

    EU and UK VAT ids may carry the country prefix (DE123456789) or not; the compact form keeps it.
    Countries without a stdnum validator accept the id as typed (trimmed)."""
    value = (value or "").strip()
    if not value:
        return value
    module = _validator(country)
    if module is None:
        return value
    try:
        compact = module.validate(value)
    except StdnumError as exc:
        raise ValidationError(f"{value} is not a valid {country} tax id: {str(exc).rstrip('.')}.")
    if country in EU_COUNTRIES or country in VAT_PREFIXED:
        prefix = "EL" if country == "GR" else country
        if not compact.upper().startswith(prefix):
            compact = prefix + compact
    return compact


def has_validator(country: str) -> bool:
    return _validator(country) is not None
