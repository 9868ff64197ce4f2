"""Tax ids checked per country (customers/taxids.py): the same answers whether or not the
country's stdnum module was looked up before (it is looked up once per country and kept)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from customers import taxids
from customers.taxids import has_validator, validate_tax_id


@pytest.mark.parametrize("first_call", [True, False])
def test_tax_ids_compact_with_the_prefix_refuse_bad_checksums_and_pass_unknown_countries(first_call):
    if first_call:
        taxids._validator.cache_clear()
    assert validate_tax_id("DE 136 695 976", "DE") == "DE136695976"
    assert validate_tax_id("136695976", "DE") == "DE136695976"
    assert validate_tax_id("GB980780684", "GB") == "GB980780684"
    assert validate_tax_id("094259216", "GR") == "EL094259216"
    with pytest.raises(ValidationError, match="DE136695977 is not a valid DE tax id"):
        validate_tax_id("DE136695977", "DE")
    assert validate_tax_id("  anything  ", "AQ") == "anything"
    assert (has_validator("DE"), has_validator("AQ")) == (True, False)


def test_the_module_of_a_country_is_looked_up_once():
    taxids._validator.cache_clear()
    with mock.patch.object(taxids, "get_cc_module", wraps=taxids.get_cc_module) as lookup:
        validate_tax_id("DE136695976", "DE")
        looked_up = lookup.call_count
        validate_tax_id("DE136695976", "DE")
        assert validate_tax_id("FR40303265045", "FR") == "FR40303265045"
    assert looked_up >= 1
    assert lookup.call_count == looked_up + 1  # FR once; DE not again


def test_a_customers_vat_id_is_checked_once_per_id_and_country_with_the_same_answers():
    """billing.tax.has_valid_vat_id keeps each (id, country) answer: the same answers as checking
    every time (valid, bad checksum, another country's rules, no id, a country without a
    validator), the checksum computed once per id and country."""
    from billing import tax
    from customers.models import Customer

    tax._tax_id_valid.cache_clear()
    cases = [("DE136695976", "DE", True), ("DE136695977", "DE", False), ("136695976", "FR", False),
             ("FR40303265045", "FR", True), ("", "DE", False), ("anything", "AQ", True)]
    with mock.patch.object(tax, "validate_tax_id", wraps=tax.validate_tax_id) as check:
        for _ in range(3):
            assert [tax.has_valid_vat_id(Customer(tax_id=tax_id, country=country)) for tax_id, country, _ in cases] \
                == [valid for _, _, valid in cases]
    assert check.call_count == len(cases) - 1  # once each, the empty id never
