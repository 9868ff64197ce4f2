from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import factory
from django.contrib.auth.models import Group
from pypdf import PdfReader

from billing.models import Invoice, InvoiceLine, TaxCode
from billing.services import (
    credit_note_approve,
    credit_note_issue,
    credit_note_request,
    invoice_create_manual,
    invoices_issue,
)
from billing.tax import seed_tax_codes
from otc.models import ApprovalLimit
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import LegalEntityFactory
from tests.factories.otc import user_with_role


class TaxCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxCode
        django_get_or_create = ("code", "valid_from")

    code = "DE-VAT-19"
    name = "German VAT standard rate"
    country = "DE"
    category = "digital"
    kind = TaxCode.Kind.STANDARD
    rate = Decimal("19.0000")
    valid_from = dt.date(2007, 1, 1)
    ubl_category = "S"


class InvoiceFactory(factory.django.DjangoModelFactory):
    """A draft invoice (no lines; add InvoiceLineFactory rows and set totals)."""

    class Meta:
        model = Invoice

    legal_entity = factory.SubFactory(LegalEntityFactory)
    customer = factory.SubFactory(CustomerFactory)
    currency = "EUR"
    payment_terms_days = 30


class InvoiceLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InvoiceLine

    invoice = factory.SubFactory(InvoiceFactory)
    position = factory.Sequence(lambda n: n + 1)
    description = "Platform subscription"
    unit = "MON"
    quantity = Decimal("1")
    unit_price = Decimal("100.00")
    net_amount = Decimal("100.00")
    tax_code = factory.SubFactory(TaxCodeFactory)
    tax_rate = Decimal("19.0000")
    tax_amount = Decimal("19.00")


# --- helpers shared by the billing, receivables and collections tests --------------------------

ISSUE = dt.date(2026, 3, 31)


def de_entity(code: str = "DE01", **kwargs) -> object:
    seed_tax_codes()
    defaults = {
        "code": code, "legal_name": f"otc {code} GmbH", "address_line1": "Friedrichstrasse 10", "city": "Berlin",
        "postal_code": "10117", "country": "DE", "tax_id": "DE136695976", "registration_number": "HRB 123456 B",
        "functional_currency": "EUR", "invoice_prefix": f"{code}-INV", "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX", "bank_name": "Commerzbank", "bank_account_name": f"otc {code} GmbH",
    }
    defaults.update(kwargs)
    return LegalEntityFactory(**defaults)


def specialist():
    return user_with_role("Billing Specialist")


def draft(entity, customer=None, lines=None, by=None, **data) -> Invoice:
    customer = customer or CustomerFactory(country="DE", legal_name="Kunde Eins GmbH")
    lines = lines or [{"description": "Platform subscription", "quantity": Decimal("1"), "unit_price": Decimal("1000.00"),
                       "tax_category": "digital", "unit": "MON"}]
    payload = {"legal_entity": entity, "customer": customer, "currency": "EUR",
               "service_start": dt.date(2026, 3, 1), "service_end": dt.date(2026, 3, 31), **data}
    return invoice_create_manual(data=payload, lines=lines, by=by or specialist())


def issued(entity, **kwargs) -> Invoice:
    invoice = draft(entity, **kwargs)
    return invoices_issue(invoice_ids=[invoice.pk], by=None, issue_date=ISSUE, queue_documents=False)[0]


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def us_entity():
    de_entity()  # seeds the tax codes
    return LegalEntityFactory(
        code="US01", legal_name="otc Inc.", address_line1="500 Howard Street", city="San Francisco", region="CA",
        postal_code="94105", country="US", tax_id="94-1234567", functional_currency="USD", invoice_prefix="US01-INV",
        credit_note_prefix="US01-CN", bank_name="First Republic", bank_account_name="otc Inc.",
        bank_account_number="000123456789", bank_routing_number="121000248", bic="FRBBUS6S", iban="")


def reverse_charge_and_exempt_customers():
    """A French business customer (reverse charge) and a German tax-exempt one: the two tax notes
    an invoice PDF can carry."""
    fr = CustomerFactory(country="FR", legal_name="Client Industrie SARL", tax_id="FR40303265045")
    exempt = CustomerFactory(country="DE", legal_name="Stiftung Bildung", tax_exempt=True,
                             tax_exemption_reference="FA Berlin 27/640/12345")
    return fr, exempt


ART226_LINES = [  # two lines, a discount, two tax categories (the Art. 226 tests)
    {"description": "Platform subscription", "quantity": Decimal("3"), "unit_price": Decimal("400.00"), "discount_percent": Decimal("10"),
     "tax_category": "digital", "unit": "MON"},
    {"description": "Implementation days", "quantity": Decimal("2"), "unit_price": Decimal("800.00"), "tax_category": "services",
     "unit": "DAY"},
]  # net 1,080.00 + 1,600.00 = 2,680.00


def credit_whole(invoice):
    """The whole invoice credited: requested, approved by a Finance Manager, issued on 2026-04-15."""
    manager = user_with_role("Finance Manager")
    ApprovalLimit.objects.get_or_create(kind="credit_note", role=Group.objects.get(name="Finance Manager"),
                                        currency=invoice.currency, defaults={"max_amount": Decimal("1000000")})
    note = credit_note_request(invoice_id=invoice.pk, by=user_with_role("Collector"), reason="billing_error",
                               explanation="Billed to the wrong contract")
    credit_note_approve(credit_note_id=note.pk, by=manager)
    return credit_note_issue(credit_note_id=note.pk, by=user_with_role("Billing Specialist"),
                             issue_date=dt.date(2026, 4, 15))
