from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from billing.models import Invoice, InvoiceLine, TaxCode
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import LegalEntityFactory


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
