"""Foundation benchmark: ledger posting throughput, ledger reports over many rows, and the
customer list (page and API) with many customers. Not a test: it prints figures.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/otc_bench .venv/bin/python bench/foundation.py
    .venv/bin/python bench/foundation.py --postings 2000 --customers 5000   # smaller

It migrates the database it is pointed at and DELETES its contents first; point it at a
database of its own (default: otc_bench on the local PostgreSQL)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/otc_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otc.settings.local")
os.environ["DEBUG"] = "false"
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from demo.customers import seed_customers  # noqa: E402
from demo.ledger import seed_entities, seed_fx_rates  # noqa: E402
from demo.users import seed_users  # noqa: E402
from ledger.models import OpenItem  # noqa: E402
from ledger.selectors import ar_reconciliation, trial_balance  # noqa: E402
from ledger.services import LineSpec, OpenItemSpec, journal_post  # noqa: E402
from otc.roles import ensure_roles  # noqa: E402


def ensure_database() -> None:
    if connection.vendor != "postgresql":
        return
    import psycopg2

    settings = connection.settings_dict
    admin = psycopg2.connect(dbname="postgres", user=settings["USER"], host=settings["HOST"], port=settings["PORT"] or 5432)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [settings["NAME"]])
        if not cursor.fetchone():
            cursor.execute(f'CREATE DATABASE "{settings["NAME"]}"')
    admin.close()


def fresh_database() -> None:
    """Drop and create the bench database: a flush cannot empty it (posted entries and issued
    documents refuse TRUNCATE through their immutability triggers)."""
    import psycopg2

    settings = connection.settings_dict
    connection.close()
    admin = psycopg2.connect(dbname="postgres", user=settings["USER"], host=settings["HOST"],
                             port=settings["PORT"] or 5432)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{settings["NAME"]}"')
        cursor.execute(f'CREATE DATABASE "{settings["NAME"]}"')
    admin.close()


def timed(label: str, fn, count: int | None = None):
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    rate = f"  ({count / seconds:,.0f}/s)" if count else ""
    print(f"{label:<58} {seconds:8.2f} s{rate}")
    return result


def latency(label: str, fn, runs: int = 40) -> None:
    fn()  # warm
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(f"{label:<58} p50 {statistics.median(samples):7.1f} ms   p95 {p95:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postings", type=int, default=5000)
    parser.add_argument("--customers", type=int, default=10000)
    args = parser.parse_args()

    ensure_database()
    call_command("migrate", verbosity=0)
    call_command("flush", "--noinput", verbosity=0)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    ensure_roles()
    users = seed_users()
    entity = seed_entities()[1]  # DE01, EUR
    seed_fx_rates(year=2026)
    customers = timed(f"seed {args.customers:,} customers (bulk, with history)",
                      lambda: seed_customers(count=args.customers, owners=[users["sales1"]], by=users["billing"]),
                      args.customers)
    customer_ids = [c.id for c in customers]
    r = random.Random(1)
    day = dt.date(2026, 11, 2)

    def post_invoices() -> None:
        for n in range(args.postings):
            amount = Decimal(r.randint(10_000, 900_000)) / 100
            tax = (amount * Decimal("0.19")).quantize(Decimal("0.01"))
            journal_post(
                legal_entity_id=entity.id, kind="invoice", document_date=day, currency="EUR", by=users["billing"],
                lines=[
                    LineSpec(amount=amount + tax, role="ar", customer_id=r.choice(customer_ids),
                             open_item=OpenItemSpec("invoice", f"B-{n}", day, day + dt.timedelta(days=30))),
                    LineSpec(amount=-amount, role="revenue"),
                    LineSpec(amount=-tax, role="tax_payable"),
                ],
            )

    timed(f"journal_post: {args.postings:,} invoices (3 lines, opens an item)", post_invoices, args.postings)

    items = list(OpenItem.objects.values_list("id", "customer_id", "open_amount")[: args.postings // 2])

    def settle() -> None:
        for item_id, customer_id, open_amount in items:
            part = (open_amount / 2).quantize(Decimal("0.01"))
            journal_post(
                legal_entity_id=entity.id, kind="application", document_date=day, currency="EUR", by=users["cashapp"],
                lines=[LineSpec(amount=-part, role="ar", customer_id=customer_id, settle_item_id=item_id),
                       LineSpec(amount=part, role="cash")],
            )

    timed(f"journal_post: {len(items):,} part-settlements (locks the item)", settle, len(items))
    rows = timed("ar_reconciliation over all entities", ar_reconciliation)
    assert all(row["difference"] == 0 for row in rows), rows
    timed("trial_balance for the entity", lambda: trial_balance(legal_entity_id=entity.id, date_to=day))

    browser = Client()
    browser.force_login(users["controller"])
    api = APIClient()
    api.force_authenticate(users["controller"])
    latency(f"GET /customers/ (page 1 of {args.customers:,})", lambda: browser.get("/customers/"))
    latency("GET /customers/?q=Foods&status=active", lambda: browser.get("/customers/?q=Foods&status=active"))
    latency("GET /api/v1/customers/ (50 per page)", lambda: api.get("/api/v1/customers/"))
    latency("GET /api/v1/open-items/?open=true", lambda: api.get("/api/v1/open-items/?open=true"))
    latency("GET / (dashboard)", lambda: browser.get("/"))


if __name__ == "__main__":
    main()
