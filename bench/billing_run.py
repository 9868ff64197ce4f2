"""Billing-run benchmark: N active contracts (mixed: monthly/quarterly/annual, advance/arrears,
usage with minimums, one-time fees), then the month-end run end to end: generate drafts, issue
(numbers, postings, open items), without PDFs or delivery. Prints throughput and peak RSS.

    .venv/bin/python bench/billing_run.py --contracts 5000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/otc_bench .venv/bin/python bench/billing_run.py

It migrates and EMPTIES the database it is pointed at (default: otc_bench on local PostgreSQL)."""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import pstats
import random
import resource
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/otc_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otc.settings.local")
os.environ["DEBUG"] = "false"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.foundation import _ensure_database  # noqa: E402
from billing.models import BillingRun, Invoice  # noqa: E402
from billing.services import billing_run_issue, billing_run_start  # noqa: E402
from billing.services import invoices as invoices_module  # noqa: E402
from billing.tax import seed_tax_codes  # noqa: E402
from contracts.models import Contract, ContractLine, ContractVersion, UsageRecord  # noqa: E402
from demo.contracts import seed_products  # noqa: E402
from demo.customers import seed_customers  # noqa: E402
from demo.ledger import seed_entities, seed_fx_rates  # noqa: E402
from demo.users import seed_users  # noqa: E402
from ledger.selectors import ar_reconciliation  # noqa: E402
from otc.roles import ensure_roles  # noqa: E402

MONTH = dt.date(2026, 11, 1)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_contracts(n: int, users: dict) -> None:
    """Active contracts written in bulk (the review workflow is not what is measured here)."""
    r = random.Random(5)
    entity = next(e for e in seed_entities() if e.code == "DE01")
    products = seed_products()
    customers = seed_customers(count=max(200, n // 20), owners=[users["sales1"]], by=users["billing"])
    contracts = Contract.objects.bulk_create([
        Contract(number=f"BN-{i:07d}", customer=r.choice(customers), legal_entity=entity, title=f"Bench {i}",
                 status=Contract.Status.ACTIVE, created_by=users["sales1"])
        for i in range(n)
    ], batch_size=2000)
    versions = ContractVersion.objects.bulk_create([
        ContractVersion(
            contract=c, version=1, status=ContractVersion.Status.ACTIVE, currency="EUR",
            start_date=dt.date(2026, r.choice([1, 4, 7, 10]), r.choice([1, 1, 1, 15])), end_date=dt.date(2027, 12, 31),
            effective_date=dt.date(2026, 1, 1), billing_frequency=r.choice(["monthly"] * 6 + ["quarterly", "annual"]),
            billing_timing=r.choice(["advance"] * 3 + ["arrears"]), payment_terms_days=30,
            discount_percent=Decimal(r.choice([0, 0, 5, 10])), created_by=users["sales1"],
            po_number=f"PO-{c.number}" if c.customer.po_required else "",
        ) for c in contracts
    ], batch_size=2000)
    for v in versions:
        v.effective_date = v.start_date
    ContractVersion.objects.bulk_update(versions, ["effective_date"], batch_size=2000)
    Contract.objects.bulk_update(
        [Contract(pk=c.pk, current_version=v) for c, v in zip(contracts, versions, strict=True)],
        ["current_version"], batch_size=2000)
    lines, usage = [], []
    for v in versions:
        lines.append(ContractLine(version=v, line_key=uuid.uuid4(), position=1, product=products["PLAT-STD"],
                                  kind="recurring", quantity=Decimal(r.choice([10, 25, 50, 120])),
                                  unit_price=Decimal("45.00"), description="Seats"))
        if r.random() < 0.3:
            key = uuid.uuid4()
            lines.append(ContractLine(version=v, line_key=key, position=2, product=products["API-CALLS"],
                                      kind="usage", quantity=Decimal(1), unit_price=Decimal("0.80"),
                                      minimum_commitment=Decimal("250.00"), description="API calls"))
            if r.random() < 0.95:  # most integrations have reported last month's usage
                usage.append(UsageRecord(contract_id=v.contract_id, line_key=key, period_start=dt.date(2026, 10, 1),
                                         quantity=Decimal(r.randint(0, 900)), source_id=f"bench-{key}"))
        if r.random() < 0.2:
            lines.append(ContractLine(version=v, line_key=uuid.uuid4(), position=3, product=products["SUPPORT-P"],
                                      kind="recurring", quantity=Decimal(1), unit_price=Decimal("1500.00"),
                                      description="Premium support"))
    ContractLine.objects.bulk_create(lines, batch_size=5000)
    UsageRecord.objects.bulk_create(usage, batch_size=5000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contracts", type=int, default=20000)
    parser.add_argument("--profile", choices=["generate", "issue"], help="print a cProfile of one phase")
    args = parser.parse_args()
    _ensure_database()
    call_command("migrate", verbosity=0)
    call_command("flush", "--noinput", verbosity=0)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; month {MONTH:%Y-%m}")
    ensure_roles()
    users = seed_users()
    seed_tax_codes()
    seed_fx_rates(year=2026)
    started = time.perf_counter()
    make_contracts(args.contracts, users)
    print(f"{'set-up: contracts, versions, lines (bulk)':<52} {time.perf_counter() - started:8.2f} s")

    profiler = cProfile.Profile()
    if args.profile == "generate":
        profiler.enable()
    started = time.perf_counter()
    run = billing_run_start(period_start=MONTH, by=None)
    profiler.disable()
    generate = time.perf_counter() - started
    run.refresh_from_db()
    drafts = Invoice.objects.filter(billing_run=run).count()
    print(f"{'generate drafts (chunks in-process)':<52} {generate:8.2f} s  {drafts:,} drafts  "
          f"({drafts / generate:,.0f}/s)  exceptions {run.exceptions_count}")

    # PDFs and delivery run on workers after commit; they are measured separately, not here.
    invoices_module._queue_documents = lambda ids: None
    if args.profile == "issue":
        profiler.enable()
    started = time.perf_counter()
    billing_run_issue(run_id=run.id, by=None)
    issue = time.perf_counter() - started
    profiler.disable()
    issued = Invoice.objects.filter(billing_run=run, status="issued").count()
    print(f"{'issue (numbers, journal entries, open items)':<52} {issue:8.2f} s  {issued:,} issued  "
          f"({issued / issue:,.0f}/s)")
    total = generate + issue
    print(f"{'whole run':<52} {total:8.2f} s  ({issued / total:,.0f} invoices/s end to end)")
    print(f"{'peak RSS':<52} {peak_rss_mb():8.0f} MB")
    if args.profile:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    assert all(row["difference"] == 0 for row in ar_reconciliation()), "AR control != open items"
    assert BillingRun.objects.get(pk=run.id).status == BillingRun.Status.ISSUED


if __name__ == "__main__":
    main()
