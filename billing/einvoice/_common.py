"""What the UBL and cXML writers share: the snapshot fields they read, electronic addresses,
amount formatting per currency and the tax breakdown per (category, rate).

The writers read only what was stored at issue: the invoice's `seller` and `bill_to` JSON
snapshots and its lines. So the same stored invoice always gives the same document, even after
the customer or the legal entity changes. The snapshot keys read here are the model field names
of `ledger.LegalEntity` (seller) and `customers.Customer` (bill_to):

    seller:  legal_name, name, address_line1, address_line2, city, postal_code, region, country,
             tax_id, registration_number, einvoice_endpoint, iban, bic, bank_name,
             bank_account_name, bank_account_number, bank_routing_number, email, phone
    bill_to: legal_name, address_line1, address_line2, city, postal_code, region, country,
             tax_id, peppol_scheme, peppol_id (einvoice_endpoint in snapshots taken before
             participant ids), portal_supplier_id, portal_buyer_id, procurement_portal,
             account_number, buyer_reference (optional)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from customers.peppol import EAS_SCHEMES, vat_participant_id
from customers.taxids import VAT_PREFIXED
from otc.countries import EU_COUNTRIES
from otc.money import minor_units, quantize

# Countries whose tax ids are VAT ids written with a country prefix (EN 16931 BR-CO-09), and the
# prefix where it differs from the ISO code. A tax id from anywhere else (a US EIN, an Australian
# ABN, a Japanese corporate number) is not a VAT id and never goes out as one.
VAT_PREFIX = {code: code for code in (*EU_COUNTRIES, *VAT_PREFIXED, "XI", "CH", "LI", "NO", "IS", "MC", "SM", "AD",
                                      "AL", "BA", "ME", "MK", "RS", "TR", "VA")}
VAT_PREFIX["GR"] = "EL"
_PREFIXES = frozenset(VAT_PREFIX.values())

# UNCL5305 categories with the VATEX exemption reason code Peppol receivers read (BT-121)
EXEMPTION_CODES = {"AE": "VATEX-EU-AE", "O": "VATEX-EU-O"}

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


def vat_id(snapshot: dict[str, Any]) -> str:
    """The party's VAT id with its country prefix (GB980780684, EL094259216), or "" when its tax id
    is not a VAT id (the party's country has no VAT prefix, e.g. a US EIN) or it has none."""
    raw = text(snapshot, "tax_id").replace(" ", "").replace("-", "").replace(".", "").upper()
    prefix = VAT_PREFIX.get(text(snapshot, "country").upper())
    if not raw or not prefix:
        return ""
    if raw[:2] in _PREFIXES:  # already prefixed (also a party registered for VAT in another country)
        return raw
    return "EL" + raw[2:] if raw[:2] == "GR" else f"{prefix}{raw}"


def endpoint(snapshot: dict[str, Any]) -> tuple[str, str] | None:
    """(schemeID, id) of a party's electronic address (Peppol participant id).

    1. the customer's Peppol participant id (`peppol_scheme`, `peppol_id`);
    2. else `einvoice_endpoint` written "scheme:id" (the legal entity's field, and customer snapshots
       from before participant ids), when its scheme is still on the EAS list (9906 is not);
    3. else the VAT id with the Peppol VAT scheme of its prefix (DE -> 9930, GB -> 9932, FR -> 9957);
    4. else None: the EndpointID is left out, and a Peppol access point refuses the document
       (PEPPOL-EN16931-R010/R020), which is what should happen without an address.

    The customer's portal supplier id is not an electronic address but our account inside the
    customer's portal: it goes into the seller's PartyIdentification, not EndpointID.
    """
    scheme, ident = text(snapshot, "peppol_scheme"), text(snapshot, "peppol_id")
    if scheme in EAS_SCHEMES and ident:
        return scheme, ident
    raw = text(snapshot, "einvoice_endpoint")
    if raw and ":" in raw:
        scheme, _, ident = raw.partition(":")
        if scheme.strip() in EAS_SCHEMES and ident.strip():
            return scheme.strip(), ident.strip()
    return vat_participant_id(vat_id(snapshot))


def tax_schemes(snapshot: dict[str, Any], *, seller: bool, out_of_scope: bool) -> list[tuple[str, str]]:
    """The party's (CompanyID, TaxScheme ID) pairs.

    A VAT id goes out as the VAT identifier (BT-31 seller, BT-48 buyer), except on a document
    "not subject to VAT" (category O), which must carry neither (EN 16931 BR-O-02): there the
    seller's VAT id is its tax registration identifier (BT-32, scheme "TAX") and the buyer's is
    left out. A seller's tax id that is not a VAT id (a US EIN) is always BT-32; a buyer's is left
    out (EN 16931 has no buyer tax registration identifier; the PDF prints it)."""
    vat = vat_id(snapshot)
    if vat and not out_of_scope:
        return [(vat, "VAT")]
    if not seller:
        return []
    other = vat or text(snapshot, "tax_id")
    return [(other, "TAX")] if other else []


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


def line_price(net: Decimal, quantity: Decimal, currency: str, preferred: Decimal | None = None) -> str:
    """The unit price to send with a line so that quantity x price, rounded to the currency, is the
    line's net amount to the cent, and is within a cent of it before rounding even in a currency
    without decimals (what Ariba, Coupa and PEPPOL-EN16931-R120 check).

    The contract's net price (`preferred`: unit price less discount) when it does; else the net
    amount divided by the quantity with as many decimals as it takes (a prorated line: 200 seats
    at 45.00 for 12/31 of a month less 10% bill 3,135.48, sent as 15.6774 each)."""
    net, quantity = Decimal(net), Decimal(quantity) or Decimal(1)

    def fits(candidate: Decimal) -> bool:  # rounds to the net amount, and within a cent unrounded (R120)
        product = quantity * candidate
        return quantize(product, currency) == quantize(net, currency) and abs(product - net) <= Decimal("0.01")

    if preferred is not None:
        shown = price(preferred, currency)
        if fits(Decimal(shown)):
            return shown
    exact = net / quantity
    for places in range(minor_units(currency), 13):
        candidate = exact.quantize(Decimal(1).scaleb(-places))
        if fits(candidate):
            return f"{candidate:f}"
    return f"{exact.quantize(Decimal(1).scaleb(-12)):f}"


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
