"""The one place "today" and "now" come from, so tests can pin them."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def now() -> dt.datetime:
    return timezone.now()


def today() -> dt.date:
    return timezone.localdate()


# Business dates (contract terms, value dates, filters) outside this range are typing errors, and
# near the ends of the calendar date arithmetic overflows (9999-12-31 + 1 day). Forms and the API
# refuse them with a clear message.
PLAUSIBLE_FIRST = dt.date(1900, 1, 1)
PLAUSIBLE_LAST = dt.date(2199, 12, 31)


def validate_business_date(value: dt.date | None) -> None:
    """Django/DRF validator: refuse dates outside PLAUSIBLE_FIRST..PLAUSIBLE_LAST."""
    from django.core.exceptions import ValidationError

    if value is None:
        return
    if isinstance(value, dt.datetime):
        value = value.date()
    if not PLAUSIBLE_FIRST <= value <= PLAUSIBLE_LAST:
        raise ValidationError(
            f"{value.isoformat()} is outside the dates this system accepts ({PLAUSIBLE_FIRST.isoformat()} to "
            f"{PLAUSIBLE_LAST.isoformat()}); for an open-ended term leave the end date empty.")
