"""What a customer reads on a document, per country: postal addresses in the country's order,
bank details with the labels the country's payers know, and "VAT" only where there is VAT.

Used by the invoice and credit-note PDFs and by the customer statement (receivables)."""

from __future__ import annotations

from typing import Any

from otc.countries import EU_COUNTRIES, country_name

# VAT (or its GST-style equivalent named VAT on documents) jurisdictions: the EU, the UK and the
# EFTA states. Elsewhere (the US sales tax, for one) a document says "Tax".
VAT_COUNTRIES = EU_COUNTRIES | {"GB", "NO", "CH", "IS", "LI"}
# IBAN/BIC countries that are not in the EU (SEPA members); GB pays by sort code and account.
SEPA_COUNTRIES = EU_COUNTRIES | {"NO", "CH", "IS", "LI", "MC", "SM", "AD", "VA"}


def tax_label(seller_country: str) -> str:
    """'VAT' where the seller charges VAT, else 'Tax' (e.g. US sales tax)."""
    return "VAT" if (seller_country or "").upper() in VAT_COUNTRIES else "Tax"


def postal_address(party: dict[str, Any]) -> list[str]:
    """The address lines below the name, in the country's order:
    US/CA: 'City, ST ZIP'; GB: town, then the postcode on its own line; elsewhere 'ZIP City'
    (then the region when there is one); the country's name last."""
    country = (party.get("country") or "").upper()
    city, region, postal = party.get("city") or "", party.get("region") or "", party.get("postal_code") or ""
    rows = [party.get("address_line1"), party.get("address_line2")]
    if country in ("US", "CA"):
        state_zip = " ".join(p for p in (region, postal) if p)
        rows.append(", ".join(p for p in (city, state_zip) if p))
    elif country == "GB":
        rows += [city, region, postal]
    else:
        rows += [" ".join(p for p in (postal, city) if p), region]
    rows.append(country_name(country) if country else "")
    return [row for row in rows if row]


def bank_rows(bank: dict[str, Any], country: str) -> list[tuple[str, str]]:
    """(label, value) rows of the payment details, labelled as the bank's country names them:
    GB sort code and account number; US ABA routing number and account number; IBAN and BIC in
    SEPA countries (and wherever an IBAN is given). `bank`: bank_name, bank_account_name, iban,
    bic, bank_account_number, bank_routing_number."""
    country = (country or "").upper()
    rows = [("Account holder", bank.get("bank_account_name")), ("Bank", bank.get("bank_name"))]
    iban, bic = bank.get("iban"), bank.get("bic")
    number, routing = bank.get("bank_account_number"), bank.get("bank_routing_number")
    if country == "GB":
        rows += [("Sort code", routing), ("Account number", number), ("IBAN", iban), ("BIC / SWIFT", bic)]
    elif country == "US":
        rows += [("Routing number (ABA)", routing), ("Account number", number), ("SWIFT (international wires)", bic)]
    elif country in SEPA_COUNTRIES or iban:
        rows += [("IBAN", iban), ("BIC / SWIFT", bic), ("Account number", number), ("Bank code", routing)]
    else:
        rows += [("Account number", number), ("Bank code", routing), ("SWIFT", bic)]
    return [(label, value) for label, value in rows if value]
