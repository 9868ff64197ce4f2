import datetime as dt
from decimal import Decimal

import pytest

from ledger.models import OpenItem
from ledger.services import LineSpec, OpenItemSpec, journal_post
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import LegalEntityFactory


@pytest.mark.django_db
def test_invoice_posting_opens_an_item():
    entity = LegalEntityFactory()
    customer = CustomerFactory()
    entry = journal_post(
        legal_entity_id=entity.id, kind="invoice", document_date=dt.date(2026, 3, 31), currency="EUR", by=None,
        lines=[
            LineSpec(amount=Decimal("119.00"), role="ar", customer_id=customer.id,
                     open_item=OpenItemSpec("invoice", "INV-1", dt.date(2026, 3, 31), dt.date(2026, 4, 30))),
            LineSpec(amount=Decimal("-100.00"), role="revenue"),
            LineSpec(amount=Decimal("-19.00"), role="tax_payable"),
        ],
    )
    assert entry.lines.count() == 3
    item = OpenItem.objects.get()
    assert item.open_amount == Decimal("119.00")
