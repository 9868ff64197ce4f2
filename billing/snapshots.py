"""The parties as a document records them: the seller (legal entity) and the bill-to customer,
copied onto an invoice or credit note when it is issued (and onto dunning letters), so a later
change to the customer or the entity never alters an issued document."""

from __future__ import annotations

from typing import Any

from customers.models import Customer
from ledger.models import LegalEntity


def bill_to_snapshot(customer: Customer) -> dict[str, Any]:
    """The customer's name, address, tax and portal identifiers as the document records them."""
    return {
        "legal_name": customer.legal_name, "account_number": customer.account_number,
        "address_line1": customer.address_line1, "address_line2": customer.address_line2, "city": customer.city,
        "region": customer.region, "postal_code": customer.postal_code, "country": customer.country,
        "tax_id": customer.tax_id, "tax_exempt": customer.tax_exempt,
        "tax_exemption_reference": customer.tax_exemption_reference,
        "peppol_scheme": customer.peppol_scheme, "peppol_id": customer.peppol_id,
        "procurement_portal": customer.procurement_portal, "portal_supplier_id": customer.portal_supplier_id,
        "portal_buyer_id": customer.portal_buyer_id,
    }


def seller_snapshot(entity: LegalEntity) -> dict[str, Any]:
    """The legal entity's name, address, tax and bank details as the document records them."""
    return {
        "code": entity.code, "legal_name": entity.legal_name, "name": entity.name,
        "address_line1": entity.address_line1, "address_line2": entity.address_line2, "city": entity.city,
        "region": entity.region, "postal_code": entity.postal_code, "country": entity.country,
        "tax_id": entity.tax_id, "registration_number": entity.registration_number, "email": entity.email,
        "phone": entity.phone, "bank_name": entity.bank_name, "bank_account_name": entity.bank_account_name,
        "iban": entity.iban, "bic": entity.bic, "bank_account_number": entity.bank_account_number,
        "bank_routing_number": entity.bank_routing_number, "remittance_note": entity.remittance_note,
        "einvoice_endpoint": entity.einvoice_endpoint,
    }


__all__ = ["bill_to_snapshot", "seller_snapshot"]
