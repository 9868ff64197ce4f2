"""Write-off test helpers: an entity with issued invoices, the approvers with their limits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import Group

from otc.models import ApprovalLimit
from tests.factories.billing import de_entity
from tests.factories.customers import CustomerFactory
from tests.factories.otc import user_with_role
from tests.factories.receivables import issue_for

D = Decimal
ISSUED_ON = dt.date(2026, 3, 31)


def write_off_limits(*, manager: str = "5000.00", controller: str = "100000.00", currency: str = "EUR") -> None:
    """Finance Managers approve write-offs up to `manager`, Controllers up to `controller`."""
    for role, amount in (("Finance Manager", manager), ("Controller", controller)):
        user_with_role(role)  # makes sure the roles exist
        ApprovalLimit.objects.update_or_create(kind="write_off", legal_entity=None, role=Group.objects.get(name=role),
                                               user=None, currency=currency, defaults={"max_amount": D(amount)})


def book(code: str = "DE01", prices: tuple[str, ...] = ("1000.00", "500.00")) -> dict:
    """An entity, a customer with issued invoices (net prices, 19% VAT), a collector and approvers."""
    entity = de_entity(code)
    customer = CustomerFactory(country="DE", legal_name=f"Kunde {code} GmbH")
    invoices = [issue_for(entity, customer, [price]) for price in prices]
    write_off_limits()
    return {"entity": entity, "customer": customer, "invoices": invoices,
            "collector": user_with_role("Collector"), "manager": user_with_role("Finance Manager"),
            "controller": user_with_role("Controller")}
