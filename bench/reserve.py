"""Bad-debt reserve benchmark on PostgreSQL: the rows of bench/aging.py (N open items, default
1,000,000, over 5,000 customers and three legal entities), a real month-end aging snapshot taken
by the snapshot job, 23 earlier month-ends derived from it with set-based SQL (the lines shifted
one bucket younger per month back, so balances roll through the buckets; over 120 stays), and write-offs on one
item in a hundred (a write-off entry per entity and month: debit the allowance, credit AR).

Measured:
- the reserve of all three entities as of the month-end, from the snapshot tables (target < 10 s);
- the roll-rate and the historical loss-rate derivation from 24 monthly snapshots, all three
  entities (target < 10 s each).

    .venv/bin/python bench/reserve.py [--items 1000000] [--customers 5000] [--no-setup]

It migrates and EMPTIES the database it is pointed at (default otc_bench_reserve on local
PostgreSQL)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/otc_bench_reserve")

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench import aging as base  # noqa: E402  (sets Django up)
from bench.foundation import ensure_database  # noqa: E402
from collections_app.models import ProvisionPolicy, ProvisionRate  # noqa: E402
from collections_app.selectors.reserve import reserve_compute  # noqa: E402
from collections_app.selectors.reserve_derivation import derive_rates  # noqa: E402
from ledger.models import LegalEntity  # noqa: E402
from otc import dates  # noqa: E402
from receivables.aging.kpis import months_back  # noqa: E402
from receivables.aging.services import aging_snapshot_take  # noqa: E402
from receivables.models import AgingSnapshot  # noqa: E402

MONTH_END = dt.date(2026, 10, 31)
timed = base.timed


def history() -> None:
    """23 month-ends before MONTH_END, copied from its snapshot one bucket younger per month back
    (what is over 120 days stays there: old debt lingers until it is written off)."""
    with connection.cursor() as cur:
        cur.execute("DELETE FROM receivables_agingsnapshotline WHERE snapshot_id IN (SELECT s.id FROM "
                    "receivables_agingsnapshot s JOIN receivables_agingsnapshotrun r ON r.id = s.run_id "
                    "WHERE r.trigger = 'demo')")
        cur.execute("DELETE FROM receivables_agingsnapshot WHERE run_id IN (SELECT id FROM "
                    "receivables_agingsnapshotrun WHERE trigger = 'demo')")
        cur.execute("DELETE FROM receivables_agingsnapshotrun WHERE trigger = 'demo'")
        for snap in AgingSnapshot.objects.filter(as_of=MONTH_END, status="complete"):
            for back in range(1, 24):
                as_of = months_back(MONTH_END, back)
                cur.execute("""
                    INSERT INTO receivables_agingsnapshotrun (as_of, status, trigger, chunks_total, chunks_done,
                        lines_written, started_at, error)
                    VALUES (%s, 'complete', 'demo', 0, 0, 0, now(), '') RETURNING id""", [as_of])
                run_id = cur.fetchone()[0]
                cur.execute("""
                    INSERT INTO receivables_agingsnapshot (run_id, legal_entity_id, as_of, status, basis, buckets,
                        functional_currency, fx_rates, control_balances, sales, created_at, published_at)
                    SELECT %s, legal_entity_id, %s, 'complete', basis, buckets, functional_currency, fx_rates,
                        control_balances, sales, now(), now()
                    FROM receivables_agingsnapshot WHERE id = %s RETURNING id""", [run_id, as_of, snap.id])
                new_id = cur.fetchone()[0]
                cur.execute("""
                    INSERT INTO receivables_agingsnapshotline (snapshot_id, customer_id, currency, kind, bucket,
                        bucket_label, amount, fx_rate, functional_amount)
                    SELECT %s, customer_id, currency, kind,
                        CASE WHEN bucket = 5 THEN 5 ELSE greatest(bucket - %s, 0) END, '',
                        sum(amount), min(fx_rate), sum(functional_amount)
                    FROM receivables_agingsnapshotline WHERE snapshot_id = %s
                    GROUP BY customer_id, currency, kind, CASE WHEN bucket = 5 THEN 5 ELSE greatest(bucket - %s, 0) END""",
                               [new_id, min(back, 5), snap.id, min(back, 5)])
        cur.execute("""
            UPDATE receivables_agingsnapshotline l SET bucket_label = CASE l.bucket WHEN 0 THEN 'Current'
                WHEN 1 THEN '1-30' WHEN 2 THEN '31-60' WHEN 3 THEN '61-90' WHEN 4 THEN '91-120' ELSE 'Over 120' END
            WHERE bucket_label = ''""")
        cur.execute("VACUUM ANALYZE receivables_agingsnapshotline")


def write_offs() -> int:
    """One item in a hundred written off in full, in the month after its due date + 90 days."""
    with connection.cursor() as cur:
        for entity in LegalEntity.objects.all():
            cur.execute("""
                INSERT INTO ledger_journalentry (legal_entity_id, number, kind, entry_date, document_date, period_id,
                    memo, source_reference, posted_at)
                SELECT %s, 'WO-' || to_char(d, 'YYYYMM'), 'write_off', d, d, p.id, 'bench', '', now()
                FROM generate_series(%s::date, %s::date, '1 month') d
                JOIN ledger_period p ON p.legal_entity_id = %s AND p.year = extract(year FROM d)
                     AND p.month = extract(month FROM d)""",
                           [entity.id, dt.date(2025, 11, 15), dt.date(2026, 10, 15), entity.id])
            cur.execute("""
                INSERT INTO ledger_journalline (entry_id, account_id, customer_id, currency, amount, fx_rate,
                    functional_amount, description, open_item_id)
                SELECT je.id, oi.account_id, oi.customer_id, oi.currency, -oi.open_amount, 1, -oi.open_amount, '', oi.id
                FROM ledger_openitem oi JOIN ledger_journalentry je ON je.legal_entity_id = oi.legal_entity_id
                  AND je.kind = 'write_off'
                  AND je.entry_date = date_trunc('month', oi.due_date + 120)::date + 14
                WHERE oi.legal_entity_id = %s AND oi.id %% 100 = 7 AND oi.open_amount > 0
                  AND oi.due_date + 120 < %s""", [entity.id, MONTH_END])
            cur.execute("""
                UPDATE ledger_openitem oi SET open_amount = 0 FROM ledger_journalline jl
                JOIN ledger_journalentry je ON je.id = jl.entry_id AND je.kind = 'write_off'
                WHERE jl.open_item_id = oi.id AND oi.legal_entity_id = %s""", [entity.id])
        cur.execute("SELECT count(*) FROM ledger_journalline jl JOIN ledger_journalentry je ON je.id = jl.entry_id "
                    "WHERE je.kind = 'write_off'")
        return cur.fetchone()[0]


def policies() -> None:
    rates = ["0.003", "0.016", "0.036", "0.066", "0.106", "0.5"]
    for entity in LegalEntity.objects.all():
        if ProvisionPolicy.objects.filter(legal_entity=entity).exists():
            continue
        policy = ProvisionPolicy.objects.create(legal_entity=entity, effective_date=dt.date(2025, 1, 1),
                                                method="matrix", note="bench")
        ProvisionRate.objects.bulk_create([ProvisionRate(policy=policy, bucket=b, bucket_label=str(b),
                                                         rate=Decimal(r)) for b, r in enumerate(rates)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--no-setup", action="store_true", help="reuse the rows of the previous run")
    parser.add_argument("--history-only", action="store_true",
                        help="reuse the open items and the month-end snapshot; rebuild the 23 earlier month-ends")
    args = parser.parse_args()
    dates.today = lambda: base.TODAY
    ensure_database()
    call_command("migrate", verbosity=0)
    if args.history_only:
        timed("23 earlier month-end snapshots (SQL copies)", history)
        policies()
    elif not args.no_setup:
        from tests.conftest import pytest_configure

        pytest_configure(None)  # the flush says otc.allow_truncate, as the test suite's does (immutable tables)
        call_command("flush", "--noinput", verbosity=0)
        timed(f"set-up: {args.items:,} open items, {args.customers:,} customers, 3 entities (SQL)",
              lambda: base.setup(args.items, args.customers))
        count, _ = timed("write-offs: 1 item in 100, monthly entries (SQL)", write_offs)
        print(f"write-off lines: {count:,}")
        run, _ = timed(f"month-end aging snapshot {MONTH_END} (the snapshot job, in-process)",
                       lambda: aging_snapshot_take(as_of=MONTH_END))
        print(f"snapshot: {run.status}, {run.lines_written:,} lines")
        timed("23 earlier month-end snapshots (SQL copies)", history)
        policies()
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM ledger_openitem WHERE open_amount <> 0")
        open_count = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM receivables_agingsnapshotline")
        lines = cur.fetchone()[0]
    print(f"database: PostgreSQL {connection.settings_dict['NAME']}; {open_count:,} open items, {lines:,} snapshot lines")
    entities = list(LegalEntity.objects.order_by("code"))

    def reserve() -> list:
        return [reserve_compute(legal_entity_id=e.id, as_of=MONTH_END) for e in entities]

    calcs, seconds = timed("reserve of all 3 entities from the month-end snapshot (target < 10 s)", reserve)
    for calc in calcs:
        print(f"  {calc.entity.code}: gross {calc.gross_balance:,.2f} {calc.functional_currency}, "
              f"allowance {calc.total:,.2f} in {len(calc.lines)} lines")
    for method in ("roll_rate", "loss_rate"):
        result, _ = timed(f"{method} derivation, 24 monthly snapshots, 3 entities (target < 10 s)",
                          lambda m=method: [derive_rates(legal_entity_id=e.id, as_of=MONTH_END, method=m,
                                                         lookback_months=24) for e in entities])
        print(f"  {entities[0].code} loss rates: {', '.join(result[0]['loss_rates'])}")


if __name__ == "__main__":
    main()
