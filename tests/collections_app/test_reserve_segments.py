"""Loss rates derived per segment (customer risk rating here; country and customer type use the
same path) with the pooled fallback for a segment with too little history."""

import datetime as dt
from decimal import Decimal

import pytest

from collections_app.selectors.reserve import reserve_compute
from collections_app.services.reserve import provision_policy_create
from otc.roles import CONTROLLER
from tests.factories.collections_reserve import item_in_bucket, reserve_entity, snapshot, write_off
from tests.factories.customers import CustomerFactory
from tests.factories.ledger import post_receipt
from tests.factories.otc import user_with_role

D = Decimal
MAR, APR, MAY = dt.date(2026, 3, 31), dt.date(2026, 4, 30), dt.date(2026, 5, 31)


@pytest.fixture
def controller(db):
    return user_with_role(CONTROLLER)


def test_roll_rates_per_segment_with_pooled_fallback(controller):
    """Over 90 days: high-risk 1,500.00 on 03-31 (400.00 written off, 600.00 paid in April) and
    500.00 on 04-30: its last roll is 400 / 2,000 = 20 %. Medium-risk 1,000.00 on both dates,
    nothing written off: 0 %. Pooled: 400 / 4,000 = 10 %. The low-risk customer appears only in
    May (one month-end of history, the policy asks for 2): it takes the pooled 10 %."""
    entity = reserve_entity("SGD")
    high, medium, low = (CustomerFactory(risk_rating=r) for r in ("high", "medium", "low"))
    lost = item_in_bucket(entity, high, "1000.00", as_of=MAR, days_past_due=100)
    item_in_bucket(entity, high, "500.00", as_of=MAR, days_past_due=100)
    item_in_bucket(entity, medium, "1000.00", as_of=MAR, days_past_due=100)
    snapshot(entity, MAR)
    write_off(lost, "400.00", date=dt.date(2026, 4, 15))
    post_receipt(lost, "600.00", date=dt.date(2026, 4, 16))
    snapshot(entity, APR)
    item_in_bucket(entity, low, "300.00", as_of=MAY, days_past_due=100)
    snapshot(entity, MAY)
    provision_policy_create(legal_entity_id=entity.id, effective_date=dt.date(2026, 1, 1), method="roll_rate",
                            segment_by="risk_rating", lookback_months=2, min_segment_months=2, by=controller,
                            rates=[])

    calc = reserve_compute(legal_entity_id=entity.id, as_of=MAY)

    segments = calc.derivation["segments"]
    assert calc.derivation["roll_rates"][4] == "0.10000000"  # pooled
    assert (segments["high"]["fallback"], segments["high"]["months_with_balance"]) == (False, 3)
    assert segments["high"]["numerators"][4] == "400.0000" and segments["high"]["denominators"][4] == "2000.0000"
    assert segments["high"]["loss_rates"][4] == "0.20000000"
    assert (segments["medium"]["fallback"], segments["medium"]["loss_rates"][4]) == (False, "0.00000000")
    assert (segments["low"]["fallback"], segments["low"]["months_with_balance"]) == (True, 1)
    assert segments["low"]["loss_rates"][4] == "0.10000000"
    assert [(line.segment, line.balance, line.rate, line.allowance) for line in calc.lines] == [
        ("high", D("500.0000"), D("0.20000000"), D("100.00")),
        ("low", D("300.0000"), D("0.10000000"), D("30.00")),
        ("medium", D("1000.0000"), D("0.00000000"), D("0.00")),
    ]
    assert calc.total == D("130.00")


def test_segment_history_threshold_is_validated(controller):
    entity = reserve_entity("SGV")
    from otc.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="1 to 60 month-ends"):
        provision_policy_create(legal_entity_id=entity.id, effective_date=dt.date(2026, 1, 1), method="roll_rate",
                                segment_by="country", min_segment_months=0, by=controller, rates=[])
    assert not entity.provision_policies.exists()


def test_segment_derivation_in_the_excel_export(controller):
    import io

    from openpyxl import load_workbook

    from collections_app.exports_reserve import derivation_xlsx

    derivation = {"method": "loss_rate", "as_of": "2026-05-31", "lookback_months": 2, "buckets": ["Current", "Over"],
                  "rows": [], "numerators": ["0", "0"], "denominators": ["0", "0"], "loss_rates": ["0.1", "0.2"],
                  "cohorts": [], "segment_by": "country", "min_segment_months": 6,
                  "segments": {"DE": {"months_with_balance": 8, "fallback": False, "numerators": ["1", "2"],
                                      "denominators": ["10", "10"], "loss_rates": ["0.1", "0.2"]},
                               "FR": {"months_with_balance": 2, "fallback": True, "loss_rates": ["0.1", "0.2"]}}}
    sheet = load_workbook(io.BytesIO(derivation_xlsx(derivation, "EUR"))).active
    rows = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    assert ["DE", 8, "own", 1, 2, 10, 10, 0.1, 0.2] in rows
    assert ["FR", 2, "pooled (fallback)", "", "", "", "", 0.1, 0.2] in rows or [
        "FR", 2, "pooled (fallback)", 0.1, 0.2] in rows
