"""What the UBL and cXML writers share: the snapshot fields they read, electronic addresses,
amount formatting per currency and the tax breakdown per (category, rate).

The writers read only what was stored at issue: the invoice's `seller` and `bill_to` JSON
snapshots and its lines. So the same stored invoice always gives the same document, even after
the customer or the legal entity changes. The snapshot keys read here are the model field names
of `ledger.LegalEntity` (seller) and `customers.Customer` (bill_to):

    seller:  legal_name, name, address_line1, address_line2, city, postal_code, region, country,
             tax_id, registration_number, einvoice_endpoint, iban, bic, bank_name,
             bank_account_name, bank_account_number, email
    bill_to: legal_name, address_line1, address_line2, city, postal_code, region, country,
             tax_id, einvoice_endpoint, portal_supplier_id, procurement_portal, account_number,
             buyer_reference (optional)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from otc.money import minor_units, quantize

# Peppol EAS codes for VAT numbers (https://docs.peppol.eu/poacc/billing/3.0/codelist/eas/),
# by the country prefix of the VAT id. Only where the VAT number itself is the Peppol address.
VAT_SCHEMES = {
    "AD": "9922", "AL": "9923", "BA": "9924", "BE": "9925", "BG": "9926", "CH": "9927", "CY": "9928",
    "CZ": "9929", "DE": "9930", "EE": "9931", "GB": "9932", "GR": "9933", "EL": "9933", "HR": "9934",
    "IE": "9935", "LI": "9936", "LT": "9937", "LU": "9938", "LV": "9939", "MC": "9940", "ME": "9941",
    "MK": "9942", "MT": "9943", "NL": "9944", "PL": "9945", "PT": "9946", "RO": "9947", "RS": "9948",
    "SI": "9949", "SK": "9950", "SM": "9951", "TR": "9952", "VA": "9953", "FR": "9957", "IT": "9906",
    "ES": "9920", "AT": "9914", "HU": "9910",
}

EXEMPTION_REASONS = {
    "AE": "Reverse charge",
    "E": "Exempt from tax",
    "O": "Not subject to VAT",
}


def text(snapshot: dict[str, Any], *keys: str) -> str:
    """The first non-empty value among `keys` of a snapshot, stripped; "" when none."""
    for key in keys:
        value = snapshot.get(key)
        if value not in (None, ""):
            return str(value).strip()
    return ""


def endpoint(snapshot: dict[str, Any]) -> tuple[str, str] | None:
    """(schemeID, id) of a party's electronic address.

    1. `einvoice_endpoint` written "scheme:id" (e.g. "9930:DE136695976", "0088:5790000436101");
    2. else the VAT id, with the Peppol VAT scheme of its country prefix (DE -> 9930, GB -> 9932,
       FR -> 9957...), or of the party's country when the id carries no prefix;
    3. else None: the EndpointID is left out (the schema allows it; a Peppol access point then
       refuses the document, which is what should happen without an address).

    The customer's portal supplier id is not an electronic address but our account inside the
    customer's portal: it goes into the seller's PartyIdentification, not EndpointID.
    """
    raw = text(snapshot, "einvoice_endpoint")
    if raw and ":" in raw:
        scheme, _, ident = raw.partition(":")
        if scheme.strip() and ident.strip():
            return scheme.strip(), ident.strip()
    vat = text(snapshot, "tax_id").replace(" ", "").upper()
    if vat:
        prefix = vat[:2] if vat[:2].isalpha() else text(snapshot, "country").upper()
        scheme = VAT_SCHEMES.get(prefix)
        if scheme:
            return scheme, vat if vat[:2].isalpha() else f"{prefix}{vat}"
    return None


def amount(value: Decimal | int, currency: str) -> str:
    """An amount with the currency's decimals: 1190.00 EUR, 1190 JPY, 1.190 KWD."""
    return f"{quantize(value, currency):f}"


def percent(rate: Decimal) -> str:
    return f"{Decimal(rate).quantize(Decimal('0.01')):f}"


def decimal_text(value: Decimal, places: int = 4) -> str:
    """A quantity or unit price without trailing zeros beyond two places: 1.5, 3, 12.3456."""
    value = Decimal(value).quantize(Decimal(1).scaleb(-places))
    normalized = value.normalize()
    if normalized == normalized.to_integral():
        return f"{normalized.to_integral():f}"
    return f"{normalized:f}"


def price(value: Decimal, currency: str) -> str:
    """A unit price: at least the currency's decimals, at most four (12.50, 33.3333, 1250 JPY)."""
    places = minor_units(currency)
    exact = Decimal(value).quantize(Decimal("0.0001")).normalize()
    if -exact.as_tuple().exponent < places:
        exact = exact.quantize(Decimal(1).scaleb(-places))
    return f"{exact:f}"


@dataclass
class TaxGroup:
    category: str
    rate: Decimal
    taxable: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)
    notes: list[str] = field(default_factory=list)

    @property
    def exemption_reason(self) -> str:
        if self.category not in EXEMPTION_REASONS:
            return ""
        return " ".join(self.notes) or EXEMPTION_REASONS[self.category]


def tax_groups(lines: Iterable[Any]) -> list[TaxGroup]:
    """One group per (UNCL5305 category, rate), amounts summed from the rounded lines, in a stable
    order (category, rate). Lines need `tax_code` loaded."""
    groups: dict[tuple[str, Decimal], TaxGroup] = {}
    for line in lines:
        category = line.tax_code.ubl_category or "S"
        rate = Decimal(0) if category in ("AE", "E", "O", "Z") and not line.tax_rate else Decimal(line.tax_rate)
        key = (category, rate.quantize(Decimal("0.0001")))
        group = groups.setdefault(key, TaxGroup(category=category, rate=key[1]))
        group.taxable += line.net_amount
        group.tax += line.tax_amount
        note = (line.tax_code.legal_note or "").strip()
        if note and note not in group.notes:
            group.notes.append(note)
    return [groups[key] for key in sorted(groups)]


def legal_notes(lines: Iterable[Any]) -> list[str]:
    """The distinct legal notes of the lines' tax codes, in line order (e.g. reverse charge)."""
    notes: list[str] = []
    for line in lines:
        note = (line.tax_code.legal_note or "").strip()
        if note and note not in notes:
            notes.append(note)
    return notes
