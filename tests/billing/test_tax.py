"""Tax determination: domestic, EU reverse charge, export, exempt, effective dates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import TaxCode
from billing.tax import (
    REVERSE_CHARGE_NOTE,
    US_NOTE,
    TaxCodeMissing,
    invoice_legal_notes,
    seed_tax_codes,
    tax_code_for,
)
from tests.factories.customers import CustomerFactory

pytestmark = pytest.mark.django_db
ON = dt.date(2026, 3, 31)


@pytest.fixture(autouse=True)
def codes():
    seed_tax_codes()


def test_seed_is_idempotent():
    before = TaxCode.objects.count()
    assert seed_tax_codes() == 0
    assert TaxCode.objects.count() == before


def test_domestic_standard_and_reduced():
    customer = CustomerFactory(country="DE", tax_id="DE136695976")
    code = tax_code_for(seller_country="DE", customer=customer, category="digital", on=ON)
    assert (code.code, code.rate, code.ubl_category) == ("DE-VAT-DIG", Decimal("19.0000"), "S")
    reduced = tax_code_for(seller_country="DE", customer=customer, category="reduced", on=ON)
    assert (reduced.code, reduced.rate) == ("DE-VAT-RED", Decimal("7.0000"))
    assert tax_code_for(seller_country="IE", customer=CustomerFactory(country="IE"), category="services",
                        on=ON).rate == Decimal("23.0000")


def test_eu_cross_border_b2b_with_vat_id_is_reverse_charge():
    customer = CustomerFactory(country="FR", tax_id="FR40303265045")
    code = tax_code_for(seller_country="DE", customer=customer, category="digital", on=ON)
    assert (code.kind, code.rate, code.ubl_category, code.legal_note) == (
        "reverse_charge", Decimal("0.0000"), "AE", REVERSE_CHARGE_NOTE)


def test_eu_cross_border_without_or_with_invalid_vat_id_pays_seller_vat():
    no_id = CustomerFactory(country="FR", tax_id="")
    assert tax_code_for(seller_country="DE", customer=no_id, category="digital", on=ON).rate == Decimal("19.0000")
    bad_id = CustomerFactory(country="FR", tax_id="FR00000000001")
    assert tax_code_for(seller_country="DE", customer=bad_id, category="digital", on=ON).code == "DE-VAT-DIG"


def test_export_outside_tax_area_is_out_of_scope():
    code = tax_code_for(seller_country="DE", customer=CustomerFactory(country="US"), category="digital", on=ON)
    assert (code.code, code.kind, code.rate, code.ubl_category) == ("EXPORT-OOS", "out_of_scope", Decimal("0.0000"), "O")
    # an exempt product exported is out of scope too: one invoice never mixes O with E (BR-O-11)
    assert tax_code_for(seller_country="DE", customer=CustomerFactory(country="US"), category="exempt",
                        on=ON).code == "EXPORT-OOS"
    # GB is outside the EU: a German seller's supply to a British business is an export
    assert tax_code_for(seller_country="DE", customer=CustomerFactory(country="GB"), category="services",
                        on=ON).code == "EXPORT-OOS"


def test_us_seller_domestic_saas_is_zero_placeholder():
    code = tax_code_for(seller_country="US", customer=CustomerFactory(country="US"), category="digital", on=ON)
    assert (code.code, code.rate, code.ubl_category) == ("US-NOTAX-DIG", Decimal("0.0000"), "O")


def test_exempt_customer_and_exempt_category():
    customer = CustomerFactory(country="DE", tax_exempt=True, tax_exemption_reference="KSt-Befreiung 27/123")
    code = tax_code_for(seller_country="DE", customer=customer, category="digital", on=ON)
    assert (code.code, code.rate, code.ubl_category) == ("EXEMPT", Decimal("0.0000"), "E")
    assert invoice_legal_notes(tax_codes=[code], customer_exempt=True, exemption_reference="KSt-Befreiung 27/123") == [
        code.legal_note, "Tax exemption reference: KSt-Befreiung 27/123"]
    assert tax_code_for(seller_country="DE", customer=CustomerFactory(country="DE"), category="exempt",
                        on=ON).code == "EXEMPT"


@pytest.mark.parametrize(("on", "rate"), [
    (dt.date(2020, 6, 30), "19.0000"), (dt.date(2020, 7, 1), "16.0000"), (dt.date(2020, 12, 31), "16.0000"),
    (dt.date(2021, 1, 1), "19.0000"),
])
def test_effective_dates_pick_the_rate_valid_on_the_date(on, rate):
    code = tax_code_for(seller_country="DE", customer=CustomerFactory(country="DE"), category="standard", on=on)
    assert code.rate == Decimal(rate)


def test_missing_code_names_country_category_and_date():
    with pytest.raises(TaxCodeMissing) as exc:
        tax_code_for(seller_country="PL", customer=CustomerFactory(country="PL"), category="digital",
                     on=dt.date(2026, 2, 1))
    assert "country PL, category 'digital' valid on 2026-02-01" in exc.value.message


def test_export_codes_speak_the_sellers_law_and_no_note_is_a_placeholder():
    # a US or UK seller's export never cites the EU VAT Directive; the US domestic note claims no nexus
    us_export = tax_code_for(seller_country="US", customer=CustomerFactory(country="JP"), category="digital", on=ON)
    assert (us_export.code, us_export.ubl_category) == ("US-EXPORT-OOS", "O")
    assert "Directive" not in us_export.legal_note and "United States" in us_export.legal_note
    gb_export = tax_code_for(seller_country="GB", customer=CustomerFactory(country="DE"), category="digital", on=ON)
    assert (gb_export.code, gb_export.ubl_category) == ("GB-EXPORT-OOS", "O")
    assert "Directive" not in gb_export.legal_note and "UK VAT" in gb_export.legal_note
    us = tax_code_for(seller_country="US", customer=CustomerFactory(country="US"), category="digital", on=ON)
    assert us.legal_note == US_NOTE and "nexus" not in us.legal_note
    assert not TaxCode.objects.filter(legal_note__icontains="placeholder").exists()


def test_a_tax_table_answers_each_question_as_scanning_every_code_and_keeps_its_answers():
    """TaxTable.valid keeps its answer per (date, match): the same codes as scanning every code,
    asked once or again, by keyword in any order; a caller changing its list changes nothing kept;
    the lookups of a chunk give the codes the database lookups give."""
    from billing.tax import TaxTable

    table = TaxTable()
    dates = [dt.date(2019, 1, 1), dt.date(2026, 1, 1), dt.date(2026, 11, 30), dt.date(2031, 6, 1)]
    questions = [{"country": "DE", "region": "", "category": "standard"}, {"kind": "reverse_charge", "category": "*"},
                 {"country": "GB", "region": "", "category": "digital"}, {"country": "XX", "region": ""}]

    def scanned(on, match):
        return [code for code in TaxCode.objects.all()
                if code.valid_from <= on and (code.valid_to is None or code.valid_to >= on)
                and all(getattr(code, name) == value for name, value in match.items())]

    for _ in range(2):
        for on in dates:
            for match in questions:
                answer = table.valid(on, **match)
                assert [c.pk for c in answer] == [c.pk for c in scanned(on, match)]
                assert [c.pk for c in table.valid(on, **dict(reversed(list(match.items()))))] == [c.pk for c in answer]
                answer.clear()  # the caller's own list
    assert table.valid(dt.date(2026, 11, 30), country="DE", region="", category="standard")
    customer = CustomerFactory(country="FR", tax_id="FR40303265045")
    for category in ("standard", "digital"):
        assert tax_code_for(seller_country="DE", customer=customer, category=category, on=dt.date(2026, 11, 30),
                            table=table) == tax_code_for(seller_country="DE", customer=customer, category=category,
                                                         on=dt.date(2026, 11, 30))
