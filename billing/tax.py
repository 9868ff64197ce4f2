"""Tax determination: which TaxCode applies to a line, and the reference codes a new install needs.

`tax_code_for` decides in this order (DESIGN.md, "Tax"):

1. The customer is tax-exempt -> the exempt code. The customer's exemption reference is printed
   at invoice level (see `invoice_legal_notes`).
2. The customer is outside the seller's tax area (the EU for an EU seller, else the seller's
   country) -> the out-of-scope export code (0%, UBL category O): the seller country's own
   (US-EXPORT-OOS, GB-EXPORT-OOS, with that country's wording), else EXPORT-OOS (EU wording).
   This comes before a product's exemption: a supply outside the territory is not subject to
   the tax at all, and an e-invoice may not mix "not subject" with other categories (BR-O-11).
   The product's category is exempt -> the exempt code.
3. EU cross-border B2B: seller and customer in different EU member states and the customer has a
   VAT id that passes its checksum -> reverse charge (0%, UBL category AE, Article 196 note).
   Without a valid VAT id the supply is treated as B2C and taxed at the seller's domestic rate
   (a simplification: OSS destination-country VAT for digital B2C is not modelled).
4. Otherwise the seller country's code for the product's tax category valid on the date.

Codes have effective dates (`valid_from`..`valid_to`); the row valid on the date of supply wins.
Special codes (exempt, reverse charge, export) apply to every category ("*") and are looked up
for the seller's country first, then the EU (reverse charge), then "ZZ" (any jurisdiction).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from billing.models import TaxCode
from customers.models import Customer
from customers.taxids import validate_tax_id
from otc.countries import EU_COUNTRIES
from otc.errors import DomainError

ANY_JURISDICTION = "ZZ"
ANY_CATEGORY = "*"
EXEMPT_CATEGORY = "exempt"

REVERSE_CHARGE_NOTE = (
    "Reverse charge: VAT to be accounted for by the recipient (Article 196, Directive 2006/112/EC)"
)
EXPORT_NOTE = (
    "Outside the scope of VAT: place of supply is outside the supplier's tax area "
    "(Article 44, Directive 2006/112/EC)"
)
EXEMPT_NOTE = "Exempt from VAT / sales tax"
# Customer-facing wording, reviewed per seller country (docs/billing.md, "Wording on documents").
# Nothing here may claim what the company has not established (no nexus statements) or cite
# another jurisdiction's law (a US invoice never cites the EU VAT Directive).
US_NOTE = "No sales tax charged: the purchaser is responsible for any sales or use tax due in its state."
US_EXPORT_NOTE = "No US sales tax: services supplied to a customer outside the United States."
GB_EXPORT_NOTE = (
    "Outside the scope of UK VAT: services supplied to a business customer belonging outside the UK "
    "(section 7A, VAT Act 1994). The customer accounts for any VAT due in its own country."
)
# Wording replaced in existing rows by migration billing 0005 (kept here so a test can prove it is gone)
SUPERSEDED_NOTES = {
    "No US sales tax charged: SaaS supplied without nexus in the customer's state (placeholder)": US_NOTE,
}


class TaxCodeMissing(DomainError):
    code = "tax_code_missing"


def _valid_on(on: dt.date) -> Q:
    return Q(valid_from__lte=on) & (Q(valid_to__isnull=True) | Q(valid_to__gte=on))


def has_valid_vat_id(customer: Customer) -> bool:
    """The customer has a VAT id that passes its country's checksum (python-stdnum)."""
    if not customer.tax_id:
        return False
    return _tax_id_valid(customer.tax_id, customer.country)


@lru_cache(maxsize=65536)  # a pure function of its arguments: the month-end run asks again in every chunk
def _tax_id_valid(tax_id: str, country: str) -> bool:
    """`validate_tax_id` accepts `tax_id` for `country`. Kept per process: a month-end run checks
    each customer's id once per chunk it has contracts in (about a dozen times for a customer
    with contracts spread over the run's chunks), a checksum computed by python-stdnum."""
    try:
        validate_tax_id(tax_id, country)
    except ValidationError:
        return False
    return True


def _tax_area(country: str) -> frozenset[str]:
    return EU_COUNTRIES if country in EU_COUNTRIES else frozenset([country])


class TaxTable:
    """Every tax code read once, for callers that ask thousands of times (a billing-run chunk).
    `tax_code_for(..., table=TaxTable())` answers from memory with the same rules."""

    def __init__(self) -> None:
        self.codes = list(TaxCode.objects.all())
        # The answer per (date, match): a chunk asks a few dozen distinct questions a few hundred
        # times, and each answer scans every code (the codes are read once, at the table's start).
        self._answers: dict[tuple, list[TaxCode]] = {}

    def valid(self, on: dt.date, **match: str) -> list[TaxCode]:
        key = (on, *sorted(match.items()))
        answer = self._answers.get(key)
        if answer is None:
            answer = self._answers[key] = [
                code for code in self.codes
                if code.valid_from <= on and (code.valid_to is None or code.valid_to >= on)
                and all(getattr(code, name) == value for name, value in match.items())]
        return list(answer)  # the caller's own list


def _special(kind: str, seller_country: str, category: str, on: dt.date, table: TaxTable | None) -> TaxCode:
    countries = [seller_country, "EU", ANY_JURISDICTION]
    if table is None:
        rows = list(TaxCode.objects.filter(_valid_on(on), kind=kind, country__in=countries, category=ANY_CATEGORY))
    else:
        rows = [c for c in table.valid(on, kind=kind, category=ANY_CATEGORY) if c.country in countries]
    rows.sort(key=lambda c: (countries.index(c.country), -c.valid_from.toordinal()))
    if not rows:
        label = TaxCode.Kind(kind).label.lower()
        raise TaxCodeMissing(
            f"No {label} tax code for seller country {seller_country}, category {category!r} on {on:%Y-%m-%d}: "
            "add one under Tax codes (or run seed_tax_codes)."
        )
    return rows[0]


def tax_code_for(*, seller_country: str, customer: Customer, category: str, on: dt.date,
                 table: TaxTable | None = None) -> TaxCode:
    """The tax code for one invoice line (rules in the module docstring); from `table` when given."""
    seller_country = seller_country.upper()
    if customer.tax_exempt:
        return _special(TaxCode.Kind.EXEMPT, seller_country, category, on, table)
    buyer = (customer.country or "").upper()
    if buyer and buyer not in _tax_area(seller_country):
        return _special(TaxCode.Kind.OUT_OF_SCOPE, seller_country, category, on, table)
    if category == EXEMPT_CATEGORY:
        return _special(TaxCode.Kind.EXEMPT, seller_country, category, on, table)
    if (buyer != seller_country and buyer in EU_COUNTRIES and seller_country in EU_COUNTRIES
            and has_valid_vat_id(customer)):
        return _special(TaxCode.Kind.REVERSE_CHARGE, seller_country, category, on, table)
    if table is None:
        code = (
            TaxCode.objects.filter(_valid_on(on), country=seller_country, region="", category=category)
            .order_by("-valid_from", "code")
            .first()
        )
    else:
        rows = sorted(table.valid(on, country=seller_country, region="", category=category),
                      key=lambda c: (-c.valid_from.toordinal(), c.code))
        code = rows[0] if rows else None
    if code is None:
        raise TaxCodeMissing(
            f"No tax code for country {seller_country}, category {category!r} valid on {on:%Y-%m-%d}: "
            "add one under Tax codes (or run seed_tax_codes)."
        )
    return code


def invoice_legal_notes(*, tax_codes: list[TaxCode], customer_exempt: bool, exemption_reference: str) -> list[str]:
    """Distinct legal notes of the codes used, plus the customer's exemption reference."""
    notes: list[str] = []
    for code in tax_codes:
        if code.legal_note and code.legal_note not in notes:
            notes.append(code.legal_note)
    if customer_exempt and exemption_reference:
        notes.append(f"Tax exemption reference: {exemption_reference}")
    return notes


# --- reference data ---------------------------------------------------------------------------

_D = dt.date
_FOREVER = None
_TAXABLE_CATEGORIES = {"STD": "standard", "DIG": "digital", "SRV": "services"}

# country: (standard rate, reduced rate, name of the tax)
_VAT_RATES: dict[str, tuple[str, str, str]] = {
    "DE": ("19", "7", "German VAT"),
    "GB": ("20", "5", "UK VAT"),
    "FR": ("20", "5.5", "French VAT"),
    "NL": ("21", "9", "Dutch VAT"),
    "IE": ("23", "13.5", "Irish VAT"),
    "ES": ("21", "10", "Spanish VAT"),
    "IT": ("22", "10", "Italian VAT"),
    "AT": ("20", "10", "Austrian VAT"),
    "SE": ("25", "12", "Swedish VAT"),
}


def _reference_rows() -> list[dict]:
    rows: list[dict] = []
    for country, (standard, reduced, name) in _VAT_RATES.items():
        periods: list[tuple[dt.date, dt.date | None, str, str]] = [(_D(2007, 1, 1), _FOREVER, standard, reduced)]
        if country == "DE":  # the COVID-19 temporary cut: 16% / 5% from 2020-07-01 to 2020-12-31
            periods = [
                (_D(2007, 1, 1), _D(2020, 6, 30), "19", "7"),
                (_D(2020, 7, 1), _D(2020, 12, 31), "16", "5"),
                (_D(2021, 1, 1), _FOREVER, "19", "7"),
            ]
        for valid_from, valid_to, std_rate, red_rate in periods:
            for suffix, category in _TAXABLE_CATEGORIES.items():
                rows.append({
                    "code": f"{country}-VAT-{suffix}", "valid_from": valid_from, "valid_to": valid_to,
                    "name": f"{name} standard rate ({category})", "country": country, "category": category,
                    "kind": TaxCode.Kind.STANDARD, "rate": Decimal(std_rate), "ubl_category": "S",
                })
            rows.append({
                "code": f"{country}-VAT-RED", "valid_from": valid_from, "valid_to": valid_to,
                "name": f"{name} reduced rate", "country": country, "category": "reduced",
                "kind": TaxCode.Kind.REDUCED, "rate": Decimal(red_rate), "ubl_category": "S",
            })
    for suffix, category in {**_TAXABLE_CATEGORIES, "RED": "reduced"}.items():
        rows.append({
            "code": f"US-NOTAX-{suffix}", "valid_from": _D(2000, 1, 1), "valid_to": _FOREVER,
            "name": f"US sales tax: not collected ({category})", "country": "US", "category": category,
            "kind": TaxCode.Kind.OUT_OF_SCOPE, "rate": Decimal(0), "ubl_category": "O", "legal_note": US_NOTE,
        })
    rows += [
        {"code": "EU-RC", "valid_from": _D(2007, 1, 1), "valid_to": _FOREVER, "name": "EU reverse charge (B2B)",
         "country": "EU", "category": ANY_CATEGORY, "kind": TaxCode.Kind.REVERSE_CHARGE, "rate": Decimal(0),
         "ubl_category": "AE", "legal_note": REVERSE_CHARGE_NOTE},
        {"code": "EXEMPT", "valid_from": _D(2000, 1, 1), "valid_to": _FOREVER, "name": "Exempt",
         "country": ANY_JURISDICTION, "category": ANY_CATEGORY, "kind": TaxCode.Kind.EXEMPT, "rate": Decimal(0),
         "ubl_category": "E", "legal_note": EXEMPT_NOTE},
        {"code": "US-EXPORT-OOS", "valid_from": _D(2000, 1, 1), "valid_to": _FOREVER,
         "name": "Export: no US sales tax", "country": "US", "category": ANY_CATEGORY,
         "kind": TaxCode.Kind.OUT_OF_SCOPE, "rate": Decimal(0), "ubl_category": "O", "legal_note": US_EXPORT_NOTE},
        {"code": "GB-EXPORT-OOS", "valid_from": _D(2000, 1, 1), "valid_to": _FOREVER,
         "name": "Export: outside the scope of UK VAT", "country": "GB", "category": ANY_CATEGORY,
         "kind": TaxCode.Kind.OUT_OF_SCOPE, "rate": Decimal(0), "ubl_category": "O", "legal_note": GB_EXPORT_NOTE},
        # the fallback for any other seller; today only EU sellers reach it, so it cites EU law
        {"code": "EXPORT-OOS", "valid_from": _D(2000, 1, 1), "valid_to": _FOREVER,
         "name": "Export: outside the scope of tax", "country": ANY_JURISDICTION, "category": ANY_CATEGORY,
         "kind": TaxCode.Kind.OUT_OF_SCOPE, "rate": Decimal(0), "ubl_category": "O", "legal_note": EXPORT_NOTE},
    ]
    return rows


@transaction.atomic
def seed_tax_codes() -> int:
    """Create the reference tax codes that are missing (idempotent by code and valid_from);
    returns how many were created. Existing rows are never changed: a rate change is a new row."""
    existing = set(TaxCode.objects.values_list("code", "valid_from"))
    new = [TaxCode(**row) for row in _reference_rows() if (row["code"], row["valid_from"]) not in existing]
    for code in new:
        code.save()  # a few dozen rows; save() keeps their history
    return len(new)
