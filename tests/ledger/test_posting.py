"""The posting service: balance, accounts, amounts, currencies and FX."""

import datetime as dt
from decimal import Decimal

import pytest

from ledger.models import Account, JournalEntry, JournalLine, NumberSeries, OpenItem
from ledger.services import LineSpec, OpenItemSpec, journal_post, journal_post_manual
from otc.errors import PermissionDenied, ValidationFailed
from otc.roles import BILLING_SPECIALIST, CONTROLLER
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import FxRateFactory, LegalEntityFactory, account, post_invoice
from tests.factories.otc import user_with_role

pytestmark = pytest.mark.django_db
MARCH = dt.date(2026, 3, 10)


def _post(entity, lines, **kwargs):
    return journal_post(legal_entity_id=entity.id, kind=kwargs.pop("kind", "invoice"), document_date=MARCH,
                        by=None, lines=lines, **kwargs)


def _nothing_written():
    assert JournalEntry.objects.count() == 0
    assert JournalLine.objects.count() == 0
    assert OpenItem.objects.count() == 0
    assert not NumberSeries.objects.filter(next_number__gt=1).exists()


def test_balanced_entry_is_stored_with_functional_amounts():
    entity = LegalEntityFactory()
    entry = _post(entity, [LineSpec(Decimal("250.00"), role="cash"), LineSpec(Decimal("-250.00"), role="suspense")],
                  memo="test")
    assert entry.number == f"JE-{entity.code}-2026-000001"
    assert entry.entry_date == entry.document_date == MARCH
    assert [(line.account.code, line.amount, line.functional_amount, line.fx_rate) for line in entry.lines.order_by("id")] == [
        ("1000", Decimal("250.00"), Decimal("250.00"), Decimal(1)),
        ("1900", Decimal("-250.00"), Decimal("-250.00"), Decimal(1)),
    ]


def test_unbalanced_entry_is_refused_and_nothing_written():
    entity = LegalEntityFactory()
    with pytest.raises(ValidationFailed, match=r"differ by 0\.01 EUR"):
        _post(entity, [LineSpec(Decimal("100.00"), role="cash"), LineSpec(Decimal("-99.99"), role="suspense")])
    _nothing_written()


@pytest.mark.parametrize(("amount", "message"), [
    (Decimal("100.005"), "more decimals than EUR allows"),
    (Decimal("0"), "the amount is zero"),
    (100.0, "never floats"),
])
def test_bad_amounts_are_refused(amount, message):
    entity = LegalEntityFactory()
    with pytest.raises(ValidationFailed, match=message):
        _post(entity, [LineSpec(amount, role="cash"), LineSpec(Decimal("-100.00"), role="suspense")])
    _nothing_written()


def test_single_line_is_refused():
    entity = LegalEntityFactory()
    with pytest.raises(ValidationFailed, match="at least two lines"):
        _post(entity, [LineSpec(Decimal("1.00"), role="cash")])


def test_unknown_account_is_refused():
    entity = LegalEntityFactory()
    with pytest.raises(ValidationFailed, match="Line 2: .* has no account id 999999"):
        _post(entity, [LineSpec(Decimal("1.00"), role="cash"), LineSpec(Decimal("-1.00"), account_id=999999)])
    _nothing_written()


def test_inactive_account_is_refused():
    entity = LegalEntityFactory()
    suspense = account(entity, "suspense")
    Account.objects.filter(pk=suspense.pk).update(is_active=False)
    with pytest.raises(ValidationFailed, match="inactive"):
        _post(entity, [LineSpec(Decimal("1.00"), role="cash"), LineSpec(Decimal("-1.00"), account_id=suspense.id)])
    _nothing_written()


def test_other_entity_account_is_refused():
    entity, other = LegalEntityFactory(), LegalEntityFactory()
    with pytest.raises(ValidationFailed, match="belongs to another legal entity"):
        _post(entity, [LineSpec(Decimal("1.00"), role="cash"),
                       LineSpec(Decimal("-1.00"), account_id=account(other, "suspense").id)])
    _nothing_written()


def test_a_shared_role_resolves_to_the_lowest_account_code():
    entity = LegalEntityFactory()
    entry = post_invoice(entity, CustomerFactory(), "10.00")
    assert entry.lines.get(amount__lt=0).account.code == "4000"


def test_subledger_line_needs_customer_and_open_item():
    entity, customer = LegalEntityFactory(), CustomerFactory()
    with pytest.raises(ValidationFailed, match="needs a customer"):
        _post(entity, [LineSpec(Decimal("5.00"), role="ar"), LineSpec(Decimal("-5.00"), role="revenue")])
    with pytest.raises(ValidationFailed, match="must open a new open item or settle"):
        _post(entity, [LineSpec(Decimal("5.00"), role="ar", customer_id=customer.id), LineSpec(Decimal("-5.00"), role="revenue")])
    with pytest.raises(ValidationFailed, match="only AR and unapplied-cash lines"):
        _post(entity, [LineSpec(Decimal("5.00"), role="cash", open_item=OpenItemSpec("x", "X-1", MARCH, MARCH)),
                       LineSpec(Decimal("-5.00"), role="revenue")])
    _nothing_written()


def test_mixed_currencies_without_fx_rate_are_refused():
    entity = LegalEntityFactory()  # EUR
    with pytest.raises(ValidationFailed, match="USD is not the functional currency EUR and no rate"):
        _post(entity, [LineSpec(Decimal("110.00"), role="cash", currency="USD"),
                       LineSpec(Decimal("-100.00"), role="suspense", currency="EUR")], kind="receipt")
    _nothing_written()


def test_mixed_currencies_with_fx_balance_in_functional_currency():
    entity = LegalEntityFactory()
    FxRateFactory(date=dt.date(2026, 3, 1), from_currency="USD", to_currency="EUR", rate=Decimal("0.9090909091"))
    entry = _post(entity, [LineSpec(Decimal("110.00"), role="cash", currency="USD"),
                           LineSpec(Decimal("-100.00"), role="suspense", currency="EUR")], kind="receipt")
    lines = list(entry.lines.order_by("id"))
    assert [(line.currency, line.amount, line.functional_amount) for line in lines] == [
        ("USD", Decimal("110.00"), Decimal("100.00")), ("EUR", Decimal("-100.00"), Decimal("-100.00")),
    ]
    assert lines[0].fx_rate == Decimal("0.9090909091")


def test_mixed_currency_rounding_residual_goes_to_the_rounding_account():
    entity = LegalEntityFactory()
    # 33.33 USD at 0.9 = 29.997 -> 30.00 EUR; twice = 60.00 EUR against 59.99 EUR: 0.01 rounding
    entry = _post(entity, [
        LineSpec(Decimal("33.33"), role="cash", currency="USD", fx_rate=Decimal("0.9")),
        LineSpec(Decimal("33.33"), role="cash", currency="USD", fx_rate=Decimal("0.9")),
        LineSpec(Decimal("-59.99"), role="suspense", currency="EUR"),
    ], kind="receipt")
    rounding = entry.lines.get(account__role="rounding")
    assert (rounding.currency, rounding.amount, rounding.functional_amount) == ("EUR", Decimal("-0.01"), Decimal("-0.01"))
    assert sum(line.functional_amount for line in entry.lines.all()) == 0


def test_mixed_currency_difference_beyond_rounding_is_refused():
    entity = LegalEntityFactory()
    with pytest.raises(ValidationFailed, match=r"does not balance in EUR: .* differ by 0\.10 EUR"):
        _post(entity, [LineSpec(Decimal("100.00"), role="cash", currency="USD", fx_rate=Decimal("0.9")),
                       LineSpec(Decimal("-89.90"), role="suspense", currency="EUR")], kind="receipt")
    _nothing_written()


def test_two_rates_for_one_currency_in_one_entry_are_refused():
    entity = LegalEntityFactory()
    with pytest.raises(ValidationFailed, match="one FX rate"):
        _post(entity, [LineSpec(Decimal("10.00"), role="cash", currency="USD", fx_rate=Decimal("0.9")),
                       LineSpec(Decimal("-10.00"), role="suspense", currency="USD", fx_rate=Decimal("0.91"))])


def test_jpy_invoice_in_a_usd_entity_balances_in_usd_after_rounding():
    entity = LegalEntityFactory(functional_currency="USD")
    customer = CustomerFactory(default_currency="JPY")
    FxRateFactory(date=dt.date(2026, 3, 1), from_currency="USD", to_currency="JPY", rate=Decimal("150"))
    # 1 JPY = 1/150 USD = 0.0066666667; three lines of 1,001 / -667 / -334 JPY
    entry = journal_post(
        legal_entity_id=entity.id, kind="invoice", document_date=MARCH, currency="JPY", by=None, lines=[
            LineSpec(Decimal("1001"), role="ar", customer_id=customer.id,
                     open_item=OpenItemSpec("invoice", "JP-1", MARCH, MARCH)),
            LineSpec(Decimal("-667"), role="revenue"),
            LineSpec(Decimal("-334"), role="tax_payable"),
        ],
    )
    lines = list(entry.lines.order_by("id"))
    assert [line.amount for line in lines] == [Decimal("1001"), Decimal("-667"), Decimal("-334")]
    # 6.67334 -> 6.67; -4.44667 -> -4.45; -2.22667 -> -2.23: residual -0.01 goes to the largest line
    assert [line.functional_amount for line in lines] == [Decimal("6.68"), Decimal("-4.45"), Decimal("-2.23")]
    assert OpenItem.objects.get().open_amount == Decimal("1001")


def test_jpy_amount_with_decimals_is_refused():
    entity = LegalEntityFactory(functional_currency="USD")
    with pytest.raises(ValidationFailed, match="more decimals than JPY allows"):
        _post(entity, [LineSpec(Decimal("100.5"), role="cash", fx_rate=Decimal("0.0067")),
                       LineSpec(Decimal("-100.5"), role="suspense", fx_rate=Decimal("0.0067"))], currency="JPY")


def test_kwd_entity_keeps_three_decimals():
    entity = LegalEntityFactory(functional_currency="KWD")
    entry = _post(entity, [
        LineSpec(Decimal("100.00"), role="cash", currency="USD", fx_rate=Decimal("0.3071")),
        LineSpec(Decimal("-30.710"), role="suspense", currency="KWD"),
    ], kind="receipt")
    assert [line.functional_amount for line in entry.lines.order_by("id")] == [Decimal("30.710"), Decimal("-30.710")]
    with pytest.raises(ValidationFailed, match="more decimals than KWD allows"):
        _post(entity, [LineSpec(Decimal("1.0005"), role="cash"), LineSpec(Decimal("-1.0005"), role="suspense")])


def test_manual_journal_needs_permission_and_memo():
    entity = LegalEntityFactory()
    lines = [LineSpec(Decimal("5.00"), role="cash"), LineSpec(Decimal("-5.00"), role="suspense")]
    with pytest.raises(PermissionDenied):
        journal_post_manual(legal_entity_id=entity.id, document_date=MARCH, lines=lines,
                            by=user_with_role(BILLING_SPECIALIST), memo="x")
    with pytest.raises(PermissionDenied):  # the kind alone is guarded too
        _post(entity, lines, kind="manual")
    controller = user_with_role(CONTROLLER)
    with pytest.raises(ValidationFailed, match="memo"):
        journal_post_manual(legal_entity_id=entity.id, document_date=MARCH, lines=lines, by=controller, memo=" ")
    _nothing_written()
    entry = journal_post_manual(legal_entity_id=entity.id, document_date=MARCH, lines=lines, by=controller,
                                memo="Bank fee correction")
    assert (entry.kind, entry.posted_by, entry.memo) == ("manual", controller, "Bank fee correction")


def test_manual_journal_on_ar_must_carry_customer_and_open_item():
    entity, customer, controller = LegalEntityFactory(), CustomerFactory(), user_with_role(CONTROLLER)
    with pytest.raises(ValidationFailed, match="needs a customer"):
        journal_post_manual(legal_entity_id=entity.id, document_date=MARCH, by=controller, memo="adj", lines=[
            LineSpec(Decimal("5.00"), role="ar"), LineSpec(Decimal("-5.00"), role="suspense")])
    entry = journal_post_manual(legal_entity_id=entity.id, document_date=MARCH, by=controller, memo="debit memo", lines=[
        LineSpec(Decimal("5.00"), role="ar", customer_id=customer.id, open_item=OpenItemSpec("debit_memo", "DM-1", MARCH, MARCH)),
        LineSpec(Decimal("-5.00"), role="suspense")])
    assert OpenItem.objects.get().lines.get().entry == entry


def test_entry_points_to_its_source_document():
    entity, customer = LegalEntityFactory(), CustomerFactory()
    entry = journal_post(
        legal_entity_id=entity.id, kind="invoice", document_date=MARCH, by=None, source=customer,
        source_reference="INV-9", lines=[
            LineSpec(Decimal("7.00"), role="ar", customer_id=customer.id, open_item=OpenItemSpec("invoice", "INV-9", MARCH, MARCH)),
            LineSpec(Decimal("-7.00"), role="revenue")],
    )
    entry.refresh_from_db()
    assert (entry.source, entry.source_reference) == (customer, "INV-9")
    assert OpenItem.objects.get().source == customer
