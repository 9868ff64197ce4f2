"""AR aging benchmark on PostgreSQL: N open items (default 1,000,000) over 5,000 customers and
three legal entities, each with its AR journal line; about a tenth part-paid after the last
quarter-end and a tenth issued after it, so an aging as of the last quarter-end has work to undo.

Measured in the same run:
- the engine's aging summary (per entity, customer, currency and bucket, as of today) against a
  hand-written SQL GROUP BY with SUM ... FILTER over the same rows (target: within 2x);
- the full report (with labels, FX and the control-account tie-out) and the aging page p95
  (target < 0.5 s; the page shows 100 rows per entity and renders the rest on demand);
- an aging as of the last quarter-end (target < 5 s);
- the nightly snapshot of every entity (target < 60 s).

    .venv/bin/python bench/aging.py [--items 1000000] [--customers 5000] [--runs 5] [--no-setup]
                                    [--only setup|summary|report|past|page|snapshot]

The rows are written with set-based SQL (generate_series), not through the posting service (the
billing and ledger benchmarks measure posting): one batch journal entry per entity and day holds
the AR lines; the counter-lines are left out (the aging reads AR only), so the trial balance of
this database is not zero. The set-up DROPS and recreates the database it is pointed at (default
otc_bench_aging on local PostgreSQL; a flush cannot empty it: issued documents and posted entries
refuse TRUNCATE); `--no-setup` reuses its rows. The machine's load average is printed beside
every figure."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/otc_bench_aging")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otc.settings.local")
os.environ["DEBUG"] = "false"
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bench.foundation import ensure_database, fresh_database  # noqa: E402
from customers.models import Customer  # noqa: E402
from demo.ledger import seed_entities, seed_fx_rates  # noqa: E402
from demo.users import seed_users  # noqa: E402
from ledger.models import Account, LegalEntity, Period  # noqa: E402
from otc import dates  # noqa: E402
from otc.roles import ensure_roles  # noqa: E402
from receivables.aging.buckets import DEFAULT_BUCKETS, parse_buckets  # noqa: E402
from receivables.aging.engine import DIMENSIONS, AgingParams, aging_groups, aging_report, control_by_entity  # noqa: E402
from receivables.aging.services import aging_snapshot_take  # noqa: E402
from receivables.models import AgingSnapshot  # noqa: E402

TODAY = dt.date(2026, 11, 20)
QUARTER_END = dt.date(2026, 9, 30)
FIRST = dt.date(2025, 10, 1)


def load() -> str:
    """The 1-minute load average, printed beside each figure (the machine may be shared)."""
    return f"load {os.getloadavg()[0]:.1f}"


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    print(f"{label:<66} {seconds:8.3f} s   {load()}", flush=True)
    return result, seconds


def samples(fn, runs: int) -> list[float]:
    fn()
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return sorted(out)


def setup(items: int, customers: int) -> None:
    ensure_roles()
    seed_users()
    entities = seed_entities()
    seed_fx_rates(year=2025)
    seed_fx_rates(year=2026)
    Customer.objects.bulk_create([
        Customer(account_number=f"B{n:06d}", legal_name=f"Bench customer {n}", country="DE", address_line1="x",
                 city="Berlin", default_currency="EUR", payment_terms_days=30)
        for n in range(customers)], batch_size=5000)
    for entity in entities:
        Period.objects.bulk_create([Period(legal_entity=entity, year=y, month=m)
                                    for y in (2025, 2026) for m in range(1, 13)], ignore_conflicts=True)
    ids = {e.id: (Account.objects.get(legal_entity=e, role="ar").id, e.functional_currency) for e in entities}
    first_customer = Customer.objects.order_by("id").values_list("id", flat=True).first()
    per_entity = items // len(entities)
    with connection.cursor() as cur:
        for entity_id, (ar, currency) in ids.items():
            # one batch entry per day
            cur.execute("""
                INSERT INTO ledger_journalentry (legal_entity_id, number, kind, entry_date, document_date, period_id,
                    memo, source_reference, posted_at)
                SELECT %s, 'B-' || to_char(d, 'YYYYMMDD'), 'invoice', d, d, p.id, 'bench', '', now()
                FROM generate_series(%s::date, %s::date, '1 day') d
                JOIN ledger_period p ON p.legal_entity_id = %s AND p.year = extract(year FROM d) AND p.month = extract(month FROM d)
            """, [entity_id, FIRST, TODAY, entity_id])
            days = (TODAY - FIRST).days + 1
            cur.execute("""
                INSERT INTO ledger_openitem (legal_entity_id, account_id, customer_id, currency, document_type,
                    document_number, document_date, due_date, original_amount, open_amount, created_at, updated_at)
                SELECT %s, %s, %s + (i %% %s)::int, %s, 'invoice', 'BI-' || %s || '-' || i,
                       %s::date + ((i * 7919) %% %s)::int, %s::date + ((i * 7919) %% %s)::int + 30,
                       round((100 + (i * 104729) %% 900000) / 100.0, 2),
                       round((100 + (i * 104729) %% 900000) / 100.0, 2), now(), now()
                FROM generate_series(1::bigint, %s::bigint) i
            """, [entity_id, ar, first_customer, customers, currency, entity_id, FIRST, days, FIRST, days, per_entity])
            cur.execute("""
                INSERT INTO ledger_journalline (entry_id, account_id, customer_id, currency, amount, fx_rate,
                    functional_amount, description, open_item_id)
                SELECT je.id, oi.account_id, oi.customer_id, oi.currency, oi.original_amount, 1, oi.original_amount, '', oi.id
                FROM ledger_openitem oi JOIN ledger_journalentry je
                  ON je.legal_entity_id = oi.legal_entity_id AND je.entry_date = oi.document_date
                WHERE oi.legal_entity_id = %s
            """, [entity_id])
            # a tenth of the items issued before the quarter-end were part-paid after it
            cur.execute("""
                WITH paid AS (
                    SELECT oi.id, oi.account_id, oi.customer_id, oi.currency, round(oi.original_amount / 3, 2) AS amount,
                           %s::date + (oi.id %% 40)::int AS day
                    FROM ledger_openitem oi WHERE oi.legal_entity_id = %s AND oi.document_date <= %s AND oi.id %% 10 = 3)
                INSERT INTO ledger_journalline (entry_id, account_id, customer_id, currency, amount, fx_rate,
                    functional_amount, description, open_item_id)
                SELECT je.id, paid.account_id, paid.customer_id, paid.currency, -paid.amount, 1, -paid.amount, '', paid.id
                FROM paid JOIN ledger_journalentry je ON je.legal_entity_id = %s AND je.entry_date = paid.day
            """, [QUARTER_END + dt.timedelta(days=1), entity_id, QUARTER_END, entity_id])
            cur.execute("""
                UPDATE ledger_openitem oi SET open_amount = oi.original_amount + s.total
                FROM (SELECT open_item_id, sum(amount) AS total FROM ledger_journalline jl JOIN ledger_openitem o
                      ON o.id = jl.open_item_id WHERE o.legal_entity_id = %s AND jl.amount < 0 GROUP BY open_item_id) s
                WHERE s.open_item_id = oi.id
            """, [entity_id])
        cur.execute("VACUUM ANALYZE ledger_openitem")
        cur.execute("VACUUM ANALYZE ledger_journalline")
        cur.execute("VACUUM ANALYZE ledger_journalentry")


HAND_SQL = """
SELECT oi.legal_entity_id, oi.currency, oi.customer_id,
  SUM(oi.open_amount) FILTER (WHERE oi.original_amount > 0 AND a.role <> 'unapplied_cash' AND oi.due_date >= %(d0)s),
  SUM(oi.open_amount) FILTER (WHERE oi.original_amount > 0 AND a.role <> 'unapplied_cash' AND oi.due_date BETWEEN %(d30)s AND %(d1)s),
  SUM(oi.open_amount) FILTER (WHERE oi.original_amount > 0 AND a.role <> 'unapplied_cash' AND oi.due_date BETWEEN %(d60)s AND %(d31)s),
  SUM(oi.open_amount) FILTER (WHERE oi.original_amount > 0 AND a.role <> 'unapplied_cash' AND oi.due_date BETWEEN %(d90)s AND %(d61)s),
  SUM(oi.open_amount) FILTER (WHERE oi.original_amount > 0 AND a.role <> 'unapplied_cash' AND oi.due_date BETWEEN %(d120)s AND %(d91)s),
  SUM(oi.open_amount) FILTER (WHERE oi.original_amount > 0 AND a.role <> 'unapplied_cash' AND oi.due_date <= %(d121)s),
  SUM(oi.open_amount) FILTER (WHERE oi.original_amount < 0 AND a.role <> 'unapplied_cash'),
  SUM(oi.open_amount) FILTER (WHERE a.role = 'unapplied_cash')
FROM ledger_openitem oi JOIN ledger_account a ON a.id = oi.account_id
WHERE oi.open_amount <> 0
GROUP BY oi.legal_entity_id, oi.currency, oi.customer_id
"""


MEASURES = ("summary", "report", "past", "page", "snapshot")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-setup", action="store_true", help="reuse the rows of the previous run")
    parser.add_argument("--only", choices=("setup", *MEASURES), help="run the set-up only, or one measure only")
    args = parser.parse_args()
    dates.today = lambda: TODAY  # the bench's "today", as the tests pin it
    if not args.no_setup and args.only in (None, "setup"):
        fresh_database()
        call_command("migrate", verbosity=0)
        timed(f"set-up: {args.items:,} open items, {args.customers:,} customers, 3 entities (SQL)",
              lambda: setup(args.items, args.customers))
    else:
        ensure_database()
        call_command("migrate", verbosity=0)
    if args.only == "setup":
        return
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM ledger_openitem WHERE open_amount <> 0")
        open_count = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM ledger_journalline")
        line_count = cur.fetchone()[0]
    print(f"database: PostgreSQL {connection.settings_dict['NAME']}; {open_count:,} open items, {line_count:,} journal lines;"
          f" {load()}")
    wanted = set(MEASURES) if args.only is None else {args.only}
    for name in MEASURES:
        if name in wanted:
            globals()[f"measure_{name}"](args)


def _p95(values: list[float]) -> float:
    return values[max(0, int(len(values) * 0.95) - 1)]


def measure_summary(args) -> None:
    entity_ids = list(Account.objects.filter(role="ar").values_list("legal_entity_id", flat=True))
    buckets = parse_buckets(DEFAULT_BUCKETS)
    keys = {"customer": DIMENSIONS["customer"].key}

    def hand() -> int:
        d = TODAY
        params = {"d0": d, "d1": d - dt.timedelta(1), "d30": d - dt.timedelta(30), "d31": d - dt.timedelta(31),
                  "d60": d - dt.timedelta(60), "d61": d - dt.timedelta(61), "d90": d - dt.timedelta(90),
                  "d91": d - dt.timedelta(91), "d120": d - dt.timedelta(120), "d121": d - dt.timedelta(121)}
        with connection.cursor() as cur:
            cur.execute(HAND_SQL, params)
            return len(cur.fetchall())

    def engine(as_of: dt.date = TODAY) -> int:
        return sum(len(aging_groups(legal_entity_id=e, as_of=as_of, buckets=buckets, keys=keys)) for e in entity_ids)

    rows_hand, rows_engine = hand(), engine()
    print(f"groups: hand-written {rows_hand:,}, engine {rows_engine:,} (the engine also ages credits and cash per bucket)")
    # interleaved, so that a change of load hits both alike
    hand_t, engine_t = [], []
    for _ in range(args.runs):
        hand_t += samples(hand, 1)
        engine_t += samples(engine, 1)
    h, e = statistics.median(hand_t), statistics.median(engine_t)
    print(f"{'aging summary as of today: hand-written GROUP BY ... FILTER (median)':<66} {h:8.3f} s   {load()}")
    print(f"{'aging summary as of today: engine (median)':<66} {e:8.3f} s   = {e / h:.2f}x the hand-written SQL   {load()}")


def measure_report(args) -> None:
    report = samples(lambda: aging_report(params=AgingParams(as_of=TODAY), user=None), max(2, args.runs // 2))
    print(f"{'full report (labels, FX, control tie-out), uncached, median':<66} {statistics.median(report):8.3f} s   {load()}")
    tie = samples(lambda: control_by_entity(list(LegalEntity.objects.values_list("pk", flat=True)), TODAY, None),
                  args.runs)
    print(f"{'  of which the control-account tie-out of the 3 entities, median':<66} {statistics.median(tie):8.3f} s   {load()}")


def measure_past(args) -> None:
    computed = samples(lambda: aging_report(params=AgingParams(as_of=QUARTER_END), user=None, use_snapshots=False),
                       max(2, args.runs // 2))
    print(f"{'aging as of the last quarter-end, computed from the books, median':<66} "
          f"{statistics.median(computed):8.3f} s   {load()}")
    if not AgingSnapshot.objects.filter(as_of=QUARTER_END, status=AgingSnapshot.Status.COMPLETE).exists():
        timed(f"snapshot as of the quarter-end {QUARTER_END} (the nightly job's work)",
              lambda: aging_snapshot_take(as_of=QUARTER_END))
    report = aging_report(params=AgingParams(as_of=QUARTER_END), user=None)
    sources = {block.entity.code: block.source for block in report.entities}
    snap = samples(lambda: aging_report(params=AgingParams(as_of=QUARTER_END), user=None), max(2, args.runs // 2))
    print(f"{'aging as of the last quarter-end, from the published snapshot, median':<66} "
          f"{statistics.median(snap):8.3f} s   {load()}   ({sources})")
    a = aging_report(params=AgingParams(as_of=QUARTER_END), user=None, use_snapshots=False)
    same = all(x.functional_total == y.functional_total and x.functional_buckets == y.functional_buckets
               for x, y in zip(a.entities, report.entities, strict=True))
    print(f"  computed and snapshot agings agree to the cent: {same}")


def measure_page(args) -> None:
    from otc.models import User

    client = Client()
    client.force_login(User.objects.get(username="controller"))
    entity = LegalEntity.objects.get(code="US01").pk
    cold = samples(lambda: (_clear_cache(), client.get("/receivables/aging/", {"as_of": TODAY.isoformat(), "entity": entity})),
                   3)
    print(f"{'aging page, one entity, uncached (first view after a posting), median':<66} "
          f"{statistics.median(cold):8.3f} s   {load()}")
    page = samples(lambda: client.get("/receivables/aging/", {"as_of": TODAY.isoformat(), "entity": entity}), 20)
    print(f"{'aging page, one entity, 100 rows shown (p50 / p95)':<66} {statistics.median(page):8.3f} s / "
          f"{_p95(page):.3f} s   {load()}")
    page_all = samples(lambda: client.get("/receivables/aging/", {"as_of": TODAY.isoformat()}), 10)
    print(f"{'aging page, all three entities (p50 / p95)':<66} {statistics.median(page_all):8.3f} s / "
          f"{_p95(page_all):.3f} s   {load()}")


def _clear_cache() -> None:
    from django.core.cache import cache

    from receivables.aging.cache import recent_reports_clear

    cache.clear()
    recent_reports_clear()


def measure_snapshot(args) -> None:
    run, seconds = timed("nightly snapshot, all entities (in-process, chunks of 1,000 customers)",
                         lambda: aging_snapshot_take(as_of=TODAY - dt.timedelta(days=1)))
    print(f"snapshot: {run.status}, {run.chunks_total} chunks, {run.lines_written:,} lines")


if __name__ == "__main__":
    main()
