"""Daily dunning run benchmark on PostgreSQL: C customers (default 50,000) with N open receivables
(default 500,000) in one legal entity, due dates spread over the last 150 days and the next 30
(about four fifths overdue), a three-level policy, a fresh bank statement. Measured: the run end
to end (chunks of 1,000 customers composing and writing letters and items, in-process; letters'
PDFs and e-mails, which go to the documents queue, excluded), then the same day's re-run (which
must write nothing: idempotent per customer, level and date). Target: under 60 s.

    .venv/bin/python bench/dunning.py [--items 500000] [--customers 50000] [--chunk 1000]

The open items are written with set-based SQL (no journal lines: dunning reads open items only);
some customers get unapplied cash (shown on the letter), a share have a waiting receipt or are
kept out of dunning (skipped with the reason). It migrates and EMPTIES the database it is pointed
at (default otc_bench_dunning on local PostgreSQL)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/otc_bench_dunning")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otc.settings.local")
os.environ["DEBUG"] = "false"
os.environ.pop("REDIS_URL", None)
os.environ["OTC_EAGER_TASKS_IN_THREAD"] = "false"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.foundation import fresh_database  # noqa: E402
from collections_app.models import DunningExclusion, DunningLetter, DunningLetterItem, DunningSkip  # noqa: E402
from collections_app.services import dunning as dunning_services  # noqa: E402
from customers.models import Customer  # noqa: E402
from demo.ledger import seed_entities  # noqa: E402
from ledger.models import Account, Period  # noqa: E402
from otc import dates  # noqa: E402
from otc.roles import ensure_roles  # noqa: E402
from receivables.models import BankAccount, BankStatement, Receipt, StatementImport  # noqa: E402

TODAY = dt.date(2026, 11, 20)
LEVELS = [
    {"number": 1, "days_after_due": 7, "template": "friendly", "channel": "email"},
    {"number": 2, "days_after_due": 30, "template": "firm", "channel": "email", "charge_interest": True},
    {"number": 3, "days_after_due": 60, "template": "final", "channel": "letter", "escalate": True,
     "charge_fee": True, "charge_interest": True},
]


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    print(f"{label:<70} {seconds:8.2f} s", flush=True)
    return result, seconds


def setup(items: int, customers: int) -> int:
    ensure_roles()
    entity = next(e for e in seed_entities() if e.functional_currency == "EUR")
    Period.objects.bulk_create([Period(legal_entity=entity, year=y, month=m) for y in (2026, 2027)
                                for m in range(1, 13)], ignore_conflicts=True)
    Customer.objects.bulk_create([
        Customer(account_number=f"D{n:06d}", legal_name=f"Bench customer {n}", country="DE", address_line1="x",
                 city="Berlin", default_currency="EUR", payment_terms_days=30)
        for n in range(customers)], batch_size=5000)
    ar = Account.objects.get(legal_entity=entity, role="ar").id
    unapplied = Account.objects.get(legal_entity=entity, role="unapplied_cash").id
    first = Customer.objects.order_by("id").values_list("id", flat=True).first()
    with connection.cursor() as cur:
        cur.execute("""
            INSERT INTO ledger_openitem (legal_entity_id, account_id, customer_id, currency, document_type,
                document_number, document_date, due_date, original_amount, open_amount, created_at, updated_at)
            SELECT %s, %s, %s + (i %% %s)::int, 'EUR', 'invoice', 'DI-' || i,
                   %s::date - ((i * 7919) %% 180)::int, %s::date - ((i * 7919) %% 180)::int + 30,
                   round((100 + (i * 104729) %% 900000) / 100.0, 2),
                   round((100 + (i * 104729) %% 900000) / 100.0, 2), now(), now()
            FROM generate_series(1::bigint, %s::bigint) i
        """, [entity.pk, ar, first, customers, TODAY, TODAY, items])
        # one customer in twenty has unapplied cash on account (shown on its letter)
        cur.execute("""
            INSERT INTO ledger_openitem (legal_entity_id, account_id, customer_id, currency, document_type,
                document_number, document_date, due_date, original_amount, open_amount, created_at, updated_at)
            SELECT %s, %s, c.id, 'EUR', 'receipt', 'DR-' || c.id, %s::date, %s::date, -250, -250, now(), now()
            FROM customers_customer c WHERE c.id %% 20 = 0
        """, [entity.pk, unapplied, TODAY - dt.timedelta(days=3), TODAY - dt.timedelta(days=3)])
        cur.execute("VACUUM ANALYZE ledger_openitem")
    cash = Account.objects.get(legal_entity=entity, role="cash")
    account = BankAccount.objects.create(legal_entity=entity, name="Operating EUR", account_number="DEBENCH1",
                                         currency="EUR", gl_account=cash)
    upload = StatementImport.objects.create(file_name="bench.xml", format="camt053", sha256="b" * 64)
    BankStatement.objects.create(statement_import=upload, bank_account=account, statement_date=TODAY)
    ids = list(Customer.objects.order_by("id").values_list("id", flat=True))
    Receipt.objects.bulk_create([Receipt(legal_entity=entity, bank_account=account, number=f"RC-B-{pk}",
                                         value_date=TODAY, amount=Decimal("100"), currency="EUR", customer_id=pk,
                                         status="unapplied") for pk in ids[7::100]])
    DunningExclusion.objects.bulk_create([DunningExclusion(customer_id=pk, reason="key account (bench)")
                                          for pk in ids[13::200]])
    dunning_services.dunning_policy_save(legal_entity_id=entity.pk, by=None, data={"reference_rate": "3.15"},
                                         levels=LEVELS)
    return entity.pk


def _work(run_id: int, ids: list[int]) -> int:
    dunning_services.dunning_letters_queue = lambda letter_ids: None  # PDFs and e-mails (documents queue) excluded
    return dunning_services.dunning_run_chunk(run_id=run_id, customer_ids=ids)


def run_dunning(entity_id: int, chunk: int, workers: int):
    """Start the run, then its chunk tasks: in-process (workers=1) or on W forked worker processes,
    as W Celery workers would take them from the queue."""
    import multiprocessing

    from django.db import connections

    queued: list[tuple[int, list[list[int]]]] = []
    dunning_services.dunning_chunks_queue = lambda run_id, chunks, background=False: queued.append((run_id, chunks))
    run = dunning_services.dunning_run_start(legal_entity_id=entity_id, by=None, chunk_size=chunk)
    for run_id, chunks in queued:
        if workers <= 1:
            for ids in chunks:
                _work(run_id, ids)
        else:
            connections.close_all()
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                pool.starmap(_work, [(run_id, ids) for ids in chunks])
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=500_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--chunk", type=int, default=dunning_services.CHUNK_SIZE)
    parser.add_argument("--workers", type=int, default=2, help="worker processes taking the chunk tasks")
    args = parser.parse_args()
    dates.today = lambda: TODAY
    fresh_database()
    call_command("migrate", verbosity=0)
    entity_id, _ = timed(f"set-up: {args.items:,} open items, {args.customers:,} customers (SQL)",
                         lambda: setup(args.items, args.customers))
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FILTER (WHERE due_date < %s), count(*) FROM ledger_openitem "
                    "WHERE open_amount > 0", [TODAY])
        overdue, total = cur.fetchone()
    print(f"open receivables {total:,}, overdue {overdue:,}")
    run, seconds = timed(f"dunning run on {args.workers} worker(s) (letters and items written, PDFs excluded)",
                         lambda: run_dunning(entity_id, args.chunk, args.workers))
    run.refresh_from_db()
    items = DunningLetterItem.objects.count()
    levels = dict(DunningLetter.objects.values_list("level").annotate(n=django.db.models.Count("id")))
    skips = dict(DunningSkip.objects.values_list("code").annotate(n=django.db.models.Count("id")))
    print(f"  status {run.status}; customers {run.customers_done:,}/{run.customers_total:,}; letters "
          f"{run.letters_created:,} (by level {levels}); items {items:,}; not reminded {skips}; "
          f"workers {args.workers}, chunks of {args.chunk:,} customers")
    print(f"  {run.customers_total / seconds:,.0f} customers/s, {items / seconds:,.0f} letter items/s "
          f"-> target < 60 s: {'met' if seconds < 60 else 'NOT met'}")
    again, _ = timed("same-day re-run (must write nothing)", lambda: run_dunning(entity_id, args.chunk, args.workers))
    again.refresh_from_db()
    print(f"  re-run letters {again.letters_created} (expected 0)")
    assert again.letters_created == 0


if __name__ == "__main__":
    main()
