from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import factory
import tablib

from customers.models import Contact, Customer
from otc.services import counter_next


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    account_number = factory.LazyFunction(lambda: f"C{counter_next(name='customer')[0] + 100000}")
    legal_name = factory.Sequence(lambda n: f"Customer {n} GmbH")
    country = "DE"
    address_line1 = "Hauptstrasse 1"
    city = "Berlin"
    postal_code = "10115"
    default_currency = "EUR"
    payment_terms_days = 30
    credit_limit = Decimal("50000.00")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"ap{n}@customer.example")
    role = "Accounts payable"
    is_billing_contact = True


def customer_data(**overrides: Any) -> dict[str, Any]:
    """Valid input for customer_create (and the form / API), with overrides."""
    data: dict[str, Any] = {
        "legal_name": "Acme Industrie GmbH", "country": "DE", "address_line1": "Hauptstrasse 1",
        "city": "Berlin", "postal_code": "10115", "default_currency": "EUR", "payment_terms_days": 30,
        "credit_limit": "25000.00",
    }
    data.update(overrides)
    return data


def spreadsheet(rows: list[list[Any]], *, fmt: str = "csv") -> bytes:
    """A CSV or XLSX file whose first row is the header."""
    dataset = tablib.Dataset(*rows[1:], headers=rows[0])
    if fmt == "csv":
        return dataset.export("csv").encode("utf-8")
    buffer = io.BytesIO(dataset.export("xlsx"))
    return buffer.getvalue()
