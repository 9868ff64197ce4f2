"""Demo AR aging: a year of snapshots whose trend charts tell a story, and last month's report pack.

The books start three months ago (opening balances, then three billed months). Their month-ends
are real snapshots: the two months billing closes were taken and frozen by the period close; this
step adds last month's end and yesterday (the nightly job). The nine month-ends before the books
started are demo history (run trigger "demo"), derived from the first real month-end snapshot:
- DE01's receivables grow faster than its sales, so its DSO rises through the year;
- one US01 customer, Driftwood Logistics, stops paying a legacy invoice: month by month it slides
  from Current through 1-30, 31-60 and 61-90 into over 90 (a real open item, posted by
  `seed_story_invoice` with the opening balances, so the real months continue the slide).
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

from customers.models import Customer
from ledger.models import JournalEntry, LegalEntity
from ledger.services import LineSpec, OpenItemSpec, journal_post
from otc.models import User
from otc.money import quantize
from receivables.aging.buckets import bucket_index, parse_buckets
from receivables.aging.reports import ar_report_generate
from receivables.aging.services import aging_snapshot_take
from receivables.models import AgingSnapshot, AgingSnapshotLine, AgingSnapshotRun

STORY_CUSTOMER = "Driftwood Logistics Inc."
STORY_NUMBER = "LEG-STORY-1"
STORY_AMOUNT = Decimal("38400.00")
RISING_DSO_ENTITY = "DE01"


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def months_before(day: dt.date, n: int) -> dt.date:
    """The last day of the month `n` months before `day`'s (the demo's story dates)."""
    year, month = day.year, day.month - n
    while month < 1:
        year, month = year - 1, month + 12
    return _month_end(dt.date(year, month, 1))


def _story_dates(today: dt.date) -> tuple[dt.date, dt.date]:
    document = months_before(today, 5).replace(day=1)
    return document, document + dt.timedelta(days=30)


def seed_story_invoice(*, today: dt.date, by: User) -> Customer:
    """A legacy invoice of five months ago that Driftwood Logistics never pays (with the opening
    balances, so it is open from the books' first day)."""
    customer = Customer.objects.filter(default_currency="USD").order_by("id").first()
    customer.legal_name, customer.display_name = STORY_CUSTOMER, "Driftwood Logistics"
    customer.save(update_fields=["legal_name", "display_name"])
    entity = LegalEntity.objects.get(code="US01")
    document, due = _story_dates(today)
    journal_post(
        legal_entity_id=entity.id, kind=JournalEntry.Kind.OPENING, document_date=document, currency="USD", by=by,
        memo=f"Opening balance: legacy invoice {STORY_NUMBER}", source_reference=STORY_NUMBER,
        lines=[LineSpec(amount=STORY_AMOUNT, role="ar", customer_id=customer.id,
                        description=f"Legacy invoice {STORY_NUMBER}",
                        open_item=OpenItemSpec("opening", STORY_NUMBER, document, due)),
               LineSpec(amount=-STORY_AMOUNT, role="opening_balance", description=f"Legacy invoice {STORY_NUMBER}")],
    )
    return customer


def _demo_history(base: AgingSnapshot, as_of: dt.date, months_before_base: int, story: Customer | None,
                  base_sales: Decimal) -> None:
    entity = base.legal_entity
    buckets = parse_buckets(base.buckets)
    rising = entity.code == RISING_DSO_ENTITY
    # DE01: receivables a year ago at 60% of the books' first month, rising 5 points a month on
    # the same sales (so its DSO climbs); the others steady, with a little noise
    scale = Decimal("1") - Decimal("0.05") * (months_before_base - 1) if rising else Decimal("1") + (
        Decimal("0.02") if months_before_base % 2 else Decimal("-0.02"))
    sales_scale = Decimal("1") if rising else Decimal("1") + Decimal("0.01") * (months_before_base % 3)
    run = AgingSnapshotRun.objects.create(as_of=as_of, status=AgingSnapshotRun.Status.COMPLETE,
                                          trigger=AgingSnapshotRun.Trigger.DEMO, finished_at=base.published_at)
    snapshot = AgingSnapshot.objects.create(
        run=run, legal_entity=entity, as_of=as_of, status=AgingSnapshot.Status.COMPLETE, basis=base.basis,
        buckets=base.buckets, functional_currency=base.functional_currency, fx_rates=base.fx_rates,
        sales={"invoiced": str(quantize(base_sales * sales_scale, base.functional_currency)), "credited": "0"},
        published_at=base.published_at,
    )
    lines, totals = [], {}
    for line in base.lines.all():
        if story is not None and line.customer_id == story.id and line.kind == "debit":
            continue
        amount = quantize(line.amount * scale, line.currency)
        if not amount:
            continue
        lines.append(AgingSnapshotLine(snapshot=snapshot, customer_id=line.customer_id, currency=line.currency,
                                       kind=line.kind, bucket=line.bucket, bucket_label=line.bucket_label,
                                       amount=amount, fx_rate=line.fx_rate,
                                       functional_amount=quantize(amount * line.fx_rate, base.functional_currency)))
    if story is not None and entity.code == "US01":
        document, due = _story_dates_for(story)
        if as_of >= document:
            index = bucket_index(buckets, (as_of - due).days)
            rate = Decimal(base.fx_rates.get("USD", "1"))
            lines.append(AgingSnapshotLine(snapshot=snapshot, customer=story, currency="USD", kind="debit", bucket=index,
                                           bucket_label=buckets[index].label, amount=STORY_AMOUNT, fx_rate=rate,
                                           functional_amount=quantize(STORY_AMOUNT * rate, base.functional_currency)))
    AgingSnapshotLine.objects.bulk_create(lines)
    for line in lines:
        totals[line.currency] = totals.get(line.currency, Decimal(0)) + line.amount
    snapshot.control_balances = {c: str(v) for c, v in sorted(totals.items())}
    snapshot.save(update_fields=["control_balances"])


def _story_dates_for(customer: Customer) -> tuple[dt.date, dt.date]:
    from ledger.models import OpenItem

    item = OpenItem.objects.get(customer=customer, document_number=STORY_NUMBER)
    return item.document_date, item.due_date


def seed_aging(*, today: dt.date) -> dict[str, int]:
    """Real snapshots for last month's end and yesterday, nine months of demo history before the
    books started, and last month's report pack."""
    last_month_end = today.replace(day=1) - dt.timedelta(days=1)
    for as_of in sorted({last_month_end, today - dt.timedelta(days=1)}):
        if not AgingSnapshot.objects.filter(as_of=as_of, status="complete", frozen_at__isnull=False).exists():
            aging_snapshot_take(as_of=as_of, trigger=AgingSnapshotRun.Trigger.NIGHTLY)
    first_real = months_before(today, 3)
    if not AgingSnapshot.objects.filter(as_of=first_real, status="complete").exists():
        aging_snapshot_take(as_of=first_real, trigger=AgingSnapshotRun.Trigger.NIGHTLY)
    story = Customer.objects.filter(legal_name=STORY_CUSTOMER).first()
    made = 0
    for base in AgingSnapshot.objects.filter(as_of=first_real, status="complete").select_related("legal_entity"):
        sales = Decimal(base.sales.get("invoiced", "0"))
        for back in range(1, 10):
            _demo_history(base, months_before(first_real, back), back, story, sales)
            made += 1
    pack = ar_report_generate(month=last_month_end, by=None)
    return {"snapshots": AgingSnapshot.objects.filter(status="complete").count(), "demo_history": made,
            "report_pack": pack.month.month}
