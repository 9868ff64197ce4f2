from __future__ import annotations

from decimal import Decimal

import factory

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
