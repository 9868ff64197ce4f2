"""Worklist, portfolio, dispute and promise settings with their defaults (override any of them in
Django settings)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Customer size from the credit limit: below SMALL is small, below LARGE medium, else large.
    "COLLECTIONS_SIZE_SMALL_BELOW": Decimal("50000"),
    "COLLECTIONS_SIZE_LARGE_FROM": Decimal("250000"),
    # The worklist's amounts (score, totals) are converted to this currency at the latest FX rate.
    "COLLECTIONS_REPORTING_CURRENCY": "EUR",
    # Priority score: points per 1,000 of overdue (reporting currency), weighted by age bucket.
    "COLLECTIONS_AGE_WEIGHTS": {"1-30": Decimal("1"), "31-60": Decimal("1.5"), "61-90": Decimal("2"),
                                "over 90": Decimal("3")},
    "COLLECTIONS_RISK_FACTORS": {"low": Decimal("1"), "medium": Decimal("1.25"), "high": Decimal("1.5")},
    "COLLECTIONS_OVERDUE_POINTS_CAP": 50,
    "COLLECTIONS_PROMISE_DUE_POINTS": 10,      # each open promise due today or past (within grace)
    "COLLECTIONS_PROMISE_BROKEN_POINTS": 15,   # each promise broken in the last BROKEN_DAYS
    "COLLECTIONS_PROMISE_BROKEN_DAYS": 30,
    "COLLECTIONS_DISPUTE_POINTS": 5,           # each open dispute older than DISPUTE_AGE_DAYS or past its due date
    "COLLECTIONS_DISPUTE_AGE_DAYS": 14,
    "COLLECTIONS_CONTACT_POINTS_MAX": 10,      # days since last contact / 3, up to this (overdue customers)
    "COLLECTIONS_OVER_LIMIT_POINTS": 15,
    "COLLECTIONS_NEXT_ACTION_POINTS": 10,      # next action date reached
    # Promises: days after the promised date before an unpaid promise is broken.
    "COLLECTIONS_PROMISE_GRACE_DAYS": 3,
}


def get(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
