"""The SLA clock, computed from a ticket's event log in business time (pure functions).

Rules (docs/helpdesk.md):
- Both clocks start when the ticket is filed.
- The first-response clock stops at the first reply by someone other than the requester
  (a public reply, not an internal note); the resolution clock stops when the ticket is
  resolved or closed and runs again when it is reopened (time already used is kept).
- Both clocks are paused while the ticket waits on the requester.
- Only working time counts: the entity's working days and hours, in its time zone, less its
  holidays. Clock (wall) time is reported beside it.
- Targets come from the policy of the ticket's *current* priority, and the whole history is
  measured with the *current* calendar: a priority or calendar change recomputes everything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

PAUSED_STATUSES = frozenset({"waiting_requester"})
STOPPED_STATUSES = frozenset({"resolved", "closed"})


@dataclass(frozen=True)
class Hours:
    """Working hours: weekdays (0 = Monday), daily start and end, holidays, time zone."""

    tz: str = "UTC"
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(17, 0)
    holidays: frozenset[dt.date] = frozenset()

    @classmethod
    def of(cls, calendar) -> Hours:
        if calendar is None:
            return cls()
        return cls(tz=calendar.timezone, workdays=frozenset(calendar.workday_numbers), start=calendar.day_start,
                   end=calendar.day_end, holidays=frozenset(h.date for h in calendar.holidays.all()))

    def _window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        if day.weekday() not in self.workdays or day in self.holidays:
            return None
        zone = ZoneInfo(self.tz)
        return (dt.datetime.combine(day, self.start, zone), dt.datetime.combine(day, self.end, zone))

    def seconds_between(self, a: dt.datetime, b: dt.datetime) -> int:
        """Working seconds in [a, b)."""
        if b <= a:
            return 0
        zone = ZoneInfo(self.tz)
        day, last = a.astimezone(zone).date(), b.astimezone(zone).date()
        total = 0.0
        while day <= last:
            window = self._window(day)
            if window:
                lo, hi = max(a, window[0]), min(b, window[1])
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += dt.timedelta(days=1)
        return int(total)

    def add(self, start: dt.datetime, seconds: int) -> dt.datetime:
        """The instant when `seconds` of working time have passed after `start`."""
        zone = ZoneInfo(self.tz)
        day = start.astimezone(zone).date()
        left = seconds
        for _ in range(3660):  # ten years of days: a calendar without working days never ends
            window = self._window(day)
            if window:
                lo = max(start, window[0])
                if lo < window[1]:
                    available = (window[1] - lo).total_seconds()
                    if left <= available:
                        return lo + dt.timedelta(seconds=left)
                    left -= int(available)
            day += dt.timedelta(days=1)
        raise ValueError("The calendar has no working time.")


@dataclass(frozen=True)
class Event:
    """What the clock reads of a TicketEvent: kind, time, new value, and whether it was the requester."""

    kind: str
    at: dt.datetime
    to_value: str = ""
    by_requester: bool = False


@dataclass
class Clock:
    target_minutes: int | None
    business_seconds: int = 0
    clock_seconds: int = 0
    stopped_at: dt.datetime | None = None
    running: bool = False
    due: dt.datetime | None = None
    breached_at: dt.datetime | None = None

    @property
    def business_minutes(self) -> int:
        return self.business_seconds // 60

    @property
    def met(self) -> bool | None:
        if self.target_minutes is None:
            return None
        if self.business_seconds > self.target_minutes * 60:
            return False
        return True if self.stopped_at is not None else None

    @property
    def breached(self) -> bool:
        return self.target_minutes is not None and self.business_seconds > self.target_minutes * 60

    def used(self) -> float:
        if not self.target_minutes:
            return 0.0
        return self.business_seconds / (self.target_minutes * 60)


@dataclass
class Result:
    first_response: Clock
    resolution: Clock
    paused: bool
    status: str
    priority: str


def compute(events: Iterable[Event], *, hours: Hours, targets: dict[str, tuple[int, int]], now: dt.datetime,
            priority: str | None = None) -> Result:
    """Replay the events (in order) up to `now`. `targets` maps priority -> (first response,
    resolution) in business minutes."""
    ordered = sorted(events, key=lambda e: e.at)
    if not ordered or ordered[0].kind != "created":
        raise ValueError("A ticket's log starts with its creation.")
    status, current_priority = "new", ordered[0].to_value or "normal"
    for event in ordered:
        if event.kind == "priority" and event.at <= now:
            current_priority = event.to_value
    current_priority = priority or current_priority
    fr_target, res_target = targets.get(current_priority, (None, None))
    first, resolution = Clock(fr_target), Clock(res_target)
    mark = ordered[0].at
    responded = False

    def advance(until: dt.datetime) -> None:
        if until <= mark:
            return
        if status in PAUSED_STATUSES or status in STOPPED_STATUSES:
            return
        business = hours.seconds_between(mark, until)
        wall = int((until - mark).total_seconds())
        for clock in ((first, resolution) if not responded else (resolution,)):
            target = clock.target_minutes * 60 if clock.target_minutes is not None else None
            if target is not None and clock.business_seconds < target < clock.business_seconds + business:
                clock.breached_at = hours.add(mark, target - clock.business_seconds)
            clock.business_seconds += business
            clock.clock_seconds += wall

    for event in ordered:
        if event.at > now:
            break
        advance(event.at)
        mark = max(mark, event.at)
        if event.kind == "status":
            status = event.to_value
            if status in STOPPED_STATUSES:
                resolution.stopped_at = event.at
                if not responded:  # resolving answers the ticket
                    responded, first.stopped_at = True, event.at
            elif resolution.stopped_at is not None:
                resolution.stopped_at = None  # reopened: the clock runs on from what it had used
        elif event.kind in ("reply", "action_reply") and not event.by_requester and not responded:
            responded, first.stopped_at = True, event.at
    advance(now)
    paused = status in PAUSED_STATUSES
    running = status not in PAUSED_STATUSES and status not in STOPPED_STATUSES
    for clock, stopped in ((first, responded), (resolution, status in STOPPED_STATUSES)):
        clock.running = running and not stopped
        if clock.target_minutes is not None and clock.running:
            left = clock.target_minutes * 60 - clock.business_seconds
            clock.due = hours.add(now, left) if left > 0 else clock.breached_at
    return Result(first_response=first, resolution=resolution, paused=paused, status=status, priority=current_priority)


def state_of(result: Result, *, warn_percent: int) -> str:
    """One word for the queue: breached, warning, paused, met, running or none."""
    clocks = [c for c in (result.first_response, result.resolution) if c.target_minutes is not None]
    if not clocks:
        return "none"
    if any(c.breached for c in clocks):
        return "breached"
    if result.status in STOPPED_STATUSES:
        return "met"
    if result.paused:
        return "paused"
    if any(c.running and c.used() * 100 >= warn_percent for c in clocks):
        return "warning"
    return "running"


def humanize(seconds: int) -> str:
    minutes = seconds // 60
    days, rest = divmod(minutes, 60 * 24)
    hours_, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours_}h {mins}m"
    return f"{hours_}h {mins:02d}m"


def humanize_business(seconds: int) -> str:
    hours_, mins = divmod(seconds // 60, 60)
    return f"{hours_}h {mins:02d}m"
