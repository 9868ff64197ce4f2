from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from contracts.models import Contract, ContractLine, ContractVersion, FinancePolicy, Product
from otc.services import counter_next
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import LegalEntityFactory


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"Platform subscription {n}")
    unit = "MON"
    default_price = Decimal("1000.00")
    currency = "EUR"


class FinancePolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FinancePolicy
        django_get_or_create = ("legal_entity",)

    legal_entity = factory.SubFactory(LegalEntityFactory)
    allowed_currencies = factory.LazyAttribute(lambda o: [o.legal_entity.functional_currency, "USD", "EUR", "GBP"])


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    number = factory.LazyFunction(lambda: f"CT-{counter_next(name='contract')[0]:06d}")
    customer = factory.SubFactory(CustomerFactory)
    legal_entity = factory.SubFactory(LegalEntityFactory)
    title = factory.Sequence(lambda n: f"Platform agreement {n}")


class ContractVersionFactory(factory.django.DjangoModelFactory):
    """A draft version 1 of a fresh contract, EUR, monthly in advance, one year from 2026-01-01."""

    class Meta:
        model = ContractVersion

    contract = factory.SubFactory(ContractFactory)
    version = 1
    currency = "EUR"
    start_date = dt.date(2026, 1, 1)
    end_date = dt.date(2026, 12, 31)
    effective_date = factory.LazyAttribute(lambda o: o.start_date)
    payment_terms_days = 30


class ContractLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContractLine

    version = factory.SubFactory(ContractVersionFactory)
    product = factory.SubFactory(ProductFactory)
    kind = ContractLine.Kind.RECURRING
    quantity = Decimal("1")
    unit_price = Decimal("1000.00")
