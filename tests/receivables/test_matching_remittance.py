"""Issue 13, the remittance the bank or payer left incomplete: a list naming some of the invoices
paid (completed from the payer's other open items, a round rest left to a person), a reference cut
at the EndToEndId's 35 characters (its tail matched only within the identified payer), an ACH name
cut at 16 that fits several customers (narrowed by the amount to a suggestion, never applied), and
the invoices the payer named ranked above a guess by amount alone."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from receivables.matching import match
from receivables.matching.engine import identify_payer
from receivables.services.matching import split_cut_tail
from tests.factories.matching import ACME, AUTO, GLOBEX, best, inv, namesakes_book, receipt
from tests.receivables.fake_book import FakeBook

ACCOUNT = "US11 2233 4455"


def acme_book(*extra):
    return FakeBook(
        [inv(1, 123, ACME, "1000.00", due=(2026, 2, 1)), inv(2, 124, ACME, "400.00", due=(2026, 2, 15)),
         inv(3, 125, ACME, "250.37", due=(2026, 1, 10)), inv(4, 300, ACME, "1234.56", due=(2026, 3, 1)),
         inv(5, 126, GLOBEX, "400.00"), *extra],
        names={ACME: "Acme, Inc", GLOBEX: "Globex Corporation"},
        accounts={ACCOUNT: [ACME]},
    ).finish()


def allocated(suggestion):
    return sorted((a.invoice_id, a.amount) for a in suggestion.allocations)


# --- a list naming some of the invoices --------------------------------------------------------------


def test_a_list_naming_some_invoices_is_completed_from_the_payers_other_open_items():
    """US01-INV-2026-000123 (1,000.00) named, 2,484.93 paid: the rest is exactly 1,234.56 + 250.37,
    the only way the payer's other open items add up to it."""
    s = best(match(receipt("INV US01-INV-2026-000123", "2484.93", account=ACCOUNT), acme_book()))
    assert s.customer_id == ACME and s.auto and s.score >= AUTO
    assert allocated(s) == [(1, Decimal("1000.00")), (3, Decimal("250.37")), (4, Decimal("1234.56"))]
    assert s.on_account == 0 and s.unapplied == 0
    assert "remittance_completed" in s.rules


def test_a_completion_with_two_answers_is_left_to_a_person():
    book = acme_book(inv(6, 127, ACME, "1234.56", due=(2026, 3, 2)))  # two invoices of the rest
    suggestions = match(receipt("US01-INV-2026-000123", "2234.56", account=ACCOUNT), book)
    assert not any(s.score >= AUTO and s.auto for s in suggestions)


def test_a_round_rest_is_not_guessed_even_when_an_invoice_has_that_amount():
    """1,234.56 named and 400.00 more: the payer's 400.00 invoice fits, but a round rest is as often
    money paid on account; nothing is applied automatically, and nobody's money is put on account
    by a guess either."""
    suggestions = match(receipt("US01-INV-2026-000300", "1634.56", account=ACCOUNT), acme_book())
    assert suggestions and not any(s.score >= AUTO and s.auto for s in suggestions)
    completed = next(s for s in suggestions if "remittance_completed" in s.rules)
    assert allocated(completed) == [(2, Decimal("400.00")), (4, Decimal("1234.56"))]
    assert any("round rest" in reason for reason in completed.reasons)


def test_the_list_is_not_completed_from_another_customers_invoices():
    """The payer's account says Acme; Globex's 400.00 is never part of a completion."""
    suggestions = match(receipt("US01-INV-2026-000124", "800.00", account=ACCOUNT),
                        acme_book())
    for s in suggestions:
        assert 5 not in {a.invoice_id for a in s.allocations} or not s.auto
    assert not any(s.score >= AUTO and s.auto and 5 in {a.invoice_id for a in s.allocations} for s in suggestions)


# --- a reference cut at 35 characters ----------------------------------------------------------------


@pytest.mark.parametrize(("end_to_end", "head", "tail"), [
    ("INV US01-INV-2026-000123 US01-INV-2", "INV US01-INV-2026-000123", "US01-INV-2"),
    ("US01-INV-2026-000123 US01-INV-2026-0", "US01-INV-2026-000123", "US01-INV-2026-0"),
    ("US01-INV-2026-000123", "US01-INV-2026-000123", ""),  # shorter than the width: whole
    ("RE US01-INV-2026-000123 US01-INV-2026-000124"[:35], "RE US01-INV-2026-000123", "US01-INV-20"),
    ("INVOICES 2026-000123 AND 2026-000124", "INVOICES 2026-000123 AND 2026-000124", ""),  # ends whole
])
def test_an_end_to_end_id_at_its_width_loses_its_last_word_to_the_cut(end_to_end, head, tail):
    assert split_cut_tail(end_to_end) == (head, tail)


def test_a_cut_reference_completes_the_list_within_the_identified_payer():
    """"US01-INV-2026-000123 US01-INV-2026-0001" cut: 1,400.00 paid; 000124 is the payer's invoice that
    begins so and makes the amount."""
    r = dataclasses.replace(receipt("US01-INV-2026-000123", "1400.00", account=ACCOUNT), cut_tail="US01-INV-2026-0001")
    s = best(match(r, acme_book()))
    assert s.customer_id == ACME and s.auto and s.score >= AUTO
    assert allocated(s) == [(1, Decimal("1000.00")), (2, Decimal("400.00"))]
    assert any("cut by the bank" in reason for reason in s.reasons)


def test_a_cut_reference_never_points_at_another_customer():
    """Without the payer identified the tail proves nothing: Globex's 000126 of 400.00 begins like it,
    but only the named invoice is suggested and nothing is applied."""
    r = dataclasses.replace(receipt("US01-INV-2026-000123", "1400.00", payer="Someone Else"),
                            cut_tail="US01-INV-2026-0001")
    suggestions = match(r, acme_book())
    assert not any(s.customer_id == GLOBEX for s in suggestions)
    assert not any(s.score >= AUTO and s.auto for s in suggestions)


# --- an ACH name cut at 16 that fits several customers -------------------------------------------------


def test_a_cut_name_fitting_several_customers_is_narrowed_by_the_amount_to_a_suggestion():
    """"SCOTT MOBILITY R" may be Scott Mobility LLP (50) or Scott Mobility Retail Corp. (60); only 60
    has an open invoice of 1.00: it is the top suggestion, not identified, not applied."""
    book = namesakes_book()
    r = receipt("", "1.00", payer="SCOTT MOBILITY R")
    assert identify_payer(r, book).strong is None
    top = best(match(r, book))
    assert top.customer_id == 60 and allocated(top) == [(6, Decimal("1.00"))]
    assert top.score < AUTO
    assert "payer_name_cut_amount" in top.rules


def test_a_cut_name_whose_customers_both_have_the_amount_names_neither():
    book = FakeBook([inv(1, 1, 50, "9.00"), inv(2, 2, 60, "9.00")],
                    names={50: "Scott Mobility LLP", 60: "Scott Mobility Retail Corp."}).finish()
    suggestions = match(receipt("", "9.00", payer="SCOTT MOBILITY R"), book)
    assert not any(s.score >= AUTO for s in suggestions)
    assert not any("payer_name_cut_amount" in s.rules for s in suggestions)


def stem_book(*extra):
    """Three customers whose names begin "GRE", one "GRO"; a few open invoices each."""
    return FakeBook(
        [inv(1, 1, 61, "11250.01", due=(2026, 2, 1)), inv(2, 2, 61, "16406.82", due=(2026, 3, 1)),
         inv(3, 3, 61, "980.00"), inv(4, 4, 62, "27000.00"), inv(5, 5, 62, "656.84"), inv(6, 6, 63, "4100.00"),
         inv(7, 7, 64, "27656.83"), *extra],
        names={61: "Green Logistics Inc.", 62: "Gregor Foods GmbH", 63: "Grey Textiles Ltd", 64: "Grohe Metals AG"},
    ).finish()


def test_an_ach_name_left_with_three_letters_is_narrowed_by_a_combination_to_a_suggestion():
    """ACH prints 16 characters and the originator's "PAYMENT FROM " takes 13 of them: "GRE" is left.
    Of the three customers whose names begin so, only Green Logistics has open invoices adding up
    to 27,656.83 (11,250.01 + 16,406.82): the top suggestion, left to a person (Grohe Metals' invoice
    of exactly the amount is not a "GRE" name)."""
    r = receipt("", "27656.83", payer="PAYMENT FROM GRE")
    assert identify_payer(r, stem_book()).strong is None
    suggestions = match(r, stem_book())
    top = best(suggestions)
    assert top.customer_id == 61 and allocated(top) == [(1, Decimal("11250.01")), (2, Decimal("16406.82"))]
    assert top.score < AUTO and "payer_name_cut_amount" in top.rules
    assert not any(s.score >= AUTO and s.auto for s in suggestions)


def test_an_invoice_of_exactly_the_amount_outweighs_another_stem_customers_pair():
    """Grey Textiles has an open invoice of exactly 4,100.00, Gregor Foods two adding up to it: one
    invoice is the likelier payment (as for any lump, the fewest invoices decide)."""
    book = stem_book(inv(8, 8, 62, "3443.16"))  # Gregor: 3,443.16 + 656.84 = 4,100.00 as well
    top = best(match(receipt("", "4100.00", payer="PAYMENT FROM GRE"), book))
    assert top.customer_id == 63 and allocated(top) == [(6, Decimal("4100.00"))] and top.score < AUTO


def test_two_stem_customers_fitting_as_well_name_neither():
    book = stem_book(inv(8, 8, 63, "11250.01"), inv(9, 9, 63, "16406.82"))  # Grey Textiles fits with two as well
    suggestions = match(receipt("", "27656.83", payer="PAYMENT FROM GRE"), book)
    assert not any("payer_name_cut_amount" in s.rules for s in suggestions)
    assert not any(s.score >= AUTO for s in suggestions)


def test_a_short_name_not_at_a_cut_width_is_not_read_as_a_stem():
    """"PAYMENT FROM GREX" (17 characters) was not cut by the bank: "grex" is a name, nobody's."""
    suggestions = match(receipt("", "27656.83", payer="PAYMENT FROM GREX"), stem_book())
    assert not any("payer_name_cut_amount" in s.rules for s in suggestions)


# --- ranking -----------------------------------------------------------------------------------------


def test_the_invoice_the_payer_named_ranks_above_a_short_payment_of_another():
    """808.05 named and 250.00 more: another invoice of 1,070.77 is "short within tolerance" of the
    amount, but the top suggestion is the invoice the payer wrote (a person decides the rest)."""
    book = FakeBook([inv(1, 21665, ACME, "808.05"), inv(2, 12029, ACME, "1070.77")],
                    names={ACME: "Jean Pharma SA"}, accounts={ACCOUNT: [ACME]}).finish()
    suggestions = match(receipt("Invoice US01-INV-2026-021665", "1058.05", account=ACCOUNT), book)
    top = best(suggestions)
    assert [a.invoice_id for a in top.allocations] == [1]
    assert not any(s.score >= AUTO and s.auto for s in suggestions)


# --- legal forms spelled out, and cut inside ---------------------------------------------------------


@pytest.mark.parametrize(("payer", "customer"), [
    ("MUELLER MASCHINENBAU GESELLSCHAFT MIT BESCHRAENKTER HAFTUNG", 1),  # spelled out
    ("MUELLER MASCHINENBAU GESELLSCHAFT MIT BESCHR", 1),  # cut at 35 inside the form
    ("MUELLER MASCHINENBAU GESELLSCHAFT M", 1),
    ("PEINADO ENERGY SOCIEDAD ANONIMA", 2),
    ("WATSON HEALTH LIMITED LIABILITY COMPANY", 3),  # the spelled form tells namesakes apart
    ("WATSON HEALTH LIMITED LIABILITY COM", 3),  # also cut
])
def test_legal_forms_spelled_out_or_cut_inside_identify_the_customer(payer, customer):
    book = FakeBook([inv(c, c, c, "10.00") for c in (1, 2, 3, 4)], names={
        1: "Müller Maschinenbau GmbH", 2: "Peinado Energy S.A.", 3: "Watson Health LLC", 4: "Watson Health Corp."}).finish()
    found = identify_payer(receipt("", "10.00", payer=payer), book).strong
    assert found is not None and found.customer_id == customer


def test_a_whole_word_at_the_cut_is_not_taken_for_a_legal_form():
    """"ACME PUBLIC" may be the name's own word, not "PUBLIC LIMITED COMPANY" cut: not Acme Inc."""
    from receivables.matching.names import strip_cut_form

    assert strip_cut_form("ACME PUBLIC") == "ACME PUBLIC"
    assert strip_cut_form("ACME PUBLIC LIMI") == "acme"


def test_two_competing_answers_stay_above_a_weaker_third():
    """No payer on the line; "US01-INV-2026-017671" is Globex's 9,874.93 invoice as written (5,382.88
    would be a partial payment), Acme's 016771 (two digits swapped) of exactly 5,382.88, and Mueller's
    019671 (one digit differs), 15.85 short of it. The two credible answers doubt each other; the
    short near-match does not climb above them for that. Nothing is applied."""
    book = FakeBook([inv(1, 17671, GLOBEX, "9874.93"), inv(2, 16771, ACME, "5382.88"),
                     inv(3, 19671, 20, "5398.73")],
                    names={ACME: "Acme, Inc", GLOBEX: "Globex Corporation", 20: "Mueller GmbH"}).finish()
    suggestions = match(receipt("US01-INV-2026-017671", "5382.88"), book)
    assert [allocated(s) for s in suggestions[:2]] == [[(2, Decimal("5382.88"))], [(1, Decimal("5382.88"))]]
    assert not any(s.score >= AUTO and s.auto for s in suggestions)
    third = next(s for s in suggestions if allocated(s) == [(3, Decimal("5382.88"))])
    assert third.score < suggestions[1].score
