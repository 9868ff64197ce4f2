"""The SLA clock computed from the event log: one test per bug the help desks we learned from
(Zammad, django-helpdesk, Frappe Helpdesk) see reported most, and a property test that replays
random event sequences against a minute-by-minute oracle."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk import sla
from helpdesk.models import BusinessCalendar, Holiday, Ticket
from helpdesk.services import ticket_comment, ticket_file, ticket_set_priority, ticket_transition
from helpdesk.services.tickets import sla_result, tickets_sla_refresh_for_entity, tickets_sla_sweep
from tests.helpdesk.conftest import at

UTC = dt.UTC
HOURS = sla.Hours()  # Mon-Fri 09:00-17:00 UTC
TARGETS = {"low": (480, 2880), "normal": (240, 1920), "high": (120, 960), "urgent": (60, 480)}


def ev(kind, when, to="", requester=False):
    return sla.Event(kind=kind, at=when, to_value=to, by_requester=requester)


def run(events, now, **kw):
    return sla.compute(events, hours=kw.pop("hours", HOURS), targets=TARGETS, now=now, **kw)


# --- the anchors' bugs ---------------------------------------------------------------------------

def test_first_response_is_the_first_agent_reply_not_a_note_or_the_requesters_reply():
    created = at(2, 9)
    result = run([ev("created", created, "normal"), ev("note", at(2, 10)), ev("requester_reply", at(2, 11), requester=True),
                  ev("reply", at(2, 11, 30), requester=True), ev("reply", at(2, 12))], now=at(2, 15))
    first = result.first_response
    assert (first.stopped_at, first.business_minutes, first.met) == (at(2, 12), 180, True)
    assert result.resolution.business_minutes == 360  # still running


def test_business_hours_are_not_clock_hours():
    # Filed Friday 16:00, answered Monday 10:00: 2 business hours, 66 clock hours.
    result = run([ev("created", at(6, 16), "normal"), ev("reply", at(9, 10))], now=at(9, 10))
    first = result.first_response
    assert (first.business_seconds, first.clock_seconds) == (2 * 3600, 66 * 3600)
    assert first.met is True  # 2h of a 4h target, although 66 wall-clock hours passed
    assert sla.humanize(first.clock_seconds) == "2d 18h 0m" and sla.humanize_business(first.business_seconds) == "2h 00m"


def test_the_clock_pauses_while_waiting_on_the_requester_and_recomputes_the_due_date():
    events = [ev("created", at(2, 9), "high"), ev("reply", at(2, 10)), ev("status", at(2, 10), "waiting_requester")]
    paused = run(events, now=at(4, 12))
    assert paused.paused and paused.resolution.business_minutes == 60 and paused.resolution.due is None
    events.append(ev("status", at(4, 12), "open"))
    resumed = run(events, now=at(4, 12))
    # 60 of 960 minutes used before the pause: 900 left from Wednesday 12:00 = Thursday 12:00 + 7h = Friday 11:00
    assert resumed.resolution.business_minutes == 60
    assert resumed.resolution.due == at(6, 11)


def test_resolution_time_after_reopening_keeps_what_was_used_and_skips_the_resolved_interval():
    events = [ev("created", at(2, 9), "normal"), ev("reply", at(2, 10)), ev("status", at(2, 11), "resolved"),
              ev("status", at(5, 9), "open"), ev("status", at(5, 10), "resolved")]
    result = run(events, now=at(9, 9))
    assert result.resolution.business_minutes == 180  # 2h before, 1h after; the three days resolved do not count
    assert result.resolution.stopped_at == at(5, 10) and result.resolution.met is True


def test_a_priority_change_applies_the_new_target_to_the_whole_history():
    events = [ev("created", at(2, 9), "low"), ev("priority", at(2, 11), "urgent")]
    result = run(events, now=at(2, 11))
    assert result.priority == "urgent"
    assert result.first_response.target_minutes == 60 and result.first_response.breached
    assert result.first_response.due == at(2, 10)  # the instant the urgent target ran out
    assert sla.state_of(result, warn_percent=80) == "breached"


def test_holidays_and_time_zones_of_the_entity_calendar():
    berlin = sla.Hours(tz="Europe/Berlin", holidays=frozenset({dt.date(2026, 3, 3)}))
    # Monday 16:00 Berlin (15:00 UTC) to Wednesday 10:00 Berlin: 1h Monday + holiday Tuesday + 1h Wednesday
    start = dt.datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    end = dt.datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert berlin.seconds_between(start, end) == 2 * 3600
    assert berlin.add(start, 2 * 3600) == end


@pytest.mark.django_db
def test_a_calendar_change_recomputes_the_tickets_due_dates(world, monkeypatch):
    from otc import dates

    monkeypatch.setattr(dates, "now", lambda: at(2, 9))
    ticket = ticket_file(by=world.rep, category="payment_status", subject="Paid?", description="?",
                         invoice_id=world.invoice.pk)
    assert ticket.first_response_due == at(2, 17)  # low: 8 business hours
    calendar = BusinessCalendar.objects.get(legal_entity=world.entity)
    calendar.day_end = dt.time(13, 0)
    calendar.save()
    Holiday.objects.create(calendar=calendar, date=dt.date(2026, 3, 3), name="Holiday")
    assert tickets_sla_refresh_for_entity(legal_entity_id=world.entity.pk) == 1
    ticket.refresh_from_db()
    assert ticket.first_response_due == at(4, 13)  # 4h Monday, Tuesday off, 4h Wednesday


@pytest.mark.django_db
def test_the_ticket_clock_end_to_end_with_warning_and_breach_mails(world, monkeypatch, django_capture_on_commit_callbacks):
    from django.core import mail

    from otc import dates

    clock = {"now": at(2, 9)}
    monkeypatch.setattr(dates, "now", lambda: clock["now"])
    ticket = ticket_file(by=world.rep, category="credit_request", subject="Credit", description="Please",
                         invoice_id=world.invoice.pk)  # normal: 4h / 32h
    queue = ticket.queue
    queue.team_lead = world.specialist
    queue.save()
    clock["now"] = at(2, 12, 30)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert tickets_sla_sweep()["warnings"] == 1
        assert tickets_sla_sweep()["warnings"] == 0  # once
    assert "SLA due soon" in mail.outbox[0].subject
    clock["now"] = at(2, 13, 30)
    with django_capture_on_commit_callbacks(execute=True):
        assert tickets_sla_sweep()["breaches"] == 1
    assert sorted(mail.outbox[-1].to) == sorted([ticket.assignee.email, world.specialist.email])
    ticket_comment(ticket_id=ticket.pk, by=world.agent, body="On it")
    ticket_transition(ticket_id=ticket.pk, by=world.agent, to="waiting_requester")
    clock["now"] = at(3, 13, 30)
    ticket_comment(ticket_id=ticket.pk, by=world.rep, body="Here")
    ticket_set_priority(ticket_id=ticket.pk, by=world.agent, priority="low")
    clock["now"] = at(3, 14, 30)
    ticket_transition(ticket_id=ticket.pk, by=world.agent, to="resolved")
    ticket.refresh_from_db()
    result, _ = sla_result(Ticket.objects.get(pk=ticket.pk), now=clock["now"])
    assert (ticket.first_response_minutes, ticket.resolution_minutes) == (270, 270 + 60)
    assert (ticket.sla_first_response_met, ticket.sla_resolution_met) == (True, True)  # low now: 8h / 48h
    assert result.resolution.clock_seconds == int((at(2, 13, 30) - at(2, 9)).total_seconds()) + 3600


# --- the property test ---------------------------------------------------------------------------

START = dt.datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
STATUSES = ["open", "waiting_requester", "waiting_customer", "resolved", "closed"]
step = st.tuples(st.integers(min_value=0, max_value=96),  # quarter hours after the previous event
                 st.sampled_from(["status", "reply", "requester_reply", "note", "priority"]),
                 st.sampled_from(STATUSES), st.sampled_from(list(TARGETS)))


def _working(minute: dt.datetime, hours: sla.Hours) -> bool:
    local = minute.astimezone(ZoneInfo(hours.tz))
    return (local.weekday() in hours.workdays and local.date() not in hours.holidays
            and hours.start <= local.time() < hours.end)


def oracle(events: list[sla.Event], now: dt.datetime, hours: sla.Hours) -> tuple[int, int, bool]:
    """Minute by minute: business minutes of the resolution and first-response clocks."""
    resolution = first = 0
    status, responded, index = "new", False, 0
    minute = events[0].at
    while minute < now:
        while index < len(events) and events[index].at <= minute:
            e = events[index]
            if e.kind == "status":
                status = e.to_value
                if status in sla.STOPPED_STATUSES:
                    responded = True
            elif e.kind == "reply" and not e.by_requester:
                responded = True
            index += 1
        if status not in sla.PAUSED_STATUSES and status not in sla.STOPPED_STATUSES and _working(minute, hours):
            resolution += 1
            if not responded:
                first += 1
        minute += dt.timedelta(minutes=1)
    return resolution, first, responded


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(step, max_size=12), created_offset=st.integers(min_value=0, max_value=96),
       tail=st.integers(min_value=0, max_value=200), holiday=st.booleans())
def test_property_the_clock_matches_a_minute_by_minute_replay(steps, created_offset, tail, holiday):
    hours = sla.Hours(holidays=frozenset({dt.date(2026, 3, 3)}) if holiday else frozenset())
    when = START + dt.timedelta(minutes=15 * created_offset)
    events = [sla.Event("created", when, "normal")]
    for gap, kind, status, priority in steps:
        when += dt.timedelta(minutes=15 * gap)
        to = status if kind == "status" else priority if kind == "priority" else ""
        events.append(sla.Event("reply" if kind == "requester_reply" else kind, when, to,
                                by_requester=kind == "requester_reply"))
    now = when + dt.timedelta(minutes=15 * tail)
    result = sla.compute(events, hours=hours, targets=TARGETS, now=now)
    resolution, first, _ = oracle(events, now, hours)
    assert result.resolution.business_seconds == resolution * 60
    assert result.first_response.business_seconds == first * 60
    # business time never exceeds wall time, and the first response never exceeds the resolution
    assert result.resolution.business_seconds <= result.resolution.clock_seconds
    assert result.first_response.business_seconds <= result.resolution.business_seconds
    # the due date of a running clock lies exactly the remaining business time ahead
    clock = result.resolution
    if clock.running and not clock.breached and clock.due is not None:
        assert hours.seconds_between(now, clock.due) == clock.target_minutes * 60 - clock.business_seconds
