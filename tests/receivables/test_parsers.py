"""Bank-statement parsers: each format on its sample files, format detection, malformed files refused
whole with the line/element named, CSV mapping variants and a CSV round-trip property."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from otc.errors import ValidationFailed
from receivables.parsers import (
    CsvMapping,
    ParsedStatement,
    StatementParseError,
    detect_format,
    parse_statement,
)

SAMPLES = Path(__file__).parent / "samples"

SIGNED_MAPPING = CsvMapping(
    date="Date", value_date="Value Date", amount="Amount", currency="Currency", payer_name="Payer",
    payer_account="Payer Account", remittance=("Reference", "Description"), bank_reference="Transaction ID",
    account_number="000123456789",
)
GERMAN_MAPPING = CsvMapping(
    date="Buchungstag", value_date="Valuta", amount="", credit="Haben", debit="Soll", currency="Währung",
    payer_name="Auftraggeber/Empfänger", payer_account="IBAN", remittance="Verwendungszweck",
    date_format="%d.%m.%Y", decimal_separator=",", thousands_separator=".", delimiter=";", encoding="cp1252",
    account_number="DE89370400440532013000",
)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def by_ref(statement: ParsedStatement) -> dict:
    return {tx.bank_reference: tx for tx in statement.transactions}


# --- BAI2 -------------------------------------------------------------------------------------------

def test_bai2_two_accounts_with_continuations():
    first, second = parse_statement(sample("statement.bai2"))

    assert (first.format, first.account_number, first.currency, first.statement_id) == (
        "bai2", "000123456789", "USD", "20260302A")
    assert first.statement_date == date(2026, 3, 2)
    assert (first.opening_balance, first.closing_balance) == (Decimal("12500.00"), Decimal("40120.50"))
    assert [tx.amount for tx in first.transactions] == [
        Decimal("15000.00"), Decimal("12345.50"), Decimal("-950.00"), Decimal("2500.00"), Decimal("-1250.00"),
        Decimal("-25.00")]
    assert first.opening_balance + sum(tx.amount for tx in first.transactions) == first.closing_balance
    wire = first.transactions[0]
    assert wire.bank_reference == "FW26030200001"
    assert wire.type_code == "195"
    assert wire.payer_name == "ACME HOLDINGS, INC."
    # the wire tags (ORG=, OBI=) are read as fields and do not stay glued to the numbers (issue 16)
    assert wire.remittance == "INV US01-INV-2026-000123 PAYMENT US01-INV-2026-000123 MARCH SUBSCRIPTION"
    assert (wire.value_date, wire.booking_date, wire.location) == (date(2026, 3, 2), date(2026, 3, 2), "line 4")
    ach = first.transactions[1]
    assert ach.payer_name == "GLOBEX CORPORATION"
    assert ach.remittance == "US01INV2026000124"  # RMR*IV*<invoice>*PI*<amount>: the invoice
    returned = first.transactions[4]
    assert (returned.type_code, returned.amount, returned.bank_reference) == ("555", Decimal("-1250.00"), "RET26030200004")
    assert returned.remittance == "DEPOSITED ITEM RETURNED INITECH LLC NSF US01-INV-2026-000098"
    assert first.transactions[5].remittance == "MONTHLY SERVICE FEE"

    assert second.account_number == "000987654321"
    assert (second.opening_balance, second.closing_balance) == (Decimal("5000.00"), Decimal("18606.00"))
    assert [tx.type_code for tx in second.transactions] == ["921", "195", "165", "698"]
    assert second.transactions[0].amount == Decimal("8800.00")  # custom credit range 920-959
    value_dated = second.transactions[1]
    assert (value_dated.value_date, value_dated.booking_date) == (date(2026, 3, 3), date(2026, 3, 2))
    assert value_dated.payer_name == "WAYNE ENTERPRISES LTD"
    assert value_dated.remittance == "INV US01-INV-2026-000130 AND US01-INV-2026-000131"
    no_ref = second.transactions[2]
    assert no_ref.bank_reference.startswith("H-") and no_ref.payer_name == "STARK INDUSTRIES INC"
    assert parse_statement(sample("statement.bai2"))[1].transactions[2].bank_reference == no_ref.bank_reference


def _bai2(currency: str, units: str, closing: str) -> bytes:
    total = int(units) + int(closing)
    return (f"01,BANK,CUST,260302,0600,F1,,,2/\n02,CUST,BANK,1,260302,,{currency},2/\n"
            f"03,ACC1,{currency},015,{closing},,/\n16,195,{units},0,REF1,,PAYMENT\n49,{total},3/\n"
            f"98,{total},1,5/\n99,{total},1,7/\n").encode()


@pytest.mark.parametrize(("currency", "units", "amount", "closing"), [
    ("JPY", "150000", Decimal("150000"), Decimal("150000")),
    ("USD", "150000", Decimal("1500.00"), Decimal("1500.00")),
    ("KWD", "150000", Decimal("150.000"), Decimal("150.000")),
])
def test_bai2_amounts_use_the_currency_minor_unit(currency, units, amount, closing):
    (statement,) = parse_statement(_bai2(currency, units, units))
    assert statement.transactions[0].amount == amount
    assert str(statement.transactions[0].amount) == str(amount)
    assert statement.closing_balance == closing


# --- camt -------------------------------------------------------------------------------------------

def test_camt053_v02_statements_batches_and_remittance():
    euro, dollar = parse_statement(sample("camt053_v02.xml"))

    assert (euro.format, euro.account_number, euro.currency, euro.statement_id) == (
        "camt053", "DE89370400440532013000", "EUR", "DE89-2026-03-02")
    assert (euro.statement_date, euro.opening_balance, euro.closing_balance) == (
        date(2026, 3, 2), Decimal("10000.00"), Decimal("31898.00"))
    assert len(euro.transactions) == 7  # 5 booked entries, one a batch of 3; the pending entry is left out
    txs = by_ref(euro)
    mueller = txs["2026030200012345"]
    assert mueller.amount == Decimal("15000.00")
    assert mueller.payer_name == "Müller Maschinenbau GmbH & Co. KG"
    assert mueller.payer_account == "DE44500105175407324931"
    assert mueller.remittance == "US01-INV-2026-000123 Rechnung US01-INV-2026-000123 Kundennr. 4711"
    assert mueller.end_to_end_id == "E2E-MM-2026-0312"
    assert mueller.type_code == "PMNT/RCDT/ESCT"
    assert mueller.location == "Stmt[1]/Ntry[1]"

    batch = [txs[f"2026030200012399-{n}"] for n in (1, 2, 3)]
    assert [tx.amount for tx in batch] == [Decimal("1200.00"), Decimal("2550.50"), Decimal("3500.00")]
    assert [tx.payer_name for tx in batch] == ["Dupont SARL", "Van der Berg B.V.", "Rossi S.p.A."]
    assert batch[0].end_to_end_id == ""  # NOTPROVIDED
    assert batch[1].remittance == "US01-INV-2026-000126 US01-INV-2026-000127"
    assert batch[2].remittance == ""
    assert batch[2].location == "Stmt[1]/Ntry[2]/NtryDtls/TxDtls[3]"

    returned = txs["2026030200012400"]
    assert returned.amount == Decimal("-980.00")
    assert (returned.payer_name, returned.payer_account) == ("Schmidt Logistik AG", "DE02120300000000202051")
    assert returned.remittance == "US01-INV-2026-000101 Return reason AC04 Konto erloschen"
    assert returned.type_code == "PMNT/RCDT/RRTN"

    fee = txs["0004"]  # no AcctSvcrRef: the NtryRef
    assert (fee.amount, fee.remittance, fee.type_code) == (Decimal("-12.50"), "Kontofuehrungsentgelt Februar", "ACMT/MDOP/CHRG")
    unreferenced = euro.transactions[-1]
    assert unreferenced.bank_reference.startswith("H-")
    assert unreferenced.remittance == "Zahlung Rechnung 2026-128 danke"
    assert unreferenced.type_code == "NTRF+051"

    assert (dollar.account_number, dollar.currency, dollar.opening_balance, dollar.closing_balance) == (
        "400123456", "USD", Decimal("2000.00"), Decimal("2500.00"))
    assert dollar.transactions[0].payer_name == "Acme Holdings, Inc."


def test_camt053_v08_batch_amounts_parties_and_debit_opening():
    (statement,) = parse_statement(sample("camt053_v08.xml"))
    assert (statement.account_number, statement.currency, statement.statement_date) == (
        "GB29NWBK60161331926819", "GBP", date(2026, 3, 3))
    assert (statement.opening_balance, statement.closing_balance) == (Decimal("-250.00"), Decimal("8715.45"))
    tesco, sainsbury, marks, fee = statement.transactions
    assert (tesco.bank_reference, tesco.amount, tesco.payer_name, tesco.payer_account) == (
        "NWB260303FP000981A", Decimal("4000.00"), "Tesco Stores Limited", "40051512345678")
    assert tesco.remittance == "UK01-INV-2026-000311 RF18539007547034 less early payment discount REMITTANCE 55120"
    assert (sainsbury.bank_reference, sainsbury.amount, sainsbury.end_to_end_id) == (
        "NWB260303FP000981/2", Decimal("2000.00"), "")
    assert (marks.value_date, marks.booking_date, marks.payer_name) == (
        date(2026, 3, 4), date(2026, 3, 3), "Marks and Spencer Group P.L.C.")
    assert fee.amount == Decimal("-34.55") and fee.bank_reference.startswith("H-")


def test_camt054_notification():
    (notification,) = parse_statement(sample("camt054_v08.xml"))
    assert (notification.format, notification.account_number, notification.currency) == (
        "camt054", "CH9300762011623852957", "CHF")
    assert (notification.statement_id, notification.statement_date) == ("NTF-20260305-0007-1", date(2026, 3, 5))
    assert notification.opening_balance is None and notification.closing_balance is None
    credit, returned = notification.transactions
    assert (credit.bank_reference, credit.amount, credit.payer_name, credit.payer_account) == (
        "ZKB20260305CH00077", Decimal("4200.00"), "Nestlé Suisse S.A.", "CH5604835012345678009")
    assert credit.remittance == "210000000003139471430009017 CH01-INV-2026-000045"
    assert (returned.bank_reference, returned.amount, returned.payer_name, returned.remittance) == (
        "CH-0305-02", Decimal("-1500.00"), "Roche Diagnostics AG", "Return reason MS03")


# --- MT940 ------------------------------------------------------------------------------------------

def test_mt940_structured_and_unstructured_narratives():
    german, dutch = parse_statement(sample("statement.mt940"))

    assert (german.format, german.account_number, german.currency, german.statement_id) == (
        "mt940", "37040044/0532013000", "EUR", "00061/001")
    assert (german.statement_date, german.opening_balance, german.closing_balance) == (
        date(2026, 3, 2), Decimal("10000.00"), Decimal("24007.50"))
    credit, returned, fee = german.transactions
    assert (credit.bank_reference, credit.amount, credit.type_code, credit.location) == (
        "BK2603020001", Decimal("15000.00"), "NTRF", "line 6")
    assert credit.payer_name == "Mueller Maschinenbau GmbH & Co. KG"
    assert credit.payer_account == "DE44500105175407324931"
    assert credit.remittance == "US01-INV-2026-000123 Rechnung Maerz"
    assert credit.end_to_end_id == "E2E-MM-2026-0312"
    assert (returned.amount, returned.payer_name, returned.type_code) == (Decimal("-980.00"), "Schmidt Logistik AG", "NRTI")
    assert returned.remittance == "RUECKGABE US01-INV-2026-000101 AC04 KONTO ERLOSCHEN"
    assert (fee.amount, fee.remittance, fee.payer_name) == (Decimal("-12.50"), "Kontofuehrung Februar", "")
    assert fee.bank_reference.startswith("H-")  # NONREF and no bank reference

    assert (dutch.account_number, dutch.statement_id, dutch.statement_date) == ("NL91ABNA0417164300", "365/1", date(2026, 1, 2))
    year_end, unreferenced = dutch.transactions
    assert (year_end.value_date, year_end.booking_date) == (date(2025, 12, 31), date(2026, 1, 2))
    assert year_end.remittance == ("VAN DER BERG B.V. BETALING FACTUUR US01-INV-2025-000987 EN "
                                   "US01-INV-2025-000988 DANK U")
    assert unreferenced.remittance == "HOLLAND TRADING BV ZONDER REFERENTIE"
    assert unreferenced.bank_reference.startswith("H-")


# --- CSV --------------------------------------------------------------------------------------------

def test_csv_signed_amounts_iso_dates():
    (statement,) = parse_statement(sample("statement_signed.csv"), csv_mapping=SIGNED_MAPPING)
    assert (statement.format, statement.account_number, statement.currency, statement.statement_date) == (
        "csv", "000123456789", "USD", date(2026, 3, 4))
    assert statement.opening_balance is None and statement.closing_balance is None
    assert [tx.amount for tx in statement.transactions] == [
        Decimal("15000.00"), Decimal("2450.75"), Decimal("-1250.00"), Decimal("-25.00"), Decimal("980.10")]
    acme = statement.transactions[0]
    assert (acme.bank_reference, acme.payer_name, acme.payer_account) == (
        "TXN-0001", "Acme Holdings, Inc.", "021000021-123456789")
    assert acme.remittance == 'US01-INV-2026-000123 Payment for "March" subscription'
    assert statement.transactions[1].value_date == date(2026, 3, 3)
    assert statement.transactions[1].remittance == "INV US01-INV-2026-124, US01-INV-2026-000125"
    last = statement.transactions[-1]
    assert last.location == "line 7"  # the blank line 6 is skipped
    assert last.bank_reference.startswith("H-")


def test_csv_german_layout_with_credit_and_debit_columns():
    (statement,) = parse_statement(sample("statement_de.csv"), format="csv", csv_mapping=GERMAN_MAPPING)
    assert (statement.account_number, statement.currency) == ("DE89370400440532013000", "EUR")
    assert [tx.amount for tx in statement.transactions] == [
        Decimal("15000.00"), Decimal("1234.56"), Decimal("-980.00"), Decimal("-12.50"), Decimal("640.00")]
    assert statement.transactions[0].payer_name == "Müller Maschinenbau GmbH & Co. KG"
    assert statement.transactions[1].remittance == "FACTURE US01 INV 2026 000125; merci"
    assert statement.transactions[2].remittance == "Rücklastschrift US01-INV-2026-000101 AC04"
    huber = statement.transactions[4]
    assert (huber.booking_date, huber.value_date) == (date(2026, 3, 4), date(2026, 3, 5))


def _csv(rows: list[list[str]], delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode()


@pytest.mark.parametrize(("mapping", "rows", "amounts"), [
    pytest.param(CsvMapping(date="d", amount="a", default_currency="EUR", decimal_separator=",", thousands_separator="."),
                 [["d", "a"], ["2026-03-02", "1.234.567,89"], ["2026-03-02", "-0,01"], ["2026-03-02", "12,50-"]],
                 [Decimal("1234567.89"), Decimal("-0.01"), Decimal("-12.50")], id="grouped-and-trailing-minus"),
    pytest.param(CsvMapping(date="d", amount="a", default_currency="USD", thousands_separator=",", delimiter="\t"),
                 [["d", "a"], ["2026-03-02", "1,000.00"], ["2026-03-02", "+5"]],
                 [Decimal("1000.00"), Decimal("5.00")], id="tab-delimited"),
    pytest.param(CsvMapping(date="d", amount="", credit="in", debit="out", default_currency="JPY"),
                 [["d", "in", "out"], ["2026-03-02", "", "-500"], ["2026-03-02", "1500", ""]],
                 [Decimal("-500"), Decimal("1500")], id="debit-written-negative"),
])
def test_csv_mapping_variants(mapping, rows, amounts):
    (statement,) = parse_statement(_csv(rows, mapping.delimiter), format="csv", csv_mapping=mapping)
    assert [tx.amount for tx in statement.transactions] == amounts


def test_csv_one_statement_per_currency_and_stable_references():
    mapping = CsvMapping(date="d", amount="a", currency="c", remittance="r", account_number="ACC")
    data = _csv([["d", "a", "c", "r"], ["2026-03-02", "10.00", "EUR", "same"], ["2026-03-02", "10.00", "EUR", "same"],
                 ["2026-03-03", "7.00", "USD", "x"]])
    euro, dollar = parse_statement(data, format="csv", csv_mapping=mapping)
    assert (euro.currency, len(euro.transactions), dollar.currency, len(dollar.transactions)) == ("EUR", 2, "USD", 1)
    first, second = (tx.bank_reference for tx in euro.transactions)
    assert first != second  # identical rows stay distinct
    again = parse_statement(data, format="csv", csv_mapping=mapping)
    assert [tx.bank_reference for tx in again[0].transactions] == [first, second]


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from(',;"\'\n '),
                max_size=40)
_tx = st.tuples(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)),
    st.decimals(min_value=Decimal("-99999999.99"), max_value=Decimal("99999999.99"), places=2, allow_nan=False),
    _text, _text,
)


@settings(max_examples=60, deadline=None)
@given(transactions=st.lists(_tx, min_size=1, max_size=8), delimiter=st.sampled_from([",", ";", "\t"]))
def test_csv_round_trips_generated_transactions(transactions, delimiter):
    mapping = CsvMapping(date="Date", amount="Amount", payer_name="Payer", remittance="Text", default_currency="EUR",
                         delimiter=delimiter, bank_reference="Ref")
    rows = [["Date", "Amount", "Payer", "Text", "Ref"]]
    rows += [[day.isoformat(), str(amount), payer, text, f"R{n}"] for n, (day, amount, payer, text) in enumerate(transactions)]
    (statement,) = parse_statement(_csv(rows, delimiter), format="csv", csv_mapping=mapping)
    assert len(statement.transactions) == len(transactions)
    for n, (tx, (day, amount, payer, text)) in enumerate(zip(statement.transactions, transactions, strict=True)):
        assert tx.value_date == day and tx.booking_date == day
        assert tx.amount == amount and str(tx.amount) == str(amount.quantize(Decimal("0.01")))
        assert tx.payer_name == " ".join(payer.split())
        assert tx.remittance == " ".join(text.split())
        assert tx.bank_reference == f"R{n}"


# --- detection and dispatch ---------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("statement.bai2", "bai2"), ("camt053_v02.xml", "camt053"), ("camt053_v08.xml", "camt053"),
    ("camt054_v08.xml", "camt054"), ("statement.mt940", "mt940"), ("statement_signed.csv", "csv"),
    ("statement_de.csv", "csv"),
])
def test_detect_format_by_content(name, expected):
    assert detect_format(sample(name)) == expected
    assert detect_format(b"\xef\xbb\xbf\n\n" + sample(name)) == expected


def test_detect_mt940_without_swift_blocks():
    data = sample("statement.mt940").split(b"\n", 1)[1]
    assert detect_format(data) == "mt940"
    assert len(parse_statement(data)) == 2


@pytest.mark.parametrize(("data", "kwargs", "message"), [
    (b"", {}, "the file is empty"),
    (b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"/>', {},
     "not a camt.053 or camt.054 document"),
    (b"Date,Amount\n2026-03-02,1.00\n", {}, "needs a column mapping"),
    (sample("camt054_v08.xml"), {"format": "camt053"}, "the file is camt.054, not camt.053"),
    (sample("statement.bai2"), {"format": "ofx"}, "unknown statement format 'ofx'"),
    (b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"/>',
     {"format": "camt053"}, "Document: the XML is not a camt.053 or camt.054 document"),
])
def test_refused_files(data, kwargs, message):
    with pytest.raises(StatementParseError, match=message):
        parse_statement(data, **kwargs)


def test_parse_error_is_a_validation_failure():
    with pytest.raises(ValidationFailed) as caught:
        parse_statement(b"")
    assert caught.value.code == "statement_parse_error"


# --- malformed files are refused whole, naming the place ---------------------------------------------

def _corrupt(name: str, old: str, new: str) -> bytes:
    text = sample(name).decode("cp1252" if name.endswith("_de.csv") else "utf-8")
    assert old in text, old
    return text.replace(old, new, 1).encode("cp1252" if name.endswith("_de.csv") else "utf-8")


BAI2_CORRUPTIONS = [
    ("16,195,1500000,0", "16,195,ABC,0", "Line 4 (record 16): amount 'ABC' is not a number"),
    ("02,OTCCORP,026009593,1,260302", "02,OTCCORP,026009593,1,261302", "Line 2 (record 02): as-of date '261302' is not a valid date"),
    ("01,BANKOFAMERICA,OTCCORP,260302", "01,BANKOFAMERICA,OTCCORP,26-3-2", "Line 1 (record 01): creation date '26-3-2' is not a date"),
    ("49,8469100,12/", "49,8469101,12/", "Line 14 (record 49): the account control total is 8469101 but the records add up to 8469100"),
    ("49,8469100,12/", "49,8469100,11/", "Line 14 (record 49): the number of records is 11 but the records add up to 12"),
    ("98,12193300,2,21/", "98,12193301,2,21/", "Line 22 (record 98): the group control total is 12193301"),
    ("98,12193300,2,21/", "98,12193300,3,21/", "Line 22 (record 98): the number of accounts is 3 but the records add up to 2"),
    ("99,12193300,1,23/", "99,12193300,1,24/", "Line 23 (record 99): the number of records is 24 but the records add up to 23"),
    ("99,12193300,1,23/", "99,12193300,2,23/", "Line 23 (record 99): the number of groups is 2"),
    ("99,12193300,1,23/", "99,12193399,1,23/", "Line 23 (record 99): the file control total is 12193399"),
    ("99,12193300,1,23/\n", "", "Line 22: the file ends without a file trailer"),
    ("49,8469100,12/\n", "", "Line 14 (record 03): an account identifier (03) must be inside a group"),
    ("03,000123456789,USD", "03,000123456789,XYZ", "Line 3 (record 03): unknown currency code 'XYZ'"),
    ("16,475,95000", "17,475,95000", "Line 9: '17,475,95000,0,CHK00' does not start with a BAI2 record code"),
    ("16,698,2500,0", "16,015,2500,0", "Line 13 (record 16): type code 015 is a status or summary code"),
    ("16,698,2500,0", "16,69,2500,0", "Line 13 (record 16): type code '69' is not a three-digit code"),
    ("16,698,2500,0", "16,698,2500,X", "Line 13 (record 16): funds type 'X' is not one of"),
    ("V,260303,0900", "V,260399,0900", "Line 17 (record 16): value date '260399' is not a valid date"),
    (",80,1,2/", ",80,1,3/", "Line 1 (record 01): version '3' is not BAI version 2"),
    ("03,000123456789,USD,010,1250000", "03,000123456789,USD,010,12.50", "Line 3 (record 03): amount '12.50' is not a number"),
    ("03,000987654321", "03,", "Line 15 (record 03): the account number is missing"),
]


@pytest.mark.parametrize(("old", "new", "message"), BAI2_CORRUPTIONS, ids=[m[:40] for _, _, m in BAI2_CORRUPTIONS])
def test_bai2_malformed_refused(old, new, message):
    with pytest.raises(StatementParseError) as caught:
        parse_statement(_corrupt("statement.bai2", old, new))
    assert message in caught.value.message
    assert caught.value.location and caught.value.message.startswith(caught.value.location)


def test_bai2_continuation_first_and_records_after_trailer():
    with pytest.raises(StatementParseError, match=r"^Line 1 \(record 88\): a continuation record cannot open the file"):
        parse_statement(b"88,TEXT\n" + sample("statement.bai2"), format="bai2")
    with pytest.raises(StatementParseError, match=r"^Line 24 \(record 01\): records after the file trailer"):
        parse_statement(sample("statement.bai2") + b"01,X,Y,260302,0600,F2,,,2/\n")


MT940_CORRUPTIONS = [
    (":61:2603020302C15000,00", ":61:2603020302C15x00,00", "Line 6 (:61:): the statement line does not follow the MT940 layout"),
    (":61:2603020302D12,50", ":61:2613020302D12,50", "Line 13 (:61:): invalid date"),
    (":62F:C260302EUR24007,50", ":62F:C260302EUR24007,51", "Line 15 (:62F:): opening balance 10000.00 + movements 14007.50 = 24007.50, but the closing balance is 24007.51"),
    (":62F:C260302EUR24007,50\n", "", "Line 2 (:20:): the statement 'STARTUMSE' has no :62F: closing balance"),
    (":25:NL91ABNA0417164300\n", "", "Line 17 (:20:): the statement '940S251231' has no :25: account"),
    (":60F:C260301EUR10000,00", ":60F:C260301XYZ10000,00", "Line 5 (:60F:): unknown currency code 'XYZ'"),
    (":60F:C251230EUR500,00", ":60F:C251230EUR5,00,00", "Line 20 (:60F:): amount '5,00,00' is not a number"),
    (":60F:C260301EUR10000,00", ":60F:C260301EUR10000,005", "Line 5 (:60F:): amount"),
    (":62F:C260102EUR3734,56", ":62F:C260102USD3734,56", "Line 27 (:62F:): currency USD differs from the opening balance's EUR"),
    (":20:STARTUMSE", "GARBAGE\n:20:STARTUMSE", "Line 2: 'GARBAGE' is not an MT940 tag"),
    (":20:STARTUMSE\n", "", "Line 2 (:25:): a statement must start with :20:"),
]


@pytest.mark.parametrize(("old", "new", "message"), MT940_CORRUPTIONS, ids=[m[:40] for _, _, m in MT940_CORRUPTIONS])
def test_mt940_malformed_refused(old, new, message):
    with pytest.raises(StatementParseError) as caught:
        parse_statement(_corrupt("statement.mt940", old, new), format="mt940")
    assert message in caught.value.message


CAMT_CORRUPTIONS = [
    ('<Amt Ccy="EUR">15000.00</Amt>', '<Amt Ccy="EUR">15,000.00</Amt>', "Stmt[1]/Ntry[1]/Amt: amount '15,000.00' is not a number"),
    ('<Amt Ccy="EUR">12.50</Amt>', '<Amt Ccy="EUR">12.505</Amt>', "Stmt[1]/Ntry[4]/Amt: amount '12.505' has more decimals than EUR allows (2)"),
    ('<Amt Ccy="EUR">12.50</Amt>', '<Amt Ccy="QQQ">12.50</Amt>', "Stmt[1]/Ntry[4]/Amt: unknown currency code 'QQQ'"),
    ('<Amt Ccy="EUR">12.50</Amt>', '<Amt Ccy="USD">12.50</Amt>', "Stmt[1]/Ntry[4]/Amt: currency USD differs from the account's EUR"),
    ('<Amt Ccy="EUR">12.50</Amt>', "", "Stmt[1]/Ntry[4]: Amt is missing"),
    ("<CdtDbtInd>DBIT</CdtDbtInd>\n        <RvslInd>", "<CdtDbtInd>DEBIT</CdtDbtInd>\n        <RvslInd>",
     "Stmt[1]/Ntry[3]/CdtDbtInd: credit/debit indicator 'DEBIT' is not CRDT or DBIT"),
    ("<ValDt><Dt>2026-03-02</Dt></ValDt>", "<ValDt><Dt>2026-02-30</Dt></ValDt>", "Stmt[1]/Ntry[1]/ValDt: value date '2026-02-30' is not an ISO date"),
    ("<BookgDt><Dt>2026-03-02</Dt></BookgDt>\n        <ValDt><Dt>2026-03-02</Dt></ValDt>\n        <AcctSvcrRef>2026030200012345",
     "<AcctSvcrRef>2026030200012345", "Stmt[1]/Ntry[1]: the entry has neither a booking date"),
    ("<Id><IBAN>DE89370400440532013000</IBAN></Id>", "<Id></Id>", "Stmt[1]/Acct: the account (Acct/Id/IBAN or Acct/Id/Othr/Id) is missing"),
    ('<Amt Ccy="EUR">31898.00</Amt>', '<Amt Ccy="EUR">31898.01</Amt>',
     "Stmt[1]: opening balance 10000.00 + entries 21898.00 = 31898.00, but the closing balance (CLBD) is 31898.01"),
    ("<NbOfNtries>5</NbOfNtries>", "<NbOfNtries>6</NbOfNtries>", "Stmt[1]/TxsSummry/TtlNtries: NbOfNtries says 6 entries but the statement has 5"),
    ("<Sum>992.50</Sum>", "<Sum>992.00</Sum>", "Stmt[1]/TxsSummry/TtlDbtNtries: Sum says 992.00 but the entries add up to 992.50"),
    ('<Amt Ccy="EUR">2550.50</Amt>', '<Amt Ccy="EUR">2550.00</Amt>', "Stmt[1]/Ntry[2]: the TxDtls amounts add up to 7250.00 but the entry amount is 7250.50"),
    ('<AmtDtls><TxAmt><Amt Ccy="EUR">3500.00</Amt></TxAmt></AmtDtls>', "",
     "Stmt[1]/Ntry[2]/NtryDtls/TxDtls[3]: a batch entry's transaction has no amount"),
    ("<Ccy>USD</Ccy>", "<Ccy>usd</Ccy>", "Stmt[2]/Acct/Ccy: currency 'usd' is not an ISO 4217 code"),
    ("</BkToCstmrStmt>", "</BkToCstmrStm>", "Line 210, column 4: the XML is not well-formed"),
    ("<BkToCstmrStmt>", "<BkToCstmrStatement>", "Document: BkToCstmrStmt is missing"),
]


@pytest.mark.parametrize(("old", "new", "message"), CAMT_CORRUPTIONS, ids=[m[:40] for _, _, m in CAMT_CORRUPTIONS])
def test_camt_malformed_refused(old, new, message):
    data = _corrupt("camt053_v02.xml", old, new)
    if new == "<BkToCstmrStatement>":
        data = data.replace(b"</BkToCstmrStmt>", b"</BkToCstmrStatement>")
    with pytest.raises(StatementParseError) as caught:
        parse_statement(data, format="camt053")
    assert message in caught.value.message


def test_camt_entity_expansion_is_refused():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>&b;</BkToCstmrStmt></Document>')
    with pytest.raises(StatementParseError, match="forbidden construct"):
        parse_statement(bomb, format="camt053")


CSV_CORRUPTIONS = [
    ("statement_signed.csv", "2026-03-03,2026-03-03,-25.00", "2026-03-33,2026-03-03,-25.00",
     "Line 5: date '2026-03-33' is not a date in the format yyyy-mm-dd"),
    ("statement_signed.csv", "2450.75", '"2.450,75"', "Line 3: amount '2.450,75' is not a number"),
    ("statement_signed.csv", "2450.75", "2450.755", "Line 3: amount '2450.755' has more decimals than USD allows (2)"),
    ("statement_signed.csv", "-1250.00,USD", "-1250.00,US", "Line 4: currency 'US' is not an ISO 4217 code"),
    # only the date and amount columns are required (issue 13: a payer-account column is optional)
    ("statement_signed.csv", "Value Date,Amount", "Value Date,Betrag", "Line 1: column 'Amount' is missing"),
    ("statement_signed.csv", ",Monthly account fee,TXN-0004", ",Monthly account fee", "Line 5: 8 columns where the header has 9"),
    ("statement_signed.csv", "2026-03-04,2026-03-04,980.10", "2026-03-04,2026-03-04,", "Line 7: the amount (Amount) is empty"),
    ("statement_de.csv", "980,00;;EUR", "980,00;5,00;EUR", "Line 4: both 'Haben' and 'Soll' hold an amount"),
    ("statement_de.csv", ";12,50;;EUR", ";;;EUR", "Line 5: neither 'Haben' nor 'Soll' holds an amount"),
    ("statement_de.csv", "04.03.2026;05.03.2026", "04.03.2026;2026-03-05", "Line 6: value date '2026-03-05' is not a date in the format dd.mm.yyyy"),
    ("statement_de.csv", "15.000,00", "15.00,00", "Line 2: amount '15.00,00' is not a number"),
]


@pytest.mark.parametrize(("name", "old", "new", "message"), CSV_CORRUPTIONS, ids=[m[:40] for *_, m in CSV_CORRUPTIONS])
def test_csv_malformed_refused(name, old, new, message):
    mapping = GERMAN_MAPPING if name == "statement_de.csv" else SIGNED_MAPPING
    with pytest.raises(StatementParseError) as caught:
        parse_statement(_corrupt(name, old, new), format="csv", csv_mapping=mapping)
    assert message in caught.value.message


def test_csv_wrong_encoding_and_unclosed_quote_are_refused():
    with pytest.raises(StatementParseError, match="Line 3: the file is not utf-8 text"):
        parse_statement(b"d,a\n2026-03-02,1.00\n2026-03-02,\xff\n", format="csv",
                        csv_mapping=CsvMapping(date="d", amount="a", default_currency="EUR", encoding="utf-8"))
    with pytest.raises(StatementParseError, match="Line 2: the row cannot be read"):
        parse_statement(b'd,a,r\n2026-03-02,1.00,"open\n', format="csv",
                        csv_mapping=CsvMapping(date="d", amount="a", remittance="r", default_currency="EUR"))


# --- structured payer and reference fields, as banks write them (issue 13) --------------------------

def _lines(name: str) -> list[tuple[str, str, str, str]]:
    return [(tx.payer_name, tx.payer_account, tx.remittance, tx.end_to_end_id)
            for statement in parse_statement(sample(name)) for tx in statement.transactions]


def test_mt940_swift_subfield_style_gives_payer_account_reference_and_end_to_end():
    """``/NAME/`` (the counterparty), ``/ORDP//NAME/`` and ``/ORDP/`` (the ordering party), ``/REMI/USTD//``,
    ``/EREF/`` (NOTPROVIDED is none), ``/BENM/`` (us: ignored), ``/ULTD/``; lines cut mid-word at 65."""
    assert _lines("mt940_swift_subfields.mt940") == [
        ("ACME HOLDINGS LTD AP DEPT", "NL20INGB0001234567", "INV US-INV-2026-019375", "E2E-ACME-7781"),
        ("GLOBEX CORPORATION ACCOUNTS PAYABLE DE", "GB33BUKB20201555555555", "REF:US-INV-2026-000124", ""),
        ("INITECH LLC", "", "INV#US-INV-2026-000130 AND 000131", ""),
        ("", "", "SERVICE CHARGES MARCH", ""),
    ]


def test_mt940_german_subfields_wrapped_across_lines():
    assert _lines("mt940_german_subfields.mt940") == [
        ("SCHAEFER MASCHINENBAU GMBH UND CO KG", "DE44500105175407324931",
         "DE-RE-2026-000412 DE-RE-2026-000413 KD 10044", "RE-2026-4471"),
        ("KOEHLER LOGISTIK G.M.B.H.", "DE89370400440532013000", "Rechnung 2026/000418 abzgl. Gebuehren", ""),
    ]


def test_bai2_wire_and_ach_text_with_unlabelled_originator_and_us_tags():
    """An originator name on its own 88 (its address line dropped), ``ORG=``/``OBI=``/``RFB=``/``REF=``
    (tags stripped, ``BNF=`` dropped), a record filled to 80 characters continued mid-word, ACH
    ``ORIG CO NAME:`` with ``RMR*IV*``, and the structured Fedwire ``B/O: 1/NAME/2/ADDRESS``."""
    assert _lines("bai2_wires_ach.bai2") == [
        ("WAYNE ENTERPRISES INC", "", "US-INV-2026-000140 PO 5531", ""),
        ("STARK INDUSTRIES LLC", "", "20260302B6B7HU2R INVOICES US-INV-2026-000141/000142 PYMT 2026-03", ""),
        ("PAYMENT FROM UMBRELLA CORP", "", "US-INV-2026-000143", ""),
        ("HOOLI INCORPORATED", "", "US-INV-2026-000144 REMIT AP@HOOLI.EXAMPLE", ""),
        ("", "", "INCOMING WIRE FEE", ""),
    ]


def test_camt_related_parties_structured_and_unstructured_remittance_and_end_to_end():
    assert _lines("camt053_related_parties.xml") == [
        ("BECKER ENERGIE GMBH KREDITORENBUCHHALTUNG", "DE02120300000000202051", "Sammelzahlung siehe Avis",
         "DE-RE-2026-000412"),
        ("HOFFMANN MEDIA GMBH", "", "DE-RE-2026-000415 DE-RE-2026-000416 kreditoren@hoffmann-media.example", ""),
        ("ROSSI TEXTILES S.P.A.", "", "RF18DERE2026000417", "E2E-77120"),  # the ultimate debtor when no debtor
    ]


def test_csv_optional_columns_the_file_lacks_are_left_out_and_named():
    data = sample("statement_signed.csv").replace(b"Payer Account", b"Account")
    [statement] = parse_statement(data, format="csv", csv_mapping=SIGNED_MAPPING)
    assert statement.missing_columns == ("Payer Account",)
    assert all(tx.payer_account == "" for tx in statement.transactions)
    assert statement.transactions[0].payer_name  # the other columns are still read


def test_bai2_record_filled_to_80_at_a_space_keeps_the_space_and_unlabelled_payment_from_name():
    """A 16 record filled to 80 characters whose last one is the space between the payer's name and
    ``OBI=``: the 88 continues after that space, so the tag stays a tag (not "LTOBI="). A name on a
    line of its own that begins with the bank's "PAYMENT FROM" is still the originator."""
    head = "16,195,1994765,V,261120,0000,BNK000001,,ORG=PAYMENT FROM KNAPP MANUFACTURING LT "
    assert len(head) == 80
    data = "\n".join([
        "01,OTCBANK,OTC,261120,0600,B1,80,,2/", "02,OTC,OTCBANK,1,261120,0600,EUR,2/",
        "03,DE12500105170648489890,EUR,010,0,,,015,3989530,,/",
        head, "88,OBI=DE-RE-2026-049191",
        "16,195,1994765,V,261120,0000,BNK0000002,,/", "88,PAYMENT FROM WADE-PHELPS MOBILITY INCORPORATED",
        "88,100 MAIN STREET SUITE 4 SPRINGFIELD IL 62701", "88,OBI=DE-RE-2026-016783",
        "49,7979060,8/", "98,7979060,1,10/", "99,7979060,1,12/", ""]).encode()
    lines = parse_statement(data, format="bai2")[0].transactions
    assert [(t.payer_name, t.remittance) for t in lines] == [
        ("PAYMENT FROM KNAPP MANUFACTURING LT", "DE-RE-2026-049191"),
        ("PAYMENT FROM WADE-PHELPS MOBILITY INCORPORATED", "DE-RE-2026-016783"),
    ]
