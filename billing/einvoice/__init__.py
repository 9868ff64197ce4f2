"""E-invoice documents for issued invoices and credit notes: UBL 2.1 (Peppol BIS Billing 3.0)
and cXML (SAP Ariba / Coupa InvoiceDetailRequest). Pure functions of the stored documents."""

from .cxml import credit_note_to_cxml, invoice_to_cxml
from .ubl import credit_note_to_ubl, invoice_to_ubl

__all__ = ["credit_note_to_cxml", "credit_note_to_ubl", "invoice_to_cxml", "invoice_to_ubl"]
