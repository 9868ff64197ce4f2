"""Shared test helpers (moved from tests/billing/test_run.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from billing.models import BillingRun, Invoice
from billing.services import (
    billing_run_start,
)
from contracts.models import Contract
from tests.factories.contracts import (
    ContractFactory,
    ContractLineFactory,
    ContractVersionFactory,
    ProductFactory,
)
from tests.factories.customers import CustomerFactory

D = Decimal

MARCH = dt.date(2026, 3, 1)

VAT_ID = "DE136695976"

def customer(**kw):
    return CustomerFactory(**{"country": "DE", "tax_id": VAT_ID, **kw})

def contract(entity, *, cust=None, lines=None, status="active", **version) -> Contract:
    c = ContractFactory(customer=cust or customer(), legal_entity=entity, status=status)
    v = ContractVersionFactory(contract=c, status=status, **version)
    for spec in lines or [{"unit_price": D("3100.00")}]:
        ContractLineFactory(version=v, product=spec.pop("product", None) or ProductFactory(tax_category="digital"),
                            **spec)
    c.current_version = v
    c.save(update_fields=["current_version"])
    return c

def run(month=MARCH, capture=None, **kw) -> BillingRun:
    with capture(execute=True):
        started = billing_run_start(period_start=month, by=None, **kw)
    started.refresh_from_db()
    return started

def invoice_of(c: Contract, month=MARCH) -> Invoice:
    return Invoice.objects.exclude(status="void").get(contract=c, billing_period_start=month)
