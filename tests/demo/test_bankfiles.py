"""The demo's bank-file writers: every written file parses back (receivables.parsers) to exactly
the transactions written, control totals and balances included."""

import datetime as dt
from decimal import Decimal

import pytest

from demo.bankfiles import (
    BankLine,
    BankStatementFile,
    bai2_remittance,
    csv_mapping,
    mt940_name,
    mt940_purpose,
    write_bai2,
    write_camt,
    write_csv,
    write_mt940,
)
from receivables.parsers import detect_format, parse_statement

DAY = dt.date(2026, 3, 2)
LONG = ("Payment of invoices US-INV-2026-000123, US-INV-2026-000124 and US-INV-2026-000125 for the March "
        "subscription, the onboarding package and the premium support; remaining balance follows next week "
        "as agreed with Ms Rivera in accounts payable (ticket AP-77812)")


def statement(currency: str, account: str) -> BankStatementFile:
    return BankStatementFile(account_number=account, currency=currency, day=DAY, statement_id="STMT0302",
                             opening_balance=Decimal("10000.00"), sequence=61, lines=[
        BankLine(value_date=DAY, amount=Decimal("15000.00"), currency=currency, payer_name="ACME HOLDINGS, INC.",
                 payer_account="DE44500105175407324931", remittance="INV US-INV-2026-000123 March subscription",
                 bank_reference="FW26030200001"),
        BankLine(value_date=DAY - dt.timedelta(days=2), amount=Decimal("0.07"), currency=currency,
                 payer_name="Müller Maschinenbau GmbH & Co. KG Niederlassung Süd-West Stuttgart", payer_account="",
                 remittance=LONG, bank_reference="FW26030200002"),
        BankLine(value_date=DAY, amount=Decimal("2400.50"), currency=currency, payer_name="Nordic Trading Ltd",
                 payer_account="GB33BUKB20201555555555", remittance="2026/000124", bank_reference="FW26030200003",
                 structured=True),
        BankLine(value_date=DAY, amount=Decimal("-980.00"), currency=currency, payer_name="Schmidt Logistik AG",
                 payer_account="DE02120300000000202051", remittance="RETURNED ITEM R01 INSUFFICIENT FUNDS",
                 bank_reference="RT26030200004"),
        BankLine(value_date=DAY, amount=Decimal("-12.50"), currency=currency, remittance="Account fee February",
                 bank_reference="FE26030200005"),
    ])


def shape(tx) -> tuple:
    return (tx.value_date, tx.booking_date, tx.amount, tx.currency, tx.bank_reference, tx.payer_name,
            tx.payer_account, tx.remittance)


def test_bai2_round_trip():
    # given a statement with credits, a return, a fee, a long text and a comma in the payer's name
    written = statement("USD", "000123456789")
    # when it is written as BAI2 and parsed back
    data = write_bai2(written)
    assert detect_format(data) == "bai2"
    [parsed] = parse_statement(data)
    # then the account, balances and every transaction come back (payer and text in the 16's text)
    assert (parsed.account_number, parsed.currency, parsed.statement_date) == ("000123456789", "USD", DAY)
    assert (parsed.opening_balance, parsed.closing_balance) == (Decimal("10000.00"), written.closing_balance)
    assert [shape(tx) for tx in parsed.transactions] == [
        (line.value_date, DAY, line.amount, "USD", line.bank_reference,
         " ".join(line.payer_name.split()), "", bai2_remittance(line)) for line in written.lines]
    assert [tx.type_code for tx in parsed.transactions] == ["195", "195", "195", "555", "555"]
    assert b"\n88," in data  # the long text continues on 88 records


@pytest.mark.parametrize("kind", ["camt.053", "camt.054"])
def test_camt_round_trip(kind):
    written = statement("EUR", "DE89370400440532013000")
    data = write_camt(written, kind=kind, bic="COBADEFFXXX")
    assert detect_format(data) == kind.replace(".", "")
    [parsed] = parse_statement(data)
    assert (parsed.account_number, parsed.currency, parsed.statement_id) == ("DE89370400440532013000", "EUR", "STMT0302")
    if kind == "camt.053":
        assert (parsed.opening_balance, parsed.closing_balance) == (Decimal("10000.00"), Decimal("26408.07"))
        assert parsed.statement_date == DAY
    assert [shape(tx) for tx in parsed.transactions] == [
        (line.value_date, DAY, line.amount, "EUR", line.bank_reference, line.payer_name, line.payer_account,
         " ".join(line.remittance.split())) for line in written.lines]


def test_mt940_round_trip():
    written = statement("EUR", "DE89370400440532013000")
    data = write_mt940(written)
    assert detect_format(data) == "mt940"
    [parsed] = parse_statement(data)
    assert (parsed.account_number, parsed.statement_id, parsed.statement_date) == ("DE89370400440532013000", "00061/001", DAY)
    assert (parsed.opening_balance, parsed.closing_balance) == (Decimal("10000.00"), Decimal("26408.07"))
    assert [shape(tx) for tx in parsed.transactions] == [
        (line.value_date, DAY, line.amount, "EUR", line.bank_reference, mt940_name(line), line.payer_account,
         mt940_purpose(line)) for line in written.lines]
    # a bank cuts the name at 54 characters and the purpose at 270; shorter ones come back whole
    assert mt940_name(written.lines[0]) == "ACME HOLDINGS, INC." and mt940_purpose(written.lines[0]) == written.lines[0].remittance
    assert all(len(line) <= 65 for line in data.decode("latin-1").splitlines() if not line.startswith(":61:"))


def test_csv_round_trip():
    written = statement("GBP", "GB33BUKB20201555555555")
    data = write_csv(written)
    [parsed] = parse_statement(data, format="csv", csv_mapping=csv_mapping("GB33BUKB20201555555555"))
    assert (parsed.account_number, parsed.currency, parsed.statement_date) == ("GB33BUKB20201555555555", "GBP", DAY)
    assert [shape(tx) for tx in parsed.transactions] == [
        (line.value_date, DAY, line.amount, "GBP", line.bank_reference, line.payer_name, line.payer_account,
         " ".join(line.remittance.split())) for line in written.lines]


def test_a_written_file_that_does_not_add_up_is_refused():
    # the parser checks what the writers compute: a BAI2 file with one cent more in a 16 is refused
    data = write_bai2(statement("USD", "000123456789")).replace(b"16,195,1500000,", b"16,195,1500001,")
    with pytest.raises(Exception, match="control total"):
        parse_statement(data)
