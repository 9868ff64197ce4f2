"""Billing test fixtures: the e-invoice validator (XSD, EN 16931 and Peppol BIS 3 rules vendored
in tests/standards/), compiled once per test process."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def einvoice_validator():
    from tests.standards.validate_einvoice import Validator

    with Validator() as validator:
        yield validator
