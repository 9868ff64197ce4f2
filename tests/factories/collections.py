"""Factories for collections rows (disputes, promises to pay)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from collections_app.models import Dispute, PromiseItem, PromiseToPay
from tests.factories.billing import InvoiceFactory


class DisputeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dispute

    invoice = factory.SubFactory(InvoiceFactory)
    legal_entity = factory.SelfAttribute("invoice.legal_entity")
    customer = factory.SelfAttribute("invoice.customer")
    currency = factory.SelfAttribute("invoice.currency")
    amount = Decimal("100.00")
    reason = "price"


class PromiseToPayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PromiseToPay

    legal_entity = factory.SubFactory("tests.factories.ledger.LegalEntityFactory")
    customer = factory.SubFactory("tests.factories.customers.CustomerFactory")
    currency = "EUR"
    amount = Decimal("100.00")
    promised_date = dt.date(2026, 3, 10)


class PromiseItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PromiseItem

    promise = factory.SubFactory(PromiseToPayFactory)
    invoice = factory.SubFactory(InvoiceFactory)
    amount = Decimal("100.00")
