"""Billing-run benchmark: N active contracts (mixed: monthly/quarterly/annual, advance/arrears,
usage with minimums, one-time fees) across three legal entities (US01 USD, DE01 EUR, GB01 GBP;
`--entities 1`: DE01 only), then the month-end run end to end: generate drafts, issue (numbers,
journal entries, open items, history, status rows, outbox events) and, with `--documents`, render
every PDF and deliver every invoice (e-mail through a local SMTP sink, portal worklist, post),
timed from the run's start to the last e-mail handed to the mail server. In the same run it
times a raw COPY of the same invoice, invoice-line, journal-entry and journal-line rows into
copies of those tables, and PDF rendering on a sample. Prints throughput and peak RSS.

    .venv/bin/python bench/billing_run.py --contracts 20000             # in-process (one core)
    .venv/bin/python bench/billing_run.py --contracts 20000 --workers 2 # two Celery workers on Redis
    .venv/bin/python bench/billing_run.py --contracts 2000 --workers 2 --documents --entities 1

It migrates and EMPTIES the database it is pointed at (default: otc_bench on local PostgreSQL).
With --workers it starts that many `celery worker --pool=solo` processes on REDIS_URL (default
redis://127.0.0.1:6379/7), which share the run's chunks exactly as production workers do. They
serve the default queue only unless --documents: then they serve the default and documents
queues (the PDFs and e-mails queued by issuing), and e-mail goes to `bench/smtp_sink.py`."""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import random
import resource
import statistics
import subprocess
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
WORKERS = int(sys.argv[sys.argv.index("--workers") + 1]) if "--workers" in sys.argv else 0
SMTP_PORT = 8025 + os.getpid() % 1000  # the sink of this benchmark (several may run on one machine)
if "--documents" in sys.argv:
    os.environ.update(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
                      EMAIL_PORT=str(SMTP_PORT))
if WORKERS:
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/7")  # before settings: real broker
else:
    os.environ.pop("REDIS_URL", None)  # in-process: eager Celery

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.foundation import ensure_database  # noqa: E402
from billing.models import BillingRun, Invoice  # noqa: E402
from billing.pdf import (  # noqa: E402
    invoice_render_pdf,
    invoice_render_pdf_weasyprint,
    invoices_render_pdfs,
)
from billing.services import billing_run_issue, billing_run_start  # noqa: E402
from billing.services import invoices as invoices_module  # noqa: E402
from billing.tax import seed_tax_codes  # noqa: E402
from contracts.models import Contract, ContractLine, ContractVersion, UsageRecord  # noqa: E402
from demo.contracts import seed_products  # noqa: E402
from demo.customers import seed_customers  # noqa: E402
from demo.ledger import seed_entities, seed_fx_rates  # noqa: E402
from demo.users import seed_users  # noqa: E402
from ledger.selectors import ar_reconciliation  # noqa: E402
from ledger.services import periods_open_ahead  # noqa: E402
from otc.roles import ensure_roles  # noqa: E402

MONTH = dt.date(2026, 11, 1)
OUT = ROOT / "bench" / "out"  # worker logs (git-ignored)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_contracts(n: int, users: dict, entity_count: int = 3) -> None:
    """Active contracts written in bulk (the review workflow is not what is measured here)."""
    r = random.Random(5)
    entities = [e for e in seed_entities() if e.code in ("DE01", "US01", "GB01")[:entity_count]]
    products = seed_products()
    customers = seed_customers(count=max(200, n // 20), owners=[users["sales1"]], by=users["billing"])
    contracts = Contract.objects.bulk_create([
        Contract(number=f"BN-{i:07d}", customer=r.choice(customers), legal_entity=entities[i % len(entities)], title=f"Bench {i}",
                 status=Contract.Status.ACTIVE, created_by=users["sales1"])
        for i in range(n)
    ], batch_size=2000)
    versions = ContractVersion.objects.bulk_create([
        ContractVersion(
            contract=c, version=1, status=ContractVersion.Status.ACTIVE, currency=c.legal_entity.functional_currency,
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


def wait_for(run_id: int, done: set[str], started: float, label: str) -> float:
    """Poll the run (one cheap query every 20 ms) until its status is in `done`: the workers do the work."""
    sampled = 0.0
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT status, error FROM billing_billingrun WHERE id = %s", [run_id])
            status, error = cursor.fetchone()
            if status in done:
                return time.perf_counter() - started
            if status == BillingRun.Status.FAILED:
                raise SystemExit(f"run failed: {error}")
            if time.perf_counter() - started > 3600:
                raise SystemExit(f"{label}: no end after an hour ({status})")
            if time.perf_counter() - sampled > 0.25:
                database_cpu()
                sampled = time.perf_counter()
            time.sleep(0.02)


def start_workers(n: int, queues: str = "celery") -> list[subprocess.Popen]:
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()  # no stale tasks from an earlier run
    # Workers keep their database connection across tasks (CELERY_DB_REUSE_MAX; before it, every
    # task had a new backend, whose CPU after the last sample was lost): `database_cpu` samples
    # the backends while the bench waits. REDIS_URL chooses the broker (default database 7).
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    OUT.mkdir(exist_ok=True)
    logs = [(OUT / f"worker{i}.log").open("w") for i in range(n)]  # noqa: SIM115 - open while they run
    workers = [subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "otc", "worker", "--pool=solo", "--loglevel=INFO", f"--queues={queues}",
         f"--hostname=bench{i}@%h", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log) for i, log in enumerate(logs)]
    time.sleep(4)  # let them connect
    return workers


def start_sink() -> tuple[subprocess.Popen, Path]:
    OUT.mkdir(exist_ok=True)
    log = OUT / f"smtp-{SMTP_PORT}.log"
    log.write_text("")
    sink = subprocess.Popen([sys.executable, str(ROOT / "bench" / "smtp_sink.py"), "127.0.0.1", str(SMTP_PORT), str(log)])
    time.sleep(1)
    return sink, log


def wait_for_documents(run_id: int, started: float) -> None:
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT documents_done_at IS NOT NULL FROM billing_billingrun WHERE id = %s", [run_id])
            if cursor.fetchone()[0]:
                return
            if time.perf_counter() - started > 4 * 3600:
                raise SystemExit("documents: no end after four hours")
            time.sleep(0.2)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 when it is gone or not readable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


_BACKENDS: dict[int, float] = {}  # pid -> the CPU seconds last read, kept after it exits


def database_cpu(since: dict[int, float] | None = None) -> dict[int, float]:
    """CPU seconds per PostgreSQL backend serving this database, less what each had used at
    `since`: the database's share of the work, apart from the other databases and from the
    set-up. Backends are sampled while the bench waits (`wait_for`), so one that a worker
    closed meanwhile counts with its CPU as last read (at most a quarter-second short)."""
    since = since or {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        for (pid,) in cursor.fetchall():
            _BACKENDS[pid] = max(_BACKENDS.get(pid, 0.0), cpu_seconds(pid))
    return {pid: cpu - since.get(pid, 0.0) for pid, cpu in _BACKENDS.items()}


def chunk_costs(workers: int) -> dict[str, list[float]]:
    """Per-chunk times from the workers' logs: generation, numbering (the series lock is held
    for it), posting, and publishing (PDF and delivery) per invoice."""
    import re

    costs: dict[str, list[float]] = {"generate": [], "number": [], "post": [], "publish_per_invoice": [],
                                     "publish_cpu_per_invoice": []}
    for i in range(workers):
        for line in (OUT / f"worker{i}.log").read_text().splitlines():
            if match := re.search(r"issue chunk: (\d+) numbered in ([\d.]+) s, (\d+) posted in ([\d.]+) s", line):
                n = int(match[1]) or 1
                costs["number"].append(float(match[2]) * 1000 / n)
                costs["post"].append(float(match[4]) * 1000 / n)
            elif match := re.search(r"billing.run_generate_chunk\[.*\] succeeded in ([\d.]+)s", line):
                costs["generate"].append(float(match[1]))
            elif match := re.search(r"documents chunk: (\d+) invoices, \d+ PDFs from batches, ([\d.]+) s CPU", line):
                costs["publish_cpu_per_invoice"].append(float(match[2]) / max(int(match[1]), 1))
            elif match := re.search(r"billing.invoices_publish\[.*\] succeeded in ([\d.]+)s: (\d+)", line):
                costs["publish_per_invoice"].append(float(match[1]) / max(int(match[2]), 1))
    return costs


def peak_rss_of(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def raw_copy(run_id: int, rounds: int = 3) -> tuple[list[float], int]:
    """COPY the run's invoice, invoice-line, journal-entry and journal-line rows (read back
    first, not timed) into empty copies of those tables with the same indexes; time the COPYs.
    `rounds` times, each into new empty copies: one timing of about a second moved by a third
    between runs (bench/README, session 11), so the run is compared with the median."""
    tables = {
        "billing_invoice": f"SELECT * FROM billing_invoice WHERE billing_run_id = {run_id} AND status = 'issued'",
        "billing_invoiceline": "SELECT l.* FROM billing_invoiceline l JOIN billing_invoice i ON i.id = l.invoice_id "
                               f"WHERE i.billing_run_id = {run_id} AND i.status = 'issued'",
        "ledger_journalentry": "SELECT e.* FROM ledger_journalentry e JOIN billing_invoice i ON i.journal_entry_id "
                               f"= e.id WHERE i.billing_run_id = {run_id}",
        "ledger_journalline": "SELECT l.* FROM ledger_journalline l JOIN billing_invoice i ON i.journal_entry_id "
                              f"= l.entry_id WHERE i.billing_run_id = {run_id}",
    }
    data = {}
    with connection.cursor() as cursor:
        for table, query in tables.items():
            buffer = io.StringIO()
            cursor.copy_expert(f"COPY ({query}) TO STDOUT", buffer)
            data[table] = buffer.getvalue()
    timings = []
    for _ in range(rounds):
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"DROP TABLE IF EXISTS bench_copy_{table}")
                cursor.execute(f"CREATE TABLE bench_copy_{table} (LIKE {table} INCLUDING ALL)")
        connection.commit() if not connection.get_autocommit() else None
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for table, text in data.items():
                cursor.copy_expert(f"COPY bench_copy_{table} FROM STDIN", io.StringIO(text))
        timings.append(time.perf_counter() - started)
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DROP TABLE bench_copy_{table}")
    return timings, data["billing_invoice"].count("\n")


def _admin():  # noqa: ANN202 - a psycopg2 connection to the server's maintenance database
    import psycopg2

    settings = connection.settings_dict
    admin = psycopg2.connect(dbname="postgres", user=settings["USER"], host=settings["HOST"],
                             port=settings["PORT"] or 5432)
    admin.autocommit = True
    return admin


def _to_template(template: str) -> None:
    """Keep the fresh set-up (contracts, no run yet) as `template` (--setup-cache)."""
    connection.close()
    admin = _admin()
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{template}"')
        cursor.execute(f'CREATE DATABASE "{template}" TEMPLATE "{connection.settings_dict["NAME"]}"')
    admin.close()


def _from_template(template: str) -> bool:
    """Recreate the bench database from a kept set-up; False when there is none."""
    connection.close()
    admin = _admin()
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
        if not cursor.fetchone():
            admin.close()
            return False
        cursor.execute(f'DROP DATABASE IF EXISTS "{connection.settings_dict["NAME"]}"')
        cursor.execute(f'CREATE DATABASE "{connection.settings_dict["NAME"]}" TEMPLATE "{template}"')
    admin.close()
    call_command("migrate", verbosity=0)  # a cache older than the code's migrations
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contracts", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=0, help="Celery worker processes (0: in-process)")
    parser.add_argument("--pdfs", type=int, default=40, help="invoices to render as PDF afterwards")
    parser.add_argument("--profile", choices=["generate", "issue"], help="print a cProfile of one phase")
    parser.add_argument("--documents", action="store_true",
                        help="render every PDF and deliver every invoice (SMTP sink); time to the last e-mail")
    parser.add_argument("--entities", type=int, default=3, choices=[1, 2, 3], help="legal entities (1: DE01 only)")
    parser.add_argument("--setup-cache", action="store_true",
                        help="keep the set-up as a template database and start from it next time (same N, entities)")
    args = parser.parse_args()
    mode = f"{args.workers} Celery workers (solo pool) on Redis" if args.workers else "in-process, one core"
    started = time.perf_counter()
    template = f"{connection.settings_dict['NAME']}_setup_{args.contracts}_{args.entities}"
    if args.setup_cache and _from_template(template):
        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; month {MONTH:%Y-%m}; {mode}")
        print(f"{'set-up: copied from ' + template:<52} {time.perf_counter() - started:8.2f} s")
    else:
        ensure_database()
        call_command("migrate", verbosity=0)
        with connection.cursor() as cursor:  # the immutability triggers refuse TRUNCATE unless the session says so
            cursor.execute("SET otc.allow_truncate = 'on'")
        call_command("flush", "--noinput", verbosity=0)
        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; month {MONTH:%Y-%m}; {mode}")
        ensure_roles()
        users = seed_users()
        seed_tax_codes()
        seed_fx_rates(year=2026)
        make_contracts(args.contracts, users, args.entities)
        periods_open_ahead(by=None)  # postings never create periods: the month-end schedule opens them
        print(f"{'set-up: contracts, versions, lines (bulk)':<52} {time.perf_counter() - started:8.2f} s")
        if args.setup_cache:
            _to_template(template)
    sink, sink_log = start_sink() if args.documents else (None, None)
    workers = start_workers(args.workers, "celery,documents" if args.documents else "celery") if args.workers else []
    if not args.documents:
        # PDFs and delivery run on workers after commit; they are measured separately, not here.
        invoices_module.documents_queue = lambda ids: None
    # The workers' CPU from here on (not their start-up: importing Django and Celery).
    worker_cpu_start = [cpu_seconds(w.pid) for w in workers]
    db_cpu_start, bench_cpu_start = dict(database_cpu()), time.process_time()
    try:
        profiler = cProfile.Profile()
        if args.profile == "generate":
            profiler.enable()
        started, wall_start = time.perf_counter(), time.time()
        run = billing_run_start(period_start=MONTH, by=None)
        generate = wait_for(run.pk, {"generated", "issuing", "issued"}, started, "generate")
        profiler.disable()
        run.refresh_from_db()
        drafts = Invoice.objects.filter(billing_run=run).count()
        print(f"{'generate drafts':<52} {generate:8.2f} s  {drafts:,} drafts  "
              f"({drafts / generate:,.0f}/s)  exceptions {run.exceptions_count}")

        if args.profile == "issue":
            profiler.enable()
        started = time.perf_counter()
        billing_run_issue(run_id=run.id, by=None)
        issue = wait_for(run.pk, {"issued"}, started, "issue")
        profiler.disable()
        issued = Invoice.objects.filter(billing_run=run, status="issued").count()
        print(f"{'issue (numbers, journal entries, open items)':<52} {issue:8.2f} s  {issued:,} issued  "
              f"({issued / issue:,.0f}/s)")
        total = generate + issue
        # CPU of generation and issuing only: workers, database backends and this process
        # (start, issue, polling; with no workers, all of the work).
        db_cpu_run = sum(database_cpu(db_cpu_start).values())
        worker_cpu_run = [cpu_seconds(w.pid) - start for w, start in zip(workers, worker_cpu_start, strict=True)]
        bench_cpu_run = time.process_time() - bench_cpu_start
        cpu_run = db_cpu_run + sum(worker_cpu_run) + bench_cpu_run
        print(f"{'whole run (generate and issue)':<52} {total:8.2f} s  ({issued / total:,.0f} invoices/s end to end)")
        print(f"{'CPU of the run: workers / database / this process':<52} "
              f"{' + '.join(f'{c:.1f}' for c in worker_cpu_run) or '0'} / {db_cpu_run:.1f} / {bench_cpu_run:.1f} s = "
              f"{1000 * cpu_run / max(issued, 1):.2f} ms per invoice (on C idle cores at most "
              f"C x {max(issued, 1) / cpu_run:,.0f} invoices/s); load average {os.getloadavg()[0]:.1f}")
        if args.documents:
            wait_for_documents(run.pk, time.perf_counter())
            sent = [float(line.split()[0]) for line in sink_log.read_text().splitlines()]
            last = max(sent) if sent else time.time()
            month_end = last - wall_start
            docs = month_end - total
            print(f"{'whole month-end: start to last e-mail handed to SMTP':<52} {month_end:8.2f} s  "
                  f"({issued / month_end:,.1f} invoices/s); {len(sent):,} e-mails")
            print(f"{'documents after issuing (PDF, delivery)':<52} {docs:8.2f} s  "
                  f"(documents throughput {issued / month_end:,.1f} PDFs/s over the whole month-end, "
                  f"{len(workers) or 1} worker(s))")
        db_cpu = sum(database_cpu(db_cpu_start).values())
        worker_cpu = [cpu_seconds(w.pid) - start for w, start in zip(workers, worker_cpu_start, strict=True)]
        if workers:
            import json

            costs = chunk_costs(len(workers))
            medians = {k: round(statistics.median(v), 4) if v else None for k, v in costs.items()}
            print(f"{'per chunk of 1,000 (median): generate / number / post':<52} {medians['generate']} / "
                  f"{medians['number']} / {medians['post']} s; publish {medians['publish_per_invoice']} s per invoice "
                  f"({medians['publish_cpu_per_invoice']} s CPU)")
            print(f"{'CPU: database backends (generate+issue; all) / workers':<52} {db_cpu_run:.1f}; {db_cpu:.1f} s / "
                  f"{' / '.join(f'{c:.1f}' for c in worker_cpu)} s; load average {os.getloadavg()[0]:.1f}")
            (OUT / "billing_costs.json").write_text(json.dumps({
                "contracts": args.contracts, "invoices": issued, "entities": args.entities, "workers": len(workers),
                "documents": args.documents, "medians_s": medians, "database_cpu_s": round(db_cpu, 2), "database_cpu_run_s": round(db_cpu_run, 2),
                "worker_cpu_run_s": [round(c, 2) for c in worker_cpu_run],
                "worker_cpu_s": [round(c, 2) for c in worker_cpu], "bench_cpu_run_s": round(bench_cpu_run, 2),
                "generate_s": round(generate, 2),
                "issue_s": round(issue, 2), "load_average": os.getloadavg()[0]}, indent=2))
        rss = [peak_rss_of(w.pid) for w in workers] if workers else [peak_rss_mb()]
        print(f"{'peak RSS per worker' if workers else 'peak RSS':<52} "
              f"{' / '.join(f'{value:.0f}' for value in rss):>8} MB")
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        if sink is not None:
            sink.terminate()
    copy_timings, copied = raw_copy(run.pk)
    copy_seconds = statistics.median(copy_timings)
    print(f"{'raw COPY of the same invoice/line/journal rows':<52} {copy_seconds:8.2f} s  {copied:,} invoices  "
          f"({copied / copy_seconds:,.0f}/s; median of {' / '.join(f'{t:.2f}' for t in copy_timings)} s); "
          f"the run is {total / copy_seconds:.1f}x the raw COPY")
    if args.pdfs:
        # Rendering only (the workers stored the PDFs with --documents): the same invoices drawn by
        # ReportLab (what documents tasks and downloads use, decision 0021) and rendered by
        # WeasyPrint from the HTML template (the reference, decision 0015; its batch path was
        # removed in session 9, decision 0021), alternating, three rounds each; CPU and wall time
        # per PDF (context reads included).
        invoices = list(Invoice.objects.filter(billing_run=run, status="issued").order_by("pk")
                        .select_related("legal_entity", "customer")[:args.pdfs])
        variants = {
            "ReportLab, one by one": lambda: [invoice_render_pdf(i) for i in invoices],
            "ReportLab, in batches": lambda: invoices_render_pdfs(invoices),
            "WeasyPrint, one by one": lambda: [invoice_render_pdf_weasyprint(i) for i in invoices],
        }
        invoice_render_pdf(invoices[0])  # warm-up: fonts loaded, the renderers built once per process
        invoice_render_pdf_weasyprint(invoices[0])
        figures: dict[str, list[tuple[float, float]]] = {label: [] for label in variants}
        for _ in range(3):
            for label, render in variants.items():
                started, cpu = time.perf_counter(), time.process_time()
                render()
                figures[label].append((1000 * (time.process_time() - cpu) / len(invoices),
                                       1000 * (time.perf_counter() - started) / len(invoices)))
        sizes = [len(invoice_render_pdf(i)) for i in invoices], [len(invoice_render_pdf_weasyprint(i)) for i in invoices]
        for label, runs in figures.items():
            print(f"{'PDF rendering, ' + label:<52} {len(invoices)} PDFs x3: "
                  f"{min(c for c, _ in runs):.1f}-{max(c for c, _ in runs):.1f} ms CPU, "
                  f"{min(w for _, w in runs):.1f}-{max(w for _, w in runs):.1f} ms wall each; "
                  f"load average {os.getloadavg()[0]:.1f}")
        print(f"{'PDF size, ReportLab / WeasyPrint (mean)':<52} {sum(sizes[0]) / len(invoices) / 1024:.1f} / "
              f"{sum(sizes[1]) / len(invoices) / 1024:.1f} KB")
    if args.profile:
        OUT.mkdir(exist_ok=True)
        profiler.dump_stats(OUT / f"profile-{args.profile}.prof")  # for pstats / snakeviz
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(40)
    assert all(row["difference"] == 0 for row in ar_reconciliation()), "AR control != open items"
    assert BillingRun.objects.get(pk=run.id).status == BillingRun.Status.ISSUED


if __name__ == "__main__":
    main()
