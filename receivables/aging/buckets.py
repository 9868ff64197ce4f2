"""Aging buckets: contiguous ranges of days past due (or past the document date).

Written as text, one range per comma: `..0, 1-30, 31-60, 61-90, 91-120, 121..` (the default).
`..0` is "Current" (not yet due, or due today); `121..` is "Over 120". The first range must be
open below, the last open above, and each range must start the day after the previous one
ends: ranges that overlap or leave a gap are refused with a message naming them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from otc.errors import ValidationFailed

DEFAULT_BUCKETS = "..0, 1-30, 31-60, 61-90, 91-120, 121.."
_RANGE = re.compile(r"^\s*(-?\d+)?\s*(\.\.|-)\s*(-?\d+)?\s*$")


@dataclass(frozen=True)
class Bucket:
    """Days past due from `low` to `high`, both inclusive; None is unbounded."""

    low: int | None
    high: int | None

    @property
    def label(self) -> str:
        if self.low is None:
            return "Current" if self.high == 0 else f"Up to {self.high}"
        if self.high is None:
            return f"Over {self.low - 1}"
        return f"{self.low}-{self.high}"

    @property
    def text(self) -> str:
        if self.low is None:
            return f"..{self.high}"
        if self.high is None:
            return f"{self.low}.."
        return f"{self.low}-{self.high}"

    def date_range(self, as_of: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """The (earliest, latest) reference date whose age on `as_of` falls in this bucket."""
        earliest = None if self.high is None else as_of - dt.timedelta(days=self.high)
        latest = None if self.low is None else as_of - dt.timedelta(days=self.low)
        return earliest, latest

    @property
    def is_overdue(self) -> bool:
        return self.low is not None and self.low > 0


def parse_buckets(text: str) -> tuple[Bucket, ...]:
    """Parse and check a bucket definition; raise ValidationFailed naming the problem."""
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    if len(parts) < 2:
        raise ValidationFailed("Give at least two aging buckets, e.g. '..0, 1-30, 31..'.", fields={"buckets": ["too few"]})
    buckets = []
    for part in parts:
        match = _RANGE.match(part)
        if not match:
            raise ValidationFailed(f"'{part}' is not a range of days (write '1-30', '..0' or '121..').",
                                   fields={"buckets": [part]})
        low, sep, high = match.groups()
        low_i, high_i = (int(low) if low else None), (int(high) if high else None)
        if sep == "-" and (low_i is None or high_i is None):
            raise ValidationFailed(f"'{part}': write an open range with '..', e.g. '121..'.", fields={"buckets": [part]})
        if low_i is not None and high_i is not None and low_i > high_i:
            raise ValidationFailed(f"'{part}' ends before it starts.", fields={"buckets": [part]})
        buckets.append(Bucket(low_i, high_i))
    if buckets[0].low is not None:
        raise ValidationFailed(f"The first bucket '{buckets[0].text}' must be open below (e.g. '..0'), or items not yet "
                               "due would be dropped.", fields={"buckets": ["gap below"]})
    if buckets[-1].high is not None:
        raise ValidationFailed(f"The last bucket '{buckets[-1].text}' must be open above (e.g. '121..'), or the oldest "
                               "items would be dropped.", fields={"buckets": ["gap above"]})
    for before, after in zip(buckets, buckets[1:], strict=False):
        if before.high is None or after.low is None:
            raise ValidationFailed(f"'{before.text}' and '{after.text}' overlap.", fields={"buckets": ["overlap"]})
        if after.low <= before.high:
            raise ValidationFailed(f"'{before.text}' and '{after.text}' overlap (day {after.low} is in both).",
                                   fields={"buckets": ["overlap"]})
        if after.low > before.high + 1:
            gap = f"day {before.high + 1}" if after.low == before.high + 2 else f"days {before.high + 1}-{after.low - 1}"
            raise ValidationFailed(f"'{before.text}' and '{after.text}' leave a gap ({gap} is in no bucket).",
                                   fields={"buckets": ["gap"]})
    return tuple(buckets)


def buckets_text(buckets: tuple[Bucket, ...]) -> str:
    return ", ".join(b.text for b in buckets)


def bucket_index(buckets: tuple[Bucket, ...], days: int) -> int:
    """Which bucket an age in days falls in (for tests and single items; reports age in SQL)."""
    for index, bucket in enumerate(buckets):
        if (bucket.low is None or days >= bucket.low) and (bucket.high is None or days <= bucket.high):
            return index
    raise AssertionError("buckets are contiguous")
