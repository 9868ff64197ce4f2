from __future__ import annotations

import factory

from ledger.models import Account, LegalEntity
from ledger.services.chart import chart_create_default


class LegalEntityFactory(factory.django.DjangoModelFactory):
    """A legal entity with the standard chart of accounts."""

    class Meta:
        model = LegalEntity
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"E{n:02d}")
    name = factory.LazyAttribute(lambda o: f"otc {o.code}")
    legal_name = factory.LazyAttribute(lambda o: f"otc {o.code} Ltd")
    address_line1 = "1 Ledger Lane"
    city = "Dublin"
    country = "IE"
    tax_id = "IE6388047V"
    functional_currency = "EUR"
    invoice_prefix = factory.LazyAttribute(lambda o: f"{o.code}-INV")
    credit_note_prefix = factory.LazyAttribute(lambda o: f"{o.code}-CN")

    @factory.post_generation
    def chart(self, create, extracted, **kwargs):
        if create:
            chart_create_default(legal_entity=self)


def account(entity: LegalEntity, role: str) -> Account:
    return Account.objects.filter(legal_entity=entity, role=role).order_by("code").first()
