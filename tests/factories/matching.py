"""Matching-engine test helpers: in-memory open invoices and receipts for `receivables.matching`
(tests/receivables/test_matching*.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from receivables.matching import MatchPolicy, OpenInvoice, ReceiptFacts
from tests.receivables.fake_book import FakeBook

AUTO = MatchPolicy().auto_apply_threshold
ACME, MUELLER, GLOBEX = 10, 20, 30


def inv(id_, seq, customer, amount, *, due=(2026, 3, 1), year=2026, currency="USD", prefix="US01-INV", entity=1):
    d = date(*due)
    return OpenInvoice(id_, f"{prefix}-{year}-{seq:06d}", customer, entity, currency, Decimal(amount), Decimal(amount),
                       d, d)


def receipt(remittance="", amount="0", *, payer="", account="", customer=None, currency="USD", entity=1):
    return ReceiptFacts(1, entity, currency, Decimal(amount), date(2026, 3, 20), payer, account, remittance, customer)


def best(suggestions):
    assert suggestions, "expected a suggestion"
    return suggestions[0]


def namesakes_book():
    return FakeBook(
        [inv(1, 1, ACME, "8046.35"), inv(2, 2, GLOBEX, "120.00"), inv(3, 3, MUELLER, "300.00"),
         inv(4, 4, 40, "990.00"), inv(5, 5, 50, "777.00"), inv(6, 6, 60, "1.00"), inv(7, 7, 70, "2.00"),
         inv(8, 8, 80, "3.00"), inv(9, 9, 90, "4.00"), inv(10, 10, 100, "5.00"), inv(11, 11, 110, "6.00"),
         inv(12, 12, 120, "7.00"), inv(13, 13, 130, "8.00")],
        names={ACME: "Watson Health LLP", GLOBEX: "Watson Health Corp.", MUELLER: "Ullrich Foods GmbH & Co. KG",
               40: "Ulrich Foods B.V.", 50: "Scott Mobility LLP", 60: "Scott Mobility Retail Corp.",
               70: "Peinado Energy S.A.", 80: "Eriksson Systems AB", 90: "Eriksson Systems Labs AB",
               100: "van Capital GmbH & Co. KG", 110: "van Saksen Labs N.V.", 120: "King Engineering LLP",
               130: "King Engineering Inc."},
    ).finish()
